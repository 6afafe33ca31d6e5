"""What a seller reads before listing: categories, their attributes and rules, brands, warehouses.

All shop-scoped GETs at version 202309, answering in the shapes of TikTok's published models.
"""

from typing import Any

from starlette.routing import Route

from simulator import catalog_errors as err
from simulator import envelope as env
from simulator.catalog import BRANDS, CATEGORIES, CATEGORY_BY_ID, Category
from simulator.gate import ApiContext, api
from simulator.listing_rules import catalog_of
from simulator.paging import page_of, page_size


def _bad(message: str) -> env.ApiFailure:
    return env.ApiFailure(400, env.INVALID_PARAMETER, message)


def _version(ctx: ApiContext) -> None:
    version = ctx.query.get("category_version")
    if version is not None and version not in ("v1", "v2"):
        raise _bad("category_version must be v1 or v2")


def _leaf(ctx: ApiContext) -> Category:
    """The path's category, which must exist (12052023) and be a leaf (12052024)."""
    _version(ctx)
    category_id = ctx.request.path_params["category_id"]
    category = CATEGORY_BY_ID.get(category_id)
    if category is None:
        raise err.refused(err.CATEGORY_NOT_FOUND, f"category {category_id} not found")
    if not category.is_leaf:
        raise err.refused(err.CATEGORY_NOT_LEAF, f"category {category_id} is not a leaf category")
    return category


@api()
async def categories(ctx: ApiContext) -> dict[str, Any]:
    """``{categories: [{id, parent_id, local_name, is_leaf, permission_statuses}]}``.

    ``keyword`` keeps names containing it (any case); prohibited categories only with
    ``include_prohibited_categories=true``.
    """
    _version(ctx)
    keyword = ctx.query.get("keyword", "").strip().lower()
    with_prohibited = ctx.query.get("include_prohibited_categories", "false") == "true"
    found = [
        c
        for c in CATEGORIES
        if (with_prohibited or c.permission != "PROHIBITED")
        and (not keyword or keyword in c.local_name.lower())
    ]
    return {"categories": [c.to_api() for c in found]}


@api()
async def category_attributes(ctx: ApiContext) -> dict[str, Any]:
    """``{attributes: [{id, name, type, is_requried, values, requirement_conditions, ...}]}``."""
    return {"attributes": [a.to_api() for a in _leaf(ctx).attributes]}


@api()
async def category_rules(ctx: ApiContext) -> dict[str, Any]:
    """``{product_certifications, size_chart, cod, package_dimension, ...}``."""
    return _leaf(ctx).rules()


@api()
async def brands(ctx: ApiContext) -> dict[str, Any]:
    """``{brands: [{id, name, authorized_status, is_t1_brand, brand_status?}], total_count,
    next_page_token}``; ``page_size`` 1..100 is required."""
    size = page_size(ctx.query)
    category_id = ctx.query.get("category_id")
    if category_id is not None and category_id not in CATEGORY_BY_ID:
        raise err.refused(err.CATEGORY_NOT_FOUND, f"category {category_id} not found")
    name = ctx.query.get("brand_name", "").strip().lower()
    authorized = ctx.query.get("is_authorized")
    found = [
        b
        for b in BRANDS
        if (not name or name in b.name.lower())
        and (authorized is None or b.authorized == (authorized == "true"))
    ]
    items, next_token = page_of(found, size, ctx.query.get("page_token"))
    return {
        "brands": [b.to_api(category_id) for b in items],
        "total_count": len(found),
        "next_page_token": next_token,
    }


@api()
async def warehouses(ctx: ApiContext) -> dict[str, Any]:
    """``{warehouses: [{id, name, effect_status, type, sub_type, is_default, address}]}``."""
    shop = ctx.scoped_shop
    return {"warehouses": [w.to_api() for w in catalog_of(ctx.sim).warehouses_of(shop.id)]}


ROUTES = [
    Route("/product/202309/categories", categories, methods=["GET"]),
    Route(
        "/product/202309/categories/{category_id}/attributes",
        category_attributes,
        methods=["GET"],
    ),
    Route("/product/202309/categories/{category_id}/rules", category_rules, methods=["GET"]),
    Route("/product/202309/brands", brands, methods=["GET"]),
    Route("/logistics/202309/warehouses", warehouses, methods=["GET"]),
]
