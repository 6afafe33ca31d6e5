"""Authorized shops and the product calls, at the versions TikTok currently publishes."""

import operator
from typing import Any

from starlette.routing import Route

from simulator import audit, listing_rules, money
from simulator import catalog_errors as err
from simulator import envelope as env
from simulator.gate import ApiContext, api
from simulator.paging import page_of, page_size, within_time_bounds
from simulator.world import Product

PRODUCT_STATUSES = frozenset(
    {
        "DRAFT",
        "PENDING",
        "FAILED",
        "ACTIVATE",
        "SELLER_DEACTIVATED",
        "PLATFORM_DEACTIVATED",
        "FREEZE",
        "DELETED",
    }
)


@api(shop_scoped=False)
async def authorized_shops(ctx: ApiContext) -> dict[str, Any]:
    shops = [ctx.sim.world.shops[sid] for sid in ctx.grant.shop_ids if sid in ctx.sim.world.shops]
    return {"shops": [shop.to_api() for shop in shops]}


def _bad(message: str) -> env.ApiFailure:
    return env.ApiFailure(400, env.INVALID_PARAMETER, message)


def _product_fields(ctx: ApiContext, body: dict[str, Any]) -> dict[str, Any]:
    """The editable fields of a create or edit body, checked as TikTok checks them."""
    title = body.get("title")
    if not isinstance(title, str) or not title.strip():
        raise _bad("title is required")
    if len(title) > 255:
        raise _bad("title is longer than 255 characters")
    category_id = body.get("category_id")
    if not isinstance(category_id, str) or not category_id:
        raise _bad("category_id is required")
    images = body.get("main_images")
    if (
        not isinstance(images, list)
        or not images
        or not all(isinstance(i, dict) and isinstance(i.get("uri"), str) for i in images)
    ):
        raise _bad("main_images needs at least one image with a uri")
    skus = body.get("skus")
    if not isinstance(skus, list) or not skus:
        raise _bad("skus needs at least one sku")
    for n, sku in enumerate(skus):
        _check_sku(n, sku)
    description = body.get("description", "")
    reject = ctx.sim.faults.reject_titles_containing
    if reject and reject in title:
        raise env.ApiFailure(200, env.PRODUCT_REJECTED, f"product rejected by audit: {title}")
    checked = listing_rules.check_listing(ctx.sim, ctx.scoped_shop, body)
    brand_id = body.get("brand_id")
    return {
        "title": title,
        "description": description if isinstance(description, str) else "",
        "category_id": category_id,
        "main_images": checked.main_images,
        "skus": [
            {**sku, "inventory": inventory, "sales_attributes": sales}
            for sku, inventory, sales in zip(
                skus, checked.inventories, checked.sales_attributes, strict=True
            )
        ],
        "category_chain": checked.category_chain,
        "product_attributes": checked.product_attributes,
        "brand_id": brand_id if isinstance(brand_id, str) and brand_id else None,
    }


def _check_sku(n: int, sku: Any) -> None:
    if not isinstance(sku, dict):
        raise _bad(f"skus[{n}] must be an object")
    if not isinstance(sku.get("seller_sku"), str) or not sku["seller_sku"]:
        raise _bad(f"skus[{n}].seller_sku is required")
    price = sku.get("price")
    if not isinstance(price, dict) or not money.valid_currency(price.get("currency")):
        raise _bad(f"skus[{n}].price.currency is required")
    if not money.valid_amount(price.get("amount"), price["currency"]):
        raise _bad(f"skus[{n}].price.amount is not a valid {price['currency']} amount")
    inventory = sku.get("inventory")
    if (
        not isinstance(inventory, list)
        or not inventory
        or not all(
            isinstance(i, dict)
            and isinstance(i.get("quantity"), int)
            and not isinstance(i.get("quantity"), bool)
            and i["quantity"] >= 0
            for i in inventory
        )
    ):
        raise _bad(f"skus[{n}].inventory needs a non-negative quantity")


def _stored_skus(
    ctx: ApiContext, skus: list[dict[str, Any]], old: Product | None
) -> list[dict[str, Any]]:
    """SKUs as kept: an edited SKU keeps its id (matched by seller_sku)."""
    known = {s["seller_sku"]: s["id"] for s in old.skus} if old is not None else {}
    return [
        {
            "id": known.get(s["seller_sku"]) or ctx.sim.world.next_id("1730"),
            "seller_sku": s["seller_sku"],
            "price": {"amount": s["price"]["amount"], "currency": s["price"]["currency"]},
            "inventory": [
                {"quantity": i["quantity"], "warehouse_id": i["warehouse_id"]}
                for i in s["inventory"]
            ],
            **({"sales_attributes": s["sales_attributes"]} if s.get("sales_attributes") else {}),
        }
        for s in skus
    ]


def _write_answer(product: Product) -> dict[str, Any]:
    return {
        "product_id": product.id,
        "skus": [{"id": s["id"], "seller_sku": s["seller_sku"]} for s in product.skus],
        "warnings": [],
    }


@api()
async def create_product(ctx: ApiContext) -> dict[str, Any]:
    body = ctx.json()
    fields = _product_fields(ctx, body)
    listing_rules.take_daily_listing(ctx.sim, ctx.scoped_shop.id)
    now = ctx.sim.now()
    world = ctx.sim.world
    product = Product(
        shop_id=ctx.scoped_shop.id,
        id=world.next_id("1729"),
        title=fields["title"],
        description=fields["description"],
        category_id=fields["category_id"],
        status="DRAFT",
        main_images=fields["main_images"],
        skus=_stored_skus(ctx, fields["skus"], None),
        create_time=now,
        update_time=now,
        category_chain=fields["category_chain"],
        product_attributes=fields["product_attributes"],
        brand_id=fields["brand_id"],
    )
    if body.get("save_mode") != "AS_DRAFT":
        audit.submit(ctx.sim, product, first=True)  # new products wait for TikTok's audit
    world.products[product.id] = product
    audit.stock_notifications(ctx.sim, product)  # records each SKU's starting stock level
    return _write_answer(product)


def _product(ctx: ApiContext, product_id: str, *, live: bool) -> Product:
    product = ctx.sim.world.products.get(product_id)
    if product is None or product.shop_id != ctx.scoped_shop.id:
        raise err.refused(err.PRODUCT_NOT_FOUND, f"product {product_id} not found", 404)
    if live and product.status == "DELETED":
        raise err.refused(err.PRODUCT_NOT_FOUND, f"product {product_id} is deleted", 404)
    return product


@api()
async def edit_product(ctx: ApiContext) -> dict[str, Any]:
    product = _product(ctx, ctx.request.path_params["product_id"], live=True)
    if product.status == "FREEZE":
        raise err.refused(err.PRODUCT_STATUS_FORBIDS, f"product {product.id} is frozen")
    fields = _product_fields(ctx, ctx.json())
    before = audit.audited_content(product)
    product.title = fields["title"]
    product.description = fields["description"]
    product.category_id = fields["category_id"]
    product.main_images = fields["main_images"]
    product.skus = _stored_skus(ctx, fields["skus"], product)
    product.category_chain = fields["category_chain"]
    product.product_attributes = fields["product_attributes"]
    product.brand_id = fields["brand_id"]
    product.update_time = ctx.sim.bump(product.update_time)
    # Price and stock edits of a live product need no audit; anything else goes back to it.
    if product.status != "ACTIVATE" or audit.audited_content(product) != before:
        audit.submit(ctx.sim, product, first=product.audit_status != "APPROVED")
    audit.deliver_later(ctx.sim, product.shop_id, audit.stock_notifications(ctx.sim, product))
    return {**_write_answer(product), "audit": {"status": product.audit_status}}


@api()
async def delete_products(ctx: ApiContext) -> dict[str, Any]:
    ids = ctx.json().get("product_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise _bad("product_ids needs at least one id")
    errors: list[dict[str, Any]] = []
    for product_id in ids:
        product = ctx.sim.world.products.get(product_id)
        if product is None or product.shop_id != ctx.scoped_shop.id or product.status == "DELETED":
            errors.append(
                {
                    "code": env.NOT_FOUND,
                    "message": "product not found",
                    "detail": {"product_id": product_id},
                }
            )
            continue
        product.status = "DELETED"
        product.update_time = ctx.sim.bump(product.update_time)
    return {"errors": errors}


@api()
async def product_detail(ctx: ApiContext) -> dict[str, Any]:
    audit.settle_later(ctx.sim)
    return _product(ctx, ctx.request.path_params["product_id"], live=False).detail()


def _matches(product: Product, filters: dict[str, Any]) -> bool:
    status = filters.get("status") or "ALL"
    if status == "ALL":
        if product.status == "DELETED":
            return False
    elif status != product.status:
        return False
    skus = filters.get("seller_skus")
    if skus and not any(s["seller_sku"] in skus for s in product.skus):
        return False
    bounds = (
        ("create_time_ge", product.create_time, operator.ge),
        ("create_time_le", product.create_time, operator.le),
        ("update_time_ge", product.update_time, operator.ge),
        ("update_time_le", product.update_time, operator.le),
    )
    return within_time_bounds(filters, bounds)


@api()
async def search_products(ctx: ApiContext) -> dict[str, Any]:
    audit.settle_later(ctx.sim)
    size = page_size(ctx.query)
    filters = ctx.json()
    status = filters.get("status")
    if status is not None and status != "ALL" and status not in PRODUCT_STATUSES:
        raise _bad(f"unknown status {status!r}")
    found = sorted(
        (p for p in ctx.sim.world.products_of(ctx.scoped_shop.id) if _matches(p, filters)),
        key=lambda p: (p.create_time, p.id),
    )
    items, next_token = page_of(found, size, ctx.query.get("page_token"))
    return {
        "products": [p.summary() for p in items],
        "next_page_token": next_token,
        "total_count": len(found),
    }


ROUTES = [
    Route("/authorization/202309/shops", authorized_shops, methods=["GET"]),
    Route("/product/202309/products", create_product, methods=["POST"]),
    Route("/product/202309/products", delete_products, methods=["DELETE"]),
    Route("/product/202509/products/{product_id}", edit_product, methods=["PUT"]),
    Route("/product/202309/products/{product_id}", product_detail, methods=["GET"]),
    Route("/product/202502/products/search", search_products, methods=["POST"]),
]
