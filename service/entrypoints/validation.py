"""A pydantic validation failure as the error reply callers get: which field, and why."""

from pydantic import ValidationError

from contracts.replies import ErrorReply, FieldError


def error_reply_from_validation(exc: ValidationError, *, argument: str = "") -> ErrorReply:
    """`argument`: the handler parameter the framework validated, left out of field names."""
    fields = [
        FieldError(
            # A missing or unknown `command` is reported at the top of a tagged union.
            field="command"
            if err["type"] in ("union_tag_invalid", "union_tag_not_found")
            else _field_name(_without(err["loc"], argument)),
            message=err["msg"],
        )
        for err in exc.errors()
    ]
    names = ", ".join(sorted({f.field for f in fields})) or "the request"
    return ErrorReply(code="validation_failed", message=f"Invalid {names}", fields=fields)


def _without(loc: tuple[int | str, ...], argument: str) -> tuple[int | str, ...]:
    if argument and len(loc) > 1 and loc[0] == argument:
        return loc[1:]
    return loc


def _field_name(loc: tuple[int | str, ...]) -> str:
    # A tagged union puts the tag first (`listings.create`); the field name is what follows.
    parts = [str(p) for p in loc if not (isinstance(p, str) and "." in p)]
    return ".".join(parts) or "body"
