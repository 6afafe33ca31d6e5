"""Text fields cleaned as the seed cleans them: no markup and no control characters survive; an
id with a control character is refused rather than cleaned."""

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticKnownError, core_schema

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


@dataclass(frozen=True)
class Chars:
    """The length cleaned text may have, in characters, counted once it is cleaned.

    `Annotated[CleanLine, Chars(max_length=500)]`. pydantic's own `max_length` cannot reach a
    string that a validator already changed and then speaks of items ("Value should have at
    most 500 items after validation"); this refuses with the answer of a plain string limit
    (`string_too_long`: "String should have at most 500 characters") and keeps `minLength` and
    `maxLength` in the JSON schema.
    """

    min_length: int = 0
    max_length: int | None = None

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        if self.min_length:
            json_schema["minLength"] = self.min_length
        if self.max_length is not None:
            json_schema["maxLength"] = self.max_length
        return json_schema

    def _check(self, value: str) -> str:
        if len(value) < self.min_length:
            raise PydanticKnownError("string_too_short", {"min_length": self.min_length})
        if self.max_length is not None and len(value) > self.max_length:
            raise PydanticKnownError("string_too_long", {"max_length": self.max_length})
        return value


# Every control character (C0, DEL and C1), tab and line breaks included: none belongs in an id.
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def no_control_characters(value: str) -> str:
    """An identifier as given; a control character in it is a ValueError, never removed, since
    an id cleaned silently would name another record (a shop, a listing) than the one meant."""
    if _ANY_CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value
