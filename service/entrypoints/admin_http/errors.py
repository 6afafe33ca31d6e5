"""Error answers of the admin API: the seed's `{"error": message}` plus a code and the fields,
and the last resort that keeps every answer JSON."""

import structlog
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts.replies import ErrorCode, ErrorReply
from service.application.ports import DatabaseUnavailable

log = structlog.get_logger(__name__)

STATUS_BY_CODE: dict[ErrorCode, int] = {
    "validation_failed": 400,
    "not_found": 404,
    "conflict": 409,
    "tiktok_error": 502,
    "unavailable": 503,
    "internal": 500,
}


def error_response(reply: ErrorReply) -> JSONResponse:
    body: dict[str, object] = {
        "error": reply.message,
        "code": reply.code,
        "fields": [f.model_dump(by_alias=True) for f in reply.fields],
    }
    if reply.tiktok_code is not None:
        body["tiktokCode"] = reply.tiktok_code
    return JSONResponse(body, status_code=STATUS_BY_CODE[reply.code])


def error(code: ErrorCode, message: str) -> JSONResponse:
    return error_response(ErrorReply(code=code, message=message))


class JsonErrors:
    """Last resort around the admin API: what escapes its endpoints is answered as JSON, never
    as plain text with a traceback. A database that did not answer is a 503 `unavailable` with
    one warning line; anything else a 500 `internal`, logged with its traceback (a bug)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except DatabaseUnavailable as exc:
            log.warning("database unavailable", path=scope.get("path"), error=str(exc)[:200])
            if started:
                raise
            await error("unavailable", "The database is unreachable; try again")(
                scope, receive, send
            )
        except HTTPException:
            raise  # a path or method no route takes: the app's handlers answer it (404, 405)
        except Exception:
            log.exception("admin request failed", path=scope.get("path"))
            if started:
                raise
            await error("internal", "The request failed unexpectedly")(scope, receive, send)
