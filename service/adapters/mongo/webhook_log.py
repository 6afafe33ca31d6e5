"""The webhook dedupe log: one document per notification id (unique index)."""

from collections.abc import Sequence

from contracts.events import Event
from contracts.webhooks import WebhookMessage
from service.adapters.mongo.database import WEBHOOK_EVENTS, Database
from service.adapters.mongo.documents import outbox_entries
from service.adapters.mongo.errors import is_duplicate
from service.adapters.mongo.store import OutboxNotify, no_outbox
from service.domain.time import utcnow


class MongoWebhookLog:
    def __init__(self, db: Database, notify: OutboxNotify = no_outbox) -> None:
        self.collection = db.collection(WEBHOOK_EVENTS)
        self.locks = db.locks
        self.notify = notify

    async def record(self, message: WebhookMessage, events: Sequence[Event]) -> bool:
        doc = {
            "_id": message.notification_id,
            "notification_id": message.notification_id,
            "source": message.source,
            "webhook_type": message.webhook_type,
            "shop_id": message.shop_id,
            "received_at": message.received_at,
            "correlation_id": message.correlation_id,
            "body": message.body,
            "processed_at": None,
            "outbox": outbox_entries(events),
        }
        try:
            async with self.locks.hold(WEBHOOK_EVENTS, message.notification_id):
                await self.collection.insert_one(doc)
        except Exception as exc:
            if not is_duplicate(exc):
                raise
            known = await self.collection.find_one({"_id": message.notification_id})
            return bool(known and known.get("processed_at"))
        if events:
            self.notify(WEBHOOK_EVENTS, message.notification_id)
        return False

    async def mark_processed(self, notification_id: str, outcome: str) -> None:
        async with self.locks.hold(WEBHOOK_EVENTS, notification_id):
            await self.collection.update_one(
                {"_id": notification_id}, {"$set": {"processed_at": utcnow(), "outcome": outcome}}
            )
