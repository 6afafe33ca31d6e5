"""TikTok's side of a shop's catalog: categories, attributes, brands, warehouses, images, rules.

The category tree is a small fixed one shaped like TikTok's (``parent_id`` ``"0"`` for a root,
leaves only for products); ``600001`` and ``600002`` are plain leaves so that callers written
before categories were checked keep working. Each shop gets a default sales warehouse and a return
warehouse unless a test gives it others. State that changes (uploaded images, per-shop warehouses,
daily creation counts, stock levels last announced) lives in :class:`CatalogState`, one per world.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

# TikTok's example ids (Get Warehouse List, Create Product docs): the default pair of every shop.
DEFAULT_SALES_WAREHOUSE: Final = "7068517275539719942"
DEFAULT_RETURN_WAREHOUSE: Final = "7068517275539719943"
# New shops list about 100 products a day; shops past probation about 1,000 (TikTok Academy).
NEW_SHOP_DAILY_LIMIT: Final = 100
ESTABLISHED_SHOP_DAILY_LIMIT: Final = 1000
# URIs every world knows as uploaded: TikTok's documented example and the seeds' default image.
SEED_IMAGES: Final = ("tos-maliva-i-o3syd03w52-us/c668cdf70b7f483c94dbe", "tos-sim/main-image")

PermissionStatus = Literal["AVAILABLE", "INVITE_ONLY", "NON_MAIN_CATEGORY", "PROHIBITED"]


@dataclass(frozen=True)
class AttributeValue:
    id: str
    name: str


@dataclass(frozen=True)
class Attribute:
    """One built-in attribute of a category (Get Category Attributes 202309).

    ``required_if`` holds ``(attribute_id, value_id)`` pairs: the attribute becomes required when
    the product picks that value for that attribute (TikTok's ``VALUE_ID_MATCH`` condition).
    """

    id: str
    name: str
    type: Literal["SALES_PROPERTY", "PRODUCT_PROPERTY"]
    values: tuple[AttributeValue, ...] = ()
    required: bool = False
    customizable: bool = True
    multiple: bool = False
    required_if: tuple[tuple[str, str], ...] = ()

    def to_api(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "values": [{"id": v.id, "name": v.name} for v in self.values],
            "is_customizable": self.customizable,
            "is_multiple_selection": self.multiple,
        }
        if self.type == "PRODUCT_PROPERTY":
            answer["is_requried"] = self.required  # TikTok's spelling
            answer["requirement_conditions"] = [
                {"condition_type": "VALUE_ID_MATCH", "attribute_id": a, "attribute_value_id": v}
                for a, v in self.required_if
            ]
        return answer


@dataclass(frozen=True)
class Certification:
    id: str
    name: str
    required: bool


@dataclass(frozen=True)
class Category:
    id: str
    parent_id: str
    local_name: str
    is_leaf: bool
    permission: PermissionStatus = "AVAILABLE"
    attributes: tuple[Attribute, ...] = ()
    size_chart_required: bool = False
    certifications: tuple[Certification, ...] = ()

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "parent_id": self.parent_id,
            "local_name": self.local_name,
            "is_leaf": self.is_leaf,
            "permission_statuses": [self.permission],
        }

    def rules(self) -> dict[str, Any]:
        """As Get Category Rules 202309 answers them."""
        return {
            "product_certifications": [
                {
                    "id": c.id,
                    "name": c.name,
                    "is_required": c.required,
                    "document_details": f"A clear image of the {c.name}.",
                    "sample_image_url": f"https://sim.invalid/samples/{c.id}.png",
                    "requirement_conditions": [],
                    "expiration_date": {"is_required": False},
                }
                for c in self.certifications
            ],
            "size_chart": {
                "is_supported": self.size_chart_required,
                "is_required": self.size_chart_required,
            },
            "cod": {"is_supported": False},
            "package_dimension": {"is_required": False},
            "epr": {"is_required": False},
            "responsible_person": {"is_required": False},
            "manufacturer": {"is_required": False},
            "seller_sku": {"is_required": False},
        }


def _values(*pairs: tuple[str, str]) -> tuple[AttributeValue, ...]:
    return tuple(AttributeValue(i, n) for i, n in pairs)


COLOR = Attribute(
    "100000", "Color", "SALES_PROPERTY", _values(("1000001", "Black"), ("1000002", "White"))
)
SIZE = Attribute(
    "100007",
    "Size",
    "SALES_PROPERTY",
    _values(("1000071", "S"), ("1000072", "M"), ("1000073", "L")),
)
MATERIAL = Attribute(
    "100157",
    "Material",
    "PRODUCT_PROPERTY",
    _values(("1001571", "Cotton"), ("1001572", "Polyester")),
    multiple=True,
)
SKIN_TYPE = Attribute(
    "100392",
    "Skin Type",
    "PRODUCT_PROPERTY",
    _values(("1003921", "Dry"), ("1003922", "Oily"), ("1003923", "All skin types")),
    required=True,
    customizable=False,
)
CONTAINS_SPF = Attribute(
    "101001",
    "Contains SPF?",
    "PRODUCT_PROPERTY",
    _values(("1010011", "Yes"), ("1010012", "No")),
    customizable=False,
)
SPF_VALUE = Attribute(
    "101002", "SPF Value", "PRODUCT_PROPERTY", required_if=(("101001", "1010011"),)
)

CATEGORIES: Final[tuple[Category, ...]] = (
    Category("600000", "0", "Apparel", is_leaf=False),
    Category("600001", "600000", "T-shirts", True, attributes=(COLOR, SIZE, MATERIAL)),
    Category("600002", "600000", "Hoodies & Sweatshirts", True, attributes=(COLOR, SIZE, MATERIAL)),
    Category("600010", "600000", "Shoes", is_leaf=False),
    Category(
        "600011", "600010", "Sneakers", True, attributes=(COLOR, SIZE), size_chart_required=True
    ),
    Category("700000", "0", "Beauty & Personal Care", is_leaf=False),
    Category("700100", "700000", "Skincare", is_leaf=False),
    Category(
        "700101",
        "700100",
        "Face Creams",
        True,
        attributes=(SKIN_TYPE, CONTAINS_SPF, SPF_VALUE),
    ),
    Category(
        "700102",
        "700100",
        "Sunscreen",
        True,
        attributes=(CONTAINS_SPF, SPF_VALUE),
        certifications=(Certification("7001021", "SPF test report", required=True),),
    ),
    Category("800000", "0", "Health", is_leaf=False),
    Category("800001", "800000", "Vitamins & Supplements", True, permission="INVITE_ONLY"),
    Category("900000", "0", "Tools & Hardware", is_leaf=False),
    Category("900001", "900000", "Forklifts", True, permission="NON_MAIN_CATEGORY"),
    Category("910000", "0", "Weapons", is_leaf=False),
    Category("910001", "910000", "Knives", True, permission="PROHIBITED"),
)
CATEGORY_BY_ID: Final[dict[str, Category]] = {c.id: c for c in CATEGORIES}


def category_chain(category_id: str) -> list[dict[str, Any]]:
    """Root first, as product detail's ``category_chains`` lists them."""
    chain: list[dict[str, Any]] = []
    current = CATEGORY_BY_ID.get(category_id)
    while current is not None:
        chain.insert(0, current.to_api())
        current = CATEGORY_BY_ID.get(current.parent_id)
    return chain


@dataclass(frozen=True)
class Brand:
    id: str
    name: str
    authorized: bool
    t1: bool
    category_ids: tuple[str, ...] = ()

    def to_api(self, category_id: str | None) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            # TikTok spells the negative status this way.
            "authorized_status": "AUTHORIZED" if self.authorized else "UNAUTHORIEZD",
            "is_t1_brand": self.t1,
        }
        if category_id is not None and self.authorized:
            answer["brand_status"] = (
                "AVAILABLE" if category_id in self.category_ids else "UNAVAILABLE"
            )
        return answer


BRANDS: Final[tuple[Brand, ...]] = (
    Brand("7082427311584347905", "Sim Basics", authorized=True, t1=False, category_ids=("600001",)),
    Brand("7082427311584347906", "Unbranded Co", authorized=False, t1=False),
    Brand("7082427311584347907", "Famous Luxe", authorized=False, t1=True),
)


@dataclass
class Warehouse:
    """A shop's warehouse (Get Warehouse List 202309)."""

    id: str
    name: str
    type: Literal["SALES_WAREHOUSE", "RETURN_WAREHOUSE"]
    is_default: bool
    effect_status: Literal["ENABLED", "DISABLED", "RESTRICTED"] = "ENABLED"
    region_code: str = "US"

    def to_api(self) -> dict[str, Any]:
        """As Get Warehouse List 202309 answers it (TikTok spells ``distict`` so)."""
        return {
            "id": self.id,
            "entity_id": f"{self.id}0",
            "name": self.name,
            "effect_status": self.effect_status,
            "type": self.type,
            "sub_type": "DOMESTIC_WAREHOUSE",
            "is_default": self.is_default,
            "address": {
                "region": "United States",
                "state": "California",
                "city": "Los Angeles",
                "distict": "Los Angeles County",  # TikTok's spelling
                "contact_person": "Sim Warehouse",
                "postal_code": "90001",
                "full_address": f"1 Sim Way, {self.name}, Los Angeles, CA 90001",
                "region_code": self.region_code,
                "phone_number": "(+1)555-0101",
                "address_line1": "1 Sim Way",
            },
        }


def default_warehouses() -> list[Warehouse]:
    """The pair every shop starts with: a default sales and a default return warehouse."""
    return [
        Warehouse(DEFAULT_SALES_WAREHOUSE, "Main warehouse", "SALES_WAREHOUSE", is_default=True),
        Warehouse(DEFAULT_RETURN_WAREHOUSE, "Returns", "RETURN_WAREHOUSE", is_default=True),
    ]


@dataclass(frozen=True)
class UploadedImage:
    uri: str
    url: str
    width: int
    height: int
    use_case: str

    def to_api(self) -> dict[str, Any]:
        return {
            "uri": self.uri,
            "url": self.url,
            "width": self.width,
            "height": self.height,
            "use_case": self.use_case,
        }


class FailReason(BaseModel):
    """One entry of product detail's ``audit_failed_reasons``."""

    model_config = ConfigDict(extra="forbid")

    position: str = "Product image"
    reasons: list[str] = Field(default_factory=lambda: ["Image quality is too low"])
    suggestions: list[str] = Field(
        default_factory=lambda: ["Upload a clear image of at least 600x600 px."]
    )
    listing_platform: str = "TIKTOK_SHOP"


class CatalogRules(BaseModel):
    """How strict the catalog is and how audits go; tests change it through ``/_sim/catalog``."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    # TikTok refuses image URIs it did not host (uploaded through its image API).
    require_uploaded_images: bool = True
    # Creations per shop per UTC day for shops without their own limit.
    daily_product_limit: int = Field(default=NEW_SHOP_DAILY_LIMIT, ge=0)
    # Seconds of the simulator's clock between submission and the audit's verdict.
    audit_delay_seconds: int = Field(default=300, ge=0)
    # The next N audits fail with these reasons.
    audit_fail_next: int = Field(default=0, ge=0)
    audit_fail_reasons: list[FailReason] = Field(default_factory=lambda: [FailReason()])
    # A SKU with this many units or fewer (in all warehouses) is LOW_STOCK.
    low_stock_threshold: int = Field(default=5, ge=0)


@dataclass
class PendingAudit:
    product_id: str
    due_at: int
    outcome: Literal["APPROVED", "FAILED", "PRE_APPROVED"]
    reasons: list[dict[str, Any]]
    # A first listing passes with PRODUCT_FIRST_PASS_REVIEW; a re-audit with a status change.
    first: bool


@dataclass
class CatalogState:
    """The catalog's mutable part, one per world (a reset starts a fresh one)."""

    images: dict[str, UploadedImage] = field(default_factory=dict)
    warehouses: dict[str, list[Warehouse]] = field(default_factory=dict)
    daily_limits: dict[str, int] = field(default_factory=dict)
    # (shop_id, UTC day number) -> products created that day
    created: dict[tuple[str, int], int] = field(default_factory=lambda: defaultdict(int))
    audits: dict[str, PendingAudit] = field(default_factory=dict)
    # sku_id -> the inventory status last announced (or set at creation)
    stock_status: dict[str, str] = field(default_factory=dict)
    # Set from the simulator's config on first use (the world does not know the config).
    rules: CatalogRules | None = None

    def __post_init__(self) -> None:
        for uri in SEED_IMAGES:
            self.images[uri] = UploadedImage(
                uri, f"https://sim.invalid/{uri}", 800, 800, "MAIN_IMAGE"
            )

    def warehouses_of(self, shop_id: str) -> list[Warehouse]:
        """The shop's warehouses; a shop nobody configured has TikTok's default pair."""
        if shop_id not in self.warehouses:
            self.warehouses[shop_id] = default_warehouses()
        return self.warehouses[shop_id]

    def warehouse(self, shop_id: str, warehouse_id: str) -> Warehouse | None:
        return next((w for w in self.warehouses_of(shop_id) if w.id == warehouse_id), None)

    def default_sales_warehouse(self, shop_id: str) -> Warehouse | None:
        sales = [w for w in self.warehouses_of(shop_id) if w.type == "SALES_WAREHOUSE"]
        return next((w for w in sales if w.is_default), sales[0] if sales else None)
