"""Stock and price that follow the platform: which change is newest, what TikTok still lacks,
which warehouse is meant, and what a TikTok category requires of a listing.

Pure rules over `contracts.entities.Listing`. A change is applied only when its version is above
the one applied before (per warehouse for stock, per listing for price), so redelivered and
reordered changes end in the same state; before any (version None) nothing is newer, so the
first change applies whatever its version, 0 included. Every applied change that alters what
TikTok should show bumps a revision; a revision above its pushed revision is still to push.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime

from contracts.entities import CategoryAttribute, Listing, WarehouseStock


def parse_warehouse_map(text: str) -> dict[str, str]:
    """`"platformId:tiktokId,..."` (spaces ignored) as {platform id: TikTok id}, one to one.

    Raises ValueError for an entry without both ids, a platform id given twice, or two platform
    warehouses mapped to one TikTok warehouse: TikTok holds one quantity per warehouse (Update
    Inventory 202309), so each platform warehouse's stock would overwrite the other's.
    """
    mapping: dict[str, str] = {}
    owners: dict[str, str] = {}  # TikTok id -> the platform id mapped to it
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        platform, sep, tiktok = (part.strip() for part in entry.partition(":"))
        if not sep or not platform or not tiktok:
            raise ValueError(f"{entry!r} is not platformId:tiktokId")
        if platform in mapping:
            raise ValueError(f"platform warehouse {platform!r} is mapped twice")
        if tiktok in owners:
            raise ValueError(
                f"platform warehouses {owners[tiktok]!r} and {platform!r} are both mapped to "
                f"TikTok warehouse {tiktok!r}: TikTok holds one quantity per warehouse, so each "
                "would overwrite the other's stock (map each to a warehouse of its own)"
            )
        mapping[platform] = tiktok
        owners[tiktok] = platform
    return mapping


class UnknownWarehouse(ValueError):
    """The platform named a warehouse the settings do not map to a TikTok warehouse."""


def tiktok_warehouse(mapping: Mapping[str, str], platform_warehouse_id: str) -> str:
    """The TikTok warehouse a platform warehouse stands for (`TIKTOK_WAREHOUSE_MAP`).

    Raises UnknownWarehouse naming the mapped ones.
    """
    found = mapping.get(platform_warehouse_id)
    if found is None:
        known = ", ".join(sorted(mapping)) or "none"
        raise UnknownWarehouse(
            f"Platform warehouse {platform_warehouse_id!r} is not mapped to a TikTok warehouse "
            f"in TIKTOK_WAREHOUSE_MAP (mapped: {known})"
        )
    return found


def stale(version: int | None, applied: int | None) -> bool:
    """Whether a change of `version` is stale against the version `applied` before: not above
    it. A change by hand (None) never is; nor is any change when none was applied yet (None)."""
    return version is not None and applied is not None and version <= applied


def with_stock(
    listing: Listing, warehouse_id: str, quantity: int, version: int | None
) -> Listing | None:
    """The listing with `quantity` units in TikTok warehouse `warehouse_id`, or None when the
    change is stale (its version is not above the warehouse's). `version` None is a change by
    hand: it applies and keeps the warehouse's version (None for a new warehouse), so the
    platform's next change wins."""
    stock = list(listing.stock)
    index = next((n for n, s in enumerate(stock) if s.warehouse_id == warehouse_id), None)
    current = stock[index] if index is not None else None
    if stale(version, current.version if current is not None else None):
        return None
    new_version = current.version if current is not None and version is None else version
    entry = WarehouseStock(warehouse_id=warehouse_id, quantity=quantity, version=new_version)
    if index is None:
        stock.append(entry)
    else:
        stock[index] = entry
    changed = current is None or current.quantity != quantity
    return listing.model_copy(
        update={
            "stock": stock,
            "stock_revision": listing.stock_revision + (1 if changed else 0),
        }
    )


class CurrencyMismatch(ValueError):
    """A price in another currency than the one TikTok sells the listing's SKU in."""


def with_price(listing: Listing, amount: int, currency: str, version: int | None) -> Listing | None:
    """The listing priced `amount` minor units of `currency`, or None when the change is stale
    (its version is not above the listing's price version). `version` None: by hand.

    Raises CurrencyMismatch for a listing already on TikTok in another currency (TikTok's
    price update keeps the SKU's currency).
    """
    if stale(version, listing.price_version):
        return None
    if listing.external_product_id and currency != listing.currency:
        raise CurrencyMismatch(
            f"TikTok sells this listing in {listing.currency}; a price in {currency} cannot be "
            "pushed (update the listing and push it again to change its currency)"
        )
    changed = (amount, currency) != (listing.price, listing.currency)
    return listing.model_copy(
        update={
            "price": amount,
            "currency": currency,
            "price_version": listing.price_version if version is None else version,
            "price_revision": listing.price_revision + (1 if changed else 0),
        }
    )


def newer(at: datetime | None, than: datetime | None) -> bool:
    """Whether a report made `at` may replace one made `than` (an unknown time always may)."""
    return at is None or than is None or at >= than


def missing_attributes(
    listing: Listing, attributes: Sequence[CategoryAttribute]
) -> list[CategoryAttribute]:
    """The category's product attributes the listing lacks: those TikTok always requires, and
    those a value the listing chose makes required (TikTok's VALUE_ID_MATCH)."""
    given = {a.id: a for a in listing.attributes}
    chosen = {(a.id, v.id) for a in listing.attributes for v in a.values if v.id}
    return [
        attribute
        for attribute in attributes
        if attribute.type != "SALES_PROPERTY"
        and attribute.id not in given
        and (
            attribute.required
            or any((c.attribute_id, c.value_id) in chosen for c in attribute.required_if)
        )
    ]
