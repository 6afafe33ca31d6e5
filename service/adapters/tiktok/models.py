"""Typed shapes of the TikTok Shop answers (and request bodies) this adapter uses.

Only the fields the service reads are declared; TikTok adds fields often, so unknown ones are
ignored on the way in. Money stays a decimal string here, exactly as TikTok sent it; the domain
turns it into minor units. Times are unix seconds.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class TikTokModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Envelope(TikTokModel):
    """Every answer: ``code`` 0 is success whatever the HTTP status says."""

    code: int
    message: str = ""
    request_id: str = ""
    data: Any = None


# --- authorization -------------------------------------------------------------------------


class AuthorizedShop(TikTokModel):
    id: str
    name: str = ""
    region: str = ""
    cipher: str
    code: str = ""
    seller_type: str | None = None


class AuthorizedShopsData(TikTokModel):
    shops: list[AuthorizedShop] = Field(default_factory=list)


class TokenData(TikTokModel):
    """Token endpoints' ``data``. Both ``*_expire_in`` are absolute unix times, not durations."""

    access_token: str = Field(repr=False)
    access_token_expire_in: int
    refresh_token: str = Field(repr=False)
    refresh_token_expire_in: int
    open_id: str | None = None
    seller_name: str | None = None
    seller_base_region: str | None = None
    user_type: int | None = None
    granted_scopes: list[str] | None = None


# --- products --------------------------------------------------------------------------------


class SkuPrice(TikTokModel):
    """Requests send ``amount``; answers carry ``tax_exclusive_price`` and ``sale_price``."""

    currency: str
    amount: str | None = None
    tax_exclusive_price: str | None = None
    sale_price: str | None = None

    @property
    def value(self) -> str | None:
        """The seller's price, whichever field this answer used."""
        return self.amount or self.tax_exclusive_price or self.sale_price


class SkuInventory(TikTokModel):
    quantity: int = 0
    warehouse_id: str | None = None


class Sku(TikTokModel):
    id: str
    seller_sku: str | None = None
    price: SkuPrice | None = None
    inventory: list[SkuInventory] = Field(default_factory=list)


class ImageRef(TikTokModel):
    uri: str
    urls: list[str] = Field(default_factory=list)


class AuditFailedReason(TikTokModel):
    """Product detail's ``audit_failed_reasons``: why TikTok failed, froze or deactivated it."""

    listing_platform: str | None = None
    position: str = ""
    reasons: list[str] = Field(default_factory=list)
    suggestions: list[str] = Field(default_factory=list)


class ProductAudit(TikTokModel):
    status: str = ""
    pre_approved_reasons: list[str] = Field(default_factory=list)


class Product(TikTokModel):
    id: str
    title: str = ""
    status: str = ""
    skus: list[Sku] = Field(default_factory=list)
    create_time: int = 0
    update_time: int = 0
    # Product detail only.
    description: str | None = None
    main_images: list[ImageRef] = Field(default_factory=list)
    audit: ProductAudit | None = None
    audit_failed_reasons: list[AuditFailedReason] = Field(default_factory=list)


class ProductPage(TikTokModel):
    products: list[Product] = Field(default_factory=list)
    next_page_token: str = ""
    total_count: int = 0


class CreatedSku(TikTokModel):
    id: str
    seller_sku: str | None = None


class ProductWarning(TikTokModel):
    message: str = ""


class ProductWriteResult(TikTokModel):
    """Answer of create and edit product."""

    product_id: str
    skus: list[CreatedSku] = Field(default_factory=list)
    warnings: list[ProductWarning] = Field(default_factory=list)


class DeleteProductError(TikTokModel):
    code: int = 0
    message: str = ""
    detail: dict[str, Any] = Field(default_factory=dict)


class DeleteProductsResult(TikTokModel):
    errors: list[DeleteProductError] = Field(default_factory=list)


# --- catalog ---------------------------------------------------------------------------------


class UploadedImage(TikTokModel):
    """Upload Product Image 202309: the ``uri`` goes in a product's images."""

    uri: str
    url: str = ""
    width: int = 0
    height: int = 0
    use_case: str = ""


class CategoryNode(TikTokModel):
    id: str
    parent_id: str = "0"
    local_name: str = ""
    is_leaf: bool = False
    permission_statuses: list[str] = Field(default_factory=list)


class CategoriesData(TikTokModel):
    categories: list[CategoryNode] = Field(default_factory=list)


class AttributeValueData(TikTokModel):
    id: str
    name: str = ""


class RequirementCondition(TikTokModel):
    condition_type: str = ""
    attribute_id: str = ""
    attribute_value_id: str = ""


class CategoryAttributeData(TikTokModel):
    id: str
    name: str = ""
    type: str = ""
    # TikTok's own spelling of "required".
    is_requried: bool = False
    is_customizable: bool = True
    is_multiple_selection: bool = False
    values: list[AttributeValueData] = Field(default_factory=list)
    requirement_conditions: list[RequirementCondition] = Field(default_factory=list)


class CategoryAttributesData(TikTokModel):
    attributes: list[CategoryAttributeData] = Field(default_factory=list)


class WarehouseData(TikTokModel):
    id: str
    name: str = ""
    type: str = ""
    effect_status: str = ""
    is_default: bool = False


class WarehousesData(TikTokModel):
    warehouses: list[WarehouseData] = Field(default_factory=list)


class WarehouseProblem(TikTokModel):
    warehouse_id: str = ""
    code: int = 0
    message: str = ""


class SkuProblemDetail(TikTokModel):
    sku_id: str = ""
    extra_errors: list[WarehouseProblem] = Field(default_factory=list)


class SkuProblem(TikTokModel):
    code: int = 0
    message: str = ""
    detail: SkuProblemDetail = Field(default_factory=SkuProblemDetail)


class InventoryUpdateResult(TikTokModel):
    """Update Inventory 202309: ``code`` 0 with the SKUs TikTok refused listed here."""

    errors: list[SkuProblem] = Field(default_factory=list)


# --- orders ----------------------------------------------------------------------------------


class Payment(TikTokModel):
    currency: str
    sub_total: str | None = None
    shipping_fee: str | None = None
    platform_discount: str | None = None
    seller_discount: str | None = None
    total_amount: str | None = None
    tax: str | None = None


class DistrictInfo(TikTokModel):
    address_level_name: str = ""
    address_name: str = ""
    address_level: str = ""


class RecipientAddress(TikTokModel):
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone_number: str | None = None
    full_address: str | None = None
    address_detail: str | None = None
    postal_code: str | None = None
    region_code: str | None = None
    district_info: list[DistrictInfo] = Field(default_factory=list)


class LineItem(TikTokModel):
    id: str
    product_id: str | None = None
    product_name: str | None = None
    sku_id: str | None = None
    sku_name: str | None = None
    seller_sku: str | None = None
    currency: str | None = None
    original_price: str | None = None
    sale_price: str | None = None
    platform_discount: str | None = None
    seller_discount: str | None = None
    package_id: str | None = None
    tracking_number: str | None = None
    display_status: str | None = None


class Package(TikTokModel):
    id: str
    status: str | None = None


class Order(TikTokModel):
    id: str
    status: str
    create_time: int
    update_time: int
    delivery_option_id: str | None = None
    shipping_type: str | None = None
    payment: Payment | None = None
    recipient_address: RecipientAddress | None = None
    buyer_nickname: str | None = None
    buyer_email: str | None = None
    user_id: str | None = None
    line_items: list[LineItem] = Field(default_factory=list)
    tracking_number: str | None = None
    shipping_provider: str | None = None
    shipping_provider_id: str | None = None
    packages: list[Package] = Field(default_factory=list)

    @property
    def customer_name(self) -> str | None:
        """The recipient's name, else the buyer's nickname."""
        address = self.recipient_address
        if address is not None:
            if address.name:
                return address.name
            full = " ".join(part for part in (address.first_name, address.last_name) if part)
            if full:
                return full
        return self.buyer_nickname


class OrderPage(TikTokModel):
    orders: list[Order] = Field(default_factory=list)
    next_page_token: str = ""
    total_count: int = 0


class OrderDetailsData(TikTokModel):
    orders: list[Order] = Field(default_factory=list)


# --- returns and refunds ----------------------------------------------------------------------


class RefundAmount(TikTokModel):
    currency: str | None = None
    refund_total: str | None = None
    refund_subtotal: str | None = None
    refund_shipping_fee: str | None = None
    refund_tax: str | None = None


class ReturnLineItem(TikTokModel):
    return_line_item_id: str | None = None
    order_line_item_id: str | None = None
    sku_id: str | None = None
    refund_amount: RefundAmount | None = None


class ShippedPackage(TikTokModel):
    package_id: str
    order_id: str | None = None
    order_line_item_ids: list[str] = Field(default_factory=list)


# --- order lifecycle: reverse flows, shipping, finance, webhooks ------------------------------


class NextAction(TikTokModel):
    """``seller_next_action_response``: what TikTok waits for, and by when (unix seconds)."""

    action: str = ""
    deadline: int | None = None


class Cancellation(TikTokModel):
    """An entry of cancellations search (202602)."""

    cancel_id: str
    order_id: str
    cancel_status: str = ""
    cancel_type: str | None = None
    role: str | None = None
    cancel_reason: str | None = None
    cancel_reason_text: str | None = None
    create_time: int = 0
    update_time: int = 0
    seller_next_action_response: list[NextAction] = Field(default_factory=list)
    refund_amount: RefundAmount | None = None


class CancellationPage(TikTokModel):
    cancellations: list[Cancellation] = Field(default_factory=list)
    next_page_token: str = ""
    total_count: int = 0


class ReturnOrder(TikTokModel):
    """An entry of returns search (202602, ``return_orders``)."""

    return_id: str
    order_id: str
    return_status: str = ""
    return_type: str | None = None
    role: str | None = None
    return_reason: str | None = None
    return_reason_text: str | None = None
    create_time: int = 0
    update_time: int = 0
    seller_next_action_response: list[NextAction] = Field(default_factory=list)
    refund_amount: RefundAmount | None = None
    return_line_items: list[ReturnLineItem] = Field(default_factory=list)


class ReturnPage(TikTokModel):
    """TikTok leaves ``return_orders`` out of a page without returns."""

    return_orders: list[ReturnOrder] = Field(default_factory=list)
    next_page_token: str = ""
    total_count: int = 0


class AftersalesRma(TikTokModel):
    id: str
    status: str | None = None


class SkuReturnRequest(TikTokModel):
    return_id: str | None = None
    order_id: str | None = None


class AftersalesRequest(TikTokModel):
    """An entry of after-sales search (202603)."""

    id: str
    status: str = ""
    sku_return_requests: list[SkuReturnRequest] = Field(default_factory=list)
    return_merchandise_authorizations: list[AftersalesRma] = Field(default_factory=list)


class AftersalesPage(TikTokModel):
    aftersales_requests: list[AftersalesRequest] = Field(default_factory=list)
    next_page_token: str = ""
    total_count: int = 0


class Rma(TikTokModel):
    """An entry of RMA search (202604)."""

    id: str
    aftersales_request_id: str | None = None
    status: str | None = None
    sku_return_requests: list[SkuReturnRequest] = Field(default_factory=list)


class RmaPage(TikTokModel):
    return_merchandise_authorizations: list[Rma] = Field(default_factory=list)
    next_page_token: str = ""
    total_count: int = 0


class Reason(TikTokModel):
    name: str
    text: str = ""


class RejectReasonsData(TikTokModel):
    reasons: list[Reason] = Field(default_factory=list)


class LineItemEligibility(TikTokModel):
    request_type: str = ""
    eligible: bool = False
    available_reason_names: list[str] = Field(default_factory=list)


class SkuEligibility(TikTokModel):
    sku_id: str | None = None
    line_item_eligibility: list[LineItemEligibility] = Field(default_factory=list)


class AftersaleEligibilityData(TikTokModel):
    sku_eligibility: list[SkuEligibility] = Field(default_factory=list)


class CancelOrderResult(TikTokModel):
    cancel_id: str
    cancel_status: str = ""


class ShippingProvider(TikTokModel):
    id: str
    name: str = ""


class ShippingProvidersData(TikTokModel):
    shipping_providers: list[ShippingProvider] = Field(default_factory=list)


class OrderTransactions(TikTokModel):
    """Finance 202501 statement transactions of one order: none until TikTok settled it."""

    order_id: str = ""
    currency: str = ""
    settlement_amount: str | None = None
    revenue_amount: str | None = None
    fee_and_tax_amount: str | None = None
    shipping_cost_amount: str | None = None
    sku_transactions: list[dict[str, Any]] = Field(default_factory=list)
    total_count: int = 0


class ShopWebhook(TikTokModel):
    event_type: str
    address: str = ""
    create_time: int | None = None
    update_time: int | None = None


class ShopWebhooksData(TikTokModel):
    webhooks: list[ShopWebhook] = Field(default_factory=list)
    total_count: int = 0


# --- request bodies --------------------------------------------------------------------------
# Declared fields are the ones the service fills; extra ones pass through to TikTok unchanged.


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="allow")


class PriceInput(RequestModel):
    amount: str
    currency: str


class InventoryInput(RequestModel):
    quantity: int
    warehouse_id: str | None = None


class SkuInput(RequestModel):
    seller_sku: str
    price: PriceInput
    inventory: list[InventoryInput]


class ImageInput(RequestModel):
    uri: str


class AttributeValueInput(RequestModel):
    id: str | None = None
    name: str | None = None


class ProductAttributeInput(RequestModel):
    id: str
    values: list[AttributeValueInput]


class ProductInput(RequestModel):
    """Body of create and edit product."""

    title: str
    description: str = ""
    category_id: str
    main_images: list[ImageInput]
    skus: list[SkuInput]
    product_attributes: list[ProductAttributeInput] | None = None
    brand_id: str | None = None


class ProductSearchFilter(RequestModel):
    status: str | None = None
    seller_skus: list[str] | None = None
    create_time_ge: int | None = None
    create_time_le: int | None = None
    update_time_ge: int | None = None
    update_time_le: int | None = None


class OrderSearchFilter(RequestModel):
    order_status: str | None = None
    create_time_ge: int | None = None
    create_time_lt: int | None = None
    update_time_ge: int | None = None
    update_time_lt: int | None = None
