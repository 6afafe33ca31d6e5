"""TikTok's cursor paging: ``page_size`` 1..100 and an opaque ``page_token``; no offsets."""

import base64
import binascii
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from simulator import envelope as env

T = TypeVar("T")


def page_size(query: Mapping[str, str]) -> int:
    raw = query.get("page_size", "")
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise env.ApiFailure(400, env.INVALID_PARAMETER, "page_size must be 1..100")
    return int(raw)


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(f"sim:{offset}".encode()).decode().rstrip("=")


def _decode(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        text = ""
    prefix, _, number = text.partition(":")
    if prefix != "sim" or not number.isdigit():
        raise env.ApiFailure(400, env.INVALID_PARAMETER, "page_token is invalid")
    return int(number)


def page_of(items: Sequence[T], size: int, token: str | None) -> tuple[Sequence[T], str]:
    """One page and the token of the next one (empty on the last page)."""
    start = _decode(token) if token else 0
    end = start + size
    return items[start:end], _encode(end) if end < len(items) else ""


def within_time_bounds(
    filters: Mapping[str, Any], bounds: Iterable[tuple[str, int, Callable[[int, int], bool]]]
) -> bool:
    """Search filters such as ``create_time_ge``: each integer bound given must hold."""
    return all(
        not isinstance(filters.get(name), int) or test(value, filters[name])
        for name, value, test in bounds
    )
