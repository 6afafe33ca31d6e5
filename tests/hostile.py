"""Hypothesis strategies for hostile input: malformed JSON, wrong types, huge and deeply nested
values, unicode the JSON text allows but UTF-8 does not (lone surrogates), numbers out of range.

`Raw` marks JSON text put in a document as it is (what `json.dumps` cannot produce);
`render` writes a document with such parts.
"""

import json
from typing import Any

from hypothesis import strategies as st


class Raw(str):
    """JSON text inserted as it is."""


def render(value: Any, *, ascii_only: bool = False) -> str:
    """A document as JSON text, `Raw` parts inserted as they are."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        items = (
            f"{json.dumps(str(k), ensure_ascii=ascii_only)}:{render(v, ascii_only=ascii_only)}"
            for k, v in value.items()
        )
        return "{" + ",".join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(render(v, ascii_only=ascii_only) for v in value) + "]"
    return json.dumps(value, ensure_ascii=ascii_only)


def nested(depth: int, kind: str) -> Raw:
    """`depth` arrays or objects inside each other."""
    if kind == "array":
        return Raw("[" * depth + "]" * depth)
    return Raw('{"a":' * depth + "1" + "}" * depth)


#: Values JSON can carry that break naive code.
RAW_TRAPS = [
    Raw('"\\ud800"'),  # a lone surrogate: valid JSON text, not encodable as UTF-8
    Raw('"x\\udfffy"'),
    Raw('"\\u0000"'),
    Raw("1e400"),  # a float beyond double range
    Raw("-1e400"),
    Raw("1" * 5000),  # an integer longer than Python converts by default
    Raw("123456789012345678901234567890"),
    Raw("-0"),
    Raw("1.5e-400"),
]

#: Integers at and past the ends of a signed 64-bit integer, what the database stores: JSON
#: carries them, Python reads them, and the database driver cannot write them.
huge_integers = st.one_of(
    st.sampled_from([2**63 - 1, 2**63, -(2**63) - 1, 10**20, 10**30]),
    st.integers(min_value=2**63, max_value=2**80),
    st.integers(min_value=-(2**80), max_value=-(2**63) - 1),
)

texts = st.one_of(
    st.text(max_size=20),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=20),
    st.sampled_from(["", " ", "0", "-1", "null", "$where", "a.b", "{}", "../..", "%00", "\u202e"]),
)
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
)
traps = st.one_of(
    st.sampled_from(RAW_TRAPS),
    st.builds(nested, st.integers(min_value=1, max_value=3000), st.sampled_from(["array", "obj"])),
    # large text: up to most of a webhook's 1 MiB
    st.sampled_from([1_000, 100_000, 600_000]).map(lambda n: "x" * n),
)
#: Any JSON value, now and then a trap.
values = st.recursive(
    st.one_of(leaves, traps),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)),
    max_leaves=6,
)


def field_values(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a plausible value, often a hostile one."""
    return st.one_of(good, values)


def with_changes(
    draw: st.DrawFn, document: dict[str, Any], *, keep: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The document with some keys (not in `keep`) dropped and some unknown keys added."""
    dropped = draw(st.sets(st.sampled_from(sorted(document)), max_size=2)) - keep
    extra = draw(st.dictionaries(texts, values, max_size=2))
    return {**{k: v for k, v in document.items() if k not in dropped}, **extra}


#: Bodies that are not JSON objects at all.
not_objects = st.one_of(
    st.binary(max_size=200),
    st.sampled_from(
        [b"", b"{", b"[]", b"null", b"1", b'"text"', b"{'a': 1}", b'{"a":1}x', b"\xff\xfe{}"]
    ),
    values.map(lambda v: render(v).encode("utf-8", "surrogatepass")),
)
