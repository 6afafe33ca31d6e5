"""POST /tiktok-shop/webhooks: verify the raw bytes, check the shape, publish, then answer 200.

Both forms are taken: TikTok's (signature in the `Authorization` header) and the seed's
(signature in the `sign` query parameter). Every refusal is a JSON `{"error", "code"}` answer and
publishes nothing; 200 is sent only after the broker acknowledged the message.
"""

import re
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, TypeVar

import structlog
from opentelemetry.trace import SpanKind
from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from contracts.webhooks import SeedWebhook, TikTokEnvelope, WebhookMessage, body_id
from service import metrics, telemetry
from service.adapters.kafka.link import PublishTooLarge, PublishUnavailable
from service.adapters.tiktok.signing import (
    verify_seed_webhook_signature,
    verify_webhook_signature,
)
from service.domain.webhook_keys import seed_webhook_key, tiktok_webhook_key
from service.entrypoints import strict_json
from service.entrypoints.body import BadContentLength, BodyTooLarge, read_limited
from service.settings import Settings

PATH = "/tiktok-shop/webhooks"
CORRELATION_HEADER = "X-Correlation-Id"
# A caller's correlation id is kept only when it is safe to log and to put in a Kafka header.
_CORRELATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")

log = structlog.get_logger(__name__)
M = TypeVar("M", bound=BaseModel)
Form = Literal["tiktok", "seed"]


class Publisher(Protocol):
    async def publish(self, message: WebhookMessage, *, key: str) -> None:
        """Return once the broker acknowledged; raise PublishUnavailable or PublishTooLarge."""


class Refused(Exception):
    """A request answered with an error; nothing was published for it."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def webhook_endpoint(
    settings: Settings, publisher: Publisher
) -> Callable[[Request], Awaitable[Response]]:
    async def receive(request: Request) -> Response:
        started = time.monotonic()
        # A caller's traceparent is continued; TikTok sends none, so its webhooks start one.
        with telemetry.tracer().start_as_current_span(
            f"POST {PATH}",
            context=telemetry.extract(request.headers),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": "POST", "url.path": PATH},
        ) as span:
            answer = await answer_webhook(request)
            span.set_attribute("http.response.status_code", answer.status_code)
        outcome = "accepted" if answer.status_code == 200 else "refused"
        metrics.WEBHOOK_SECONDS.labels(outcome=outcome).observe(time.monotonic() - started)
        return answer

    async def answer_webhook(request: Request) -> Response:
        correlation_id = _correlation_id(request)
        headers = {CORRELATION_HEADER: correlation_id}
        webhook_type = "unknown"  # until the signature is verified, the body says nothing
        try:
            message, key = await _accept(request, settings, correlation_id)
            webhook_type = metrics.webhook_type_label(message.webhook_type)
            await _publish(publisher, message, key)
        except Refused as refused:
            say = log.warning if refused.status >= 500 else log.info
            say(
                "webhook refused",
                status=refused.status,
                code=refused.code,
                correlation_id=correlation_id,
                reason=refused.message,
            )
            metrics.WEBHOOKS.labels(type=webhook_type, outcome="refused", code=refused.code).inc()
            body = {"error": refused.message, "code": refused.code}
            return JSONResponse(body, status_code=refused.status, headers=headers)
        except ClientDisconnect:
            log.info("webhook sender disconnected mid-body", correlation_id=correlation_id)
            metrics.WEBHOOKS.labels(type=webhook_type, outcome="refused", code="disconnected").inc()
            return Response(status_code=400, headers=headers)
        metrics.WEBHOOKS.labels(type=webhook_type, outcome="accepted", code="").inc()
        log.info(
            "webhook accepted",
            notification_id=message.notification_id,
            correlation_id=correlation_id,
            source=message.source,
            webhook_type=message.webhook_type,
            key=key,
        )
        return JSONResponse({"received": True, "id": message.notification_id}, headers=headers)

    return receive


async def _accept(
    request: Request, settings: Settings, correlation_id: str
) -> tuple[WebhookMessage, str]:
    """The message to publish and its key, or `Refused`. Nothing is parsed before it verifies."""
    raw, form = await _verified_body(request, settings)
    document = _json_object(raw)
    if form == "seed":
        return _seed_message(document, raw, settings.default_shop_id, correlation_id)
    return _tiktok_message(document, raw, settings.default_shop_id, correlation_id)


async def _verified_body(request: Request, settings: Settings) -> tuple[bytes, Form]:
    secret = settings.tiktok_app_secret.get_secret_value()
    if not secret:
        raise Refused(
            503,
            "not_configured",
            "Webhook verification is not configured: set TIKTOK_APP_SECRET (and TIKTOK_APP_KEY"
            " for TikTok's form) and restart the ingress.",
        )
    seed_sign = request.query_params.get("sign")
    tiktok_sign = request.headers.get("authorization")
    if not seed_sign and not tiktok_sign:
        raise Refused(
            401,
            "signature_missing",
            "The request is not signed: TikTok signs in the Authorization header, the seed form"
            " in the `sign` query parameter.",
        )
    # TikTok never sends `sign` in the query, so its presence marks the seed's form.
    if not seed_sign and not settings.tiktok_app_key:
        raise Refused(
            503,
            "not_configured",
            "TikTok's webhooks cannot be verified: set TIKTOK_APP_KEY and restart the ingress.",
        )
    raw = await _read_body(request, settings.webhook_max_bytes)
    if seed_sign:
        params = dict(request.query_params)
        verified = verify_seed_webhook_signature(secret, request.url.path, params, raw, seed_sign)
    else:
        verified = verify_webhook_signature(settings.tiktok_app_key, secret, raw, tiktok_sign)
    if not verified:
        raise Refused(
            401,
            "signature_invalid",
            "The signature does not match the body: sign the exact bytes sent with the app"
            " secret (and, for TikTok's form, the app key this ingress is configured with).",
        )
    return raw, "seed" if seed_sign else "tiktok"


def _tiktok_message(
    document: dict[str, Any], raw: bytes, default_shop_id: str, correlation_id: str
) -> tuple[WebhookMessage, str]:
    need = "TikTok's webhook needs `type` (an integer)"
    tiktok = _validate(TikTokEnvelope, document, need)
    message = WebhookMessage(
        # Older shops' deliveries carry no tts_notification_id: an id derived from the body
        # makes a redelivery of the same body a duplicate all the same.
        notification_id=tiktok.notification_id(raw),
        source="tiktok",
        webhook_type=str(tiktok.type),
        shop_id=tiktok.shop_id or None,
        received_at=datetime.now(UTC),
        correlation_id=correlation_id,
        body=document,
    )
    return message, tiktok_webhook_key(
        tiktok, default_shop_id=default_shop_id, notification_id=message.notification_id
    )


def _seed_message(
    document: dict[str, Any], raw: bytes, default_shop_id: str, correlation_id: str
) -> tuple[WebhookMessage, str]:
    need = "The seed's webhook needs `type` (text) and `payload` (an object)"
    seed = _validate(SeedWebhook, document, need)
    notification_id = body_id(raw)  # the seed form carries no id
    message = WebhookMessage(
        notification_id=notification_id,
        source="seed",
        webhook_type=seed.type,
        shop_id=None,  # the seed form names no shop; the key uses the default one
        received_at=datetime.now(UTC),
        correlation_id=correlation_id,
        body=document,
    )
    key = seed_webhook_key(seed, shop_id=default_shop_id, notification_id=notification_id)
    return message, key


async def _read_body(request: Request, limit: int) -> bytes:
    try:
        return await read_limited(request, limit)
    except BodyTooLarge as exc:
        raise Refused(
            413,
            "body_too_large",
            f"The body is larger than {exc.limit} bytes; webhooks are far smaller, so check what"
            " is being sent to this address.",
        ) from exc
    except BadContentLength as exc:
        raise Refused(400, "bad_content_length", "Content-Length is not a number.") from exc


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        document = strict_json.loads(raw)
    except strict_json.UnfitJson as exc:
        raise Refused(
            400,
            "invalid_json",
            f"The body is not JSON the service can take ({exc}): send a JSON object in UTF-8.",
        ) from exc
    if not isinstance(document, dict):
        kind = _JSON_KINDS[type(document)]
        raise Refused(
            400, "not_an_object", f"The body is a JSON {kind}, not an object: send a JSON object."
        )
    return document


_JSON_KINDS: dict[type, str] = {
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


def _validate(model: type[M], document: dict[str, Any], need: str) -> M:
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'body'}: {error['msg']}"
            for error in exc.errors()[:5]
        )
        raise Refused(400, "invalid_webhook", f"{need}. Found: {problems}.") from exc


async def _publish(publisher: Publisher, message: WebhookMessage, key: str) -> None:
    try:
        await publisher.publish(message, key=key)
    except PublishUnavailable as exc:
        raise Refused(
            503,
            "broker_unavailable",
            f"The event could not be stored ({exc}); deliver it again later.",
        ) from exc
    except PublishTooLarge as exc:
        raise Refused(
            413,
            "too_large_to_forward",
            f"The event is too large for the message broker ({exc}).",
        ) from exc


def _correlation_id(request: Request) -> str:
    given = request.headers.get(CORRELATION_HEADER, "").strip()
    return given if _CORRELATION_ID.fullmatch(given) else str(uuid.uuid4())
