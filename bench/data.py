"""What the benchmarks share: their own settings (database, topics, consumer group), stored
orders as the service stores them, order webhooks as the ingress publishes them, and clean-up.

Every benchmark works on a database and topics named for its run, never the service's own, and
drops or deletes them when it is done.
"""

import os
import random
import sys
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from contracts.entities import Address, ChannelOrder, Listing, ListingStatus, OrderItem, OrderStatus
from contracts.webhooks import WebhookMessage
from service import logs
from service.adapters.mongo.database import Database
from service.adapters.mongo.documents import to_document
from service.domain.ids import stable_id
from service.domain.listings import external_key
from service.domain.orders import order_id_for
from service.settings import Settings

Doc = dict[str, Any]
T0 = datetime(2025, 1, 1, tzinfo=UTC)
#: TikTok's order statuses in the order an order goes through them (one webhook each).
STATUS_STEPS = ("AWAITING_SHIPMENT", "IN_TRANSIT", "DELIVERED")
_STATUS_OF = {"AWAITING_SHIPMENT": "confirmed", "IN_TRANSIT": "shipped", "DELIVERED": "delivered"}
_CURRENCIES = ("USD", "USD", "USD", "EUR")
ORDER_STEPS: tuple[OrderStatus, ...] = ("pending", "confirmed", "shipped", "delivered", "cancelled")
LISTING_STEPS: tuple[ListingStatus, ...] = ("active", "active", "active", "pending", "rejected")


def production_logs() -> None:
    """Log as a worker process does (INFO, JSON lines) but into /dev/null: the lines cost
    what they cost in production without filling the benchmark's output."""
    real = sys.stderr
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (kept open for the process's life)
    try:
        logs.configure("INFO", json=True)
    finally:
        sys.stderr = real


def own_settings(base: Settings, **overrides: object) -> Settings:
    """`base` with a database, topics and consumer group of this run's own."""
    run = uuid.uuid4().hex[:8]
    values: dict[str, object] = {
        "kafka_bootstrap_servers": base.kafka_bootstrap_servers,
        "mongodb_uri": base.mongodb_uri,
        "mongodb_database": f"bench_{run}",
        "kafka_group_id": f"bench-{run}",
        "topic_webhooks": f"bench.{run}.webhooks",
        "topic_admin_commands": f"bench.{run}.commands",
        "topic_events": f"bench.{run}.events",
        "topic_dead_letter": f"bench.{run}.dead-letter",
        "tiktok_app_key": "",
        "tiktok_app_secret": "",
        "tiktok_access_token": "",
        "tiktok_shop_id": "",
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings.model_validate(values)


def own_topics(settings: Settings) -> list[str]:
    return [
        settings.topic_webhooks,
        settings.topic_admin_commands,
        settings.topic_events,
        settings.topic_dead_letter,
    ]


async def delete_topics(bootstrap: str, names: Iterable[str]) -> None:
    """Delete the run's topics (those that exist); the shared broker keeps no litter."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        doomed = [n for n in names if n in existing]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()


async def drop(settings: Settings) -> None:
    db = Database(settings.mongodb_uri.get_secret_value(), settings.mongodb_database)
    try:
        await db.client.drop_database(settings.mongodb_database)
    finally:
        await db.close()


def external_id(n: int) -> str:
    return f"5{n:017d}"


def order_document(shop_id: str, n: int) -> Doc:
    """Order `n` of a shop as the service stores it (about 800 bytes of BSON): the entity's fields
    under `_id` = the derived id, with `version`, `write_id` and an empty `outbox`."""
    created = T0 + timedelta(seconds=n)
    total = 1499 + n % 100
    order = ChannelOrder(
        id=order_id_for(shop_id, external_id(n)),
        shop_id=shop_id,
        external_order_id=external_id(n),
        status=ORDER_STEPS[n % len(ORDER_STEPS)],
        items=[OrderItem(title="Ceramic mug", quantity=1, unit_price=total - 200)],
        subtotal=total - 200,
        shipping_fee=200,
        total=total,
        currency=_CURRENCIES[n % len(_CURRENCIES)],
        customer_name="Ada Lovelace",
        shipping_address=Address(
            line1="1 Example Road",
            city="Springfield",
            state="IL",
            postal_code="62701",
            country="US",
        ),
        external_status="UNPAID",
        external_updated_at=created,
        created_at=created,
        updated_at=created,
    )
    return {**to_document(order), "version": 1, "write_id": "bench", "outbox": []}


def listing_document(shop_id: str, n: int) -> Doc:
    """Listing `n` of a shop as the service stores it (linked to a TikTok product)."""
    created = T0 + timedelta(seconds=n)
    listing = Listing(
        id=stable_id("bench-listing", shop_id, str(n)),
        shop_id=shop_id,
        local_product_id=f"prod-{n:07d}",
        external_product_id=f"17{n:017d}",
        title=f"Ceramic mug no. {n}",
        description="Stoneware, 350 ml, dishwasher safe.",
        price=1299 + n % 500,
        image_url=f"https://images.example.com/mug-{n}.jpg",
        status=LISTING_STEPS[n % len(LISTING_STEPS)],
        sync_status="synced" if n % 10 else "failed",
        last_synced_at=created,
        created_at=created,
        updated_at=created,
    )
    return {
        **to_document(listing),
        "external_key": external_key(shop_id, f"17{n:017d}"),
        "version": 1,
        "write_id": "bench",
        "outbox": [],
    }


async def store_listings(db: Database, shop_id: str, count: int) -> None:
    listings = db.collection("listings")
    for first in range(0, count, 20_000):
        await listings.insert_many(
            [listing_document(shop_id, n) for n in range(first, min(first + 20_000, count))],
            ordered=False,
        )


async def store_orders(db: Database, shop_id: str, start: int, stop: int) -> None:
    """Insert orders `start` to `stop - 1` of the shop, 20,000 per command: the local database
    rewrites every page a command touched when it commits, and random ids touch them all."""
    orders = db.collection("orders")
    for first in range(start, stop, 20_000):
        await orders.insert_many(
            [order_document(shop_id, n) for n in range(first, min(first + 20_000, stop))],
            ordered=False,
        )


@dataclass(frozen=True)
class OrderWebhook:
    """One ORDER_STATUS_CHANGE, its Kafka key as the ingress makes it, and its body."""

    order: int  # which stored order (its `n`)
    step: int  # index into STATUS_STEPS
    message: WebhookMessage
    key: str


def status_webhook(shop_id: str, n: int, step: int, notification_id: str) -> OrderWebhook:
    status = STATUS_STEPS[step]
    body = {
        "type": 1,
        "tts_notification_id": notification_id,
        "shop_id": shop_id,
        "timestamp": 1_800_000_000 + step,
        "data": {
            "order_id": external_id(n),
            "order_status": status,
            # Newer than what is stored (created at T0 + n), one second per step.
            "update_time": int((T0 + timedelta(seconds=n)).timestamp()) + 3600 + step,
        },
    }
    message = WebhookMessage(
        notification_id=notification_id,
        source="tiktok",
        webhook_type="1",
        shop_id=shop_id,
        received_at=datetime.now(UTC),
        correlation_id=f"c-{notification_id}",
        body=body,
    )
    return OrderWebhook(n, step, message, f"{shop_id}:{external_id(n)}")


def status_webhooks(shop_id: str, orders: Sequence[int], *, seed: int = 7) -> list[OrderWebhook]:
    """Every order in `orders` through the three statuses: a round per status, the orders
    shuffled within each round, so that one order's webhooks stay in order (as one partition
    keeps them) while the orders interleave."""
    rng = random.Random(seed)
    run = uuid.uuid4().hex[:8]
    hooks: list[OrderWebhook] = []
    for step in range(len(STATUS_STEPS)):
        shuffled = list(orders)
        rng.shuffle(shuffled)
        hooks += [status_webhook(shop_id, n, step, f"{run}-{n}-{step}") for n in shuffled]
    return hooks


def applied_document(shop_id: str, hook: OrderWebhook) -> Doc:
    """The stored order after `hook`: what a raw write of the same change writes."""
    doc = order_document(shop_id, hook.order)
    status = STATUS_STEPS[hook.step]
    doc.update(
        status=_STATUS_OF[status],
        external_status=status,
        external_updated_at=T0 + timedelta(seconds=hook.order + 3600 + hook.step),
        needs_refresh=True,
        updated_at=datetime.now(UTC),
        version=2 + hook.step,
    )
    return doc


async def publish_all(bootstrap: str, topic: str, hooks: Sequence[OrderWebhook]) -> None:
    """Publish as the ingress does (acks=all, idempotent), all at once, and wait for all."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5
    )
    await producer.start()
    try:
        futures = [
            await producer.send(
                topic,
                h.message.to_json(),
                key=h.key.encode(),
                headers=[("content-type", b"application/json")],
            )
            for h in hooks
        ]
        for future in futures:
            await future
    finally:
        await producer.stop()


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for first in range(0, len(items), size):
        yield items[first : first + size]
