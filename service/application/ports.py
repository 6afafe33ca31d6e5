"""The ports the handlers work through; adapters implement them (MongoDB, TikTok, Kafka).

- `UnitOfWork`: the keyed reads and all writes of one message (or one batch of messages),
  committed together as far as the database allows: entities with their outbox events first,
  then the inbox record of each webhook.
- `Views`: the read-only queries of the admin pages (pages, counts, statistics).
- `TikTokGateway`: TikTok Shop's Open API as the handlers need it; raises only `GatewayError`.
- `ShopDirectory`: each shop's authorization, where the TikTok adapter keeps and reads tokens.
- `Jobs`: long operations (catalog syncs) recorded with their progress, one per shop and kind.
- `DeadLetterArchive`: the messages the worker set aside, read and published again.
"""

from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from contracts.entities import (
    CatalogSync,
    Category,
    CategoryAttribute,
    ChannelOrder,
    DeadLetter,
    DeadLetterDetail,
    Job,
    JobFailure,
    JobKind,
    JobStatus,
    Listing,
    ListingStatus,
    OrderStatus,
    Reconciliation,
    SyncFailure,
    SyncStatus,
    Warehouse,
    WarehouseQuantity,
)
from contracts.events import Event
from contracts.webhooks import Delivery
from service.domain.carriers import Provider
from service.domain.fees import Settlement
from service.domain.remote import RemoteAudit, RemoteOrder, RemoteProduct
from service.domain.reverse_requests import ReasonChoice, RemoteRequest
from service.domain.shops import ShopAuthorization
from service.domain.stats import ListingGroup, OrderGroup
from service.domain.webhook_registration import RemoteWebhook


@dataclass(frozen=True)
class PageRequest:
    page: int
    limit: int

    @property
    def skip(self) -> int:
        return (self.page - 1) * self.limit


class WriteConflict(Exception):
    """A commit met a concurrent write (a document changed since it was read, or a unique key
    taken meanwhile). Nothing of the conflicting documents was written: run the message again."""


@dataclass(frozen=True)
class Unreadable:
    """A record TikTok sent that cannot be read (an amount with more decimals than its currency
    allows, say): a pull reports it and goes on with the others."""

    ref: str
    reason: str


class DatabaseUnavailable(Exception):
    """The database did not answer; the same work may succeed later."""


# --- the unit of work -------------------------------------------------------------------------


@dataclass
class Keys:
    """What a batch of messages will read, so that the unit of work loads it in one query per
    collection: order ids (`_id`s), listings by (shop id, TikTok product id), inbox ids."""

    order_ids: set[str] = field(default_factory=set)
    listing_products: set[tuple[str, str]] = field(default_factory=set)
    notification_ids: set[str] = field(default_factory=set)

    def add(self, other: "Keys") -> None:
        self.order_ids |= other.order_ids
        self.listing_products |= other.listing_products
        self.notification_ids |= other.notification_ids


class OrderStore(Protocol):
    """Orders within a unit of work. An order's id is derived from (shop id, TikTok order id)
    (`domain.orders.order_id_for`), so a lookup by TikTok's id is a lookup by `_id`."""

    async def get(self, shop_id: str, order_id: str) -> ChannelOrder | None:
        """The order with this id in this shop, or None."""

    async def get_by_external(self, shop_id: str, external_order_id: str) -> ChannelOrder | None:
        """The order TikTok knows by `external_order_id`, or None."""

    def add(self, order: ChannelOrder, events: Sequence[Event] = ()) -> None:
        """A new order; the commit refuses it (WriteConflict) if the id was taken meanwhile."""

    def save(self, order: ChannelOrder, events: Sequence[Event] = ()) -> None:
        """A changed order read through this unit of work; WriteConflict at commit if another
        write changed it since."""

    def patch(self, order: ChannelOrder, fields: Sequence[str], events: Sequence[Event]) -> None:
        """Set only `fields` (snake_case names) to the order's values, whatever changed meanwhile:
        for the outcome of a TikTok call that must not be repeated by a retry."""


class ListingStore(Protocol):
    async def get(self, shop_id: str, listing_id: str) -> Listing | None: ...
    async def get_by_product(self, shop_id: str, local_product_id: str) -> Listing | None: ...
    async def get_by_external(self, shop_id: str, external_product_id: str) -> Listing | None: ...
    def add(self, listing: Listing, events: Sequence[Event] = ()) -> None: ...
    def save(self, listing: Listing, events: Sequence[Event] = ()) -> None: ...
    def patch(self, listing: Listing, fields: Sequence[str], events: Sequence[Event]) -> None: ...
    def delete(self, listing: Listing) -> None: ...


@dataclass(frozen=True)
class ShopState:
    """What the service records of a shop beside its tokens (`ShopDirectory`)."""

    shop_id: str
    deauthorized_at: datetime | None = None
    authorization_expires_at: datetime | None = None


class ShopStore(Protocol):
    async def get(self, shop_id: str) -> ShopState: ...
    def save(self, state: ShopState, events: Sequence[Event] = ()) -> None: ...


class Inbox(Protocol):
    """The webhooks already applied, by notification id (the dedupe log)."""

    async def outcome(self, notification_id: str) -> str | None:
        """What became of the webhook with this id (in an earlier commit or this one), or None
        when it was never applied."""

    def record(self, delivery: Delivery, outcome: str, events: Sequence[Event]) -> None:
        """The webhook was applied (or rejected) with this outcome; written last at commit."""


class UnitOfWork(Protocol):
    @property
    def orders(self) -> OrderStore: ...
    @property
    def listings(self) -> ListingStore: ...
    @property
    def shops(self) -> ShopStore: ...
    @property
    def inbox(self) -> Inbox: ...

    async def load(self, keys: Keys) -> None:
        """Read everything `keys` names, one query per collection; later gets are served from
        what was loaded (and a key loaded but absent answers None without a query)."""

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run `action` once the commit succeeded (start a job, say); dropped otherwise."""

    async def commit(self) -> None:
        """Write every change: one unordered bulk write per collection, entities first, the
        inbox last. Raises WriteConflict (the rest is written; the caller runs the messages of
        the conflicting documents again) or DatabaseUnavailable."""


# --- reads for the admin pages ----------------------------------------------------------------


class Views(Protocol):
    """Read-only queries; each pages in the database with a stable sort and returns a total."""

    async def listings(
        self,
        shop_id: str,
        page: PageRequest,
        status: ListingStatus | None = None,
        sync_status: SyncStatus | None = None,
    ) -> tuple[list[Listing], int]: ...
    async def orders(
        self, shop_id: str, page: PageRequest, status: OrderStatus | None = None
    ) -> tuple[list[ChannelOrder], int]: ...
    async def syncs(self, shop_id: str, page: PageRequest) -> tuple[list[CatalogSync], int]: ...
    async def last_sync(self, shop_id: str) -> CatalogSync | None: ...
    async def listing_ids(self, shop_id: str) -> list[str]: ...
    async def listing_groups(self, shop_id: str) -> list[ListingGroup]: ...
    async def order_groups(self, shop_id: str) -> list[OrderGroup]:
        """Orders per (status, currency): their count and their totals less what was refunded
        of them (minor units)."""

    async def orders_needing_refresh(self, shop_id: str, limit: int) -> list[ChannelOrder]:
        """Up to `limit` of the shop's orders flagged `needs_refresh` (details or a refund's
        amount still to be read from TikTok), the longest waiting first: what a reconciliation
        refreshes before anything else. Served from a small marker collection kept with each
        order write, so it never scans the orders."""

    async def listings_needing_refresh(self, shop_id: str, limit: int) -> list[Listing]:
        """Up to `limit` of the shop's listings flagged `needs_refresh` (TikTok changed their
        product and could not be asked what it is now), the longest waiting first."""

    async def pending_pushes(self) -> list[tuple[str, str]]:
        """(shop id, listing id) of every listing with stock or price TikTok lacks."""

    async def webhook_outcomes(self, notification_ids: Sequence[str]) -> dict[str, str]:
        """What the inbox recorded for each of these notifications it holds (an applied
        webhook's outcome, or `rejected: ...`), by notification id."""


# --- events ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxEntry:
    """An event written in the same document write as the change it reports, not yet published.

    `key` is the Kafka key (the id of the entity the event is about); `payload` the event as
    JSON text, exactly as subscribers receive it.
    """

    collection: str
    doc_id: str
    event_id: str
    type: str
    key: str
    shop_id: str
    payload: str


class OutboxStore(Protocol):
    """Where the outbox entries wait (inside the documents they belong to)."""

    def pending(self) -> AsyncIterator[OutboxEntry]:
        """Every entry still waiting, in every collection (the sweep)."""

    async def clear(self, entries: Sequence[OutboxEntry]) -> None:
        """Remove published entries from their documents."""


class EventBus(Protocol):
    """Where events go out to subscribers (Kafka's events topic)."""

    async def publish(self, entries: Sequence[OutboxEntry]) -> None:
        """Return once the broker acknowledged every entry; raise if it did not."""


# --- long operations --------------------------------------------------------------------------


class Jobs(Protocol):
    """Catalog sync records and the one-per-shop slot that keeps two syncs from running."""

    async def claim(self, shop_id: str, sync_id: str) -> bool:
        """Take the shop's catalog-sync slot; False while another live sync holds it (a slot
        whose heartbeat stopped is taken over and its sync closed as failed)."""

    async def insert(self, sync: CatalogSync) -> None: ...
    async def get(self, shop_id: str, sync_id: str) -> CatalogSync | None: ...
    async def heartbeat(self, shop_id: str, sync_id: str) -> None: ...
    async def release(self, shop_id: str, sync_id: str) -> None: ...
    async def interrupted(self, sync_id: str, reason: str) -> None:
        """Close a sync that will never finish as failed, keeping its progress."""

    async def record(self, sync_id: str, *, failure: SyncFailure | None) -> None:
        """Count one listing as synced, or as failed with its reason."""

    async def finish(self, sync: CatalogSync, events: Sequence[Event] = ()) -> None: ...

    # Pulls (`orders.sync`, `products.sync`): one per shop and kind at a time.
    async def start(self, job: Job) -> Job | None:
        """Record the job and take its (shop, kind) slot; None when it started, else the job
        already running (a slot whose heartbeat stopped is taken over, its job closed)."""

    async def job(self, shop_id: str, job_id: str) -> Job | None: ...
    async def jobs(
        self,
        shop_id: str,
        page: PageRequest,
        kind: JobKind | None = None,
        status: JobStatus | None = None,
    ) -> tuple[list[Job], int]: ...
    async def progress(self, job: Job, done: int, failures: Sequence[JobFailure]) -> None:
        """Count `done` more records applied and `failures` more that were not; beat the
        slot's heart."""

    async def end(self, job: Job) -> None:
        """Record the job's final state and free its slot."""

    async def reap(self) -> int:
        """Close every running job whose worker stopped beating; how many were closed."""


class Pushes(Protocol):
    """Where a stored stock or price change asks to be pushed to TikTok (the pusher)."""

    def wake(self, shop_id: str, listing_id: str, *, at_once: bool = False) -> None:
        """Push the listing's pending changes soon (`at_once`: without waiting for more)."""


# --- dead letters -----------------------------------------------------------------------------


class DeadLetterArchive(Protocol):
    """The dead-letter topic: what the worker set aside, with its origin and the reason. Every
    method raises `Unavailable` (application.errors) when the broker does not answer."""

    async def letters(self) -> list[DeadLetter]:
        """The letters on the topic, oldest first, without their bodies (only the newest of a
        partition that holds more than the adapter reads at once; it says how many)."""

    async def letter(self, letter_id: str) -> DeadLetterDetail | None:
        """One letter (`<partition>:<offset>`) with its headers and body, or None."""

    async def replay(self, letter_ids: Sequence[str]) -> dict[str, str | None]:
        """Publish each letter's original bytes, key and headers to its origin topic, plus the
        `x-replay-of` header, and return once the broker acknowledged them all. Answers, per id,
        None when it was published, else why not (gone from the topic, no origin recorded)."""


class Spawner(Protocol):
    """Runs work that outlives the message that started it (a catalog sync)."""

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> None: ...


# --- TikTok -----------------------------------------------------------------------------------


class TikTokGateway(Protocol):
    """TikTok Shop's Open API, as the handlers need it. Every method raises `GatewayError`
    (`NotConfigured`, `AuthorizationRequired`) and nothing else, but `connection`, which
    raises `DatabaseUnavailable` when the shop's authorization cannot be read."""

    def enabled(self, shop_id: str) -> bool:
        """Whether calls can be made for the shop (credentials present, shop not blocked)."""

    async def connection(self, shop_id: str) -> "ConnectionCheck":
        """Whether TikTok answers for the shop, and if not why (one sentence) and whether only
        the seller can cure it by authorizing the app again."""

    async def authorize(self, auth_code: str) -> list[str]:
        """Exchange a seller's authorization code; stores the tokens, answers the shop ids."""

    async def push_product(self, shop_id: str, listing: Listing) -> RemoteProduct:
        """Create the product (no external id yet) or edit it; answers TikTok's copy."""

    async def delete_product(self, shop_id: str, external_product_id: str) -> None: ...
    async def product(self, shop_id: str, external_product_id: str) -> RemoteProduct:
        """TikTok's current copy of one product (product detail 202309), with the reason when
        TikTok failed, froze or deactivated it."""

    def products(self, shop_id: str) -> AsyncIterator[RemoteProduct | Unreadable]:
        """Every product of the shop, page after page; one that cannot be read is yielded as
        `Unreadable` and the pull goes on."""

    def orders(self, shop_id: str) -> AsyncIterator[RemoteOrder | Unreadable]:
        """Every order of the shop, page after page; one that cannot be read is yielded as
        `Unreadable` and the pull goes on."""

    async def order_details(
        self, shop_id: str, ids: Sequence[str]
    ) -> list[RemoteOrder | Unreadable]:
        """Full orders by TikTok id; an id TikTok does not know is left out. Each order is read
        on its own: one that cannot be read (an amount finer than its currency allows) is an
        `Unreadable` whose `ref` is its TikTok id, and the others are answered all the same."""

    async def mark_shipped(
        self, shop_id: str, external_order_id: str, tracking_number: str
    ) -> None: ...

    # --- order lifecycle: reconciliation, reverse flows, shipping, fees, webhooks -----------

    def orders_changed(
        self, shop_id: str, since: datetime | None
    ) -> AsyncIterator[RemoteOrder | Unreadable]:
        """Orders TikTok updated at or after `since` (all when None), oldest update first
        (order search 202309, `update_time_ge`)."""

    def products_changed(
        self, shop_id: str, since: datetime | None
    ) -> AsyncIterator[RemoteProduct | Unreadable]:
        """Products TikTok updated at or after `since` (product search 202502)."""

    def requests_changed(
        self, shop_id: str, since: datetime | None
    ) -> AsyncIterator[RemoteRequest | Unreadable]:
        """Cancellations, then returns and refunds, updated at or after `since` (return_refund
        202602 searches), with the seller's next action and its deadline."""

    async def order_requests(self, shop_id: str, external_order_id: str) -> list[RemoteRequest]:
        """The order's cancellations and returns (return_refund 202602 searches by order id),
        with the seller's next action, each return's line items and refund amounts."""

    async def aftersales_request(
        self, shop_id: str, *, aftersales_id: str | None = None, rma_id: str | None = None
    ) -> RemoteRequest | None:
        """An after-sales request (202603) or the one an RMA belongs to (202604), with its
        order; None when TikTok knows none."""

    async def approve_cancellation(
        self, shop_id: str, cancel_id: str, *, idempotency_key: str
    ) -> None:
        """Approve a buyer's cancellation request (return_refund 202309); the same
        `idempotency_key` again is applied once by TikTok."""

    async def reject_cancellation(
        self,
        shop_id: str,
        cancel_id: str,
        reason: str,
        comment: str | None,
        *,
        idempotency_key: str,
    ) -> None:
        """Reject it with a reason name of `reject_reasons` (return_refund 202309)."""

    async def approve_return(
        self,
        shop_id: str,
        return_id: str,
        decision: str,
        *,
        buyer_keep_item: bool,
        idempotency_key: str,
    ) -> None:
        """Approve a return or refund with TikTok's `decision` (return_refund 202309)."""

    async def reject_return(
        self,
        shop_id: str,
        return_id: str,
        decision: str,
        reason: str,
        comment: str | None,
        *,
        idempotency_key: str,
    ) -> None:
        """Reject a return or refund with TikTok's `decision` and a reason name (return_refund
        202606)."""

    async def reject_reasons(self, shop_id: str, request_id: str) -> list[ReasonChoice]:
        """The reasons TikTok accepts now for rejecting the request (202309)."""

    async def cancel_reasons(self, shop_id: str, external_order_id: str) -> list[ReasonChoice]:
        """The reasons a seller may cancel the order with now (eligibility 202602)."""

    async def cancel_order(
        self, shop_id: str, external_order_id: str, reason: str
    ) -> RemoteRequest:
        """Cancel the order as the seller (202602); answers the cancellation TikTok made."""

    async def shipping_providers(self, shop_id: str, external_order_id: str) -> list[Provider]:
        """The providers of the order's delivery option (order detail 202507, then logistics
        202309)."""

    async def ship(
        self,
        shop_id: str,
        external_order_id: str,
        tracking_number: str,
        provider_id: str,
        package_id: str | None = None,
    ) -> None:
        """Mark the order's unshipped items shipped (fulfillment 202610), or ship one package
        (202309 `self_shipment`) when `package_id` is given."""

    async def settlement(self, shop_id: str, external_order_id: str) -> Settlement | None:
        """TikTok's settled figures of the order (finance 202501), None until it settled."""

    async def webhooks(self, shop_id: str) -> list[RemoteWebhook]:
        """The shop's registered webhooks (Event API 202309)."""

    async def register_webhook(self, shop_id: str, event_type: str, address: str) -> None:
        """Register (or move) one event type's address (Event API 202309)."""

    # --- reconciliation -------------------------------------------------------------------------

    # --- catalog ---------------------------------------------------------------------------

    async def update_stock(self, shop_id: str, listing: Listing) -> list[WarehouseQuantity]:
        """Set the listing's SKU stock in every warehouse of `listing.stock` (Update Inventory
        202309: every warehouse of the SKU at once); answers TikTok's copy after the call.
        GatewayError when TikTok refused the SKU, with its reasons per warehouse."""

    async def update_price(self, shop_id: str, listing: Listing) -> None:
        """Set the listing's SKU price (Update Price 202309; TikTok takes it only while the
        product is active)."""

    async def warehouses(self, shop_id: str) -> list[Warehouse]:
        """The shop's warehouses (Get Warehouse List 202309)."""

    async def categories(self, shop_id: str, keyword: str | None = None) -> list[Category]:
        """TikTok's category tree for the shop, flat (Get Categories 202309)."""

    async def category_attributes(self, shop_id: str, category_id: str) -> list[CategoryAttribute]:
        """A leaf category's attributes (Get Category Attributes 202309); kept for a while,
        since every push of a listing checks them."""

    async def product_audit(self, shop_id: str, external_product_id: str) -> RemoteAudit:
        """TikTok's audit of the product, with the reasons of a failure (product detail)."""


@dataclass(frozen=True)
class Watermarks:
    """The newest TikTok update times a completed reconciliation saw, per kind of record."""

    orders: datetime | None = None
    requests: datetime | None = None
    products: datetime | None = None


@dataclass(frozen=True)
class ReconcileLease:
    """A shop's reconciliation lease, held by one run: its watermarks and where the fee
    checks stopped last time (they go round the unsettled orders a page per run)."""

    shop_id: str
    run_id: str
    watermarks: Watermarks
    fees_cursor: str | None = None


class Reconciliations(Protocol):
    """Reconciliation runs: the lease that lets one worker reconcile a shop at a time, once per
    interval, and the `reconciliations` history."""

    async def claim(
        self, shop_id: str, run_id: str, *, interval: timedelta, due_only: bool
    ) -> ReconcileLease | None:
        """Take the shop's lease for `run_id` and set its next due time `interval` ahead; None
        while a live run holds it, or (`due_only`) before the shop is due. A lease whose run
        stopped renewing is taken over and that run closed as failed."""

    async def renew(self, lease: ReconcileLease) -> None:
        """The run is alive (a heartbeat)."""

    async def release(
        self, lease: ReconcileLease, *, watermarks: Watermarks | None, fees_cursor: str | None
    ) -> None:
        """Free the lease; a completed run moves the watermarks (None: leave them)."""

    async def insert(self, record: Reconciliation) -> None:
        """Record a run that started."""

    async def finish(self, record: Reconciliation, events: Sequence[Event]) -> None:
        """Store the run's outcome and its events (published like every outbox)."""

    async def get(self, shop_id: str, run_id: str) -> Reconciliation | None:
        """The shop's run with this id, or None."""

    async def history(self, shop_id: str, page: PageRequest) -> tuple[list[Reconciliation], int]:
        """The shop's runs, newest first, and how many there are."""

    async def shops(self) -> list[str]:
        """The shops authorized through OAuth (beside the deployment's default shop)."""

    async def needing_refresh(self, shop_id: str, limit: int) -> list[str]:
        """TikTok ids of the shop's orders marked `needsRefresh`."""

    async def awaiting_settlement(
        self, shop_id: str, after: str | None, limit: int
    ) -> list[tuple[str, str]]:
        """(our id, TikTok id) of delivered orders whose fees are not settled, by our id after
        `after`."""


@dataclass(frozen=True)
class ConnectionCheck:
    """The answer of `TikTokGateway.check_connection`: `error` None when TikTok answered."""

    error: str | None = None
    needs_reauthorization: bool = False


class UploadedImages(Protocol):
    """Images already uploaded to TikTok's image API, by (shop, source URL): the same image is
    not uploaded twice."""

    async def uri(self, shop_id: str, url: str) -> str | None:
        """TikTok's URI of the image at `url`, if it was uploaded for the shop."""

    async def remember(self, shop_id: str, url: str, uri: str) -> None:
        """The image at `url` is on TikTok as `uri`."""


class ShopDirectory(Protocol):
    """Each shop's authorization, kept by the database adapter for the TikTok adapter."""

    async def authorization(self, shop_id: str) -> ShopAuthorization | None:
        """The shop's stored tokens, or None (never authorized by OAuth)."""

    async def save_authorization(self, authorization: ShopAuthorization) -> None:
        """Insert or replace the shop's tokens; a None cipher keeps the one stored."""

    async def cipher(self, shop_id: str) -> str | None:
        """The shop's stored `shop_cipher`, or None."""

    async def save_cipher(self, shop_id: str, cipher: str) -> None: ...

    async def blocked_reason(self, shop_id: str) -> str | None:
        """Why the shop cannot be called (deauthorized, needs re-authorization), or None."""

    async def blocked_shops(self) -> dict[str, str]:
        """Every blocked shop and why."""

    async def lift_deauthorization(self, shop_id: str) -> None:
        """The seller authorized the app again: a recorded deauthorization no longer holds."""
