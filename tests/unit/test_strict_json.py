"""Bodies the service takes are JSON it can carry as it is, through Kafka to the worker."""

import json

import pytest

from contracts.webhooks import WebhookMessage
from service.domain.time import utcnow
from service.entrypoints.strict_json import MAX_DEPTH, UnfitJson, loads


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b'{"a": NaN}', "NaN"),
        (b'{"a": -Infinity}', "-Infinity"),
        (b'{"a": 1e400}', "beyond a double"),
        (b'{"a": "\\ud800"}', "lone surrogate"),
        (b'{"\\udfff": 1}', "lone surrogate"),
        (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), f"deeper than {MAX_DEPTH}"),
        (b"[" * 100_000 + b"]" * 100_000, f"deeper than {MAX_DEPTH}"),
        (b'{"a": ' + b"1" * 5000 + b"}", "not valid"),
        (b'{"a": "\xff"}', "not valid"),
        (b"{", "not valid"),
    ],
)
def test_json_the_service_could_not_carry_is_refused_with_the_reason(raw: bytes, why: str) -> None:
    with pytest.raises(UnfitJson, match=why):
        loads(raw)


def test_what_is_taken_comes_back_the_same_through_the_worker_s_parser() -> None:
    body = {
        "a": [[[[["deep but fine"]]]]],
        "n": 1.5e-300,
        "big": 10**30,
        "text": "é \U0001f600 \u202e \x00",
        "nested": json.loads("[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)),
    }
    taken = loads(json.dumps(body, ensure_ascii=False).encode())
    message = WebhookMessage(
        notification_id="n",
        source="tiktok",
        webhook_type="1",
        received_at=utcnow(),
        correlation_id="c",
        body=taken,
    )
    assert WebhookMessage.model_validate_json(message.to_json()).body == body
