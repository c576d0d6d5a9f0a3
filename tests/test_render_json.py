"""JSON output: decimals written exactly as JSON numbers; everything else as the json module writes it,
except that characters which act on a terminal (C1 and bidirectional controls) and lone surrogates are
written as \\u escapes."""
import datetime
import json
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from interpreter.render import to_json
from interpreter.safetext import json_safe

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(),
    st.decimals(allow_nan=False, allow_infinity=False), st.dates(),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=4)), max_leaves=20)


def plain(v):
    """What the JSON text must read back as."""
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


@settings(max_examples=500, deadline=None)
@given(values)
def test_reads_back_exactly(v):
    assert json.loads(to_json(v), parse_float=Decimal) == plain(v)


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_strings_as_the_json_module_writes_them(s):
    assert to_json(s) == json_safe(json.dumps(s, ensure_ascii=False))
    assert to_json({s: s}) == json_safe("{" + json.dumps(s, ensure_ascii=False) + ": " + json.dumps(s, ensure_ascii=False) + "}")
    assert json.loads(to_json(s)) == s
    to_json(s).encode("utf-8")  # a lone surrogate is escaped, not written


def test_decimals_are_written_as_given():
    assert to_json([Decimal("0.1"), Decimal("1.50"), Decimal("318221.57"), Decimal("-0")]) == "[0.1, 1.50, 318221.57, -0]"
    assert to_json({"a": True, "b": None, "c": (1, "x"), 2: datetime.date(2024, 2, 29)}) == \
        '{"a": true, "b": null, "c": [1, "x"], "2": "2024-02-29"}'
