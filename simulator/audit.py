"""TikTok's product audit and the catalog webhooks it pushes.

A listed product waits ``audit_delay_seconds`` of the simulator's clock (``/_sim/clock`` moves it)
and then passes or fails. The verdict is applied when something settles due audits: moving the
clock, reading products through the API, or ``POST /_sim/catalog/settle``. Notifications, in the
shapes of TikTok's published webhook models:

- type 37 PRODUCT_AUDIT_STATUS_CHANGE ``{product_id (number), audit {status,
  pre_approved_reasons}, update_time}`` on every verdict;
- type 5 PRODUCT_STATUS_CHANGE ``{product_id (number), status, suspended_reason, update_time}``,
  ``PRODUCT_FIRST_PASS_REVIEW`` when a new product first passes, ``PRODUCT_AUDIT_FAILURE`` when
  an audit fails;
- type 27 inventory status ``{product_id, sku_id, current_inventory_status, trigger_reason,
  inventory_distribution, update_time}`` when a SKU's stock crosses SUFFICIENT_STOCK / LOW_STOCK
  (at most ``low_stock_threshold`` units in all warehouses) / OUT_OF_STOCK (none);
- type 50 SKU status ``{product_id, skus [{sku_id, status, deactivation_source}], update_time}``.

Each goes to the shop's registered webhook URL, if it has one.
"""

from typing import Any, Final, Literal

from simulator.catalog import CATEGORY_BY_ID, PendingAudit
from simulator.core import Simulator
from simulator.listing_rules import catalog_of, rules_of
from simulator.world import Product

PRODUCT_STATUS_CHANGE: Final = 5
INVENTORY_STATUS_CHANGE: Final = 27
PRODUCT_AUDIT_STATUS_CHANGE: Final = 37
SKU_STATUS_CHANGE: Final = 50

PROHIBITED_REASON: Final = {
    "position": "Category",
    "reasons": ["Prohibited product"],
    "suggestions": ["Products in this category may not be sold on TikTok Shop."],
    "listing_platform": "TIKTOK_SHOP",
}


def submit(sim: Simulator, product: Product, *, first: bool) -> None:
    """Send the product to audit: PENDING and AUDITING until the verdict is due.

    The verdict is decided now: a forced failure (``audit_fail_next``), a prohibited category
    (FAILED), an invite-only one (PRE_APPROVED, still PENDING), else APPROVED.
    """
    rules = rules_of(sim)
    reasons: list[dict[str, Any]] = []
    outcome: Literal["APPROVED", "FAILED", "PRE_APPROVED"]
    category = CATEGORY_BY_ID.get(product.category_id)
    if rules.audit_fail_next > 0:
        rules.audit_fail_next -= 1
        outcome = "FAILED"
        reasons = [r.model_dump() for r in rules.audit_fail_reasons]
    elif category is not None and category.permission == "PROHIBITED":
        outcome, reasons = "FAILED", [dict(PROHIBITED_REASON)]
    elif category is not None and category.permission == "INVITE_ONLY":
        outcome = "PRE_APPROVED"
    else:
        outcome = "APPROVED"
    product.status = "PENDING"
    product.audit_status = "AUDITING"
    product.audit_failed_reasons = []
    product.pre_approved_reasons = []
    catalog_of(sim).audits[product.id] = PendingAudit(
        product.id,
        sim.now() + rules.audit_delay_seconds,
        outcome,
        reasons,
        first,
    )


def audited_content(product: Product) -> tuple[Any, ...]:
    """What TikTok audits again when it changes: all but SKU prices and stock."""
    return (
        product.title,
        product.description,
        product.category_id,
        [i["uri"] for i in product.main_images],
        product.product_attributes,
        product.brand_id,
        [(s["id"], s["seller_sku"], s.get("sales_attributes")) for s in product.skus],
    )


def withdraw(sim: Simulator, product: Product) -> None:
    """No audit for this product any more (a draft, a deleted product)."""
    catalog_of(sim).audits.pop(product.id, None)


def _product_id(product: Product) -> int | str:
    # TikTok's models give product_id of types 5 and 37 as a number.
    return int(product.id) if product.id.isdigit() else product.id


def _resolve(sim: Simulator, audit: PendingAudit) -> list[bytes]:
    product = sim.world.products.get(audit.product_id)
    if product is None or product.status != "PENDING" or product.audit_status != "AUDITING":
        return []
    product.update_time = sim.bump(product.update_time)
    product.audit_status = audit.outcome
    notes: list[bytes] = []
    status_data: dict[str, Any] | None = None
    if audit.outcome == "APPROVED":
        product.status = "ACTIVATE"
        if audit.first:
            status_data = {"status": "PRODUCT_FIRST_PASS_REVIEW", "suspended_reason": ""}
    elif audit.outcome == "FAILED":
        product.status = "FAILED"
        product.audit_failed_reasons = audit.reasons
        first_reasons = audit.reasons[0]["reasons"] if audit.reasons else []
        status_data = {
            "status": "PRODUCT_AUDIT_FAILURE",
            "suspended_reason": "; ".join(first_reasons),
        }
    else:
        product.pre_approved_reasons = ["RESTRICTED_CATEGORY_PENDING"]
    notes.append(
        sim.notification(
            PRODUCT_AUDIT_STATUS_CHANGE,
            product.shop_id,
            {
                "product_id": _product_id(product),
                "audit": {
                    "status": product.audit_status,
                    "pre_approved_reasons": product.pre_approved_reasons,
                },
                "update_time": product.update_time,
            },
        )
    )
    if status_data is not None:
        notes.append(
            sim.notification(
                PRODUCT_STATUS_CHANGE,
                product.shop_id,
                {
                    "product_id": _product_id(product),
                    **status_data,
                    "update_time": product.update_time,
                },
            )
        )
    return notes


def settle_now(sim: Simulator, product_id: str) -> list[bytes]:
    """Give this product's pending verdict now, whatever the clock says."""
    audit = catalog_of(sim).audits.pop(product_id, None)
    return [] if audit is None else _resolve(sim, audit)


def due_notifications(sim: Simulator) -> list[tuple[str, bytes]]:
    """Apply every verdict now due; the notifications to push, with their shop."""
    state = catalog_of(sim)
    now = sim.now()
    due = sorted((a for a in state.audits.values() if a.due_at <= now), key=lambda a: a.due_at)
    notes: list[tuple[str, bytes]] = []
    for audit in due:
        del state.audits[audit.product_id]
        product = sim.world.products.get(audit.product_id)
        for note in _resolve(sim, audit):
            notes.append((product.shop_id if product else "", note))
    return notes


# --- stock ---------------------------------------------------------------------------------------


def stock_level(total: int, threshold: int) -> str:
    """Type 27's ``current_inventory_status`` for ``total`` units in all warehouses."""
    if total <= 0:
        return "OUT_OF_STOCK"
    return "LOW_STOCK" if total <= threshold else "SUFFICIENT_STOCK"


def stock_notifications(sim: Simulator, product: Product) -> list[bytes]:
    """Type 27 for each SKU whose stock level changed since last announced.

    A SKU seen for the first time has its level recorded without a notification.
    """
    state = catalog_of(sim)
    threshold = rules_of(sim).low_stock_threshold
    notes: list[bytes] = []
    for sku in product.skus:
        total = sum(int(i["quantity"]) for i in sku["inventory"])
        level = stock_level(total, threshold)
        before = state.stock_status.get(sku["id"])
        state.stock_status[sku["id"]] = level
        if before is None or before == level:
            continue
        data: dict[str, Any] = {
            "product_id": product.id,
            "sku_id": sku["id"],
            "current_inventory_status": level,
            "inventory_distribution": {
                "total_quantity": total,
                "available_quantity": total,
                "creator_reserved_quantity": 0,
                "campaign_reserved_quantity": 0,
                "committed_quantity": 0,
            },
            "update_time": product.update_time,
        }
        if level != "SUFFICIENT_STOCK":
            data["trigger_reason"] = {"alert_type": "REALTIME", "low_stock_threshold": threshold}
        notes.append(sim.notification(INVENTORY_STATUS_CHANGE, product.shop_id, data))
    return notes


def sku_status_notification(
    sim: Simulator, product: Product, changes: list[dict[str, Any]]
) -> bytes:
    """Type 50 for SKUs whose status changed (``{sku_id, status, deactivation_source?}``)."""
    return sim.notification(
        SKU_STATUS_CHANGE,
        product.shop_id,
        {"product_id": product.id, "skus": changes, "update_time": product.update_time},
    )


# --- delivery ------------------------------------------------------------------------------------


async def deliver(sim: Simulator, shop_id: str, notes: list[bytes]) -> list[dict[str, Any]]:
    """Push to the shop's webhook URL now, in order; what each delivery got back."""
    shop = sim.world.shops.get(shop_id)
    if shop is None or not shop.webhook_url or not notes:
        return []
    return [await sim.push_webhook(shop.webhook_url, note) for note in notes]


def deliver_later(sim: Simulator, shop_id: str, notes: list[bytes]) -> None:
    """Push after the current answer, as TikTok notifies asynchronously."""
    shop = sim.world.shops.get(shop_id)
    if shop is not None and shop.webhook_url and notes:
        sim.spawn(deliver(sim, shop_id, notes))


async def settle(sim: Simulator) -> list[dict[str, Any]]:
    """Apply due verdicts and push their notifications; the delivery reports."""
    reports: list[dict[str, Any]] = []
    for shop_id, note in due_notifications(sim):
        reports.extend(await deliver(sim, shop_id, [note]))
    return reports


def settle_later(sim: Simulator) -> None:
    """Apply due verdicts now (so the answer shows them); push their notifications after it."""
    by_shop: dict[str, list[bytes]] = {}
    for shop_id, note in due_notifications(sim):
        by_shop.setdefault(shop_id, []).append(note)
    for shop_id, notes in by_shop.items():
        deliver_later(sim, shop_id, notes)
