"""The AsyncAPI document and FastStream's page for it, on the admin port, behind the admin token.

`GET /admin/tiktok-shop/asyncapi.json` is the document of this worker's Kafka interface (its
topics, servers and security scheme), generated from the code as `service/asyncapi.py` generates
the committed one; `GET /admin/tiktok-shop/asyncapi` is FastStream's page rendering it. Both
want the admin token, as a bearer token or as the password of HTTP Basic authentication, so a
browser can open the page: it asks for the password itself.

The page is FastStream's without its "try it out" plugin, which would publish to the topics
(the webhook topic takes only what the ingress verified). Its script and styles come from the
AsyncAPI React component's CDN, so the page is served sandboxed: it runs in an origin of its
own, and cannot read the admin page's token or call the admin API.
"""

from typing import Any

from faststream.specification.asyncapi.site import (
    ASYNCAPI_CSS_DEFAULT_URL,
    ASYNCAPI_JS_DEFAULT_URL,
    get_asyncapi_html,
)
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from service.asyncapi import document
from service.entrypoints.admin_http.auth import token_given
from service.settings import Settings

TITLE = "TikTok Shop channel"


def _origin_path(url: str) -> str:
    """The CDN folder a page resource comes from, for the content policy."""
    return url.rsplit("/", 2)[0] + "/"


PAGE_HEADERS = {
    "content-security-policy": (
        "sandbox allow-scripts; default-src 'none'; "
        f"script-src 'unsafe-inline' {_origin_path(ASYNCAPI_JS_DEFAULT_URL)}; "
        f"style-src 'unsafe-inline' {_origin_path(ASYNCAPI_CSS_DEFAULT_URL)}; "
        "img-src https://www.asyncapi.com data:; font-src data:; connect-src 'none'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


class _Document:
    """What FastStream's page generator reads of a specification: its title and JSON."""

    def __init__(self, text: str) -> None:
        self.title = TITLE
        self._text = text

    def to_json(self) -> str:
        return self._text


def asyncapi_routes(prefix: str, settings: Settings, token: str) -> list[Route]:
    """The two routes under `prefix`; the document is generated at the first request."""
    generated: list[str] = []

    def text() -> str:
        if not generated:
            generated.append(document(settings))
        return generated[0]

    def refused() -> Response:
        return JSONResponse(
            {"error": "Missing or wrong admin token", "code": "unauthorized", "fields": []},
            status_code=401,
            headers={"WWW-Authenticate": 'Basic realm="tiktok-shop admin", charset="UTF-8"'},
        )

    async def as_json(request: Request) -> Response:
        if not token_given(request, token):
            return refused()
        return Response(text(), media_type="application/json")

    async def page(request: Request) -> Response:
        if not token_given(request, token):
            return refused()
        spec: Any = _Document(text())
        html = get_asyncapi_html(spec, try_it_out_path=None)
        return HTMLResponse(html, headers=PAGE_HEADERS)

    return [
        Route(f"{prefix}/asyncapi.json", as_json, methods=["GET"]),
        Route(f"{prefix}/asyncapi", page, methods=["GET"]),
    ]
