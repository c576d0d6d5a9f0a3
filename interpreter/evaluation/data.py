"""Runtime values as plain data for results and traces, and the small vocabulary the evaluators share."""
from __future__ import annotations

import datetime as _dt
from decimal import Decimal

from ..diagnostics import Span
from ..printer import format_value
from ..values import Duration, Record, Unknown

__all__ = ["PLAIN_TYPES", "jsonable", "plain", "display", "missing_names", "tri_status", "span_key"]

PLAIN_TYPES = frozenset([bool, Decimal, str, type(None)])


def jsonable(v):
    """A runtime value as plain data for results (Decimals stay Decimals; the renderer writes them exactly)."""
    t = type(v)
    if t in PLAIN_TYPES:
        return v
    if t is Unknown:
        return None
    if t is list:
        return [x if type(x) in PLAIN_TYPES else jsonable(x) for x in v]
    if isinstance(v, dict):
        if PLAIN_TYPES.issuperset(map(type, v.values())):  # a record of numbers, strings and booleans
            return dict(v)
        return {k: x if type(x) in PLAIN_TYPES else jsonable(x) for k, x in v.items()}
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, Duration):
        return str(v)
    if isinstance(v, (bool, Decimal, str)):
        return v
    if isinstance(v, list):
        return [jsonable(x) for x in v]
    return str(v)


def plain(v):
    """Records as plain dicts, recursively (dates and durations kept)."""
    if isinstance(v, Record):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


def display(v) -> str:
    """A value inside a label: numbers and dates as written, strings bare."""
    v = jsonable(plain(v))
    return v if isinstance(v, str) else format_value(v)


def missing_names(u: Unknown) -> list[str]:
    """Fact paths, then parameter values (`average_salary[2024]`), as in a result's `missing` list."""
    return sorted(u.facts) + sorted(n for _, n in u.params)


def tri_status(v) -> str:
    if v is True:
        return "true"
    if v is False:
        return "false"
    if type(v) is Unknown:
        return "unknown"
    return "value"


def span_key(span: Span | None) -> tuple:
    """A condition's identity for coverage: where it is written."""
    if span is None:
        return ("", 0, 0, 0, 0)
    return (span.file, span.line, span.column, span.end_line, span.end_column)
