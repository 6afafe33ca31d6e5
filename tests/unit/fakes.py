"""In-memory stand-ins for the bus's ports, for unit tests of the handlers and the bus.

They keep the behaviour the handlers rely on (an identity map, writes visible only after
commit, a conflict when a saved document changed meanwhile), nothing more.
"""

import asyncio
import copy
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from contracts.entities import (
    CatalogSync,
    ChannelOrder,
    DeadLetter,
    DeadLetterDetail,
    Listing,
    Reconciliation,
    SyncFailure,
)
from contracts.events import Event
from contracts.webhooks import Delivery
from service.adapters.tiktok.unconfigured import UnconfiguredTikTok
from service.application.context import AppConfig
from service.application.messagebus import MessageBus
from service.application.ports import (
    Keys,
    PageRequest,
    ReconcileLease,
    ShopState,
    Unreadable,
    Watermarks,
    WriteConflict,
)
from service.domain.listings import external_key
from service.domain.orders import order_id_for
from service.domain.remote import RemoteOrder, RemoteProduct
from service.domain.reverse_requests import RemoteRequest
from service.domain.stats import ListingGroup, OrderGroup


@dataclass
class Stored:
    """The 'database': entities by id with a version each, inbox records, published events."""

    orders: dict[str, tuple[ChannelOrder, int]] = field(default_factory=dict)
    listings: dict[str, tuple[Listing, int]] = field(default_factory=dict)
    shops: dict[str, ShopState] = field(default_factory=dict)
    inbox: dict[str, str] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    commits: int = 0
    loads: int = 0
    fail_next_commits: int = 0


class _Store:
    def __init__(self, uow: "FakeUnitOfWork", table: dict[str, Any]) -> None:
        self.uow = uow
        self.table = table
        self.seen: dict[str, Any] = {}  # id -> (entity, version) as read
        self.writes: dict[str, tuple[str, Any, Sequence[Event]]] = {}

    def read(self, entity_id: str) -> Any:
        if entity_id in self.writes:
            kind, entity, _ = self.writes[entity_id]
            return None if kind == "delete" else entity
        if entity_id not in self.seen:
            found = self.table.get(entity_id)
            self.seen[entity_id] = copy.deepcopy(found)
        found = self.seen[entity_id]
        return None if found is None else found[0]

    def write(self, kind: str, entity: Any, events: Sequence[Event]) -> None:
        previous = self.writes.get(entity.id)
        merged_events = [*(previous[2] if previous else ()), *events]
        if previous is not None and previous[0] == "add":
            kind = "add"
        self.writes[entity.id] = (kind, entity, merged_events)


class FakeOrders(_Store):
    async def get(self, shop_id: str, order_id: str) -> ChannelOrder | None:
        order = self.read(order_id)
        return order if order is not None and order.shop_id == shop_id else None

    async def get_by_external(self, shop_id: str, external_order_id: str) -> ChannelOrder | None:
        return await self.get(shop_id, order_id_for(shop_id, external_order_id))

    def add(self, order: ChannelOrder, events: Sequence[Event] = ()) -> None:
        self.write("add", order, events)

    def save(self, order: ChannelOrder, events: Sequence[Event] = ()) -> None:
        self.write("save", order, events)

    def patch(self, order: ChannelOrder, fields: Sequence[str], events: Sequence[Event]) -> None:
        self.write("patch", order, events)


class FakeListings(_Store):
    async def get(self, shop_id: str, listing_id: str) -> Listing | None:
        listing = self.read(listing_id)
        return listing if listing is not None and listing.shop_id == shop_id else None

    async def get_by_product(self, shop_id: str, local_product_id: str) -> Listing | None:
        for listing_id in list(self.table) + list(self.writes):
            listing = self.read(listing_id)
            if listing and (listing.shop_id, listing.local_product_id) == (
                shop_id,
                local_product_id,
            ):
                return listing  # type: ignore[no-any-return]
        return None

    async def get_by_external(self, shop_id: str, external_product_id: str) -> Listing | None:
        for listing_id in list(self.table) + list(self.writes):
            listing = self.read(listing_id)
            if listing and external_key(listing.shop_id, listing.external_product_id or "") == (
                external_key(shop_id, external_product_id)
            ):
                return listing  # type: ignore[no-any-return]
        return None

    def add(self, listing: Listing, events: Sequence[Event] = ()) -> None:
        self.write("add", listing, events)

    def save(self, listing: Listing, events: Sequence[Event] = ()) -> None:
        self.write("save", listing, events)

    def patch(self, listing: Listing, fields: Sequence[str], events: Sequence[Event]) -> None:
        self.write("patch", listing, events)

    def delete(self, listing: Listing) -> None:
        self.write("delete", listing, ())


class FakeShops:
    def __init__(self, stored: Stored) -> None:
        self.stored = stored
        self.writes: dict[str, tuple[ShopState, Sequence[Event]]] = {}

    async def get(self, shop_id: str) -> ShopState:
        if shop_id in self.writes:
            return self.writes[shop_id][0]
        return self.stored.shops.get(shop_id, ShopState(shop_id))

    def save(self, state: ShopState, events: Sequence[Event] = ()) -> None:
        self.writes[state.shop_id] = (state, events)


class FakeInbox:
    def __init__(self, stored: Stored) -> None:
        self.stored = stored
        self.records: dict[str, tuple[str, Sequence[Event]]] = {}

    async def outcome(self, notification_id: str) -> str | None:
        if notification_id in self.records:
            return self.records[notification_id][0]
        return self.stored.inbox.get(notification_id)

    def record(self, delivery: Delivery, outcome: str, events: Sequence[Event]) -> None:
        self.records[delivery.notification_id] = (outcome, events)


class FakeUnitOfWork:
    def __init__(self, stored: Stored) -> None:
        self.stored = stored
        self.orders = FakeOrders(self, stored.orders)
        self.listings = FakeListings(self, stored.listings)
        self.shops = FakeShops(stored)
        self.inbox = FakeInbox(stored)
        self._after: list[Callable[[], None]] = []

    async def load(self, keys: Keys) -> None:
        self.stored.loads += 1
        for order_id in keys.order_ids:
            self.orders.read(order_id)

    def after_commit(self, action: Callable[[], None]) -> None:
        self._after.append(action)

    async def commit(self) -> None:
        if self.stored.fail_next_commits:
            self.stored.fail_next_commits -= 1
            raise WriteConflict("a test said so")
        for store in (self.orders, self.listings):
            for entity_id, (kind, _, _) in store.writes.items():
                if kind == "save":
                    read = store.seen.get(entity_id)
                    now = store.table.get(entity_id)
                    if (read and read[1]) != (now and now[1]):
                        raise WriteConflict(f"{entity_id} changed meanwhile")
        for store in (self.orders, self.listings):
            for entity_id, (kind, entity, events) in store.writes.items():
                if kind == "delete":
                    store.table.pop(entity_id, None)
                else:
                    version = store.table.get(entity_id, (None, 0))[1]
                    store.table[entity_id] = (entity, version + 1)
                self.stored.events.extend(events)
        for state, events in self.shops.writes.values():
            self.stored.shops[state.shop_id] = state
            self.stored.events.extend(events)
        for notification_id, (outcome, events) in self.inbox.records.items():
            self.stored.inbox[notification_id] = outcome
            self.stored.events.extend(events)
        self.stored.commits += 1
        for action in self._after:
            action()


class FakeViews:
    def __init__(self, stored: Stored) -> None:
        self.stored = stored

    async def webhook_outcomes(self, notification_ids: Sequence[str]) -> dict[str, str]:
        return {i: self.stored.inbox[i] for i in notification_ids if i in self.stored.inbox}

    async def listings(
        self, shop_id: str, page: PageRequest, status: Any = None, sync_status: Any = None
    ) -> tuple[list[Listing], int]:
        rows = [e for e, _ in self.stored.listings.values() if e.shop_id == shop_id]
        return rows[page.skip : page.skip + page.limit], len(rows)

    async def orders(
        self, shop_id: str, page: PageRequest, status: Any = None
    ) -> tuple[list[ChannelOrder], int]:
        rows = [e for e, _ in self.stored.orders.values() if e.shop_id == shop_id]
        return rows[page.skip : page.skip + page.limit], len(rows)

    async def syncs(self, shop_id: str, page: PageRequest) -> tuple[list[CatalogSync], int]:
        return [], 0

    async def last_sync(self, shop_id: str) -> CatalogSync | None:
        return None

    async def listing_ids(self, shop_id: str) -> list[str]:
        return [i for i, (e, _) in self.stored.listings.items() if e.shop_id == shop_id]

    async def listing_groups(self, shop_id: str) -> list[ListingGroup]:
        return []

    async def order_groups(self, shop_id: str) -> list[OrderGroup]:
        return []

    async def orders_needing_refresh(self, shop_id: str, limit: int) -> list[ChannelOrder]:
        rows = [e for e, _ in self.stored.orders.values() if e.shop_id == shop_id]
        return [o for o in rows if o.needs_refresh][:limit]

    async def listings_needing_refresh(self, shop_id: str, limit: int) -> list[Listing]:
        rows = [e for e, _ in self.stored.listings.values() if e.shop_id == shop_id]
        return [li for li in rows if li.needs_refresh][:limit]

    async def pending_pushes(self) -> list[tuple[str, str]]:
        return [
            (e.shop_id, i)
            for i, (e, _) in self.stored.listings.items()
            if e.stock_pending or e.price_pending
        ]


class FakeJobs:
    async def claim(self, shop_id: str, sync_id: str) -> bool:
        return True

    async def insert(self, sync: CatalogSync) -> None: ...
    async def get(self, shop_id: str, sync_id: str) -> CatalogSync | None:
        return None

    async def heartbeat(self, shop_id: str, sync_id: str) -> None: ...
    async def release(self, shop_id: str, sync_id: str) -> None: ...
    async def interrupted(self, sync_id: str, reason: str) -> None: ...
    async def record(self, sync_id: str, *, failure: SyncFailure | None) -> None: ...
    async def finish(self, sync: CatalogSync, events: Sequence[Event] = ()) -> None: ...


class NoSpawner:
    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        work.close()


class OfflineTikTok(UnconfiguredTikTok):
    """The gateway without credentials (the service's own: every call raises NotConfigured),
    except that searches answer nothing, so subclasses script only what a test needs."""

    async def products(self, shop_id: str) -> AsyncIterator[RemoteProduct]:
        return
        yield

    async def orders(self, shop_id: str) -> AsyncIterator[RemoteOrder]:
        return
        yield

    async def order_details(
        self, shop_id: str, ids: Sequence[str]
    ) -> list[RemoteOrder | Unreadable]:
        return []

    async def order_requests(self, shop_id: str, external_order_id: str) -> list[RemoteRequest]:
        return []


class FakeReconciliations:
    """Reconciliation leases and history in memory: one holder per shop at a time."""

    def __init__(self, stored: Stored) -> None:
        self.stored = stored
        self.held: dict[str, str] = {}
        self.marks: dict[str, Watermarks] = {}
        self.cursors: dict[str, str | None] = {}
        self.runs: dict[str, Reconciliation] = {}
        self.published: list[Event] = []

    async def claim(
        self, shop_id: str, run_id: str, *, interval: timedelta, due_only: bool
    ) -> ReconcileLease | None:
        if shop_id in self.held:
            return None
        self.held[shop_id] = run_id
        return ReconcileLease(
            shop_id, run_id, self.marks.get(shop_id, Watermarks()), self.cursors.get(shop_id)
        )

    async def renew(self, lease: ReconcileLease) -> None: ...

    async def release(
        self, lease: ReconcileLease, *, watermarks: Watermarks | None, fees_cursor: str | None
    ) -> None:
        if self.held.get(lease.shop_id) == lease.run_id:
            del self.held[lease.shop_id]
        if watermarks is not None:
            self.marks[lease.shop_id] = watermarks
        self.cursors[lease.shop_id] = fees_cursor

    async def insert(self, record: Reconciliation) -> None:
        self.runs[record.id] = record

    async def finish(self, record: Reconciliation, events: Sequence[Event]) -> None:
        self.runs[record.id] = record
        self.published.extend(events)

    async def get(self, shop_id: str, run_id: str) -> Reconciliation | None:
        return self.runs.get(run_id)

    async def history(self, shop_id: str, page: PageRequest) -> tuple[list[Reconciliation], int]:
        rows = sorted(
            (r for r in self.runs.values() if r.shop_id == shop_id),
            key=lambda r: r.started_at,
            reverse=True,
        )
        return rows[page.skip : page.skip + page.limit], len(rows)

    async def shops(self) -> list[str]:
        return []

    async def needing_refresh(self, shop_id: str, limit: int) -> list[str]:
        return [
            o.external_order_id
            for o, _ in self.stored.orders.values()
            if o.shop_id == shop_id and o.needs_refresh
        ][:limit]

    async def awaiting_settlement(
        self, shop_id: str, after: str | None, limit: int
    ) -> list[tuple[str, str]]:
        rows = sorted(
            (o.id, o.external_order_id)
            for o, _ in self.stored.orders.values()
            if o.shop_id == shop_id and o.status == "delivered" and not o.fees_settled
        )
        return [r for r in rows if after is None or r[0] > after][:limit]


class InlineSpawner:
    """Runs spawned work as tasks, so that a test can wait for it (`wait_idle`)."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def wait_idle(self) -> None:
        while self.tasks:
            await asyncio.gather(*list(self.tasks))


class FakeDeadLetters:
    """The dead-letter topic as a list (oldest first); `replayed` records what was published."""

    def __init__(self, letters: Sequence[DeadLetterDetail] = ()) -> None:
        self.stored = list(letters)
        self.replayed: list[str] = []

    async def letters(self) -> list[DeadLetter]:
        fields = set(DeadLetter.model_fields)
        return [DeadLetter(**letter.model_dump(include=fields)) for letter in self.stored]

    async def letter(self, letter_id: str) -> DeadLetterDetail | None:
        return next((letter for letter in self.stored if letter.id == letter_id), None)

    async def replay(self, letter_ids: Sequence[str]) -> dict[str, str | None]:
        outcomes: dict[str, str | None] = {}
        for letter_id in letter_ids:
            letter = await self.letter(letter_id)
            if letter is None:
                outcomes[letter_id] = "no longer on the dead-letter topic"
            elif letter.origin_topic is None:
                outcomes[letter_id] = "no origin topic recorded"
            else:
                self.replayed.append(letter_id)
                outcomes[letter_id] = None
        return outcomes


CONFIG = AppConfig(
    default_shop_id="shop-1",
    shop_id="shop-1",
    currency="USD",
    app_key="",
    sandbox=True,
    configured=False,
)


def fake_bus(stored: Stored | None = None, **overrides: Any) -> tuple[MessageBus, Stored]:
    """A bus over in-memory ports; `overrides` replace ports (e.g. `tiktok=`)."""
    stored = stored or Stored()
    parts: dict[str, Any] = {
        "new_uow": lambda: FakeUnitOfWork(stored),
        "views": FakeViews(stored),
        "tiktok": OfflineTikTok(),
        "jobs": FakeJobs(),
        "spawner": NoSpawner(),
        "config": CONFIG,
        "reconciliations": FakeReconciliations(stored),
        "dead_letters": FakeDeadLetters(),
    }
    parts.update(overrides)
    return MessageBus(**parts), stored
