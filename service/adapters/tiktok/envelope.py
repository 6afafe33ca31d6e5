"""Reading TikTok's answer envelope: ``data`` on ``code == 0``, a typed error otherwise."""

import json
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from service.adapters.tiktok.errors import TikTokResponseError, api_error
from service.adapters.tiktok.models import Envelope


def read_envelope(response: httpx.Response) -> Envelope:
    """The envelope of any answer, whatever its HTTP status; TikTokResponseError if none."""
    status = response.status_code
    try:
        payload: Any = json.loads(response.content)
    except ValueError:
        raise TikTokResponseError("answer is not JSON", status) from None
    if not isinstance(payload, dict):
        raise TikTokResponseError("answer is not a JSON object", status)
    code = payload.get("code")
    if not isinstance(code, int) or isinstance(code, bool):
        raise TikTokResponseError("answer has no integer code", status)
    message = payload.get("message")
    request_id = payload.get("request_id")
    return Envelope(
        code=code,
        message=message if isinstance(message, str) else "",
        request_id=request_id if isinstance(request_id, str) else "",
        data=payload.get("data"),
    )


def unwrap(response: httpx.Response) -> Any:
    """``data`` of a successful answer (success is ``code == 0``, whatever HTTP says)."""
    envelope = read_envelope(response)
    if envelope.code != 0:
        raise api_error(envelope.code, envelope.message, envelope.request_id, response.status_code)
    return envelope.data


M = TypeVar("M", bound=BaseModel)


def parse_data(model: type[M], data: Any) -> M:
    """``data`` as ``model``; a shape TikTok should not send is a TikTokResponseError."""
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise TikTokResponseError(
            f"unexpected {model.__name__} data: {exc.error_count()} problem(s), "
            f"first at {'.'.join(map(str, exc.errors()[0]['loc']))}",
            None,
        ) from None
