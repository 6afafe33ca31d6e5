"""The pusher over in-memory ports: a burst costs one call per listing with the last quantity,
stale changes cost nothing, a price waits for an active product, a refused push is recorded and
tried again when it may work."""

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from contracts.entities import Listing, WarehouseQuantity
from contracts.platform import InventoryChanged, PriceChanged
from service.application.errors import GatewayError
from service.application.pushing import CatalogPusher
from tests.support import eventually
from tests.unit.fakes import CONFIG, OfflineTikTok, Stored, fake_bus

NOW = datetime(2026, 11, 30, tzinfo=UTC)
MAPPED = replace(CONFIG, warehouse_map={"wh-1": "7001", "wh-2": "7002"})


class RecordingTikTok(OfflineTikTok):
    """TikTok that takes stock and prices and remembers every call."""

    def __init__(self) -> None:
        self.stock_calls: list[dict[str, int]] = []
        self.price_calls: list[int | None] = []
        self.refuse_next: list[GatewayError] = []

    def enabled(self, shop_id: str) -> bool:
        return True

    async def update_stock(self, shop_id: str, listing: Listing) -> list[WarehouseQuantity]:
        if self.refuse_next:
            raise self.refuse_next.pop(0)
        self.stock_calls.append({s.warehouse_id: s.quantity for s in listing.stock})
        return [
            WarehouseQuantity(warehouse_id=s.warehouse_id, quantity=s.quantity)
            for s in listing.stock
        ]

    async def update_price(self, shop_id: str, listing: Listing) -> None:
        self.price_calls.append(listing.price)


def linked(**fields: Any) -> Listing:
    values: dict[str, Any] = {
        "id": "l-1",
        "shop_id": "shop-1",
        "local_product_id": "p-1",
        "external_product_id": "1729",
        "external_sku_id": "1730",
        "title": "Mug",
        "price": 1000,
        "status": "active",
        "tiktok_stock": [{"warehouse_id": "7001", "quantity": 0}],
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(fields)
    return Listing.model_validate(values)


def stock(
    quantity: int, version: int, warehouse: str = "wh-1", product: str = "p-1"
) -> InventoryChanged:
    return InventoryChanged(
        event_id=f"e-{version}",
        local_product_id=product,
        warehouse_id=warehouse,
        quantity=quantity,
        version=version,
        occurred_at=NOW,
    )


def setup(*listings: Listing, **pusher: float) -> tuple[Any, Stored, RecordingTikTok]:
    stored = Stored()
    for item in listings:
        stored.listings[item.id] = (item, 1)
    tiktok = RecordingTikTok()
    bus, _ = fake_bus(stored, tiktok=tiktok, config=MAPPED)
    bus.pusher = CatalogPusher(
        bus.context,
        **{"quiet_seconds": 0.05, "max_delay_seconds": 1.0, "retry_seconds": 0.05, **pusher},
    )
    return bus, stored, tiktok


async def test_a_burst_is_pushed_once_with_the_last_quantity_and_stale_changes_cost_nothing() -> (
    None
):
    bus, stored, tiktok = setup(linked(), quiet_seconds=0.5)
    for batch in range(20):
        outcomes = await bus.apply_platform(
            [stock(n, n) for n in range(batch * 50 + 1, batch * 50 + 51)]
        )
        assert {o.status for o in outcomes} == {"applied"}
    await eventually(lambda: _async(tiktok.stock_calls), until=lambda calls: bool(calls))
    await eventually(lambda: _async(bus.pusher.pending()), until=lambda n: n == 0)
    assert tiktok.stock_calls == [{"7001": 1000}]
    listing = stored.listings["l-1"][0]
    assert (listing.stock_pending, listing.push_error) == (False, None)

    late = await bus.apply_platform([stock(5, 700)])
    assert [o.status for o in late] == ["stale"]
    assert bus.pusher.pending() == 0
    await bus.pusher.close()


async def test_other_products_and_warehouses_are_told_apart() -> None:
    bus, _stored, _ = setup(linked())
    outcomes = await bus.apply_platform(
        [
            stock(3, 1, product="p-unknown"),
            stock(3, 1, warehouse="wh-9"),
            stock(4, 1, warehouse="wh-2"),
        ]
    )
    assert [o.status for o in outcomes] == ["skipped", "rejected", "applied"]
    assert "'wh-9' is not mapped" in outcomes[1].detail
    await bus.pusher.close()


async def test_a_price_waits_for_an_active_product() -> None:
    bus, stored, tiktok = setup(linked(status="pending"))
    price = PriceChanged(
        event_id="p",
        local_product_id="p-1",
        amount=1500,
        currency="USD",
        version=1,
        occurred_at=NOW,
    )
    assert [o.status for o in await bus.apply_platform([price])] == ["applied"]
    await eventually(lambda: _async(bus.pusher.pending()), until=lambda n: n == 0)
    assert tiktok.price_calls == []
    assert stored.listings["l-1"][0].price_pending


async def test_a_refused_push_is_recorded_and_tried_again_when_it_may_work() -> None:
    bus, stored, tiktok = setup(linked())
    tiktok.refuse_next.append(GatewayError("TikTok is busy", retryable=True))
    await bus.apply_platform([stock(9, 1)])
    await eventually(
        lambda: _async(stored.listings["l-1"][0]),
        until=lambda listing: listing.push_error == "stock: TikTok is busy",
    )
    await eventually(lambda: _async(tiktok.stock_calls), until=lambda calls: calls == [{"7001": 9}])
    await eventually(
        lambda: _async(stored.listings["l-1"][0]), until=lambda listing: listing.push_error is None
    )
    await bus.pusher.close()


async def test_resume_pushes_what_a_stopped_worker_left_pending() -> None:
    pending = linked(
        stock=[{"warehouse_id": "7001", "quantity": 6, "version": 2}], stock_revision=1
    )
    bus, _, tiktok = setup(pending)
    assert await bus.pusher.resume() == 1
    await eventually(lambda: _async(tiktok.stock_calls), until=lambda calls: calls == [{"7001": 6}])
    await bus.pusher.close()


async def _async(value: Any) -> Any:
    return value


async def test_a_change_that_fails_for_good_is_set_aside_alone_and_the_others_are_stored(
    monkeypatch: Any,
) -> None:
    from service.application import stock as stock_rules

    bus, stored, _ = setup(linked())
    real = stock_rules.apply_platform_changes
    poisoned = stock(7, 2)

    async def fails_on_the_poisoned_one(events: Any, ctx: Any) -> Any:
        if any(e.event_id == poisoned.event_id for e in events):
            raise OverflowError("MongoDB can only handle up to 8-byte ints")
        return await real(events, ctx)

    monkeypatch.setattr(stock_rules, "apply_platform_changes", fails_on_the_poisoned_one)
    outcomes = await bus.apply_platform([stock(5, 1), poisoned, stock(9, 3)])
    assert [o.status for o in outcomes] == ["applied", "failed", "applied"]
    assert outcomes[1].detail.startswith("failed: OverflowError")
    assert stored.listings["l-1"][0].stock[0].quantity == 9
    await bus.pusher.close()
