"""TikTok's pushes: who gets which webhook type, the envelope, and delivery with its troubles.

Routing, as TikTok does it: a type that has an Event API name (``PUT /event/202309/webhooks``) goes
only to the address registered for that name on that shop; a type without one (the after-sales
types 64, 65, 67, inventory 71, and types TikTok adds later) goes to the address the app set for
the shop in Partner Center, which the simulator keeps as ``Shop.webhook_url``. ``PUT
/_sim/shops/{id}/webhook`` sets that address and registers it for every Event API name too.

Delivery: signed as TikTok signs (``Authorization`` = hex HMAC-SHA256 keyed with the app secret
over app key + raw body), one at a time per simulator in the order the notifications were made,
after the API answer that caused them. A delivery that gets no 2xx is retried after 2 minutes,
30 minutes, 3 hours and 12 hours of the simulated clock (``simulator.timeline``). The fault plan
can drop a share, send a share twice and hold a share back (``webhook_*`` in ``/_sim/faults``).
"""

import asyncio
import json
import secrets
import weakref
from dataclasses import dataclass, field
from typing import Any, Final

from simulator.core import Simulator
from simulator.order_books import PendingRetry, Subscription, WebhookDelivery

# The Event API's names (the enum of PUT/DELETE /event/202309/webhooks) and their type numbers.
EVENT_API_TYPES: Final[dict[str, int]] = {
    "ORDER_STATUS_CHANGE": 1,
    "REVERSE_STATUS_UPDATE": 2,  # the legacy form of 11 and 12; never sent by the simulator
    "RECIPIENT_ADDRESS_UPDATE": 3,
    "PACKAGE_UPDATE": 4,
    "PRODUCT_STATUS_CHANGE": 5,
    "SELLER_DEAUTHORIZATION": 6,
    "UPCOMING_AUTHORIZATION_EXPIRATION": 7,
    "CANCELLATION_STATUS_CHANGE": 11,
    "RETURN_STATUS_CHANGE": 12,
    "NEW_CONVERSATION": 13,
    "NEW_MESSAGE": 14,
    "PRODUCT_INFORMATION_CHANGE": 15,
    "PRODUCT_CREATION": 16,
    "PRODUCT_CATEGORY_CHANGE": 18,
    "NEW_MESSAGE_LISTENER": 33,
    "INVOICE_STATUS_CHANGE": 36,
    "PRODUCT_AUDIT_STATUS_CHANGE": 37,
}
EVENT_API_NAMES: Final[dict[int, str]] = {number: name for name, number in EVENT_API_TYPES.items()}

ORDER_STATUS_CHANGE: Final = 1
PACKAGE_UPDATE: Final = 4
PRODUCT_STATUS_CHANGE: Final = 5
CANCELLATION_STATUS_CHANGE: Final = 11
RETURN_STATUS_CHANGE: Final = 12
AFTERSALES_REQUEST_STATUS_UPDATE: Final = 64
RMA_STATUS_UPDATE: Final = 65
REFUND_SUCCESS: Final = 67
INVENTORY_CHANGED_BY_SHOP: Final = 71

# TikTok retries a delivery without a timely 2xx after these delays, then gives up.
RETRY_DELAYS: Final = (120, 1800, 3 * 3600, 12 * 3600)


# --- subscriptions ---------------------------------------------------------------------------


def subscribe(sim: Simulator, shop_id: str, event_type: int, address: str) -> Subscription:
    """Register (or move) the shop's address for one type; times in milliseconds."""
    books = sim.world.books
    now_ms = int((sim.config.clock() + sim.clock_offset) * 1000)
    old = books.subscriptions.get((shop_id, event_type))
    subscription = Subscription(
        shop_id, event_type, address, old.create_time_ms if old else now_ms, now_ms
    )
    books.subscriptions[(shop_id, event_type)] = subscription
    return subscription


def subscribe_all(sim: Simulator, shop_id: str, address: str | None) -> None:
    """The shortcut: ``address`` for every type (None removes them all)."""
    shop = sim.world.shops[shop_id]
    shop.webhook_url = address
    for event_type in EVENT_API_NAMES:
        if address is None:
            sim.world.books.subscriptions.pop((shop_id, event_type), None)
        else:
            subscribe(sim, shop_id, event_type, address)


def address_for(sim: Simulator, shop_id: str, event_type: int) -> str | None:
    """Where a notification of ``event_type`` for the shop goes, if anywhere."""
    subscription = sim.world.books.subscriptions.get((shop_id, event_type))
    if subscription is not None:
        return subscription.address
    if event_type in EVENT_API_NAMES:
        return None  # an Event API type goes only where that type was registered
    shop = sim.world.shops.get(shop_id)
    return shop.webhook_url if shop is not None else None


# --- envelopes -------------------------------------------------------------------------------


def notification_id() -> str:
    """Shaped like TikTok's: 19 digits."""
    return str(secrets.randbelow(10**18) + 7 * 10**18)


def envelope(
    sim: Simulator,
    event_type: int,
    shop_id: str,
    data: dict[str, Any],
    *,
    with_notification_id: bool = True,
) -> bytes:
    """``{type, tts_notification_id, shop_id, timestamp, data}`` as compact UTF-8 JSON."""
    body: dict[str, Any] = {"type": event_type}
    if with_notification_id:
        body["tts_notification_id"] = notification_id()
    body.update({"shop_id": shop_id, "timestamp": sim.now(), "data": data})
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def numeric_ids(value: Any) -> Any:
    """Digit-string ids (``id``, ``*_id``) as JSON numbers, as some TikTok samples have them."""
    if isinstance(value, list):
        return [numeric_ids(item) for item in value]
    if isinstance(value, dict):
        return {
            key: int(item)
            if (key == "id" or key.endswith("_id")) and isinstance(item, str) and item.isdigit()
            else numeric_ids(item)
            for key, item in value.items()
        }
    return value


# --- delivery --------------------------------------------------------------------------------


@dataclass
class _Outbox:
    """One simulator's delivery line: a fair lock keeps notifications in the order made."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)


_OUTBOXES: "weakref.WeakKeyDictionary[Simulator, _Outbox]" = weakref.WeakKeyDictionary()


def _outbox(sim: Simulator) -> _Outbox:
    box = _OUTBOXES.get(sim)
    if box is None:
        box = _OUTBOXES[sim] = _Outbox()
    return box


def discard_pending(sim: Simulator) -> None:
    """Forget deliveries not yet made (a reset must not leak them into the next test)."""
    box = _OUTBOXES.pop(sim, None)
    if box is not None:
        for task in box.tasks:
            task.cancel()


def publish(
    sim: Simulator,
    shop_id: str,
    event_type: int,
    data: dict[str, Any],
    *,
    url: str | None = None,
    with_notification_id: bool = True,
    copies: int = 1,
) -> dict[str, Any]:
    """Make one notification and queue its delivery; answer the notification as sent.

    ``url`` overrides the routing (a test's own receiver); ``copies`` sends the same body more
    than once, as TikTok's retries do. Only call from a running event loop.
    """
    raw = envelope(sim, event_type, shop_id, data, with_notification_id=with_notification_id)
    send_raw(sim, shop_id, event_type, raw, url=url, copies=copies)
    notification: dict[str, Any] = json.loads(raw)
    return notification


def send_raw(
    sim: Simulator,
    shop_id: str,
    event_type: int,
    raw: bytes,
    *,
    url: str | None = None,
    copies: int = 1,
    attempt: int = 1,
) -> None:
    """Queue a ready body for delivery, subject to routing and to the fault plan."""
    books = sim.world.books
    address = url or address_for(sim, shop_id, event_type)
    notification = json.loads(raw).get("tts_notification_id")

    def record(outcome: str, **details: Any) -> WebhookDelivery:
        entry = WebhookDelivery(
            len(books.deliveries) + 1,
            shop_id,
            event_type,
            notification,
            address,
            outcome,
            attempt,
            **details,
        )
        books.deliveries.append(entry)
        return entry

    if address is None:
        record("no_subscription")
        return
    faults = sim.faults
    delay = faults.webhook_delay_ms / 1000
    for copy in range(copies):
        if faults.webhook_drop_rate and sim.rng.random() < faults.webhook_drop_rate:
            faults.webhooks_dropped += 1
            record("dropped")
            continue
        held = bool(faults.webhook_delay_rate) and sim.rng.random() < faults.webhook_delay_rate
        if held:
            faults.webhooks_delayed += 1
        _schedule(sim, record("queued", delayed=held, duplicate=copy > 0), raw, delay * held)
        if faults.webhook_duplicate_rate and sim.rng.random() < faults.webhook_duplicate_rate:
            faults.webhooks_duplicated += 1
            _schedule(sim, record("queued", duplicate=True, delayed=True), raw, delay)


def _schedule(sim: Simulator, entry: WebhookDelivery, raw: bytes, delay: float) -> None:
    box = _outbox(sim)
    task = sim.spawn(_deliver(sim, box, entry, raw, delay))  # cancelled when the app stops
    box.tasks.add(task)
    task.add_done_callback(box.tasks.discard)


async def _deliver(
    sim: Simulator, box: _Outbox, entry: WebhookDelivery, raw: bytes, delay: float
) -> None:
    if delay:
        await asyncio.sleep(delay)
    assert entry.url is not None
    async with box.lock:
        result = await sim.push_webhook(entry.url, raw)
    entry.status_code = result.get("status_code")
    entry.error = result.get("error")
    if result["delivered"]:
        entry.outcome = "delivered"
        return
    entry.outcome = "failed"
    if entry.attempt <= len(RETRY_DELAYS) and not entry.duplicate:
        sim.world.books.retries.append(
            PendingRetry(
                sim.now() + RETRY_DELAYS[entry.attempt - 1],
                entry.shop_id,
                entry.type,
                entry.url,
                raw,
                entry.attempt + 1,
            )
        )


def retry_due(sim: Simulator) -> None:
    """Send again the failed deliveries whose retry time has come (same body, same id)."""
    books = sim.world.books
    now = sim.now()
    due = sorted((r for r in books.retries if r.due <= now), key=lambda r: r.due)
    books.retries = [r for r in books.retries if r.due > now]
    for retry in due:
        send_raw(
            sim, retry.shop_id, retry.type, retry.raw_body, url=retry.url, attempt=retry.attempt
        )
