"""The catalog checks TikTok makes on create, edit and partial edit of a product.

Images must have been uploaded (when the rules say so), the category must be a leaf the shop may
use, required attributes and category rules must be met, stock must sit in the shop's own sales
warehouses with 0..99,999 units, and a shop may list only so many products a day. Each refusal
is a :class:`simulator.envelope.ApiFailure` with TikTok's code (``simulator.catalog_errors``).
"""

from dataclasses import dataclass
from typing import Any, Final

from simulator import catalog_errors as err
from simulator import envelope as env
from simulator.catalog import (
    CATEGORY_BY_ID,
    ESTABLISHED_SHOP_DAILY_LIMIT,
    Attribute,
    CatalogRules,
    CatalogState,
    Category,
    category_chain,
)
from simulator.core import Simulator
from simulator.world import Shop

MAX_MAIN_IMAGES: Final = 9
MIN_MAIN_IMAGE_SIDE: Final = 300
MAX_QUANTITY: Final = 99_999
MAX_SELLER_SKU: Final = 50
MAX_SALES_ATTRIBUTE_TYPES: Final = 3
# Create Product 202309: 300 SKUs in BR, EU, JP, MX, UK and US; 100 elsewhere.
_MANY_SKU_REGIONS: Final = frozenset(
    {"BR", "JP", "MX", "GB", "UK", "US", "DE", "ES", "FR", "IE", "IT", "NL", "BE", "AT"}
)
DAY: Final = 24 * 3600


def catalog_of(sim: Simulator) -> CatalogState:
    """The world's catalog state, its rules taken from the config on first use."""
    state = sim.world.catalog
    if state.rules is None:
        state.rules = CatalogRules(
            require_uploaded_images=sim.config.require_uploaded_images,
            audit_delay_seconds=sim.config.audit_delay_seconds,
        )
        demo_shop = sim.config.demo_shop_id
        if demo_shop:
            # The demo shop stands for a shop past its probation.
            state.daily_limits.setdefault(demo_shop, ESTABLISHED_SHOP_DAILY_LIMIT)
    return state


def rules_of(sim: Simulator) -> CatalogRules:
    """The catalog rules now in force (``/_sim/catalog/rules`` changes them)."""
    rules = catalog_of(sim).rules
    assert rules is not None
    return rules


def _bad(message: str) -> env.ApiFailure:
    return env.ApiFailure(400, env.INVALID_PARAMETER, message)


@dataclass
class CheckedListing:
    """What create/edit keep of a body once it passed TikTok's catalog checks."""

    main_images: list[dict[str, Any]]
    category_chain: list[dict[str, Any]]
    product_attributes: list[dict[str, Any]]
    # Per SKU (same order as the body): inventory with every warehouse id filled in.
    inventories: list[list[dict[str, Any]]]
    sales_attributes: list[list[dict[str, Any]]]


def check_main_images(sim: Simulator, images: Any) -> list[dict[str, Any]]:
    """``main_images`` as kept: each known image with its URL and size.

    Raises 40006 for a malformed list, 12052306 for more than 9, 12052722 for a URI TikTok did
    not host (when uploaded images are required), 12052301 for one under 300x300 px.
    """
    if (
        not isinstance(images, list)
        or not images
        or not all(isinstance(i, dict) and isinstance(i.get("uri"), str) for i in images)
    ):
        raise _bad("main_images needs at least one image with a uri")
    if len(images) > MAX_MAIN_IMAGES:
        raise err.refused(err.MAIN_IMAGE_COUNT, f"at most {MAX_MAIN_IMAGES} main images")
    state = catalog_of(sim)
    kept: list[dict[str, Any]] = []
    for image in images:
        uri = image["uri"]
        known = state.images.get(uri)
        if known is None:
            if rules_of(sim).require_uploaded_images:
                raise err.refused(
                    err.IMAGE_NOT_FOUND, f"image {uri} not found: upload it through the image API"
                )
            kept.append({"uri": uri})
            continue
        if min(known.width, known.height) < MIN_MAIN_IMAGE_SIDE:
            raise err.refused(
                err.MAIN_IMAGE_TOO_SMALL,
                f"main image {uri} is {known.width}x{known.height} px, under 300x300",
            )
        kept.append({"uri": uri, "url": known.url, "width": known.width, "height": known.height})
    return kept


def check_category(category_id: str) -> Category:
    """A leaf category the shop may list in (12052023 unknown, 12052024 not a leaf, 12052225)."""
    category = CATEGORY_BY_ID.get(category_id)
    if category is None:
        raise err.refused(err.CATEGORY_NOT_FOUND, f"category {category_id} not found")
    if not category.is_leaf:
        raise err.refused(err.CATEGORY_NOT_LEAF, f"category {category_id} is not a leaf category")
    if category.permission == "NON_MAIN_CATEGORY":
        raise err.refused(
            err.CATEGORY_NOT_MAIN, f"category {category_id} is outside this shop's main categories"
        )
    return category


def _attribute_values(attribute: Attribute, raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, list) or not raw:
        raise err.refused(err.ATTRIBUTE_REQUIRED, f"attribute {attribute.id} needs a value")
    if len(raw) > 1 and not attribute.multiple:
        raise err.refused(
            err.ATTRIBUTE_NOT_MULTIPLE, f"attribute {attribute.id} takes a single value"
        )
    known = {v.id: v.name for v in attribute.values}
    values: list[dict[str, str]] = []
    for value in raw:
        if not isinstance(value, dict):
            raise _bad(f"attribute {attribute.id}: each value must be an object")
        value_id, name = value.get("id"), value.get("name")
        if isinstance(value_id, str) and value_id:
            if value_id not in known:
                raise err.refused(
                    err.ATTRIBUTE_VALUE_NOT_FOUND,
                    f"value {value_id} is not a value of attribute {attribute.id}",
                )
            values.append({"id": value_id, "name": known[value_id]})
        elif isinstance(name, str) and name.strip():
            if not attribute.customizable:
                raise err.refused(
                    err.ATTRIBUTE_CUSTOM_VALUE,
                    f"attribute {attribute.id} takes only its listed values",
                )
            values.append({"id": "", "name": name})
        else:
            raise _bad(f"attribute {attribute.id}: a value needs an id or a name")
    return values


def check_product_attributes(category: Category, raw: Any) -> list[dict[str, Any]]:
    """``product_attributes`` against the category's (Get Category Attributes 202309).

    Raises 12052529 for an attribute or value the category lacks, 12052104 for a required one
    missing (always required, or required by a value chosen for another attribute).
    """
    if raw is None:
        raw = []
    if not isinstance(raw, list) or not all(isinstance(a, dict) for a in raw):
        raise _bad("product_attributes must be a list of objects")
    allowed = {a.id: a for a in category.attributes if a.type == "PRODUCT_PROPERTY"}
    given: dict[str, list[dict[str, str]]] = {}
    for entry in raw:
        attribute = allowed.get(str(entry.get("id")))
        if attribute is None:
            raise err.refused(
                err.ATTRIBUTE_VALUE_NOT_FOUND,
                f"attribute {entry.get('id')} is not a product attribute of category {category.id}",
            )
        given[attribute.id] = _attribute_values(attribute, entry.get("values"))
    chosen = {(a, v["id"]) for a, values in given.items() for v in values}
    for attribute in allowed.values():
        needed = attribute.required or any(pair in chosen for pair in attribute.required_if)
        if needed and attribute.id not in given:
            raise err.refused(
                err.ATTRIBUTE_REQUIRED,
                f"product attribute {attribute.id} ({attribute.name}) is required "
                f"in category {category.id}",
            )
    return [{"id": a, "name": allowed[a].name, "values": values} for a, values in given.items()]


def check_category_rules(category: Category, body: dict[str, Any]) -> None:
    """Get Category Rules' requirements: a size chart (12052673), certifications (12052105)."""
    if category.size_chart_required:
        chart = body.get("size_chart")
        image = chart.get("image") if isinstance(chart, dict) else None
        template = chart.get("template") if isinstance(chart, dict) else None
        if not (
            (isinstance(image, dict) and image.get("uri"))
            or (isinstance(template, dict) and template.get("id"))
        ):
            raise err.refused(
                err.SIZE_CHART_MISSING, f"category {category.id} requires a size chart"
            )
    given = body.get("certifications")
    given_ids = (
        {c.get("id") for c in given if isinstance(c, dict) and (c.get("images") or c.get("files"))}
        if isinstance(given, list)
        else set()
    )
    for certification in category.certifications:
        if certification.required and certification.id not in given_ids:
            raise err.refused(
                err.CERTIFICATION_MISSING,
                f"certification {certification.id} ({certification.name}) is required "
                f"in category {category.id}",
            )


def check_inventory(
    sim: Simulator, shop: Shop, where: str, inventory: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One SKU's stock: the shop's own sales warehouses, each once, 0..99,999 units.

    A missing ``warehouse_id`` means the shop's default sales warehouse (Get Warehouse List).
    """
    state = catalog_of(sim)
    kept: list[dict[str, Any]] = []
    for entry in inventory:
        warehouse_id = entry.get("warehouse_id")
        if warehouse_id in (None, ""):
            default = state.default_sales_warehouse(shop.id)
            if default is None:
                raise err.refused(err.WAREHOUSE_NOT_FOUND, "the shop has no sales warehouse")
            warehouse_id = default.id
        warehouse = state.warehouse(shop.id, str(warehouse_id))
        if warehouse is None:
            raise err.refused(
                err.WAREHOUSE_NOT_FOUND, f"{where}: the warehouse {warehouse_id} does not exist"
            )
        if warehouse.type != "SALES_WAREHOUSE":
            raise err.refused(
                err.WAREHOUSE_NOT_SALES, f"{where}: warehouse {warehouse_id} is not a sales one"
            )
        if any(k["warehouse_id"] == warehouse.id for k in kept):
            raise err.refused(
                err.WAREHOUSE_DUPLICATE, f"{where}: warehouse {warehouse_id} is given twice"
            )
        quantity = entry.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool):
            raise _bad(f"{where}: quantity must be a whole number")
        if not 0 <= quantity <= MAX_QUANTITY:
            raise err.refused(
                err.STOCK_OUT_OF_RANGE, f"{where}: quantity must be 0..{MAX_QUANTITY}"
            )
        kept.append({"quantity": quantity, "warehouse_id": warehouse.id})
    return kept


def _sales_key(attribute: dict[str, Any]) -> str:
    return str(attribute.get("id") or attribute.get("name") or "")


def check_skus(
    sim: Simulator, shop: Shop, category: Category, skus: list[dict[str, Any]]
) -> tuple[list[list[dict[str, Any]]], list[list[dict[str, Any]]]]:
    """Per SKU: the checked inventory and sales attributes.

    Raises 12052558 for too many SKUs, 12052054 for a seller SKU over 50 characters, 12052550 when
    several SKUs do not all carry the same kinds of sales attribute, 12052525 for more than three
    kinds, 12052529 for a built-in sales attribute the category lacks.
    """
    limit = 300 if shop.region in _MANY_SKU_REGIONS else 100
    if len(skus) > limit:
        raise err.refused(err.SKU_COUNT, f"at most {limit} SKUs per product in {shop.region}")
    sales_ids = {a.id for a in category.attributes if a.type == "SALES_PROPERTY"}
    inventories: list[list[dict[str, Any]]] = []
    sales: list[list[dict[str, Any]]] = []
    kinds: set[frozenset[str]] = set()
    for n, sku in enumerate(skus):
        if len(str(sku.get("seller_sku", ""))) > MAX_SELLER_SKU:
            raise err.refused(
                err.SELLER_SKU_TOO_LONG, f"skus[{n}].seller_sku is over {MAX_SELLER_SKU} characters"
            )
        inventories.append(check_inventory(sim, shop, f"skus[{n}]", sku["inventory"]))
        attributes = sku.get("sales_attributes") or []
        if not isinstance(attributes, list) or not all(isinstance(a, dict) for a in attributes):
            raise _bad(f"skus[{n}].sales_attributes must be a list of objects")
        for attribute in attributes:
            if attribute.get("id") and str(attribute["id"]) not in sales_ids:
                raise err.refused(
                    err.ATTRIBUTE_VALUE_NOT_FOUND,
                    f"skus[{n}]: {attribute['id']} is not a sales attribute of {category.id}",
                )
        kind = frozenset(_sales_key(a) for a in attributes)
        if len(kind) > MAX_SALES_ATTRIBUTE_TYPES:
            raise err.refused(err.SALES_ATTRIBUTE_TYPES, "at most 3 kinds of sales attribute")
        kinds.add(kind)
        sales.append([dict(a) for a in attributes])
    if len(skus) > 1 and (len(kinds) != 1 or frozenset() in kinds):
        raise err.refused(
            err.SALES_ATTRIBUTES_MISMATCH,
            "with several SKUs, every SKU needs the same kinds of sales attribute",
        )
    return inventories, sales


def check_listing(sim: Simulator, shop: Shop, body: dict[str, Any]) -> CheckedListing:
    """Every catalog check of a create or edit body whose basic shape is already checked."""
    images = check_main_images(sim, body.get("main_images"))
    category = check_category(str(body["category_id"]))
    attributes = check_product_attributes(category, body.get("product_attributes"))
    check_category_rules(category, body)
    inventories, sales = check_skus(sim, shop, category, body["skus"])
    return CheckedListing(images, category_chain(category.id), attributes, inventories, sales)


def daily_limit(sim: Simulator, shop_id: str) -> int:
    """Products the shop may create per UTC day: its own limit, else the rules' default."""
    state = catalog_of(sim)
    return state.daily_limits.get(shop_id, rules_of(sim).daily_product_limit)


def take_daily_listing(sim: Simulator, shop_id: str) -> None:
    """Count one creation against the shop's daily limit (UTC days of the simulator's clock).

    Raises 12019068 once the day's allowance is used up.
    """
    state = catalog_of(sim)
    day = sim.now() // DAY
    limit = daily_limit(sim, shop_id)
    if state.created[(shop_id, day)] >= limit:
        raise err.refused(
            err.DAILY_LISTING_LIMIT,
            f"this shop may list {limit} products a day; try again tomorrow (UTC)",
        )
    state.created[(shop_id, day)] += 1
