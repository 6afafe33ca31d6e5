"""The unit of work on the real database: reads through one query per collection, guarded
writes that notice a concurrent change, events handed over only for what was written."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from pymongo import monitoring

from contracts.entities import ChannelOrder, Listing
from contracts.events import OrderReceived
from service.adapters.mongo.database import Database
from service.adapters.mongo.unit_of_work import MongoUnitOfWork
from service.application.ports import Keys, OutboxEntry, WriteConflict
from service.domain.orders import order_id_for
from service.settings import Settings

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 30, tzinfo=UTC)


class Commands(monitoring.CommandListener):
    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name not in ("hello", "isMaster", "ismaster", "endSessions"):
            self.names.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None: ...
    def failed(self, event: monitoring.CommandFailedEvent) -> None: ...


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.mongodb_uri.get_secret_value(), f"uow_{uuid.uuid4().hex[:8]}")
    await database.ensure_indexes()
    yield database
    await database.client.drop_database(database.db.name)
    await database.close()


def order(shop: str, external: str, status: str = "pending") -> ChannelOrder:
    return ChannelOrder(
        id=order_id_for(shop, external),
        shop_id=shop,
        external_order_id=external,
        status=status,  # type: ignore[arg-type]
        created_at=NOW,
        updated_at=NOW,
    )


def listing(shop: str, local: str, external: str | None = None) -> Listing:
    return Listing(
        id=str(uuid.uuid4()),
        shop_id=shop,
        local_product_id=local,
        external_product_id=external,
        title=local,
        created_at=NOW,
        updated_at=NOW,
    )


async def test_a_batch_reads_each_collection_once_and_writes_each_once(
    settings: Settings,
) -> None:
    listener = Commands()
    db = Database(settings.mongodb_uri.get_secret_value(), f"uow_{uuid.uuid4().hex[:8]}")
    db.client = type(db.client)(
        settings.mongodb_uri.get_secret_value(), tz_aware=True, event_listeners=[listener]
    )
    db.db = db.client[db.db.name]
    try:
        seed = MongoUnitOfWork(db)
        for n in range(50):
            seed.orders.add(order("s", f"o{n}"))
        await seed.commit()
        listener.names.clear()

        uow = MongoUnitOfWork(db)
        ids = {order_id_for("s", f"o{n}") for n in range(100)}
        await uow.load(Keys(order_ids=ids, notification_ids={"n1", "n2"}))
        for n in range(100):
            found = await uow.orders.get_by_external("s", f"o{n}")
            if found is None:
                uow.orders.add(order("s", f"o{n}", "confirmed"))
            else:
                uow.orders.save(found.model_copy(update={"status": "confirmed"}))
        await uow.commit()
        # One find per collection loaded; one bulk write for the orders, which the driver
        # sends as one command per kind of operation (inserts, then the guarded replaces).
        assert listener.names == ["find", "find", "insert", "update"]
        check = MongoUnitOfWork(db)
        statuses = {(await check.orders.get_by_external("s", f"o{n}")).status for n in range(100)}  # type: ignore[union-attr]
        assert statuses == {"confirmed"}
    finally:
        await db.client.drop_database(db.db.name)
        await db.close()


async def test_a_save_that_met_a_concurrent_change_is_refused_and_the_rest_is_written(
    db: Database,
) -> None:
    first = MongoUnitOfWork(db)
    first.orders.add(order("s", "a"))
    first.orders.add(order("s", "b"))
    await first.commit()

    slow, quick = MongoUnitOfWork(db), MongoUnitOfWork(db)
    a_slow = await slow.orders.get_by_external("s", "a")
    b_slow = await slow.orders.get_by_external("s", "b")
    a_quick = await quick.orders.get_by_external("s", "a")
    assert a_slow is not None
    assert b_slow is not None
    assert a_quick is not None
    quick.orders.save(a_quick.model_copy(update={"status": "shipped"}))
    await quick.commit()

    slow.orders.save(a_slow.model_copy(update={"status": "cancelled"}))
    slow.orders.save(b_slow.model_copy(update={"status": "confirmed"}))
    with pytest.raises(WriteConflict, match="orders"):
        await slow.commit()
    after = MongoUnitOfWork(db)
    assert (await after.orders.get_by_external("s", "a")).status == "shipped"  # type: ignore[union-attr]
    assert (await after.orders.get_by_external("s", "b")).status == "confirmed"  # type: ignore[union-attr]


async def test_a_second_insert_of_the_same_order_is_a_conflict_not_a_copy(db: Database) -> None:
    one, two = MongoUnitOfWork(db), MongoUnitOfWork(db)
    assert await one.orders.get_by_external("s", "x") is None
    assert await two.orders.get_by_external("s", "x") is None
    one.orders.add(order("s", "x"))
    two.orders.add(order("s", "x", "confirmed"))
    await one.commit()
    with pytest.raises(WriteConflict):
        await two.commit()
    assert await db.collection("orders").count_documents({"external_order_id": "x"}) == 1


async def test_events_are_handed_over_only_for_documents_written(db: Database) -> None:
    handed: list[OutboxEntry] = []
    seed = MongoUnitOfWork(db)
    seed.orders.add(order("s", "e"))
    await seed.commit()

    stale, fresh = MongoUnitOfWork(db, handed.extend), MongoUnitOfWork(db)
    mine = await stale.orders.get_by_external("s", "e")
    theirs = await fresh.orders.get_by_external("s", "e")
    assert mine is not None
    assert theirs is not None
    fresh.orders.save(theirs.model_copy(update={"status": "shipped"}))
    await fresh.commit()
    event = OrderReceived(event_id="ev-1", shop_id="s", occurred_at=NOW, order=mine)
    stale.orders.save(mine, [event])
    new = order("s", "f")
    stale.orders.add(new, [OrderReceived(event_id="ev-2", shop_id="s", occurred_at=NOW, order=new)])
    with pytest.raises(WriteConflict):
        await stale.commit()
    assert [e.event_id for e in handed] == ["ev-2"]
    stored = await db.collection("orders").find_one({"_id": new.id})
    assert stored is not None
    assert [e["event_id"] for e in stored["outbox"]] == ["ev-2"]


async def test_a_patched_tiktok_product_id_finds_the_listing_and_unlinking_frees_it(
    db: Database,
) -> None:
    uow = MongoUnitOfWork(db)
    item = listing("s", "mug")
    uow.listings.add(item)
    await uow.commit()

    push = MongoUnitOfWork(db)
    loaded = await push.listings.get("s", item.id)
    assert loaded is not None
    push.listings.patch(
        loaded.model_copy(update={"external_product_id": "1729"}), ["external_product_id"], []
    )
    await push.commit()
    assert (await MongoUnitOfWork(db).listings.get_by_external("s", "1729")) is not None

    unlink = MongoUnitOfWork(db)
    linked = await unlink.listings.get("s", item.id)
    assert linked is not None
    unlink.listings.patch(
        linked.model_copy(update={"external_product_id": None}), ["external_product_id"], []
    )
    await unlink.commit()
    assert await MongoUnitOfWork(db).listings.get_by_external("s", "1729") is None
    other = MongoUnitOfWork(db)
    other.listings.add(listing("s", "cup", "1729"))
    await other.commit()  # the key is free again: no unique-index refusal


async def test_an_order_written_before_its_reverse_flows_were_unified_still_loads(
    db: Database,
) -> None:
    seed = MongoUnitOfWork(db)
    seed.orders.add(order("s", "old", "delivered"))
    await seed.commit()
    # What the earlier version kept beside `reverse_requests`.
    await db.collection("orders").update_one(
        {"_id": order_id_for("s", "old")},
        {
            "$set": {
                "returns": [{"return_id": "r1", "status": "X", "updated_at": NOW}],
                "cancellation_status": None,
                "cancellation_updated_at": None,
                "return_status": "X",
                "return_updated_at": NOW,
            }
        },
    )
    reading = MongoUnitOfWork(db)
    held = await reading.orders.get_by_external("s", "old")
    assert held is not None
    assert held.status == "delivered"
    reading.orders.save(held.model_copy(update={"status": "refunded"}))
    await reading.commit()
    stored = await db.collection("orders").find_one({"_id": held.id})
    assert stored is not None
    # Gone once rewritten.
    assert "returns" not in stored
    assert "return_status" not in stored
