"""The TikTok Shop channel's public language: entities, commands, replies, events, topics.

Platform services may depend on this package alone; it imports nothing of the service.
"""
