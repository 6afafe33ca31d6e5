"""The simulator's own check of TikTok's request signature and its webhook signature.

Written independently of ``service.adapters.tiktok.signing`` on purpose, and never importing it:
if the client's signer had a bug, a simulator sharing its code would agree with the bug and
every test would pass. Two implementations of the reference must agree instead.
"""

import hashlib
import hmac
from collections.abc import Iterable

_NOT_SIGNED = ("sign", "access_token")


def expected_sign(
    secret: str,
    path: str,
    query: Iterable[tuple[str, str]],
    body: bytes,
    content_type: str,
) -> str:
    """HMAC of: secret, path, key+value sorted by key (bar sign, access_token), body, secret."""
    pieces: list[str] = [secret, path]
    for key, value in sorted(
        ((k, v) for k, v in query if k not in _NOT_SIGNED), key=lambda pair: pair[0]
    ):
        pieces.append(key + value)
    text = "".join(pieces).encode()
    if "multipart/form-data" not in content_type.lower():
        text += body
    text += secret.encode()
    return hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()


def sign_matches(
    secret: str,
    path: str,
    query: Iterable[tuple[str, str]],
    body: bytes,
    content_type: str,
    given: str,
) -> bool:
    want = expected_sign(secret, path, query, body, content_type)
    return hmac.compare_digest(want.encode(), given.encode("utf-8", "replace"))


def webhook_authorization(app_key: str, app_secret: str, raw_body: bytes) -> str:
    """TikTok's webhook ``Authorization`` header value."""
    mac = hmac.new(app_secret.encode(), digestmod=hashlib.sha256)
    mac.update(app_key.encode())
    mac.update(raw_body)
    return mac.hexdigest()
