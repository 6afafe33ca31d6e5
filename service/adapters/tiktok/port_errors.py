"""The adapter's errors as the port's one family: `GatewayError` and `AuthorizationRequired`.

Each message is one sentence an operator can act on, with TikTok's code and request id when
TikTok answered (what TikTok support asks for), e.g.
``TikTok refused the access token (105002, request abc): Access token is expired``.
"""

from service.adapters.tiktok.errors import (
    ACCESS_TOKEN_INVALID,
    AccessTokenExpiredError,
    AccessTokenNotRefreshableError,
    InvalidSignatureError,
    NeedsReauthorization,
    PermissionDeniedError,
    ReauthorizationRequiredError,
    ShopCipherInvalidError,
    ShopCipherMissingError,
    ShopNeedsReauthorizationError,
    ThrottledError,
    TikTokApiError,
    TikTokError,
    TikTokResponseError,
    TikTokTransportError,
)
from service.application.errors import AuthorizationRequired, GatewayError


def describe_error(exc: TikTokError) -> str:
    """One sentence for an operator, naming TikTok's code and request id when there are."""
    if isinstance(exc, TikTokApiError):
        return f"{_lead(exc)} ({exc.code}, request {exc.request_id or '-'}): {exc.message}"
    if isinstance(exc, ShopNeedsReauthorizationError):
        return f"The seller must re-authorize shop {exc.shop_id}: {exc.reason}"
    if isinstance(exc, TikTokTransportError):
        return f"TikTok could not be reached: {exc}"
    if isinstance(exc, TikTokResponseError):
        return f"TikTok's answer could not be read: {exc}"
    return str(exc)


def _lead(exc: TikTokApiError) -> str:
    if isinstance(exc, AccessTokenExpiredError) or exc.code == ACCESS_TOKEN_INVALID:
        return "TikTok refused the access token"
    if isinstance(exc, InvalidSignatureError):
        return "TikTok refused the request signature (check the app key and secret)"
    if isinstance(exc, ReauthorizationRequiredError):
        return "TikTok says the seller must re-authorize the app"
    if isinstance(exc, PermissionDeniedError):
        return "TikTok says the app lacks the permission for this call"
    if isinstance(exc, ShopCipherMissingError):
        return "TikTok did not get the shop's cipher"
    if isinstance(exc, ShopCipherInvalidError):
        return "TikTok refused the shop's cipher"
    if isinstance(exc, ThrottledError) or exc.is_throttled:
        return "TikTok is throttling the app"
    if exc.is_server_error:
        return "TikTok failed with a server error"
    return "TikTok refused the call"


def gateway_error(exc: TikTokError, shop_id: str | None = None) -> GatewayError:
    """The port's error for one of the adapter's; ``shop_id`` names the shop in the advice.

    AuthorizationRequired: 36004001, 36004005, a shop marked or never authorized, a token that
    does not cover the shop, and 105002 on the static token. GatewayError otherwise, retryable
    for throttling, TikTok's 5xx and no answer (the retries allowed are already spent).
    """
    message = describe_error(exc)
    if isinstance(exc, AccessTokenNotRefreshableError):
        shop = f"shop {shop_id}" if shop_id else "the shop"
        return AuthorizationRequired(
            f"{message}; the static TIKTOK_ACCESS_TOKEN cannot be refreshed, so the seller must "
            f"authorize {shop} (an authorization code through `authorize`)",
            code=exc.code,
            request_id=exc.request_id or None,
        )
    if isinstance(exc, NeedsReauthorization):
        api = exc if isinstance(exc, TikTokApiError) else None
        return AuthorizationRequired(
            message,
            code=api.code if api else None,
            request_id=(api.request_id or None) if api else None,
        )
    if isinstance(exc, TikTokApiError):
        return GatewayError(
            message,
            code=exc.code,
            request_id=exc.request_id or None,
            retryable=exc.is_throttled or exc.is_server_error,
        )
    if isinstance(exc, TikTokResponseError):
        return GatewayError(message, retryable=exc.is_throttled or exc.is_server_error)
    if isinstance(exc, TikTokTransportError):
        return GatewayError(message, retryable=True)
    return GatewayError(message)
