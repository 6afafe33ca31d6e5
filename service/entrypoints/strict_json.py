"""JSON bodies read strictly enough that what is accepted survives the trip through Kafka and
the worker: the service re-encodes a body as UTF-8 JSON (pydantic) and reads it back with a
parser that nests at most 200 levels.

So a body is refused when it holds NaN or Infinity, a number beyond a double's range (`1e400`
would come back as null), a lone surrogate escape (`"\\ud800"`: valid JSON text that no UTF-8
encoder writes), or more than `MAX_DEPTH` levels of arrays and objects (far beyond any webhook
or command).
"""

import json
import math
from typing import Any

#: Arrays and objects inside each other, at most; TikTok's webhooks nest four or five.
MAX_DEPTH = 64


class UnfitJson(ValueError):
    """The body is not JSON, or is JSON the service could not carry as it is; says why."""


def loads(raw: bytes) -> Any:
    """The JSON document in `raw` (UTF-8), or `UnfitJson` saying what is wrong with it."""
    try:
        document = json.loads(raw, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError as exc:
        raise UnfitJson(f"nested deeper than {MAX_DEPTH} levels") from exc
    except UnfitJson:
        raise
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError among them
        raise UnfitJson("not valid UTF-8 JSON") from exc
    _check(document)
    return document


def _no_constant(name: str) -> Any:
    raise UnfitJson(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise UnfitJson(f"the number {text[:20]} is beyond a double's range")
    return value


def _check(document: Any) -> None:
    """Refuse deep nesting and lone surrogates, in one pass without recursion."""
    pending: list[tuple[Any, int]] = [(document, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            _unicode(value)
        elif isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                raise UnfitJson(f"nested deeper than {MAX_DEPTH} levels")
            if isinstance(value, dict):
                for key in value:
                    _unicode(key)
                pending.extend((item, depth + 1) for item in value.values())
            else:
                pending.extend((item, depth + 1) for item in value)


def _unicode(text: str) -> None:
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UnfitJson("a string holds a lone surrogate escape (not Unicode text)") from exc
