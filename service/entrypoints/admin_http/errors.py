"""Error answers of the admin API: the seed's `{"error": message}` plus a code and the fields."""

from starlette.responses import JSONResponse

from contracts.replies import ErrorCode, ErrorReply

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
