"""Replies to admin commands. A failed command gets an `ErrorReply` instead of its reply.

An error reply is the only reply with a top-level `code`; `parse_reply` tells them apart.
"""

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field

from contracts import commands as c
from contracts.entities import (
    CatalogSync,
    Category,
    CategoryAttribute,
    ChannelOrder,
    ChannelStats,
    ConnectionStatus,
    DeadLetter,
    DeadLetterDetail,
    Job,
    Listing,
    Reconciliation,
    ShopWebhooks,
    Warehouse,
)
from contracts.wire import WireModel

ErrorCode = Literal[
    "validation_failed",  # the request is malformed or a field breaks a limit: see `fields`
    "not_found",  # the id names nothing
    "conflict",  # the state forbids it (a duplicate, a sync already running)
    "tiktok_error",  # TikTok refused or failed; the message says why
    "unavailable",  # a dependency is down; the same request may succeed later
    "internal",  # a bug: nothing more to tell the caller
]


class FieldError(WireModel):
    field: str
    message: str


class ErrorReply(WireModel):
    code: ErrorCode
    message: str
    fields: list[FieldError] = Field(default_factory=list)
    tiktok_code: int | None = Field(
        default=None, description="TikTok's own error code when TikTok refused (`tiktok_error`)"
    )


class ListingReply(WireModel):
    listing: Listing


class ListingsReply(WireModel):
    listings: list[Listing]
    total: int


class DeletedReply(WireModel):
    deleted: bool


class WarehousesReply(WireModel):
    warehouses: list[Warehouse]


class CategoriesReply(WireModel):
    categories: list[Category]


class CategoryAttributesReply(WireModel):
    category_id: str
    attributes: list[CategoryAttribute]


class SyncReply(WireModel):
    sync: CatalogSync


class MaybeSyncReply(WireModel):
    sync: CatalogSync | None


class SyncsReply(WireModel):
    syncs: list[CatalogSync]
    total: int


class SyncedReply(WireModel):
    """The seed's answer to a pull, `synced` being the records applied. The pull runs as a job:
    when it outlasts the wait, `synced` is the progress so far and `job` says how to follow it
    (`jobs.get`)."""

    synced: int
    failed: int = 0
    job: Job | None = None


class JobReply(WireModel):
    job: Job


class JobsReply(WireModel):
    jobs: list[Job]
    total: int


class OrderReply(WireModel):
    order: ChannelOrder


class OrdersReply(WireModel):
    orders: list[ChannelOrder]
    total: int


class StatsReply(WireModel):
    stats: ChannelStats


class AuthorizedReply(WireModel):
    shop_ids: list[str] = Field(description="the shops the authorization covers, now callable")
    webhooks: list[ShopWebhooks] = Field(
        default_factory=list,
        description="each shop's webhook registration after registering PUBLIC_WEBHOOK_URL",
    )


class SettingsReply(WireModel):
    status: ConnectionStatus
    error: str | None = None
    needs_reauthorization: bool = Field(
        default=False,
        description=(
            "only the seller can cure `error`: the shop must authorize the app again (a "
            "deauthorization, a lost authorization, a static access token that expired)"
        ),
    )
    configured: bool
    shop_id: str | None
    sandbox: bool
    app_key: str | None = Field(description="the first 8 characters, then `...`")
    webhooks: ShopWebhooks | None = Field(
        default=None, description="the shop's webhook registration, when TikTok answered"
    )


# --- order lifecycle -----------------------------------------------------------------------


class WebhooksReply(WireModel):
    webhooks: ShopWebhooks


class ReconciliationReply(WireModel):
    reconciliation: Reconciliation


class ReconciliationsReply(WireModel):
    reconciliations: list[Reconciliation]
    total: int


class ReasonOption(WireModel):
    name: str = Field(description="what a command sends as `reason`")
    text: str = Field(description="TikTok's words for it")


class ReasonsReply(WireModel):
    reasons: list[ReasonOption]


class ShippingProvider(WireModel):
    id: str = Field(description="TikTok's shipping_provider_id")
    name: str


class ShippingProvidersReply(WireModel):
    providers: list[ShippingProvider]


class DeadLettersReply(WireModel):
    dead_letters: list[DeadLetter] = Field(description="newest first")
    total: int = Field(description="every letter that matched, on all pages")
    pending: int = Field(description="of those, the letters whose webhook was not applied since")


class DeadLetterReply(WireModel):
    dead_letter: DeadLetterDetail


class ReplaySkipped(WireModel):
    id: str
    reason: str


class ReplayedReply(WireModel):
    """Which letters were published again (Kafka acknowledged each) and which could not be."""

    replayed: list[str] = Field(description="letter ids, oldest first or as given")
    skipped: list[ReplaySkipped] = Field(default_factory=list)


#: The reply model of each command.
REPLY_TYPES: dict[type[c.Command], type[WireModel]] = {
    c.CreateListing: ListingReply,
    c.ListListings: ListingsReply,
    c.GetListing: ListingReply,
    c.GetListingByProduct: ListingReply,
    c.UpdateListing: ListingReply,
    c.DeleteListing: DeletedReply,
    c.PushListing: ListingReply,
    c.SetStock: ListingReply,
    c.SetPrice: ListingReply,
    c.ListWarehouses: WarehousesReply,
    c.ListCategories: CategoriesReply,
    c.GetCategoryAttributes: CategoryAttributesReply,
    c.StartCatalogSync: SyncReply,
    c.ListSyncs: SyncsReply,
    c.GetLastSync: MaybeSyncReply,
    c.SyncProducts: SyncedReply,
    c.ListOrders: OrdersReply,
    c.GetOrder: OrderReply,
    c.UpdateOrderStatus: OrderReply,
    c.SyncOrders: SyncedReply,
    c.GetJob: JobReply,
    c.ListJobs: JobsReply,
    c.AuthorizeShops: AuthorizedReply,
    c.GetStats: StatsReply,
    c.GetSettings: SettingsReply,
    c.RegisterWebhooks: WebhooksReply,
    c.ListWebhooks: WebhooksReply,
    c.ReconcileOrders: ReconciliationReply,
    c.ListReconciliations: ReconciliationsReply,
    c.ApproveCancellation: OrderReply,
    c.RejectCancellation: OrderReply,
    c.ApproveReturn: OrderReply,
    c.RejectReturn: OrderReply,
    c.ListRejectReasons: ReasonsReply,
    c.CancelOrder: OrderReply,
    c.ListCancelReasons: ReasonsReply,
    c.ListShippingProviders: ShippingProvidersReply,
    c.ShipOrder: OrderReply,
    c.ListDeadLetters: DeadLettersReply,
    c.GetDeadLetter: DeadLetterReply,
    c.ReplayDeadLetters: ReplayedReply,
}

R = TypeVar("R", bound=BaseModel)


def parse_reply(payload: dict[str, Any], reply_type: type[R]) -> R | ErrorReply:
    """Read a reply as the expected model, or as the error reply it is."""
    if "code" in payload and "message" in payload:
        return ErrorReply.model_validate(payload)
    return reply_type.model_validate(payload)
