"""``/_sim`` controls of the catalog: rules, audits, warehouses, and stock changed on TikTok's side.

Plain JSON like the other controls (``simulator.control``). Webhooks a control call causes are
pushed before it answers and reported in its ``webhooks`` list.
"""

from collections import Counter
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.routing import Route

from simulator import audit
from simulator.catalog import CatalogRules, FailReason, Warehouse
from simulator.control import ControlError, control
from simulator.core import Simulator
from simulator.listing_rules import catalog_of, daily_limit, rules_of
from simulator.world import Product

M = TypeVar("M", bound=BaseModel)


async def _parse(request: Request, model: type[M]) -> M:
    try:
        return model.model_validate_json(await request.body() or b"{}")
    except ValidationError as exc:
        raise ControlError(400, str(exc)) from None


class WarehouseSeed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^\d{1,19}$")
    name: str = "Warehouse"
    type: Literal["SALES_WAREHOUSE", "RETURN_WAREHOUSE"] = "SALES_WAREHOUSE"
    is_default: bool = False
    effect_status: Literal["ENABLED", "DISABLED", "RESTRICTED"] = "ENABLED"


class ShopCatalog(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Replaces the shop's warehouses (TikTok's default pair otherwise).
    warehouses: list[WarehouseSeed] | None = None
    daily_product_limit: int | None = Field(default=None, ge=0)


class AuditVerdict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["APPROVED", "FAILED", "PRE_APPROVED"]
    reasons: list[FailReason] = Field(default_factory=lambda: [FailReason()])
    # Give the verdict now; otherwise when the audit's delay is over.
    now: bool = True


class StockChange(BaseModel):
    """Stock changed on TikTok's side: a buyer bought, or the seller edited in Seller Center."""

    model_config = ConfigDict(extra="forbid")

    sku_id: str
    # The SKU's only (or first) warehouse when left out.
    warehouse_id: str | None = None
    quantity: int | None = Field(default=None, ge=0, le=99_999)
    delta: int | None = None
    reason: Literal["BUYER_PURCHASE", "SELLER_CENTER_EDIT"] = "BUYER_PURCHASE"


class SkuStatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["ACTIVATED", "DEACTIVATED"]
    deactivation_source: Literal["SELLER", "PLATFORM", "COMBO_RELATION"] = "PLATFORM"


def _product(sim: Simulator, request: Request) -> Product:
    product = sim.world.products.get(request.path_params["product_id"])
    if product is None:
        raise ControlError(404, "unknown product")
    return product


def _sku(product: Product, sku_id: str) -> dict[str, Any]:
    sku = next((s for s in product.skus if s["id"] == sku_id), None)
    if sku is None:
        raise ControlError(404, f"product {product.id} has no sku {sku_id}")
    return sku


@control
async def rules(sim: Simulator, request: Request) -> dict[str, Any]:
    """GET the rules, POST a partial change, DELETE to go back to the config's defaults."""
    state = catalog_of(sim)
    if request.method == "DELETE":
        state.rules = None
    elif request.method == "POST":
        changes = await request.json() if await request.body() else {}
        if not isinstance(changes, dict):
            raise ControlError(400, "expected a JSON object")
        try:
            state.rules = CatalogRules.model_validate({**rules_of(sim).model_dump(), **changes})
        except ValidationError as exc:
            raise ControlError(400, str(exc)) from None
    return rules_of(sim).model_dump()


@control
async def settle(sim: Simulator, request: Request) -> dict[str, Any]:
    """Give every verdict now due (by the simulator's clock) and push its webhooks."""
    return {"webhooks": await audit.settle(sim)}


@control
async def shop_catalog(sim: Simulator, request: Request) -> dict[str, Any]:
    shop_id = request.path_params["shop_id"]
    if shop_id not in sim.world.shops:
        raise ControlError(404, "unknown shop")
    state = catalog_of(sim)
    if request.method == "PUT":
        body = await _parse(request, ShopCatalog)
        if body.warehouses is not None:
            state.warehouses[shop_id] = [Warehouse(**w.model_dump()) for w in body.warehouses]
        if body.daily_product_limit is not None:
            state.daily_limits[shop_id] = body.daily_product_limit
    return {
        "shop_id": shop_id,
        "warehouses": [w.to_api() for w in state.warehouses_of(shop_id)],
        "daily_product_limit": daily_limit(sim, shop_id),
    }


@control
async def audit_verdict(sim: Simulator, request: Request) -> dict[str, Any]:
    """Decide the pending audit of a product: pass, fail with reasons, or pre-approve."""
    product = _product(sim, request)
    body = await _parse(request, AuditVerdict)
    pending = catalog_of(sim).audits.get(product.id)
    if pending is None:
        raise ControlError(409, f"product {product.id} is not being audited")
    pending.outcome = body.outcome
    pending.reasons = [r.model_dump() for r in body.reasons] if body.outcome == "FAILED" else []
    webhooks: list[dict[str, Any]] = []
    if body.now:
        webhooks = await audit.deliver(sim, product.shop_id, audit.settle_now(sim, product.id))
    return {"product": product.detail(), "webhooks": webhooks}


def _stock_view(sim: Simulator, product: Product) -> dict[str, Any]:
    threshold = rules_of(sim).low_stock_threshold
    return {
        "product_id": product.id,
        "shop_id": product.shop_id,
        "status": product.status,
        "update_time": product.update_time,
        "skus": [
            {
                "sku_id": sku["id"],
                "seller_sku": sku["seller_sku"],
                "price": dict(sku["price"]),
                "inventory": [dict(i) for i in sku["inventory"]],
                "total_quantity": (total := sum(int(i["quantity"]) for i in sku["inventory"])),
                "inventory_status": audit.stock_level(total, threshold),
                "status": sku.get("status_info", {"status": "NORMAL"})["status"],
            }
            for sku in product.skus
        ],
    }


@control
async def stock(sim: Simulator, request: Request) -> dict[str, Any]:
    """GET TikTok's copy of a product's price and stock per SKU and warehouse; POST a change
    made on TikTok's side, which pushes type 27 when a SKU's stock level changes."""
    product = _product(sim, request)
    if request.method == "GET":
        return _stock_view(sim, product)
    body = await _parse(request, StockChange)
    sku = _sku(product, body.sku_id)
    if (body.quantity is None) == (body.delta is None):
        raise ControlError(400, "give exactly one of quantity and delta")
    warehouse_id = body.warehouse_id or sku["inventory"][0]["warehouse_id"]
    entry = next((i for i in sku["inventory"] if i["warehouse_id"] == warehouse_id), None)
    if entry is None:
        raise ControlError(404, f"sku {sku['id']} has no stock in warehouse {warehouse_id}")
    new = body.quantity if body.quantity is not None else entry["quantity"] + (body.delta or 0)
    if not 0 <= new <= 99_999:
        raise ControlError(400, f"stock would be {new}, outside 0..99999")
    entry["quantity"] = new
    product.update_time = sim.bump(product.update_time)
    notes = audit.stock_notifications(sim, product)
    return {
        "stock": _stock_view(sim, product),
        "webhooks": await audit.deliver(sim, product.shop_id, notes),
    }


@control
async def sku_status(sim: Simulator, request: Request) -> dict[str, Any]:
    """Activate or deactivate a SKU on TikTok's side; pushes type 50 SKU status."""
    product = _product(sim, request)
    sku = _sku(product, request.path_params["sku_id"])
    body = await _parse(request, SkuStatusChange)
    change: dict[str, Any] = {"sku_id": sku["id"], "status": body.status}
    if body.status == "DEACTIVATED":
        sku["status_info"] = {
            "status": "DEACTIVATED",
            "deactivation_source": body.deactivation_source,
        }
        change["deactivation_source"] = body.deactivation_source
    else:
        sku["status_info"] = {"status": "NORMAL"}
    product.update_time = sim.bump(product.update_time)
    note = audit.sku_status_notification(sim, product, [change])
    return {
        "product": product.detail(),
        "webhooks": await audit.deliver(sim, product.shop_id, [note]),
    }


@control
async def request_counts(sim: Simulator, request: Request) -> dict[str, Any]:
    """``{counts: {"METHOD /path": n}}`` of the logged Open API calls (``path_prefix``,
    ``shop_id`` narrow it, as for ``/_sim/requests``)."""
    query = request.query_params
    entries = sim.log.select(query.get("path_prefix"), query.get("shop_id"))
    return {"counts": dict(Counter(f"{e['method']} {e['path']}" for e in entries))}


ROUTES = [
    Route("/_sim/catalog/rules", rules, methods=["GET", "POST", "DELETE"]),
    Route("/_sim/catalog/settle", settle, methods=["POST"]),
    Route("/_sim/shops/{shop_id}/catalog", shop_catalog, methods=["GET", "PUT"]),
    Route("/_sim/products/{product_id}/audit", audit_verdict, methods=["POST"]),
    Route("/_sim/products/{product_id}/stock", stock, methods=["GET", "POST"]),
    Route("/_sim/products/{product_id}/skus/{sku_id}/status", sku_status, methods=["POST"]),
    Route("/_sim/requests/counts", request_counts, methods=["GET"]),
]
