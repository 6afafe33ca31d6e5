"""Entity ids: UUID strings, as in the seed."""

import uuid


def new_id() -> str:
    return str(uuid.uuid4())
