"""Every admin command and the one function that carries it out (Kafka and HTTP share it)."""

from collections.abc import Awaitable, Callable
from typing import Any

from contracts import commands as c
from contracts.wire import WireModel
from service.application import catalog, channel, listings, orders
from service.application.deps import Deps

Operation = Callable[[Deps, Any], Awaitable[WireModel]]

OPERATIONS: dict[type[c.Command], Operation] = {
    c.CreateListing: listings.create_listing,
    c.ListListings: listings.list_listings,
    c.GetListing: listings.get_listing,
    c.GetListingByProduct: listings.get_listing_by_product,
    c.UpdateListing: listings.update_listing,
    c.DeleteListing: listings.delete_listing,
    c.PushListing: listings.push_listing,
    c.StartCatalogSync: catalog.start_catalog_sync,
    c.ListSyncs: catalog.list_syncs,
    c.GetLastSync: catalog.last_sync,
    c.SyncProducts: catalog.sync_products,
    c.ListOrders: orders.list_orders,
    c.GetOrder: orders.get_order,
    c.UpdateOrderStatus: orders.update_order_status,
    c.SyncOrders: orders.sync_orders,
    c.AuthorizeShops: channel.authorize_shops,
    c.GetStats: channel.get_stats,
    c.GetSettings: channel.get_settings,
}


async def execute(deps: Deps, command: c.Command) -> WireModel:
    """Carry out one admin command; raises `AppError` for an answer that is an error."""
    return await OPERATIONS[type(command)](deps, command)
