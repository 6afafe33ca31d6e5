"""Bearer-token guard for the admin paths: the API never runs open."""

import base64
import binascii
import hmac

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send


class BearerToken:
    def __init__(self, app: ASGIApp, *, token: str) -> None:
        if not token:
            raise ValueError("ADMIN_API_TOKEN is not set: the admin API refuses to run without it")
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._allowed(Request(scope)):
            response: Response = JSONResponse(
                {"error": "Missing or wrong admin token", "code": "unauthorized", "fields": []},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _allowed(self, request: Request) -> bool:
        given = request.headers.get("authorization", "").encode()
        return hmac.compare_digest(given, self._expected)


def token_given(request: Request, token: str) -> bool:
    """Whether the request carries the admin token: as a bearer token, or as the password of
    HTTP Basic authentication (any user name), which a browser asks for by itself when a page
    answers 401 with `WWW-Authenticate: Basic`. Compared in constant time."""
    given = request.headers.get("authorization", "")
    scheme, _, credentials = given.partition(" ")
    if scheme.lower() == "bearer":
        return hmac.compare_digest(credentials.encode(), token.encode())
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True)
        except (binascii.Error, ValueError):
            return False
        _, _, password = decoded.partition(b":")
        return hmac.compare_digest(password, token.encode())
    return False
