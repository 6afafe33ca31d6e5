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
        "search_returns": Endpoint("POST", "/return_refund/202602/returns/search"),
        "mark_package_shipped": Endpoint(
            "POST", "/fulfillment/202309/orders/{order_id}/packages", idempotent=False
        ),
    }
)

# Paginated searches take 1..100; order details take up to 50 ids per call.
MAX_PAGE_SIZE: Final = 100
MAX_ORDER_IDS_PER_CALL: Final = 50
