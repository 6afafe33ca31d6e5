"""Errors the operations raise, and the one error family of the TikTok port.

Operations raise `AppError`s; the entrypoints turn them into error replies and HTTP answers.
The TikTok gateway raises only `GatewayError`s (its adapter translates everything it meets), so
the application catches exactly those and nothing broader.
"""

from typing import Final

from contracts.replies import ErrorCode, ErrorReply, FieldError

#: How the reason of a message that can never be applied as it is starts (a refused webhook's
#: inbox outcome, a refused platform change's dead-letter reason): `tiktok_shop_dead_letters_total`
#: counts such letters as `rejected`, not `failed` (a bug or an outage).
REJECTED: Final = "rejected: "


class AppError(Exception):
    code: ErrorCode = "internal"

    def __init__(
        self,
        message: str,
        *,
        fields: list[FieldError] | None = None,
        tiktok_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or []
        #: TikTok's own error code, when TikTok refused the call behind this error.
        self.tiktok_code = tiktok_code

    def reply(self) -> ErrorReply:
        return ErrorReply(
            code=self.code, message=self.message, fields=self.fields, tiktok_code=self.tiktok_code
        )


class NotFound(AppError):
    code = "not_found"


class Conflict(AppError):
    code = "conflict"


class InvalidRequest(AppError):
    """The input can never succeed as it is: a webhook with it is set aside, not retried."""

    code = "validation_failed"


class TikTokFailed(AppError):
    """TikTok refused or failed the call; the message carries its code and request id."""

    code = "tiktok_error"


class Unavailable(AppError):
    """A dependency (the database, Kafka) is down; the same request may succeed later."""

    code = "unavailable"


# --- the TikTok port's errors -----------------------------------------------------------------


class GatewayError(Exception):
    """TikTok refused or failed a call, or it could not be made.

    `code` and `request_id` are TikTok's (what TikTok support asks for), when TikTok answered.
    `retryable` is True when the same call may succeed later (throttling, TikTok's 5xx, no
    answer): the gateway has already retried it as its policy allows.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        request_id: str | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.request_id = request_id
        self.retryable = retryable


class NotConfigured(GatewayError):
    """No TikTok credentials are configured: nothing was called (the seed's behaviour)."""


class AuthorizationRequired(GatewayError):
    """The seller must authorize the app (again) before this shop can be called."""


def tiktok_failed(action: str, error: GatewayError) -> AppError:
    """The answer for an operation TikTok refused: `unavailable` when a later try may work,
    `conflict` when the service's state forbids the call (no credentials, the seller must
    authorize the shop again), else `tiktok_error` with TikTok's code."""
    message = f"{action}: {error.message}"
    if isinstance(error, NotConfigured | AuthorizationRequired):
        return Conflict(message)
    if error.retryable:
        return Unavailable(message, tiktok_code=error.code)
    return TikTokFailed(message, tiktok_code=error.code)
