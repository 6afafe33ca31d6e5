"""The one table of Open API calls: method, versioned path, and how each may be sent.

TikTok versions each call on its own; moving a call to a newer version is a one-line change here.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

HttpMethod = Literal["GET", "POST", "PUT", "DELETE"]


@dataclass(frozen=True)
class Endpoint:
    method: HttpMethod
    path: str
    # Every call but the authorized-shops one carries the shop's cipher.
    shop_scoped: bool = True
    # False where sending twice could do the thing twice (a second product): such calls are
    # retried only when TikTok surely did not act (throttled, connection never made).
    idempotent: bool = True


ENDPOINTS: Final[Mapping[str, Endpoint]] = MappingProxyType(
    {
        "authorized_shops": Endpoint("GET", "/authorization/202309/shops", shop_scoped=False),
        "create_product": Endpoint("POST", "/product/202309/products", idempotent=False),
        "edit_product": Endpoint("PUT", "/product/202509/products/{product_id}"),
        "delete_products": Endpoint("DELETE", "/product/202309/products"),
        "search_products": Endpoint("POST", "/product/202502/products/search"),
        "product_detail": Endpoint("GET", "/product/202309/products/{product_id}"),
        "search_orders": Endpoint("POST", "/order/202309/orders/search"),
        "order_details": Endpoint("GET", "/order/202507/orders"),
        "mark_package_shipped": Endpoint(
            "POST", "/fulfillment/202610/orders/{order_id}/packages", idempotent=False
        ),
        # --- order lifecycle: reverse flows, shipping, finance, webhooks ----------------------
        # Decisions carry an idempotency_key, so TikTok applies a resent one once.
        "search_cancellations": Endpoint("POST", "/return_refund/202602/cancellations/search"),
        "approve_cancellation": Endpoint(
            "POST", "/return_refund/202309/cancellations/{cancel_id}/approve"
        ),
        "reject_cancellation": Endpoint(
            "POST", "/return_refund/202309/cancellations/{cancel_id}/reject"
        ),
        "reject_reasons": Endpoint("GET", "/return_refund/202309/reject_reasons"),
        "cancel_order": Endpoint("POST", "/return_refund/202602/cancellations", idempotent=False),
        "aftersale_eligibility": Endpoint(
            "GET", "/return_refund/202602/orders/{order_id}/aftersale_eligibility"
        ),
        "search_returns": Endpoint("POST", "/return_refund/202602/returns/search"),
        "approve_return": Endpoint("POST", "/return_refund/202309/returns/{return_id}/approve"),
        "reject_return": Endpoint("POST", "/return_refund/202606/returns/{return_id}/reject"),
        "search_aftersales": Endpoint("POST", "/return_refund/202603/aftersales/search"),
        "search_rmas": Endpoint("POST", "/return_refund/202604/rma/search"),
        "shipping_providers": Endpoint(
            "GET", "/logistics/202309/delivery_options/{delivery_option_id}/shipping_providers"
        ),
        "ship_package": Endpoint(
            "POST", "/fulfillment/202309/packages/{package_id}/ship", idempotent=False
        ),
        "order_statement_transactions": Endpoint(
            "GET", "/finance/202501/orders/{order_id}/statement_transactions"
        ),
        "get_webhooks": Endpoint("GET", "/event/202309/webhooks"),
        "update_webhook": Endpoint("PUT", "/event/202309/webhooks"),
        # --- catalog ---
        # Multipart, its body unsigned; counted per app, not per shop (TikTok's description).
        "upload_image": Endpoint("POST", "/product/202309/images/upload", shop_scoped=False),
        "categories": Endpoint("GET", "/product/202309/categories"),
        "category_attributes": Endpoint(
            "GET", "/product/202309/categories/{category_id}/attributes"
        ),
        "warehouses": Endpoint("GET", "/logistics/202309/warehouses"),
        # Both set absolute values, so sending twice does no harm.
        "update_inventory": Endpoint(
            "POST", "/product/202309/products/{product_id}/inventory/update"
        ),
        "update_prices": Endpoint("POST", "/product/202309/products/{product_id}/prices/update"),
    }
)

# Paginated searches take 1..100; order details take up to 50 ids per call.
MAX_PAGE_SIZE: Final = 100
MAX_ORDER_IDS_PER_CALL: Final = 50
# Inventory update takes 0..99,999 units per warehouse.
MAX_STOCK_QUANTITY: Final = 99_999
