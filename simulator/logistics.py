"""The simulated shops' delivery options and the shipping providers each one offers.

TikTok maps an order's ``delivery_option_id`` to the seller's logistics template; the providers a
seller may name when shipping come from ``GET /logistics/202309/delivery_options/{id}/
shipping_providers``. Every simulated shop shares this table.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class DeliveryOption:
    """A delivery option (a seller's logistics template) and its shipping providers."""

    id: str
    name: str
    # ``SELLER``: the seller ships with a provider of this list; ``TIKTOK``: TikTok's label and
    # carrier (TikTok answers the providers call for such an option with an error).
    shipping_type: str
    providers: tuple[tuple[str, str], ...]  # (id, name)

    def provider_name(self, provider_id: str) -> str | None:
        return next((name for pid, name in self.providers if pid == provider_id), None)


STANDARD = DeliveryOption(
    id="7091146663229654785",
    name="Standard shipping",
    shipping_type="SELLER",
    providers=(
        ("6617", "USPS"),
        ("7117858858072016686", "UPS"),
        ("7117859084333745966", "FedEx"),
        ("7129736293602330373", "DHL eCommerce"),
        # The local demo's configured provider id (see deploy/local/run.sh).
        ("sim-carrier", "Sim Carrier"),
    ),
)
EXPRESS = DeliveryOption(
    id="7091146663229654786",
    name="Express shipping",
    shipping_type="SELLER",
    providers=(("7117858858072016686", "UPS"), ("7117859084333745966", "FedEx")),
)
TIKTOK_SHIPPING = DeliveryOption(
    id="7091146663229654787",
    name="Shipped by TikTok",
    shipping_type="TIKTOK",
    providers=(("7208502187360519982", "TikTok Shipping"),),
)

DELIVERY_OPTIONS: dict[str, DeliveryOption] = {
    option.id: option for option in (STANDARD, EXPRESS, TIKTOK_SHIPPING)
}
DEFAULT_DELIVERY_OPTION = STANDARD

# Markets where "Mark Package As Shipped" is served (TikTok's description of the 202610 call).
MARK_SHIPPED_REGIONS = frozenset({"US", "GB", "UK", "ES", "IE", "IT", "DE", "FR", "JP"})
