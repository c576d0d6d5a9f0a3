"""Runtime values that Python lacks: durations, unknowns, fact records, and date arithmetic."""
from __future__ import annotations

import calendar
import datetime as _dt
import decimal
from dataclasses import dataclass
from decimal import Decimal

from .limits import LIMITS

__all__ = [
    "MAX_DIGITS", "MAX_EXPONENT", "number_problem", "Duration", "Unknown", "Record", "DECIMAL_CONTEXT", "add_duration",
    "whole_years_between", "whole_months_between", "DIGITS_CONTEXT",
]

# Exact decimal arithmetic: 34 significant digits (IEEE decimal128) and every
# inexact or invalid operation that matters trapped, never silently rounded to binary.
DECIMAL_CONTEXT = decimal.Context(
    prec=34,
    rounding=decimal.ROUND_HALF_EVEN,
    Emax=999_999,
    Emin=-999_999,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)


MAX_DIGITS = LIMITS.number_digits
MAX_EXPONENT = LIMITS.number_exponent


def number_problem(d: Decimal) -> str | None:
    """Why a number read from text cannot be used exactly, or None when it can."""
    if not d.is_finite():
        return "is not a finite number"
    if d.is_zero():
        return None
    if abs(d.adjusted()) > MAX_EXPONENT:
        return f"is outside the supported range (magnitude 10^-{MAX_EXPONENT} to 10^{MAX_EXPONENT})"
    if DIGITS_CONTEXT.plus(d) != d:  # rounding to MAX_DIGITS digits changes it: more digits (trailing zeros aside)
        return f"has more than {MAX_DIGITS} significant digits"
    return None


DIGITS_CONTEXT = decimal.Context(prec=MAX_DIGITS, rounding=decimal.ROUND_HALF_EVEN, Emax=999_999, Emin=-999_999,
                                  traps=[])


@dataclass(frozen=True, slots=True)
class Duration:
    """A calendar duration. Years and months are added before days."""
    years: int = 0
    months: int = 0
    days: int = 0

    def __add__(self, other: "Duration") -> "Duration":
        return Duration(self.years + other.years, self.months + other.months, self.days + other.days)

    def __neg__(self) -> "Duration":
        return Duration(-self.years, -self.months, -self.days)

    def __sub__(self, other: "Duration") -> "Duration":
        return self + (-other)

    def __str__(self) -> str:
        parts = []
        for n, unit in ((self.years, "year"), (self.months, "month"), (self.days, "day")):
            if n:
                parts.append(f"{n} {unit}" + ("" if abs(n) == 1 else "s"))
        return " + ".join(parts) if parts else "0 days"


class Unknown:
    """A value that depends on facts (or parameter values) not given.

    `facts` holds fact paths such as `children[1].birth_date`; `params` holds
    (policy id, parameter text) pairs such as ("p", "average_salary[2023]").
    """
    __slots__ = ("facts", "params")

    def __init__(self, facts: frozenset = frozenset(), params: frozenset = frozenset()):
        self.facts = facts
        self.params = params

    def __or__(self, other: "Unknown") -> "Unknown":
        return Unknown(self.facts | other.facts, self.params | other.params)

    def __repr__(self) -> str:
        return f"Unknown({sorted(self.facts)}, {sorted(self.params)})"

    def __eq__(self, other):
        return isinstance(other, Unknown) and self.facts == other.facts and self.params == other.params

    def __hash__(self):
        return hash((self.facts, self.params))


class Record(dict):
    """A record of facts; remembers its path so a missing field is named exactly."""
    __slots__ = ("path",)

    def __init__(self, items, path: str):
        super().__init__(items)
        self.path = path


def add_duration(d: _dt.date, dur: Duration) -> _dt.date:
    """Add years and months (clamping the day to the month's end), then days.

    29 February + 1 year is 28 February; 31 January + 1 month is the last day of February.
    """
    months = d.year * 12 + (d.month - 1) + dur.years * 12 + dur.months
    year, month = divmod(months, 12)
    month += 1
    if not 1 <= year <= 9999:
        raise OverflowError("date out of range")
    day = min(d.day, calendar.monthrange(year, month)[1])
    return _dt.date(year, month, day) + _dt.timedelta(days=dur.days)


def whole_months_between(a: _dt.date, b: _dt.date) -> int:
    """Full calendar months from a to b (negative when b is before a)."""
    if b < a:
        return -whole_months_between(b, a)
    months = (b.year - a.year) * 12 + (b.month - a.month)
    if months and add_duration(a, Duration(months=months)) > b:
        months -= 1
    return months


def whole_years_between(a: _dt.date, b: _dt.date) -> int:
    """Full years from a to b: the n with a + n years <= b < a + (n+1) years."""
    if b < a:
        return -whole_years_between(b, a)
    day = a.day
    if day == 29 and a.month == 2 and not calendar.isleap(b.year):
        day = 28  # 29 February + n years is 28 February in a common year
    n = b.year - a.year
    return n - 1 if (b.month, b.day) < (a.month, day) else n
