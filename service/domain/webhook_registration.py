"""Which webhook types a shop must have registered, and which it lacks.

The Event API (202309) registers one address per event type and shop; TikTok sends a type only
to the address registered for it. The types the service subscribes to are
`contracts.webhooks.SUBSCRIBED_TYPES`; those without an Event API name (the after-sales 64, 65,
67) go to the address set for the app in Partner Center, which no API call reports.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from contracts.entities import WebhookRegistration
from contracts.webhooks import EVENT_API_TYPES, SUBSCRIBED_TYPES, TIKTOK_TYPE_NAMES


@dataclass(frozen=True)
class RemoteWebhook:
    """A registration as TikTok lists it: the event type's name and its address."""

    event_type: str
    address: str


def needed_event_types() -> list[str]:
    """The Event API names of the types the service subscribes to, in type order."""
    names = (TIKTOK_TYPE_NAMES.get(n, str(n)) for n in SUBSCRIBED_TYPES)
    return [name for name in names if name in EVENT_API_TYPES]


def partner_center_types() -> list[str]:
    """The subscribed types the Event API cannot register (Partner Center's address)."""
    names = (TIKTOK_TYPE_NAMES.get(n, str(n)) for n in SUBSCRIBED_TYPES)
    return [name for name in names if name not in EVENT_API_TYPES]


def same_address(a: str, b: str) -> bool:
    """Addresses compared as TikTok would send to them (a trailing slash is the same place)."""
    return a.strip().rstrip("/") == b.strip().rstrip("/")


def registrations(
    registered: Sequence[RemoteWebhook], address: str | None
) -> list[WebhookRegistration]:
    """Each needed type with the address TikTok has for it, and whether that is ours."""
    by_type: Mapping[str, str] = {w.event_type: w.address for w in registered}
    return [
        WebhookRegistration(
            event_type=name,
            address=by_type.get(name),
            registered=address is not None
            and name in by_type
            and same_address(by_type[name], address),
        )
        for name in needed_event_types()
    ]


def to_register(registered: Sequence[RemoteWebhook], address: str) -> list[str]:
    """The needed types whose registration is missing or points elsewhere."""
    return [r.event_type for r in registrations(registered, address) if not r.registered]
