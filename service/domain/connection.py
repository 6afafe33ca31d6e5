"""How the admin settings describe the app's credentials (the seed's rules)."""


def mask_app_key(app_key: str) -> str | None:
    """The first 8 characters and an ellipsis, as the seed shows it; never the whole key."""
    if not app_key:
        return None
    return app_key[:8] + "..."
