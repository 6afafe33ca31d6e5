"""Packages and the order status they drive, as TikTok's fulfillment moves them.

A paid order has one package holding every line item (``packages`` in the order detail). Shipping
part of the line items splits them into a package of their own (a PACKAGE_UPDATE webhook, type 4,
``sc_type`` SPLIT). The order's status follows its packages: some still to ship and some shipped
is PARTIALLY_SHIPPING; all arranged but not collected is AWAITING_COLLECTION; all collected is
IN_TRANSIT. Every status change moves ``update_time`` forward and pushes ORDER_STATUS_CHANGE
(type 1) after the answer, spelling CANCELLED as the webhook does (``CANCEL``).

Line items show ``package_id`` and ``package_status`` once their package has shipped (TikTok
leaves them out before that for US and UK sellers): read package ids from ``packages``.
"""

from typing import Any

from simulator import webhooks
from simulator.core import Simulator
from simulator.order_books import Package
from simulator.world import Order

ORDER_STATUSES = frozenset(
    {
        "UNPAID",
        "ON_HOLD",
        "AWAITING_SHIPMENT",
        "PARTIALLY_SHIPPING",
        "AWAITING_COLLECTION",
        "IN_TRANSIT",
        "DELIVERED",
        "COMPLETED",
        "CANCELLED",
    }
)
# TikTok's buyer-remorse window: a new order stays ON_HOLD (cancellable at will) for an hour.
ON_HOLD_SECONDS = 3600
# Statuses TikTok lets a seller ship from.
SHIPPABLE = frozenset({"AWAITING_SHIPMENT", "PARTIALLY_SHIPPING"})
# Order status -> the status its packages take when the order is set to it directly.
_PACKAGE_STATUS = {
    "AWAITING_SHIPMENT": "TO_FULFILL",
    "ON_HOLD": "TO_FULFILL",
    "AWAITING_COLLECTION": "PROCESSING",
    "IN_TRANSIT": "FULFILLING",
    "DELIVERED": "COMPLETED",
    "COMPLETED": "COMPLETED",
    "CANCELLED": "CANCELLED",
}
SHIPPED_PACKAGE_STATUSES = frozenset({"PROCESSING", "FULFILLING", "COMPLETED"})


def webhook_order_status(status: str) -> str:
    """The ORDER_STATUS_CHANGE webhook's spelling of an order status (``CANCEL``)."""
    return "CANCEL" if status == "CANCELLED" else status


def order_status_data(order: Order, status: str | None = None) -> dict[str, Any]:
    """The ``data`` of an ORDER_STATUS_CHANGE (type 1) webhook."""
    return {
        "order_id": order.id,
        "order_status": status or webhook_order_status(order.status),
        "update_time": order.update_time,
        "is_on_hold_order": order.is_on_hold_order,
    }


def set_order_status(sim: Simulator, order: Order, status: str, *, notify: bool = False) -> None:
    """Change the status and move ``update_time`` forward (it orders an order's versions).

    Also stamps the times TikTok's detail carries (paid, collection, delivery, cancel) and moves
    the packages along. ``notify`` pushes type 1 to the shop's subscription afterwards.
    """
    now = sim.now()
    previous = order.status
    order.status = status
    order.update_time = sim.bump(order.update_time)
    if status == "ON_HOLD":
        order.is_on_hold_order = True
        if order.on_hold_until is None:
            order.on_hold_until = now + ON_HOLD_SECONDS
            sim.world.books.held_orders.add(order.id)
    if status not in ("UNPAID",) and order.paid_time is None:
        order.paid_time = now
    if status != "ON_HOLD":
        order.on_hold_until = None
    if status == "IN_TRANSIT" and order.collection_time is None:
        order.collection_time = now
    if status in ("DELIVERED", "COMPLETED") and order.delivery_time is None:
        order.delivery_time = now
        sim.world.books.awaiting_settlement[order.id] = now
    if status == "CANCELLED" and order.cancel_time is None:
        order.cancel_time = now
    if previous == "UNPAID" and status != "UNPAID":
        open_package(sim, order)
    package_status = _PACKAGE_STATUS.get(status)
    for package in sim.world.books.packages_of(order.id):
        if package_status is None or package.status == "CANCELLED":
            continue
        if status in ("AWAITING_SHIPMENT", "ON_HOLD") and package.status != "TO_FULFILL":
            continue
        _set_package_status(sim, order, package, package_status)
    for item in order.line_items:
        if item.get("display_status") != "CANCELLED" or status == "CANCELLED":
            item["display_status"] = status
    if notify:
        webhooks.publish(sim, order.shop_id, webhooks.ORDER_STATUS_CHANGE, order_status_data(order))


def open_package(sim: Simulator, order: Order) -> Package | None:
    """The package TikTok makes when an order is paid: every line item not cancelled."""
    books = sim.world.books
    if books.packages_of(order.id):
        return None
    lines = [i["id"] for i in order.line_items if i.get("display_status") != "CANCELLED"]
    if not lines:
        return None
    now = sim.now()
    package = Package(sim.world.next_id("1153"), order.shop_id, order.id, lines, now, now)
    books.add_package(package)
    order.packages.append({"id": package.id})
    status = _PACKAGE_STATUS.get(order.status)
    if status is not None and status != "TO_FULFILL":
        _set_package_status(sim, order, package, status)
    return package


def split(sim: Simulator, order: Order, package: Package, line_ids: list[str]) -> Package:
    """Move ``line_ids`` out of ``package`` into a new one; push PACKAGE_UPDATE (SPLIT)."""
    now = sim.now()
    moved = Package(sim.world.next_id("1153"), order.shop_id, order.id, line_ids, now, now)
    moved.split_tag = package.split_tag = "SPLIT"
    package.line_item_ids = [i for i in package.line_item_ids if i not in line_ids]
    package.update_time = now
    sim.world.books.add_package(moved)
    order.packages.append({"id": moved.id})
    publish_package_update(sim, order, [package, moved], "SPLIT", "ROLE_SELLER")
    return moved


def publish_package_update(
    sim: Simulator, order: Order, packages: list[Package], sc_type: str, role: str
) -> None:
    """Push PACKAGE_UPDATE (type 4): ``sc_type`` SPLIT, PARTLY_CANCEL_SPLIT..."""
    webhooks.publish(
        sim,
        order.shop_id,
        webhooks.PACKAGE_UPDATE,
        {
            "sc_type": sc_type,
            "role_type": role,
            "package_list": [{"package_id": p.id, "order_id_list": [order.id]} for p in packages],
            "update_time": sim.now(),
        },
    )


def ship(
    sim: Simulator,
    order: Order,
    package: Package,
    *,
    status: str,
    tracking_number: str | None = None,
    provider_id: str | None = None,
    provider_name: str | None = None,
    handover_method: str | None = None,
    pickup_slot: dict[str, int] | None = None,
) -> None:
    """Mark ``package`` shipped (PROCESSING or FULFILLING) and move the order after it.

    Pushes type 1 when the order's status changes.
    """
    now = sim.now()
    package.tracking_number = tracking_number
    package.shipping_provider_id = provider_id
    package.shipping_provider_name = provider_name
    package.handover_method = handover_method
    package.pickup_slot = pickup_slot
    package.rts_time = now
    _set_package_status(sim, order, package, status)
    order.rts_time = order.rts_time or now
    if tracking_number is not None:
        order.tracking_number = tracking_number
        order.shipping_provider_id = provider_id
        order.shipping_provider = provider_name
    new_status = status_after_shipping(sim, order)
    if new_status != order.status:
        set_order_status(sim, order, new_status, notify=True)
    else:
        order.update_time = sim.bump(order.update_time)


def status_after_shipping(sim: Simulator, order: Order) -> str:
    """The order status its live packages imply once one of them shipped."""
    live = [p for p in sim.world.books.packages_of(order.id) if p.status != "CANCELLED"]
    if any(p.status == "TO_FULFILL" for p in live):
        return "PARTIALLY_SHIPPING"
    if any(p.status == "PROCESSING" for p in live):
        return "AWAITING_COLLECTION"
    return "IN_TRANSIT"


def _set_package_status(sim: Simulator, order: Order, package: Package, status: str) -> None:
    package.status = status
    package.update_time = sim.now()
    shipped = status in SHIPPED_PACKAGE_STATUSES
    for item in order.line_items:
        if item["id"] not in package.line_item_ids:
            continue
        if not shipped and status != "CANCELLED":
            continue
        item["package_id"] = package.id
        item["package_status"] = status
        if package.tracking_number is not None:
            item["tracking_number"] = package.tracking_number
            item["shipping_provider_id"] = package.shipping_provider_id
            item["shipping_provider_name"] = package.shipping_provider_name
        if package.rts_time is not None:
            item["rts_time"] = package.rts_time


def remove_lines(sim: Simulator, order: Order, line_ids: set[str]) -> list[Package]:
    """Take cancelled line items out of their packages; answer the packages changed."""
    changed = []
    for package in sim.world.books.packages_of(order.id):
        kept = [i for i in package.line_item_ids if i not in line_ids]
        if len(kept) == len(package.line_item_ids):
            continue
        package.line_item_ids = kept or package.line_item_ids
        if not kept:
            package.status = "CANCELLED"
        package.update_time = sim.now()
        changed.append(package)
    return changed
