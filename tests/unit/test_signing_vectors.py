"""Our signatures against an independent implementation (``tiktok_shop_api``) and the simulator's.

Three implementations of the reference must agree on every vector; the pinned literals were
computed with the independent one, so a change that moved all three together would still fail.
"""

import hashlib
import hmac
import json

import pytest
from tiktok_shop_api import Signer, Webhooks

from service.adapters.tiktok.signing import (
    seed_webhook_signature,
    sign_request,
    verify_request,
    verify_seed_webhook_signature,
    verify_webhook_signature,
    webhook_signature,
)
from simulator.signature import expected_sign, webhook_authorization

SECRET = "123"
BASE = {"app_key": "abcdef", "timestamp": "1706085513"}

VECTORS: list[tuple[str, str, dict[str, str], bytes, str | None]] = [
    ("get, no body", "/authorization/202309/shops", dict(BASE), b"", None),
    (
        "get, path parameter and cipher",
        "/product/202309/products/1729382476852921560",
        {**BASE, "shop_cipher": "ROW_abc"},
        b"",
        None,
    ),
    (
        "get, comma-separated ids",
        "/order/202507/orders",
        {**BASE, "shop_cipher": "ROW_abc", "ids": "576461413038785752,576461413038785753"},
        b"",
        None,
    ),
    (
        "post, json body",
        "/product/202502/products/search",
        {**BASE, "shop_cipher": "ROW_abc", "page_size": "20"},
        b'{"status":"ACTIVATE"}',
        "application/json",
    ),
    (
        "post, empty json object",
        "/order/202309/orders/search",
        {**BASE, "shop_cipher": "ROW_abc", "page_size": "100", "page_token": "b2Zmc2V0OjEwMA"},
        b"{}",
        "application/json",
    ),
    (
        "put, unicode body",
        "/product/202509/products/1729382476852921560",
        {**BASE, "shop_cipher": "ROW_abc"},
        json.dumps(
            {"title": "Tee shirt, coton bio, Größe M, 東京 ✓", "description": "naïve café"},
            ensure_ascii=False,
        ).encode(),
        "application/json",
    ),
    (
        "unicode in a query value",
        "/product/202502/products/search",
        {**BASE, "shop_cipher": "ROW_abc", "page_token": "ñandú/東京 and spaces"},
        b"{}",
        "application/json",
    ),
    (
        "sign and access_token are not signed",
        "/authorization/202309/shops",
        {**BASE, "sign": "deadbeef", "access_token": "TTP_token"},
        b"",
        None,
    ),
    (
        "multipart body is not signed",
        "/product/202309/images/upload",
        dict(BASE),
        b"--boundary\r\nContent-Disposition: form-data; name=data\r\n\r\n\x89PNG\r\n--boundary--",
        "multipart/form-data; boundary=boundary",
    ),
    (
        "keys sort by key, not by key+value",
        "/x",
        {"a": "2", "ab": "1", "b": "", "A": "z"},
        b"",
        None,
    ),
]


def _independent(path: str, params: dict[str, str], body: bytes, content_type: str | None) -> str:
    return Signer.sign(
        path=path,
        query=list(params.items()),
        content_type=content_type,
        body=body or None,
        app_secret=SECRET,
    )


@pytest.mark.parametrize(
    ("path", "params", "body", "content_type"),
    [v[1:] for v in VECTORS],
    ids=[v[0] for v in VECTORS],
)
def test_request_signature_agrees(
    path: str, params: dict[str, str], body: bytes, content_type: str | None
) -> None:
    ours = sign_request(SECRET, path, params, body, content_type=content_type)
    assert ours == _independent(path, params, body, content_type)
    assert ours == expected_sign(SECRET, path, params.items(), body, content_type or "")
    assert len(ours) == 64
    assert ours == ours.lower()
    assert verify_request(SECRET, path, params, body, ours, content_type=content_type)


def test_pinned_request_vectors() -> None:
    """Computed once with tiktok_shop_api's Signer (app key ``abcdef``, secret ``123``)."""
    assert (
        sign_request(SECRET, "/authorization/202309/shops", BASE)
        == "5c8427c9de3f0566ca654729cc3efdf231ddde2defef030c014c90c35819b2de"
    )
    assert (
        sign_request(
            SECRET,
            "/product/202502/products/search",
            {**BASE, "shop_cipher": "ROW_abc", "page_size": "20"},
            b'{"status":"ACTIVATE"}',
        )
        == "ce0c9d66a65ff1e0e5bc3d7194ea7f920edc3d48983665664e949f80de031a15"
    )


def test_excluded_params_do_not_change_the_signature() -> None:
    plain = sign_request(SECRET, "/p", BASE)
    assert sign_request(SECRET, "/p", {**BASE, "sign": "x", "access_token": "y"}) == plain
    assert sign_request(SECRET, "/p", {**BASE, "shop_cipher": "c"}) != plain


def test_every_input_matters() -> None:
    reference = sign_request(SECRET, "/p", BASE, b"{}")
    assert sign_request("124", "/p", BASE, b"{}") != reference
    assert sign_request(SECRET, "/q", BASE, b"{}") != reference
    assert sign_request(SECRET, "/p", {**BASE, "timestamp": "1706085514"}, b"{}") != reference
    assert sign_request(SECRET, "/p", BASE, b'{"a":1}') != reference


def test_verify_request_refuses_forgeries() -> None:
    good = sign_request(SECRET, "/p", BASE, b"{}")
    assert not verify_request(SECRET, "/p", BASE, b"{ }", good)
    assert not verify_request(SECRET, "/p", BASE, b"{}", good.upper())
    assert not verify_request(SECRET, "/p", BASE, b"{}", "é" * 64)  # no TypeError
    assert not verify_request(SECRET, "/p", BASE, b"{}", "")


# --- webhooks ------------------------------------------------------------------------------

# TikTok's documented example credentials (app key ``abcdef``, app secret ``123``) over an
# ORDER_STATUS_CHANGE body; the signature was computed with tiktok_shop_api's Webhooks.
DOC_KEY, DOC_SECRET = "abcdef", "123"
DOC_BODY = (
    b'{"type":1,"tts_notification_id":"7327112393057371910","shop_id":"7494049642642441621",'
    b'"timestamp":1706085513,"data":{"is_on_hold_order":false,"order_id":"576486316948490001",'
    b'"order_status":"UNPAID","update_time":1706085512}}'
)
DOC_SIGNATURE = "0f23d8923a6ed2c5d52fe100d480598b8eb6878701f9be4101d4c31c0c0cdef3"

WEBHOOK_BODIES = [
    DOC_BODY,
    b"",
    b"{}",
    json.dumps(
        {"type": 3, "shop_id": "1", "data": {"name": "Zoë Łukasiewicz", "city": "東京都"}},
        ensure_ascii=False,
    ).encode(),
    '{"data":{"note":"emoji \U0001f600 and NUL-free bytes"}}'.encode(),
    # Same text, escaped: different bytes, so a different signature.
    json.dumps({"data": {"name": "Zoë"}}, ensure_ascii=True).encode(),
]


def test_documented_webhook_example() -> None:
    assert Webhooks.verify(
        app_key=DOC_KEY, app_secret=DOC_SECRET, raw_body=DOC_BODY, signature=DOC_SIGNATURE
    )
    assert webhook_signature(DOC_KEY, DOC_SECRET, DOC_BODY) == DOC_SIGNATURE
    assert verify_webhook_signature(DOC_KEY, DOC_SECRET, DOC_BODY, DOC_SIGNATURE)


@pytest.mark.parametrize("body", WEBHOOK_BODIES)
def test_webhook_signature_agrees(body: bytes) -> None:
    ours = webhook_signature(DOC_KEY, DOC_SECRET, body)
    assert Webhooks.verify(app_key=DOC_KEY, app_secret=DOC_SECRET, raw_body=body, signature=ours)
    assert ours == webhook_authorization(DOC_KEY, DOC_SECRET, body)
    assert verify_webhook_signature(DOC_KEY, DOC_SECRET, body, ours)


def test_webhook_signature_refuses() -> None:
    assert not verify_webhook_signature(DOC_KEY, DOC_SECRET, DOC_BODY + b" ", DOC_SIGNATURE)
    assert not verify_webhook_signature("abcdeg", DOC_SECRET, DOC_BODY, DOC_SIGNATURE)
    assert not verify_webhook_signature(DOC_KEY, "124", DOC_BODY, DOC_SIGNATURE)
    assert not verify_webhook_signature(DOC_KEY, DOC_SECRET, DOC_BODY, None)
    assert not verify_webhook_signature(DOC_KEY, DOC_SECRET, DOC_BODY, "")
    assert not verify_webhook_signature(DOC_KEY, DOC_SECRET, DOC_BODY, "Bearer " + DOC_SIGNATURE)
    assert not verify_webhook_signature(DOC_KEY, DOC_SECRET, DOC_BODY, "ü" * 64)
    # The escaped and unescaped forms of one text are different bytes.
    escaped, raw = WEBHOOK_BODIES[5], '{"data":{"name":"Zoë"}}'.encode()
    assert not verify_webhook_signature(
        DOC_KEY, DOC_SECRET, raw, webhook_signature(DOC_KEY, DOC_SECRET, escaped)
    )


def test_seed_webhook_form() -> None:
    """The seed's form: the secret keys the HMAC but is not wrapped around the string."""
    path, params = "/webhooks/tiktok-shop", {"ts": "1706085513", "sign": "x"}
    body = '{"a":"é"}'.encode()
    by_hand = hmac.new(
        SECRET.encode(), b"/webhooks/tiktok-shopts1706085513" + body, hashlib.sha256
    ).hexdigest()
    signature = seed_webhook_signature(SECRET, path, params, body)
    assert signature == by_hand
    assert signature != sign_request(SECRET, path, params, body)
    assert verify_seed_webhook_signature(SECRET, path, params, body, signature)
    assert not verify_seed_webhook_signature(SECRET, path, params, body + b" ", signature)
    assert not verify_seed_webhook_signature(SECRET, path, params, body, None)
