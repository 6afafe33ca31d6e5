"""A shop's authorization of the app: its tokens, its cipher, and whether it may be called.

Expiries are absolute unix seconds, as TikTok's auth host sends them (`access_token_expire_in`
is a time, not a duration; TikTok's OAuth `/api/v2/token/get` and `/api/v2/token/refresh`).
"""

from dataclasses import dataclass, field
from typing import Final, Literal

AuthorizationStatus = Literal["active", "needs_reauthorization"]

#: Refresh this long before the access token expires (TikTok's tokens live about 7 days).
REFRESH_SKEW_SECONDS: Final = 300


@dataclass(frozen=True)
class ShopAuthorization:
    """One shop's tokens. `status_reason` says why the seller must authorize again (TikTok's
    code and message), for the settings answer and the admin page."""

    shop_id: str
    access_token: str = field(repr=False)
    access_token_expires_at: int
    refresh_token: str = field(repr=False)
    refresh_token_expires_at: int
    cipher: str | None = None
    status: AuthorizationStatus = "active"
    status_reason: str | None = None
    open_id: str | None = None
    seller_name: str | None = None

    @property
    def needs_reauthorization(self) -> bool:
        return self.status == "needs_reauthorization"

    def fresh_at(self, now: float) -> bool:
        """Whether the access token is still good at `now` (unix seconds), with a margin."""
        return now + REFRESH_SKEW_SECONDS < self.access_token_expires_at

    def refreshable_at(self, now: float) -> bool:
        """Whether the refresh token can still be traded at `now` (unix seconds)."""
        return now < self.refresh_token_expires_at
