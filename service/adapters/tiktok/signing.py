"""TikTok Shop signatures: API requests, TikTok's webhooks, and the seed's webhook form.

Standard library only: the webhook ingress imports this module and must stay light.
All signatures are lowercase hex HMAC-SHA256 keyed with the app secret.
"""

import hashlib
import hmac
from collections.abc import Mapping

# Never part of the signed string: ``sign`` is the result, and a token is not a signed input.
EXCLUDED_PARAMS = frozenset({"sign", "access_token"})


def _hmac_hex(app_secret: str, message: bytes) -> str:
    return hmac.new(app_secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _sorted_params(params: Mapping[str, str]) -> bytes:
    """``key1value1key2value2...`` sorted by key, without the excluded parameters."""
    return "".join(
        f"{key}{params[key]}" for key in sorted(params) if key not in EXCLUDED_PARAMS
    ).encode("utf-8")


def _is_multipart(content_type: str | None) -> bool:
    return (content_type or "").strip().lower().startswith("multipart/form-data")


def sign_request(
    app_secret: str,
    path: str,
    params: Mapping[str, str],
    body: bytes = b"",
    *,
    content_type: str | None = None,
) -> str:
    """The ``sign`` query parameter of an Open API call.

    HMAC over ``secret + path + sorted(key + value) + body + secret``; ``params`` are the decoded
    query values, ``body`` the exact bytes sent. A multipart body is not signed.
    """
    signed_body = b"" if _is_multipart(content_type) else body
    secret = app_secret.encode("utf-8")
    message = secret + path.encode("utf-8") + _sorted_params(params) + signed_body + secret
    return _hmac_hex(app_secret, message)


def verify_request(
    app_secret: str,
    path: str,
    params: Mapping[str, str],
    body: bytes,
    signature: str,
    *,
    content_type: str | None = None,
) -> bool:
    expected = sign_request(app_secret, path, params, body, content_type=content_type)
    return _equal(expected, signature)


def webhook_signature(app_key: str, app_secret: str, raw_body: bytes) -> str:
    """TikTok's webhook ``Authorization`` header: HMAC over ``app_key + raw_body``."""
    return _hmac_hex(app_secret, app_key.encode("utf-8") + raw_body)


def verify_webhook_signature(
    app_key: str, app_secret: str, raw_body: bytes, signature: str | None
) -> bool:
    """Check the raw bytes as received; never a re-serialised body."""
    if not signature:
        return False
    return _equal(webhook_signature(app_key, app_secret, raw_body), signature)


def seed_webhook_signature(
    app_secret: str, path: str, params: Mapping[str, str], raw_body: bytes
) -> str:
    """The seed's webhook ``sign`` query parameter: HMAC over ``path + sorted(key + value) + body``.

    Unlike the API signature, the secret is only the HMAC key, not wrapped around the string.
    """
    return _hmac_hex(app_secret, path.encode("utf-8") + _sorted_params(params) + raw_body)


def verify_seed_webhook_signature(
    app_secret: str,
    path: str,
    params: Mapping[str, str],
    raw_body: bytes,
    signature: str | None,
) -> bool:
    if not signature:
        return False
    return _equal(seed_webhook_signature(app_secret, path, params, raw_body), signature)


def _equal(expected: str, given: str) -> bool:
    # Bytes, so that a non-ASCII forgery is a mismatch rather than a TypeError.
    return hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8"))
