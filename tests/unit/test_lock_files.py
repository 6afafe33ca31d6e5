"""The image's lock pins exactly what the development lock pins."""

import re

from tests.support import ROOT

PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^ \\]+)", re.MULTILINE)


def pins(name: str) -> dict[str, str]:
    return {k.lower(): v for k, v in PIN.findall((ROOT / name).read_text())}


def test_runtime_pins_match_the_full_lock() -> None:
    runtime, full = pins("requirements-runtime.lock"), pins("requirements.lock")
    assert runtime, "requirements-runtime.lock pins nothing"
    assert {k: full.get(k) for k in runtime} == runtime, "run `make lock`"
    assert {"faststream", "pymongo", "pydantic"} <= set(runtime)
    assert "pytest" not in runtime
