"""What can go wrong talking to TikTok Shop, as exception types the adapter catches by name.

These stay inside the adapter: the gateway translates each into the port's `GatewayError`
family (`service.adapters.tiktok.port_errors`).

TikTokError
├── TikTokApiError                      TikTok answered with a non-zero ``code``
│   ├── AccessTokenExpiredError         105002: refresh, then retry once
│   │   └── AccessTokenNotRefreshableError   105002 on a token nothing can refresh (the seed's
│   │                                        static token); also a NeedsReauthorization
│   ├── InvalidSignatureError           106001
│   ├── ShopCipherMissingError          106013
│   ├── ShopCipherInvalidError          106014: the cipher is stale; fetch it again, retry once
│   ├── ThrottledError                  36009002 or HTTP 429
│   ├── PermissionDeniedError           105005: the app lacks the permission package
│   └── ReauthorizationRequiredError    36004001, 36004005 (also a NeedsReauthorization)
├── NeedsReauthorization                the seller must authorize the app again
│   └── ShopNeedsReauthorizationError   known locally; TikTok was not called
├── TikTokResponseError                 an answer that is not a TikTok envelope
└── TikTokTransportError                timeouts, refused or dropped connections, after retries
"""

from typing import ClassVar, Final

ACCESS_TOKEN_EXPIRED: Final = 105002
ACCESS_TOKEN_INVALID: Final = 105001
PERMISSION_DENIED: Final = 105005
INVALID_SIGNATURE: Final = 106001
SHOP_CIPHER_MISSING: Final = 106013
SHOP_CIPHER_INVALID: Final = 106014
REFRESH_TOKEN_EXPIRED: Final = 36004001
NO_AUTHORIZATION_RECORD: Final = 36004005
THROTTLED: Final = 36009002


class TikTokError(Exception):
    """Base of every error this adapter raises internally."""


class NeedsReauthorization(TikTokError):
    """The seller must authorize the app again before this shop can be called."""


class TikTokApiError(TikTokError):
    """TikTok answered with a non-zero ``code``; ``request_id`` is what TikTok support asks for.

    ``retry_after`` is TikTok's Retry-After header in seconds, when the answer carried one.
    """

    codes: ClassVar[frozenset[int]] = frozenset()

    def __init__(
        self,
        code: int,
        message: str,
        request_id: str = "",
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"TikTok error {code}: {message} (request_id={request_id or '-'})")
        self.code = code
        self.message = message
        self.request_id = request_id
        self.http_status = http_status
        self.retry_after = retry_after

    @property
    def is_throttled(self) -> bool:
        return self.code == THROTTLED or self.http_status == 429

    @property
    def is_server_error(self) -> bool:
        return self.http_status is not None and self.http_status >= 500


class AccessTokenExpiredError(TikTokApiError):
    codes = frozenset({ACCESS_TOKEN_EXPIRED})


class AccessTokenNotRefreshableError(AccessTokenExpiredError, NeedsReauthorization):
    """TikTok said 105002 and the token provider has nothing to refresh it with."""

    @classmethod
    def of(cls, error: AccessTokenExpiredError) -> "AccessTokenNotRefreshableError":
        return cls(
            error.code, error.message, error.request_id, error.http_status, error.retry_after
        )


class InvalidSignatureError(TikTokApiError):
    codes = frozenset({INVALID_SIGNATURE})


class ShopCipherMissingError(TikTokApiError):
    codes = frozenset({SHOP_CIPHER_MISSING})


class ShopCipherInvalidError(TikTokApiError):
    """TikTok does not know the cipher sent for the shop (or the token does not cover it)."""

    codes = frozenset({SHOP_CIPHER_INVALID})


class ThrottledError(TikTokApiError):
    codes = frozenset({THROTTLED})


class PermissionDeniedError(TikTokApiError):
    codes = frozenset({PERMISSION_DENIED})


class ReauthorizationRequiredError(TikTokApiError, NeedsReauthorization):
    codes = frozenset({REFRESH_TOKEN_EXPIRED, NO_AUTHORIZATION_RECORD})


class ShopNeedsReauthorizationError(NeedsReauthorization):
    """Raised before any call: the shop is marked (or was never authorized)."""

    def __init__(self, shop_id: str, reason: str) -> None:
        super().__init__(f"shop {shop_id} must be re-authorized by the seller: {reason}")
        self.shop_id = shop_id
        self.reason = reason


class TikTokResponseError(TikTokError):
    """An answer without a readable envelope (not JSON, or no integer ``code``)."""

    def __init__(
        self, message: str, http_status: int | None, retry_after: float | None = None
    ) -> None:
        super().__init__(f"{message} (HTTP {http_status or '-'})")
        self.http_status = http_status
        self.retry_after = retry_after

    @property
    def is_throttled(self) -> bool:
        return self.http_status == 429

    @property
    def is_server_error(self) -> bool:
        return self.http_status is not None and self.http_status >= 500


class TikTokTransportError(TikTokError):
    """No answer: timeout, refused or dropped connection, after the retries allowed.

    ``sent`` is False when the request surely never reached TikTok (the connection was never
    made), so that even a call that must not run twice may be sent again.
    """

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


_BY_CODE: Final[dict[int, type[TikTokApiError]]] = {
    code: cls
    for cls in (
        AccessTokenExpiredError,
        InvalidSignatureError,
        ShopCipherMissingError,
        ShopCipherInvalidError,
        ThrottledError,
        PermissionDeniedError,
        ReauthorizationRequiredError,
    )
    for code in cls.codes
}


def api_error(
    code: int,
    message: str,
    request_id: str = "",
    http_status: int | None = None,
    retry_after: float | None = None,
) -> TikTokApiError:
    """The most specific error type for an answer; HTTP 429 is throttling whatever the code."""
    cls = _BY_CODE.get(code)
    if cls is None and http_status == 429:
        cls = ThrottledError
    return (cls or TikTokApiError)(code, message, request_id, http_status, retry_after)
