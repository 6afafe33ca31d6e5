"""The service's environment variables, as `service.settings.Settings` reads them.

The deployment checks ask this module, not a list of their own, so a setting added to
`Settings` is known to them at once.
"""

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from service.settings import Settings


def settings_variables() -> set[str]:
    """Every variable `Settings` reads: a field's alias, or its name with the prefix, upper-cased.

    pydantic-settings matches names case-insensitively unless `case_sensitive` is set; manifests
    spell them upper-case, so that is the form returned.
    """
    prefix = str(Settings.model_config.get("env_prefix", ""))
    names: set[str] = set()
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias if isinstance(field.validation_alias, str) else field.alias
        names.add((alias or f"{prefix}{field_name}").upper())
    return names


@contextmanager
def only_these_variables(env: Mapping[str, str]) -> Iterator[None]:
    """Run the block with the settings' variables taken from `env` alone (the rest unset).

    Leaves every other variable of the process as it was, and restores the settings' own after.
    """
    names = settings_variables() | set(env)
    saved = {name: os.environ.get(name) for name in names}
    try:
        for name in names:
            os.environ.pop(name, None)
        os.environ.update(env)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def settings_from(env: Mapping[str, str]) -> Settings:
    """`Settings()` as a container with exactly `env` would build it; raises ValidationError."""
    with only_these_variables(env):
        return Settings()


_REFERENCE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?+])?(?P<arg>[^}]*)\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Compose's interpolation of `text` with `env` (the Compose specification's forms).

    `${VAR}`, `$VAR`, `${VAR:-default}` (unset or empty), `${VAR-default}` (unset),
    `${VAR:?error}` / `${VAR?error}` (raise KeyError with the error), `${VAR:+alt}` /
    `${VAR+alt}`, and `$$` for a literal `$`. Nested references in a default are not supported.
    """

    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["bare"]
        op, arg = match["op"] or "", match["arg"] or ""
        if arg and not op:
            raise ValueError(f"not a reference Compose understands: {match[0]}")
        value = env.get(name)
        empty = not value if op.startswith(":") else value is None
        if op.endswith("-"):
            return arg if empty else str(value)
        if op.endswith("?"):
            if empty:
                raise KeyError(f"{name}: {arg}")
            return str(value)
        if op.endswith("+"):
            return "" if empty else arg
        return value or ""

    return _REFERENCE.sub(replace, text)
