"""Text fields cleaned as the seed cleans them: no markup and no control characters survive; an
id with a control character is refused rather than cleaned."""

import re
from typing import Annotated

from pydantic import AfterValidator

_TAG = re.compile(r"<[^>]*>")
# Control characters other than tab, newline and carriage return (kept for descriptions).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ANGLE = re.compile(r"[<>]")


def clean_text(value: str) -> str:
    """Strip tags, stray angle brackets and control characters, then surrounding space."""
    without_tags = _TAG.sub("", value)
    return _ANGLE.sub("", _CONTROL.sub("", without_tags)).strip()


def _clean_line(value: str) -> str:
    return " ".join(clean_text(value).split())


#: A single line of text: markup, control characters and line breaks removed.
CleanLine = Annotated[str, AfterValidator(_clean_line)]
#: Multi-line text: markup and control characters removed, line breaks kept.
CleanText = Annotated[str, AfterValidator(clean_text)]


# Every control character (C0, DEL and C1), tab and line breaks included: none belongs in an id.
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def no_control_characters(value: str) -> str:
    """An identifier as given; a control character in it is a ValueError, never removed, since
    an id cleaned silently would name another record (a shop, a listing) than the one meant."""
    if _ANY_CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value
