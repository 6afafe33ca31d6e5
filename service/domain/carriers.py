"""Which of TikTok's shipping providers a shipment names.

TikTok accepts only the providers of the order's delivery option (logistics 202309, shipping
providers per delivery option), each with its own id. The platform names carriers its own way
("ups", "USPS Ground Advantage"): `TIKTOK_CARRIER_MAP` maps a platform name to a TikTok
provider id or name, and otherwise names are matched ignoring case, spaces and punctuation,
first exactly, then one name containing the other when exactly one provider fits.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Provider:
    """A TikTok shipping provider: its `shipping_provider_id` and name."""

    id: str
    name: str


class UnknownCarrier(ValueError):
    """The carrier names none of the order's providers (or more than one)."""


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.casefold())


def normalised_map(carrier_map: Mapping[str, str]) -> dict[str, str]:
    """`TIKTOK_CARRIER_MAP` with its keys compared as names are."""
    return {_key(k): v.strip() for k, v in carrier_map.items() if _key(k) and v.strip()}


def choose_provider(
    providers: Sequence[Provider],
    *,
    provider_id: str | None = None,
    carrier: str | None = None,
    carrier_map: Mapping[str, str] | None = None,
) -> Provider:
    """The provider a shipment means: `provider_id` if it is one of `providers`, else the one
    `carrier` maps or matches to. Raises UnknownCarrier naming the providers to choose from."""
    choices = ", ".join(f"{p.name} ({p.id})" for p in providers) or "none"
    if provider_id is not None:
        found = next((p for p in providers if p.id == provider_id), None)
        if found is None:
            raise UnknownCarrier(
                f"Shipping provider {provider_id} is not one TikTok offers for this order; "
                f"choose one of: {choices}"
            )
        return found
    if not carrier:
        raise UnknownCarrier(f"Name the carrier; TikTok offers: {choices}")
    wanted = normalised_map(carrier_map or {}).get(_key(carrier), carrier)
    by_id = next((p for p in providers if p.id == wanted), None)
    if by_id is not None:
        return by_id
    key = _key(wanted)
    exact = [p for p in providers if _key(p.name) == key]
    if len(exact) == 1:
        return exact[0]
    close = [p for p in providers if key and (key in _key(p.name) or _key(p.name) in key)]
    if len(close) == 1:
        return close[0]
    raise UnknownCarrier(
        f"Carrier {carrier!r} matches {'several' if close else 'none'} of the shipping "
        f"providers TikTok offers for this order ({choices}); map it with TIKTOK_CARRIER_MAP "
        "or give shippingProviderId"
    )
