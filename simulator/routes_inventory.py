"""Changing a product in part: stock per warehouse, prices, and partial edit.

- ``POST /product/202309/products/{product_id}/inventory/update``: products in DRAFT, PENDING,
  FAILED, ACTIVATE or SELLER_DEACTIVATED; every warehouse of each SKU must be sent (the
  ``warehouse_id`` may be left out only when the SKU has one), 0..99,999 units. A SKU that fails
  its checks is left unchanged and reported in ``data.errors`` while ``code`` stays 0, as TikTok
  does; the other SKUs are updated.
- ``POST /product/202309/products/{product_id}/prices/update``: ACTIVATE products only; each
  amount a positive decimal string with no more decimals than the currency has, in the SKU's own
  currency. All or nothing; ``data`` is empty.
- ``POST /product/202509/products/{product_id}/partial_edit``: any product but FREEZE or DELETED;
  only the top-level fields sent change. Changes to anything but SKU prices and stock send the
  product back to audit.
"""

from decimal import Decimal
from typing import Any, Final

from starlette.routing import Route

from simulator import audit, listing_rules, money
from simulator import catalog_errors as err
from simulator import envelope as env
from simulator.catalog import CATEGORY_BY_ID
from simulator.gate import ApiContext, api
from simulator.world import Product

INVENTORY_STATUSES: Final = frozenset(
    {"DRAFT", "PENDING", "FAILED", "ACTIVATE", "SELLER_DEACTIVATED"}
)


def _bad(message: str) -> env.ApiFailure:
    return env.ApiFailure(400, env.INVALID_PARAMETER, message)


def _product(ctx: ApiContext) -> Product:
    product_id = ctx.request.path_params["product_id"]
    product = ctx.sim.world.products.get(product_id)
    if product is None or product.shop_id != ctx.scoped_shop.id:
        raise err.refused(err.PRODUCT_NOT_FOUND, f"product {product_id} not found", 404)
    return product


def _sku_list(body: dict[str, Any], needs: str) -> list[dict[str, Any]]:
    skus = body.get("skus")
    if (
        not isinstance(skus, list)
        or not skus
        or not all(isinstance(s, dict) and isinstance(s.get("id"), str) for s in skus)
    ):
        raise _bad("skus needs at least one sku with an id")
    if not all(isinstance(s.get(needs), list if needs == "inventory" else dict) for s in skus):
        raise _bad(f"every sku needs {needs}")
    ids = [s["id"] for s in skus]
    if len(set(ids)) != len(ids):
        raise err.refused(err.SKU_DUPLICATE, "a sku id is given twice")
    return skus


def _extra(warehouse_id: str, code: int, message: str) -> dict[str, Any]:
    return {"warehouse_id": warehouse_id, "code": code, "message": message}


def _inventory_problems(
    ctx: ApiContext, sku: dict[str, Any], entries: list[Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The SKU's new stock, or the warehouse problems that stop it (``extra_errors``)."""
    assigned = [i["warehouse_id"] for i in sku["inventory"]]
    catalog = listing_rules.catalog_of(ctx.sim)
    problems: list[dict[str, Any]] = []
    stock: list[dict[str, Any]] = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise _bad("each inventory entry must be an object")
        quantity = entry.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool):
            raise _bad("inventory quantity must be a whole number")
        warehouse_id = entry.get("warehouse_id")
        if warehouse_id in (None, ""):
            if len(assigned) != 1:
                problems.append(
                    _extra(
                        "",
                        err.WAREHOUSES_INCOMPLETE,
                        f"warehouse_id is required: the SKU is stocked in {len(assigned)} "
                        "warehouses",
                    )
                )
                continue
            warehouse_id = assigned[0]
        warehouse_id = str(warehouse_id)
        if catalog.warehouse(ctx.scoped_shop.id, warehouse_id) is None:
            problems.append(
                _extra(warehouse_id, err.WAREHOUSE_NOT_FOUND, "The warehouse does not exist")
            )
        elif warehouse_id not in assigned:
            problems.append(
                _extra(
                    warehouse_id,
                    err.CHECK_FAILED,
                    "the warehouse is not one of this SKU's; send only the SKU's warehouses",
                )
            )
        elif any(s["warehouse_id"] == warehouse_id for s in stock):
            problems.append(
                _extra(warehouse_id, err.WAREHOUSE_DUPLICATE, "the warehouse is given twice")
            )
        elif not 0 <= quantity <= listing_rules.MAX_QUANTITY:
            problems.append(
                _extra(
                    warehouse_id,
                    err.STOCK_COUNT_INVALID,
                    f"stock count is invalid: 0..{listing_rules.MAX_QUANTITY}",
                )
            )
        else:
            stock.append({"quantity": quantity, "warehouse_id": warehouse_id})
    sent = {s["warehouse_id"] for s in stock} | {p["warehouse_id"] for p in problems}
    for missing in (w for w in assigned if w not in sent):
        problems.append(
            _extra(
                missing,
                err.WAREHOUSES_INCOMPLETE,
                "every warehouse of the SKU must be sent with its quantity",
            )
        )
    return stock, problems


@api()
async def update_inventory(ctx: ApiContext) -> dict[str, Any]:
    """``{skus: [{id, inventory: [{warehouse_id?, quantity}]}]}`` -> ``{errors: [...]}``.

    Each error: ``{code, message, detail: {sku_id, extra_errors: [{warehouse_id, code,
    message}]}}``; 12052557 for a SKU not in the product, 12052990 for warehouse problems
    (12052097 unknown, 12052516 one missing, 12052555 twice, 12019024 quantity out of range).
    """
    product = _product(ctx)
    if product.status not in INVENTORY_STATUSES:
        raise err.refused(
            err.PRODUCT_STATUS_FORBIDS, f"stock cannot change while the product is {product.status}"
        )
    skus = _sku_list(ctx.json(), "inventory")
    by_id = {s["id"]: s for s in product.skus}
    errors: list[dict[str, Any]] = []
    changed = False
    for wanted in skus:
        sku = by_id.get(wanted["id"])
        if sku is None:
            errors.append(
                {
                    "code": err.SKU_NOT_IN_PRODUCT,
                    "message": "The SKU id does not belong to this product",
                    "detail": {"sku_id": wanted["id"], "extra_errors": []},
                }
            )
            continue
        stock, problems = _inventory_problems(ctx, sku, wanted["inventory"])
        if problems:
            errors.append(
                {
                    "code": err.CHECK_FAILED,
                    "message": "Check failed",
                    "detail": {"sku_id": sku["id"], "extra_errors": problems},
                }
            )
            continue
        order = {w["warehouse_id"]: n for n, w in enumerate(sku["inventory"])}
        sku["inventory"] = sorted(stock, key=lambda s: order[s["warehouse_id"]])
        changed = True
    if changed:
        product.update_time = ctx.sim.bump(product.update_time)
        audit.deliver_later(ctx.sim, product.shop_id, audit.stock_notifications(ctx.sim, product))
    return {"errors": errors}


def _valid_price(amount: Any, currency: str) -> bool:
    return money.valid_amount(amount, currency) and Decimal(amount) > 0


@api()
async def update_prices(ctx: ApiContext) -> dict[str, Any]:
    """``{skus: [{id, price: {amount, currency}}]}`` -> ``{}``.

    12019113 unless ACTIVATE, 12052557 for a SKU not in the product, 12052084 for another
    currency than the SKU's, 12052073 for an amount that is not positive or has too many decimals.
    """
    product = _product(ctx)
    if product.status != "ACTIVATE":
        raise err.refused(
            err.PRODUCT_STATUS_INVALID,
            f"prices change only on ACTIVATE products; this one is {product.status}",
        )
    skus = _sku_list(ctx.json(), "price")
    by_id = {s["id"]: s for s in product.skus}
    updates: list[tuple[dict[str, Any], str]] = []
    for wanted in skus:
        sku = by_id.get(wanted["id"])
        if sku is None:
            raise err.refused(
                err.SKU_NOT_IN_PRODUCT, f"sku {wanted['id']} does not belong to this product"
            )
        price = wanted["price"]
        currency = sku["price"]["currency"]
        if price.get("currency") != currency:
            raise err.refused(
                err.CURRENCY_UNAVAILABLE,
                f"sku {sku['id']} is sold in {currency}, not {price.get('currency')!r}",
            )
        amount = price.get("amount")
        if not _valid_price(amount, currency):
            raise err.refused(
                err.PRICE_INVALID,
                f"{amount!r} is not a positive {currency} amount with at most "
                f"{money.places(currency)} decimals",
            )
        updates.append((sku, str(amount)))
    for sku, amount in updates:
        sku["price"] = {"amount": amount, "currency": sku["price"]["currency"]}
    product.update_time = ctx.sim.bump(product.update_time)
    return {}


def _partial_skus(
    ctx: ApiContext, product: Product, raw: Any
) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """The product's SKUs after a partial edit, the ids created and the ids deleted."""
    if not isinstance(raw, list) or not raw or not all(isinstance(s, dict) for s in raw):
        raise _bad("skus needs at least one sku object")
    by_id = {s["id"]: s for s in product.skus}
    for n, sku in enumerate(raw):
        if sku.get("id") and sku["id"] not in by_id:
            raise err.refused(
                err.SKU_NOT_IN_PRODUCT, f"skus[{n}]: {sku['id']} does not belong to this product"
            )
        if not sku.get("id") and not (isinstance(sku.get("seller_sku"), str) and sku["seller_sku"]):
            raise _bad(f"skus[{n}]: a new sku needs a seller_sku")
        price = sku.get("price")
        if not isinstance(price, dict) or not money.valid_currency(price.get("currency")):
            raise err.refused(err.SKU_PRICE_MISSING, f"skus[{n}] has no price")
        if not _valid_price(price.get("amount"), price["currency"]):
            raise err.refused(err.PRICE_INVALID, f"skus[{n}].price.amount is not valid")
        if not isinstance(sku.get("inventory"), list) or not sku["inventory"]:
            raise err.refused(err.WAREHOUSES_INCOMPLETE, f"skus[{n}] has no inventory")
    category = CATEGORY_BY_ID.get(product.category_id)
    if category is not None:
        inventories, sales = listing_rules.check_skus(ctx.sim, ctx.scoped_shop, category, raw)
    else:  # a product seeded in a category the tree does not know
        inventories = [
            listing_rules.check_inventory(ctx.sim, ctx.scoped_shop, f"skus[{n}]", s["inventory"])
            for n, s in enumerate(raw)
        ]
        sales = [list(s.get("sales_attributes") or []) for s in raw]
    kept: list[dict[str, Any]] = []
    created: list[str] = []
    for sku, inventory, sales_attributes in zip(raw, inventories, sales, strict=True):
        old = by_id.get(sku.get("id") or "")
        sku_id = old["id"] if old else ctx.sim.world.next_id("1730")
        if old is None:
            created.append(sku_id)
        kept.append(
            {
                "id": sku_id,
                "seller_sku": sku.get("seller_sku") or (old["seller_sku"] if old else ""),
                "price": {"amount": sku["price"]["amount"], "currency": sku["price"]["currency"]},
                "inventory": inventory,
                **({"sales_attributes": sales_attributes} if sales_attributes else {}),
            }
        )
    deleted = [s for s in by_id if s not in {k["id"] for k in kept}]
    return kept, created, deleted


@api()
async def partial_edit(ctx: ApiContext) -> dict[str, Any]:
    """Only the top-level fields sent change -> ``{product_id, skus: [{id, seller_sku}],
    audit: {status}}``.

    Checks as create does for the fields sent (images, attributes, SKUs); 12052901 for FREEZE or
    DELETED products, and for ``save_mode=AS_DRAFT`` on a product that is no draft (the simulator
    keeps no post-live drafts).
    """
    product = _product(ctx)
    if product.status in ("FREEZE", "DELETED"):
        raise err.refused(
            err.PRODUCT_STATUS_FORBIDS, f"a {product.status} product cannot be edited"
        )
    body = ctx.json()
    as_draft = body.get("save_mode") == "AS_DRAFT"
    if as_draft and product.status != "DRAFT":
        raise err.refused(err.PRODUCT_STATUS_FORBIDS, "only a draft can be saved as a draft")
    changes: dict[str, Any] = {}
    if "title" in body:
        title = body["title"]
        if not isinstance(title, str) or not title.strip() or len(title) > 255:
            raise _bad("title must be 1..255 characters")
        changes["title"] = title
    if "description" in body:
        if not isinstance(body["description"], str):
            raise _bad("description must be a string")
        changes["description"] = body["description"]
    if "main_images" in body:
        changes["main_images"] = listing_rules.check_main_images(ctx.sim, body["main_images"])
    if "product_attributes" in body:
        category = CATEGORY_BY_ID.get(product.category_id)
        if category is not None:
            changes["product_attributes"] = listing_rules.check_product_attributes(
                category, body["product_attributes"]
            )
    if "brand_id" in body:
        changes["brand_id"] = body["brand_id"] if isinstance(body["brand_id"], str) else None
    created: list[str] = []
    deleted: list[str] = []
    if "skus" in body:
        changes["skus"], created, deleted = _partial_skus(ctx, product, body["skus"])
    before = audit.audited_content(product)
    for name, value in changes.items():
        setattr(product, name, value)
    if changes:
        product.update_time = ctx.sim.bump(product.update_time)
    content_changed = audit.audited_content(product) != before
    # Price and stock edits of a listed product need no audit; a draft or failed one is listed.
    if not as_draft and (content_changed or product.status in ("DRAFT", "FAILED")):
        audit.submit(ctx.sim, product, first=product.audit_status != "APPROVED")
    notes = audit.stock_notifications(ctx.sim, product)
    sku_changes = [{"sku_id": s, "status": "CREATED"} for s in created] + [
        {"sku_id": s, "status": "DELETED"} for s in deleted
    ]
    if sku_changes:
        notes.append(audit.sku_status_notification(ctx.sim, product, sku_changes))
    audit.deliver_later(ctx.sim, product.shop_id, notes)
    return {
        "product_id": product.id,
        "skus": [{"id": s["id"], "seller_sku": s["seller_sku"]} for s in product.skus],
        "audit": {"status": product.audit_status},
    }


ROUTES = [
    Route(
        "/product/202309/products/{product_id}/inventory/update",
        update_inventory,
        methods=["POST"],
    ),
    Route("/product/202309/products/{product_id}/prices/update", update_prices, methods=["POST"]),
    Route("/product/202509/products/{product_id}/partial_edit", partial_edit, methods=["POST"]),
]
