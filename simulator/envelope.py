"""TikTok's answer shape ``{code, message, request_id, data}`` and the error codes it uses."""

import secrets
import time
from typing import Any, Final

from starlette.responses import JSONResponse

# Named in TikTok's documentation.
OK: Final = 0
ACCESS_TOKEN_EXPIRED: Final = 105002
PERMISSION_DENIED: Final = 105005
INVALID_SIGNATURE: Final = 106001
SHOP_CIPHER_MISSING: Final = 106013
REFRESH_TOKEN_EXPIRED: Final = 36004001
NO_AUTHORIZATION_RECORD: Final = 36004005
THROTTLED: Final = 36009002

# The simulator's own choices where the reference names no code.
ACCESS_TOKEN_INVALID: Final = 105001
INVALID_APP_KEY: Final = 106002
INVALID_TIMESTAMP: Final = 106003
SHOP_CIPHER_INVALID: Final = 106014
INVALID_AUTH_CODE: Final = 36004003
INVALID_PARAMETER: Final = 40006
NOT_FOUND: Final = 40004
PRODUCT_REJECTED: Final = 12052001
ORDER_NOT_SHIPPABLE: Final = 21011001
SERVER_ERROR: Final = 50000


def request_id() -> str:
    """Shaped like TikTok's: a UTC timestamp followed by random hex."""
    return time.strftime("%Y%m%d%H%M%S", time.gmtime()) + secrets.token_hex(10).upper()


def success(data: Any) -> JSONResponse:
    rid = request_id()
    return JSONResponse(
        {"code": OK, "message": "Success", "request_id": rid, "data": data},
        headers={"x-tt-logid": rid},
    )


def failure(
    http_status: int, code: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    rid = request_id()
    return JSONResponse(
        {"code": code, "message": message, "request_id": rid, "data": None},
        status_code=http_status,
        headers={"x-tt-logid": rid, **(headers or {})},
    )


class ApiFailure(Exception):
    """Raised by a handler to answer with an error envelope."""

    def __init__(self, http_status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = code
        self.message = message

    def response(self) -> JSONResponse:
        return failure(self.http_status, self.code, self.message)
