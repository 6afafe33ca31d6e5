"""Error codes of the order-side calls: fulfillment, cancellations, returns, after-sales, events.

TikTok's published description names no code for these refusals; one was seen in TikTok's own
answers (quoted in public SDK issue threads), the others are the simulator's choice, shaped like
TikTok's (8 digits, the first two naming the service: 21 fulfillment, 25 return and refund,
35 event). Clients should match them by these names, kept here in one table.

Validation errors (a missing or malformed field) answer HTTP 400 with ``INVALID_PARAMETER``
(40006) and unknown ids HTTP 404 with ``NOT_FOUND`` (40004), as for every other simulated call;
the codes below answer HTTP 200 with a non-zero ``code``, as TikTok's business refusals do.
"""

from typing import Final

# Seen in TikTok's answers: "This interface cannot be used in this region or this business type"
# (mark package shipped outside its markets, or for an order TikTok ships itself).
NOT_IN_REGION_OR_BUSINESS_TYPE: Final = 21008106

# --- fulfillment (the simulator's choices) --------------------------------------------------
ORDER_NOT_SHIPPABLE: Final = 21011001  # not AWAITING_SHIPMENT / PARTIALLY_SHIPPING (or unpaid)
ORDER_IN_REMORSE_PERIOD: Final = 21011002  # ON_HOLD: the buyer may still cancel for an hour
ORDER_CANCELLED: Final = 21011003  # the order (or the package) is cancelled
PACKAGE_ALREADY_SHIPPED: Final = 21011004
UNKNOWN_SHIPPING_PROVIDER: Final = 21011005  # not a provider of the order's delivery option
SHIPPING_METHOD_MISMATCH: Final = 21011006  # self_shipment for a TikTok-shipped order, or back
LINE_ITEMS_NOT_SHIPPABLE: Final = 21011007  # already shipped or cancelled line items
DELIVERY_OPTION_SHIPPED_BY_TIKTOK: Final = 21011008  # providers asked for a TikTok option

# --- cancellations (the simulator's choices) ------------------------------------------------
CANCELLATION_NOT_PENDING: Final = 25001001  # approve/reject what is no longer pending
ORDER_NOT_CANCELLABLE: Final = 25001002  # shipped, delivered, completed or already cancelled
INVALID_CANCEL_REASON: Final = 25001003  # not one of the eligibility call's reason names
INVALID_REJECT_REASON: Final = 25001004  # not one of the reject reasons call's names
CANCELLATION_ALREADY_PENDING: Final = 25001005  # the buyer's request waits for an answer

# --- returns and after-sales (the simulator's choices) --------------------------------------
RETURN_DECISION_NOT_ALLOWED: Final = 25002001  # decision does not fit the type or status
REFUND_AMOUNT_INVALID: Final = 25002002  # partial refund not > 0, above the total, wrong currency
AFTERSALES_LINE_ITEMS_MISMATCH: Final = 25002003  # review names line items not of the request

# --- event API (the simulator's choice) -----------------------------------------------------
WEBHOOK_NOT_REGISTERED: Final = 35001001  # delete for an event type with no webhook
