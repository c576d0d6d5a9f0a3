"""Units of parameters (`unit:`) and their ranges (`range:`): which values they admit, and the advice when not."""
from __future__ import annotations

import re
from decimal import Decimal

__all__ = ["PLAIN_UNITS", "TIME_UNITS", "unit_problem"]

TIME_UNITS = frozenset({"days", "weeks", "months", "years"})
PLAIN_UNITS = frozenset({"share", "times"})  # they describe a plain number: nothing is written after its value
_CURRENCY = re.compile(r"[A-Z]{3}")


def _plain(d: Decimal) -> str:
    return format(d.normalize(), "f") if d == d.to_integral_value() else format(d, "f")


def unit_problem(name: str, unit: str | None, bounds: tuple | None, value) -> tuple[str, str | None] | None:
    """(message, help) when `value` does not fit the parameter's unit or range; None when it does.

    `share` is a fraction from 0 to 1 (20% is 0.20); `times` a multiple that is never negative; days, weeks, months, years and currency codes (three
    capital letters, such as CNY) are amounts that are never negative; any other unit is a label only.
    """
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return None  # not a number: the parameter's type is checked elsewhere
    v = Decimal(value)
    if unit == "share" and not 0 <= v <= 1:
        help = f"write {_plain(v)}% as {_plain(v.scaleb(-2))}" if 1 < v <= 100 else None
        return f"parameter `{name}` is a share, between 0 and 1, not {_plain(v)}", help
    if unit is not None and (unit in TIME_UNITS or unit == "times" or _CURRENCY.fullmatch(unit)) and v < 0:
        what = "a multiple" if unit == "times" else f"an amount of {unit}"
        return f"parameter `{name}` is {what}, which cannot be negative, not {_plain(v)}", None
    if bounds is not None:
        low, high = bounds
        if (low is not None and v < low) or (high is not None and v > high):
            shown = f"from {_plain(Decimal(low))} to {_plain(Decimal(high))}" if low is not None and high is not None \
                else f"at least {_plain(Decimal(low))}" if low is not None else f"at most {_plain(Decimal(high))}"
            return f"parameter `{name}` must be {shown}, not {_plain(v)}", None
    return None
