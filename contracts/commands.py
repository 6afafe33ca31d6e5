"""Admin commands: one request model per operation, told apart by their `command` field.

Send any of them to `topics.ADMIN_COMMANDS` with a `reply_to` header and a correlation id; the
reply (see `replies`) comes back on `reply_to` with the same correlation id. `shopId` picks the
shop; without it the service's default shop is meant.
"""

from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, Field, HttpUrl, TypeAdapter, model_validator
from pydantic.alias_generators import to_camel

from contracts.amounts import CurrencyCode, MinorUnits, Quantity, refuse_unstorable_integers
from contracts.entities import (
    JobKind,
    JobStatus,
    ListingStatus,
    OrderStatus,
    ProductAttribute,
    SyncStatus,
)
from contracts.text import Chars, CleanLine, CleanText, no_control_characters
from contracts.wire import WireModel

#: The last page a listing serves: 1,000,000 pages of 100 rows, far beyond any shop, and a
#: skip ((page - 1) * limit) the local database reads right (it takes skip as a 32-bit number).
MAX_PAGE = 1_000_000

# Every integer a command takes is bounded (here and in `contracts.amounts`), so that an integer
# the database cannot store (or a page it cannot skip to) is refused as `validation_failed`
# before anything runs.
Id = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(no_control_characters)]
Page = Annotated[int, Field(ge=1, le=MAX_PAGE, description="1-based page number")]
Limit = Annotated[int, Field(ge=1, le=100, description="rows per page")]
ShopId = Annotated[Id | None, Field(default=None)]
Price = MinorUnits


_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)


def _http_url(value: str) -> str:
    try:
        _HTTP_URL.validate_python(value)
    except ValueError:
        raise ValueError("must be an http or https URL") from None
    return value


Url = Annotated[str, Field(max_length=2000), AfterValidator(_http_url)]


def _metadata_keys(value: dict[str, Any]) -> dict[str, Any]:
    if len(value) > 100:
        raise ValueError("metadata may hold at most 100 keys")
    refuse_unstorable_integers(value, "metadata")
    return value


Metadata = Annotated[dict[str, Any], AfterValidator(_metadata_keys)]
Title = Annotated[CleanLine, Chars(max_length=500)]
Description = Annotated[CleanText, Chars(max_length=5000)]


def _non_empty(value: str) -> str:
    if not value:
        raise ValueError("must not be empty once markup is removed")
    return value


RequiredTitle = Annotated[Title, AfterValidator(_non_empty)]
ProductId = Annotated[CleanLine, AfterValidator(_non_empty), Chars(min_length=1, max_length=200)]
ExternalProductId = Annotated[CleanLine, Chars(max_length=200)]
TikTokId = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[0-9A-Za-z_-]+$")]
Attributes = Annotated[list[ProductAttribute], Field(max_length=100)]


class Command(WireModel):
    shop_id: ShopId = None

    def to_json(self) -> bytes:
        """Only the fields the caller set (and the command's name): absent is not null."""
        fields = self.model_fields_set | {"command"}
        return self.model_dump_json(by_alias=True, include=fields).encode()


class CreateListing(Command):
    command: Literal["listings.create"] = "listings.create"
    local_product_id: ProductId
    title: RequiredTitle
    external_product_id: ExternalProductId | None = None
    description: Description | None = None
    price: Price | None = None
    currency: CurrencyCode = "USD"
    image_url: Url | None = None
    metadata: Metadata = Field(default_factory=dict)
    category_id: TikTokId | None = None
    attributes: Attributes = Field(default_factory=list)
    brand_id: TikTokId | None = None


class ListListings(Command):
    command: Literal["listings.list"] = "listings.list"
    status: ListingStatus | None = None
    sync_status: SyncStatus | None = None
    page: Page = 1
    limit: Limit = 20


class GetListing(Command):
    command: Literal["listings.get"] = "listings.get"
    id: Id


class GetListingByProduct(Command):
    command: Literal["listings.getByProduct"] = "listings.getByProduct"
    local_product_id: Id


class UpdateListing(Command):
    """A partial update: only the fields present change."""

    command: Literal["listings.update"] = "listings.update"
    id: Id
    title: RequiredTitle | None = None
    external_product_id: ExternalProductId | None = None
    description: Description | None = None
    price: Price | None = None
    currency: CurrencyCode | None = None
    image_url: Url | None = None
    status: ListingStatus | None = None
    metadata: Metadata | None = None
    category_id: TikTokId | None = None
    attributes: Attributes | None = None
    brand_id: TikTokId | None = None

    @model_validator(mode="after")
    def _required_fields_stay_set(self) -> Self:
        for name in ("title", "currency", "status", "metadata", "attributes"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{to_camel(name)} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the caller set, by Python name."""
        return self.model_dump(
            include=self.model_fields_set - {"id", "command", "shop_id"}, by_alias=False
        )


class DeleteListing(Command):
    command: Literal["listings.delete"] = "listings.delete"
    id: Id


class PushListing(Command):
    command: Literal["listings.push"] = "listings.push"
    id: Id


class SetStock(Command):
    """Set a listing's stock in one warehouse by hand, as an `inventory.changed` from the
    platform would: stored, then pushed to TikTok (inventory update, every warehouse of the
    SKU). `warehouseId` is the platform's (`TIKTOK_WAREHOUSE_MAP`)."""

    command: Literal["listings.setStock"] = "listings.setStock"
    id: Id
    warehouse_id: Id
    quantity: Quantity = Field(description="units for sale now")


class SetPrice(Command):
    """Set a listing's price by hand, as a `price.changed` would: stored, then pushed to TikTok
    (price update) once the product is active."""

    command: Literal["listings.setPrice"] = "listings.setPrice"
    id: Id
    price: Price = Field(gt=0)
    currency: CurrencyCode | None = Field(default=None, description="the listing's if absent")


class ListWarehouses(Command):
    """The shop's TikTok warehouses, each with the platform ids mapped to it."""

    command: Literal["warehouses.list"] = "warehouses.list"


class ListCategories(Command):
    """TikTok's category tree for the shop (flat; `parentId` "0" for roots)."""

    command: Literal["categories.list"] = "categories.list"
    keyword: Annotated[CleanLine, Chars(max_length=100)] | None = None


class GetCategoryAttributes(Command):
    """A leaf category's attributes: which a listing must carry, and their values."""

    command: Literal["categories.attributes"] = "categories.attributes"
    category_id: TikTokId


class StartCatalogSync(Command):
    command: Literal["catalog.sync"] = "catalog.sync"


class ListSyncs(Command):
    command: Literal["syncs.list"] = "syncs.list"
    page: Page = 1
    limit: Limit = 20


class GetLastSync(Command):
    command: Literal["syncs.last"] = "syncs.last"


class SyncProducts(Command):
    command: Literal["products.sync"] = "products.sync"


class ListOrders(Command):
    command: Literal["orders.list"] = "orders.list"
    status: OrderStatus | None = None
    page: Page = 1
    limit: Limit = 20


class GetOrder(Command):
    command: Literal["orders.get"] = "orders.get"
    id: Id


class UpdateOrderStatus(Command):
    command: Literal["orders.updateStatus"] = "orders.updateStatus"
    id: Id
    status: OrderStatus
    tracking_number: Annotated[CleanLine, Chars(min_length=1, max_length=200)] | None = None
    tracking_url: Url | None = None


class SyncOrders(Command):
    command: Literal["orders.sync"] = "orders.sync"


class GetJob(Command):
    """A background job (a pull started by `orders.sync` or `products.sync`) and its progress."""

    command: Literal["jobs.get"] = "jobs.get"
    id: Id


class ListJobs(Command):
    command: Literal["jobs.list"] = "jobs.list"
    kind: JobKind | None = None
    status: JobStatus | None = None
    page: Page = 1
    limit: Limit = 20


class AuthorizeShops(Command):
    """A seller authorized the app: exchange the code TikTok sent to the redirect URL."""

    command: Literal["shops.authorize"] = "shops.authorize"
    auth_code: Annotated[str, Field(min_length=1, max_length=1000)]


class GetStats(Command):
    command: Literal["stats.get"] = "stats.get"


class GetSettings(Command):
    command: Literal["settings.get"] = "settings.get"


# --- order lifecycle: webhooks, reconciliation, seller decisions ------------------------------

Reason = Annotated[str, Field(min_length=1, max_length=200, description="a reason's `name`")]
Comment = Annotated[CleanText, Chars(max_length=500)]
TrackingNumber = Annotated[
    CleanLine, AfterValidator(_non_empty), Chars(min_length=1, max_length=200)
]


class RegisterWebhooks(Command):
    """Register `PUBLIC_WEBHOOK_URL` for every event type the service needs (Event API 202309);
    answers the registration as TikTok then reports it."""

    command: Literal["webhooks.register"] = "webhooks.register"


class ListWebhooks(Command):
    """The shop's webhook registration as TikTok reports it, and what is missing."""

    command: Literal["webhooks.list"] = "webhooks.list"


class ReconcileOrders(Command):
    """Pull what TikTok changed since the last reconciliation now (it also runs on a schedule);
    answers the run, finished or in progress after a short wait."""

    command: Literal["orders.reconcile"] = "orders.reconcile"


class ListReconciliations(Command):
    command: Literal["reconciliations.list"] = "reconciliations.list"
    page: Page = 1
    limit: Limit = 20


#: A dead letter's place on the dead-letter topic: `<partition>:<offset>`.
LetterId = Annotated[
    str, Field(pattern=r"^[0-9]{1,9}:[0-9]{1,18}$", description="`<partition>:<offset>`")
]
ReasonText = Annotated[str, Field(min_length=1, max_length=1000)]


class ListDeadLetters(Command):
    """The dead letters, newest first. Dead letters belong to no one shop: without `shopId`
    every letter is listed, with it only the letters of that shop."""

    command: Literal["deadLetters.list"] = "deadLetters.list"
    reason: ReasonText | None = Field(
        default=None, description="only letters whose reason contains this text (any case)"
    )
    pending: bool = Field(
        default=False, description="only letters whose webhook was not applied since"
    )
    page: Page = 1
    limit: Limit = 20


class RequestRef(Command):
    """An order (our id) and, optionally, which of its requests (TikTok's cancel or return id);
    without `requestId` the order's one open request of the kind is meant."""

    id: Id
    request_id: Id | None = None


class ApproveCancellation(RequestRef):
    """Approve a buyer's cancellation request (return_refund 202309 approve)."""

    command: Literal["orders.approveCancellation"] = "orders.approveCancellation"


class RejectCancellation(RequestRef):
    """Reject a buyer's cancellation request with one of TikTok's reject reasons
    (`orders.rejectReasons`) (return_refund 202309 reject)."""

    command: Literal["orders.rejectCancellation"] = "orders.rejectCancellation"
    reason: Reason
    comment: Comment | None = None


class ApproveReturn(RequestRef):
    """Approve a return or refund request (return_refund 202309 approve): the decision follows
    from the request (APPROVE_REFUND, APPROVE_RETURN, or APPROVE_RECEIVED_PACKAGE once the buyer
    sent the items back). `buyerKeepItem` refunds a return without taking the items back."""

    command: Literal["orders.approveReturn"] = "orders.approveReturn"
    buyer_keep_item: bool = False


class RejectReturn(RequestRef):
    """Reject a return or refund request with one of TikTok's reject reasons (return_refund
    202606 reject): REJECT_REFUND, REJECT_RETURN or REJECT_RECEIVED_PACKAGE as it fits."""

    command: Literal["orders.rejectReturn"] = "orders.rejectReturn"
    reason: Reason
    comment: Comment | None = None


class ListRejectReasons(RequestRef):
    """The reasons TikTok accepts now for rejecting the request (return_refund 202309)."""

    command: Literal["orders.rejectReasons"] = "orders.rejectReasons"


class CancelOrder(Command):
    """Cancel the order as the seller with one of `orders.cancelReasons` (return_refund 202602)."""

    command: Literal["orders.cancel"] = "orders.cancel"
    id: Id
    reason: Reason


class ListCancelReasons(Command):
    """The reasons a seller may give to cancel the order now (after-sale eligibility 202602)."""

    command: Literal["orders.cancelReasons"] = "orders.cancelReasons"
    id: Id


class ListShippingProviders(Command):
    """The carriers TikTok accepts for the order (its delivery option's providers, 202309)."""

    command: Literal["orders.shippingProviders"] = "orders.shippingProviders"
    id: Id


class ShipOrder(Command):
    """Ship the order (or one package of it) with a tracking number and a carrier.

    The carrier is `shippingProviderId` (TikTok's id, from `orders.shippingProviders`) or
    `carrier`, the platform's carrier name, mapped through `TIKTOK_CARRIER_MAP` or matched by
    name to the order's providers. Without `packageId` the order's unshipped items are marked
    shipped (fulfillment 202610); with it, that package is shipped (fulfillment 202309).
    """

    command: Literal["orders.ship"] = "orders.ship"
    id: Id
    tracking_number: TrackingNumber
    carrier: Annotated[CleanLine, Chars(min_length=1, max_length=100)] | None = None
    shipping_provider_id: Id | None = None
    package_id: Id | None = None
    tracking_url: Url | None = None

    @model_validator(mode="after")
    def _one_carrier(self) -> Self:
        if not self.carrier and not self.shipping_provider_id:
            raise ValueError("give the carrier (carrier or shippingProviderId)")
        if self.carrier and self.shipping_provider_id:
            raise ValueError("give carrier or shippingProviderId, not both")
        return self


class GetDeadLetter(Command):
    """One dead letter with its headers and the original message."""

    command: Literal["deadLetters.get"] = "deadLetters.get"
    id: LetterId


class ReplayDeadLetters(Command):
    """Publish dead letters again to the topic they came from, with their original bytes, key
    and headers (plus `x-replay-of`). Exactly one of `ids`, `reason` and `all` chooses them;
    `shopId`, when given, narrows `reason` and `all` to that shop's letters. The worker applies
    a replay like any delivery, so a webhook already applied is skipped as a duplicate."""

    command: Literal["deadLetters.replay"] = "deadLetters.replay"
    ids: Annotated[list[LetterId], Field(min_length=1, max_length=1000)] | None = None
    reason: ReasonText | None = Field(
        default=None, description="every letter whose reason contains this text (any case)"
    )
    all: bool = Field(default=False, description="every letter")

    @model_validator(mode="after")
    def _one_choice(self) -> Self:
        chosen = [self.ids is not None, self.reason is not None, self.all]
        if sum(chosen) != 1:
            raise ValueError("choose the letters with exactly one of ids, reason or all")
        return self


AdminCommand = Annotated[
    CreateListing
    | ListListings
    | GetListing
    | GetListingByProduct
    | UpdateListing
    | DeleteListing
    | PushListing
    | SetStock
    | SetPrice
    | ListWarehouses
    | ListCategories
    | GetCategoryAttributes
    | StartCatalogSync
    | ListSyncs
    | GetLastSync
    | SyncProducts
    | ListOrders
    | GetOrder
    | UpdateOrderStatus
    | SyncOrders
    | GetJob
    | ListJobs
    | AuthorizeShops
    | GetStats
    | GetSettings
    | RegisterWebhooks
    | ListWebhooks
    | ReconcileOrders
    | ListReconciliations
    | ApproveCancellation
    | RejectCancellation
    | ApproveReturn
    | RejectReturn
    | ListRejectReasons
    | CancelOrder
    | ListCancelReasons
    | ListShippingProviders
    | ShipOrder
    | ListDeadLetters
    | GetDeadLetter
    | ReplayDeadLetters,
    Field(discriminator="command"),
]

ADMIN_COMMAND: TypeAdapter[AdminCommand] = TypeAdapter(AdminCommand)
