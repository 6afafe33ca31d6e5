"""Text fields cleaned as the seed cleans them: no markup and no control characters survive."""

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
