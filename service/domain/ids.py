"""Entity ids: UUID strings, as in the seed.

Most ids are random. Where one thing must never get two ids (an order TikTok knows, a webhook's
event), the id is derived from what names it (`stable_id`), so that every worker, every retry
and every redelivery arrives at the same id.
"""

import uuid

# The namespace of this service's derived ids (a fixed random UUID).
_NAMESPACE = uuid.UUID("5c3f3e4e-8f0b-4a5e-9a43-6f1d2b7c9e21")


def new_id() -> str:
    return str(uuid.uuid4())


def stable_id(*parts: str) -> str:
    """The same UUID (version 5) for the same parts, whatever they contain.

    Each part is length-prefixed, so ("a:b", "c") and ("a", "b:c") differ.
    """
    name = "".join(f"{len(p)}:{p};" for p in parts)
    return str(uuid.uuid5(_NAMESPACE, name))
