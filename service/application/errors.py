"""Errors the operations raise; the entrypoints turn them into error replies and HTTP answers."""

from contracts.replies import ErrorCode, ErrorReply, FieldError


class AppError(Exception):
    code: ErrorCode = "internal"

    def __init__(self, message: str, *, fields: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or []

    def reply(self) -> ErrorReply:
        return ErrorReply(code=self.code, message=self.message, fields=self.fields)


class NotFound(AppError):
    code = "not_found"


class Conflict(AppError):
    code = "conflict"


class InvalidRequest(AppError):
    code = "validation_failed"


class TikTokFailed(AppError):
    """TikTok refused or failed the call; the message carries its code and request id."""

    code = "tiktok_error"


class Unavailable(AppError):
    code = "unavailable"
