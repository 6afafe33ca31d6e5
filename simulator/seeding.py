"""Putting shops, products and orders into the world, one by one or generated in bulk."""

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from simulator import audit, fulfillment, money, webhooks
from simulator.catalog import DEFAULT_SALES_WAREHOUSE, category_chain
from simulator.core import Simulator
from simulator.listing_rules import catalog_of
from simulator.logistics import DEFAULT_DELIVERY_OPTION, DELIVERY_OPTIONS
from simulator.world import Order, Product, Shop

_LEGACY_STATUS_CODES = frozenset({"100", "105", "111", "112", "114", "121", "122", "130", "140"})


class SeedModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ShopSeed(SeedModel):
    id: str | None = None
    name: str | None = None
    region: str = "US"
    cipher: str | None = None
    webhook_url: str | None = None


class SkuSeed(SeedModel):
    seller_sku: str
    price: str
    currency: str = "USD"
    quantity: int = Field(default=100, ge=0)

    @model_validator(mode="after")
    def _price(self) -> "SkuSeed":
        if not money.valid_currency(self.currency):
            raise ValueError(f"bad currency {self.currency!r}")
        if not money.valid_amount(self.price, self.currency):
            raise ValueError(f"bad {self.currency} price {self.price!r}")
        return self


class ProductSeed(SeedModel):
    shop_id: str
    id: str | None = None
    title: str
    description: str = ""
    category_id: str = "600001"
    status: str = "ACTIVATE"
    images: list[str] = Field(default_factory=lambda: ["tos-sim/main-image"])
    skus: list[SkuSeed] = Field(min_length=1)
    create_time: int | None = None
    update_time: int | None = None


class ItemSeed(SeedModel):
    product_id: str = "1729000000000001"
    product_name: str = "Sim item"
    sku_id: str = "1730000000000001"
    sku_name: str = ""
    seller_sku: str = "SIM-SKU"
    sale_price: str
    original_price: str | None = None
    quantity: int = Field(default=1, ge=1)


class RecipientSeed(SeedModel):
    name: str = "Sim Buyer"
    phone_number: str = "(+1)555-0100"
    full_address: str = "1 Sim Street, Springfield, IL 62701, US"
    address_detail: str = "1 Sim Street"
    postal_code: str = "62701"
    region_code: str = "US"


class OrderSeed(SeedModel):
    shop_id: str
    id: str | None = None
    status: str = "AWAITING_SHIPMENT"
    currency: str = "USD"
    items: list[ItemSeed] = Field(min_length=1)
    shipping_fee: str = "0"
    tax: str = "0"
    seller_discount: str = "0"
    platform_discount: str = "0"
    recipient: RecipientSeed = Field(default_factory=RecipientSeed)
    buyer_email: str = "buyer@sim.invalid"
    buyer_nickname: str = "simbuyer"
    create_time: int | None = None
    update_time: int | None = None
    # One of ``simulator.logistics.DELIVERY_OPTIONS``; it decides who ships (seller or TikTok).
    delivery_option_id: str = DEFAULT_DELIVERY_OPTION.id
    # Amounts kept exactly as given, finer than the currency's minor unit if so ("1.005" USD):
    # a record as some markets' orders have carried, which a client must survive. By default
    # they are written at the currency's precision and a finer one is refused.
    exact_amounts: bool = False

    @field_validator("delivery_option_id")
    @classmethod
    def _delivery_option(cls, value: str) -> str:
        if value not in DELIVERY_OPTIONS:
            raise ValueError(f"unknown delivery option {value!r}")
        return value

    @field_validator("status")
    @classmethod
    def _status(cls, value: str) -> str:
        # Older numeric codes (111 for AWAITING_SHIPMENT...) are kept as given, as TikTok still
        # sends them; the simulator's own flows act on the named statuses only.
        if value not in fulfillment.ORDER_STATUSES and value not in _LEGACY_STATUS_CODES:
            raise ValueError(f"unknown order status {value!r}")
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not money.valid_currency(value):
            raise ValueError(f"bad currency {value!r}")
        return value

    @model_validator(mode="after")
    def _amounts(self) -> "OrderSeed":
        amounts = [self.shipping_fee, self.tax, self.seller_discount, self.platform_discount]
        amounts += [i.sale_price for i in self.items]
        amounts += [i.original_price for i in self.items if i.original_price is not None]
        for amount in amounts:
            if self.exact_amounts:
                if not money.valid_decimal(amount):
                    raise ValueError(f"not a decimal amount: {amount!r}")
            elif not money.valid_amount(amount, self.currency):
                raise ValueError(f"bad {self.currency} amount {amount!r}")
        return self


class Seed(SeedModel):
    shops: list[ShopSeed] = Field(default_factory=list)
    products: list[ProductSeed] = Field(default_factory=list)
    orders: list[OrderSeed] = Field(default_factory=list)


class Generate(SeedModel):
    shop_id: str
    products: int = Field(default=0, ge=0, le=100_000)
    orders: int = Field(default=0, ge=0, le=100_000)
    currency: str = "USD"


def add_shop(sim: Simulator, seed: ShopSeed) -> Shop:
    shop = sim.world.add_shop(seed.id, seed.name, seed.region, seed.cipher)
    webhooks.subscribe_all(sim, shop.id, seed.webhook_url)
    return shop


# The audit state a seeded product's status implies.
_SEED_AUDIT = {"ACTIVATE": "APPROVED", "PENDING": "AUDITING", "FAILED": "FAILED"}


def add_product(sim: Simulator, seed: ProductSeed) -> Product:
    _require_shop(sim, seed.shop_id)
    world = sim.world
    now = sim.now()
    catalog = catalog_of(sim)
    default = catalog.default_sales_warehouse(seed.shop_id)
    warehouse_id = default.id if default is not None else DEFAULT_SALES_WAREHOUSE
    product = Product(
        shop_id=seed.shop_id,
        id=seed.id or world.next_id("1729"),
        title=seed.title,
        description=seed.description,
        category_id=seed.category_id,
        status=seed.status,
        main_images=[
            {"uri": i.uri, "url": i.url, "width": i.width, "height": i.height}
            if (i := catalog.images.get(uri))
            else {"uri": uri}
            for uri in seed.images
        ],
        skus=[
            {
                "id": world.next_id("1730"),
                "seller_sku": s.seller_sku,
                "price": {"amount": s.price, "currency": s.currency},
                "inventory": [{"quantity": s.quantity, "warehouse_id": warehouse_id}],
            }
            for s in seed.skus
        ],
        create_time=seed.create_time or now,
        update_time=seed.update_time or seed.create_time or now,
        audit_status=_SEED_AUDIT.get(seed.status, "NONE"),
        category_chain=category_chain(seed.category_id),
    )
    world.products[product.id] = product
    audit.stock_notifications(sim, product)  # records each SKU's starting stock level
    return product


def add_order(sim: Simulator, seed: OrderSeed) -> Order:
    _require_shop(sim, seed.shop_id)
    world = sim.world
    now = sim.now()

    def fmt(amount: str) -> str:
        return amount if seed.exact_amounts else money.fmt(Decimal(amount), seed.currency)

    lines: list[dict[str, Any]] = []
    for item in seed.items:
        for _ in range(item.quantity):  # one line item per unit, as TikTok does
            lines.append(
                {
                    "id": world.next_id("5770"),
                    "product_id": item.product_id,
                    "product_name": item.product_name,
                    "sku_id": item.sku_id,
                    "sku_name": item.sku_name,
                    "seller_sku": item.seller_sku,
                    "currency": seed.currency,
                    "original_price": fmt(item.original_price or item.sale_price),
                    "sale_price": fmt(item.sale_price),
                    "platform_discount": fmt("0"),
                    "seller_discount": fmt("0"),
                    "display_status": seed.status,
                }
            )
    order = Order(
        shop_id=seed.shop_id,
        id=seed.id or world.next_id("5764"),
        status=seed.status,
        create_time=seed.create_time or now,
        update_time=seed.update_time or seed.create_time or now,
        currency=seed.currency,
        line_items=lines,
        shipping_fee=fmt(seed.shipping_fee),
        tax=fmt(seed.tax),
        seller_discount=fmt(seed.seller_discount),
        platform_discount=fmt(seed.platform_discount),
        recipient_address=seed.recipient.model_dump(),
        buyer_email=seed.buyer_email,
        buyer_nickname=seed.buyer_nickname,
        user_id=world.next_id("7000"),
        is_on_hold_order=seed.status == "ON_HOLD",
        shipping_type=DELIVERY_OPTIONS[seed.delivery_option_id].shipping_type,
        delivery_option_id=seed.delivery_option_id,
        delivery_option_name=DELIVERY_OPTIONS[seed.delivery_option_id].name,
    )
    _stamp_times(order)
    world.orders[order.id] = order
    if order.on_hold_until is not None:
        world.books.held_orders.add(order.id)
    if order.delivery_time is not None:
        world.books.awaiting_settlement[order.id] = order.delivery_time
    fulfillment.open_package(sim, order)
    return order


def _stamp_times(order: Order) -> None:
    """The times a seeded order's status implies (its update time stands for the last step)."""
    status, created, updated = order.status, order.create_time, order.update_time
    if status != "UNPAID":
        order.paid_time = created
    if status == "ON_HOLD":
        # The buyer's free-cancellation hour: ON_HOLD until then, AWAITING_SHIPMENT after.
        order.on_hold_until = created + fulfillment.ON_HOLD_SECONDS
    if status in ("IN_TRANSIT", "DELIVERED", "COMPLETED"):
        order.collection_time = updated
    if status in ("DELIVERED", "COMPLETED"):
        order.delivery_time = updated
    if status == "CANCELLED":
        order.cancel_time = updated


_GENERATED_STATUSES = (
    "AWAITING_SHIPMENT",
    "AWAITING_SHIPMENT",
    "UNPAID",
    "AWAITING_COLLECTION",
    "IN_TRANSIT",
    "DELIVERED",
    "COMPLETED",
    "CANCELLED",
)


def generate(sim: Simulator, spec: Generate) -> dict[str, list[str]]:
    """Plausible products and orders with distinct create times (a second apart, in the past)."""
    start = sim.now() - spec.products - spec.orders - 1
    zero_decimals = money.places(spec.currency) == 0
    products = []
    for n in range(spec.products):
        price = f"{(n % 90 + 1) * 100}" if zero_decimals else f"{n % 90 + 1}.{n * 7 % 100:02d}"
        products.append(
            add_product(
                sim,
                ProductSeed(
                    shop_id=spec.shop_id,
                    title=f"Sim product {n + 1}",
                    create_time=start + n,
                    skus=[
                        SkuSeed(seller_sku=f"SIM-{n + 1:05d}", price=price, currency=spec.currency)
                    ],
                ),
            ).id
        )
    orders = []
    for n in range(spec.orders):
        price = f"{(n % 40 + 1) * 250}" if zero_decimals else f"{n % 40 + 1}.99"
        fee = "0" if zero_decimals else "4.99"
        orders.append(
            add_order(
                sim,
                OrderSeed(
                    shop_id=spec.shop_id,
                    status=_GENERATED_STATUSES[n % len(_GENERATED_STATUSES)],
                    currency=spec.currency,
                    items=[
                        ItemSeed(
                            sale_price=price, quantity=n % 3 + 1, seller_sku=f"SIM-{n % 50 + 1:05d}"
                        )
                    ],
                    shipping_fee=fee,
                    create_time=start + spec.products + n,
                ),
            ).id
        )
    return {"products": products, "orders": orders}


def _require_shop(sim: Simulator, shop_id: str) -> None:
    if shop_id not in sim.world.shops:
        raise ValueError(f"unknown shop {shop_id}")
