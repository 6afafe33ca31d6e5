"""Closing the HTTP client a TikTok adapter made for itself (and only that one)."""

from types import TracebackType
from typing import Self

import httpx


class OwnsHttp:
    """Mixin: `aclose()` and `async with` for a class holding `_http` and `_owns_http`."""

    _http: httpx.AsyncClient
    _owns_http: bool

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
