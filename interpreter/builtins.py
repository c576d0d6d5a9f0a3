"""The built-in functions: one table of name, signature (read by the checker), implementation.

A signature takes the argument types and returns the result type, or a string
that says what is wrong. An implementation takes the evaluation context and the
argument values (all known: unknowns never reach it) and returns the value, or
raises EvalError.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable

from .limits import LIMITS
from .typesys import ANY, DATE, DURATION, ERROR, NUMBER, STRING, ListT, Type, describe
from .values import DECIMAL_CONTEXT, Duration, whole_months_between, whole_years_between

__all__ = ["Builtin", "BUILTINS", "EvalError"]


class EvalError(Exception):
    """A failure at evaluation that no static check can rule out (division by zero, an impossible date)."""

    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Builtin:
    name: str
    arity: tuple[int, int]  # min, max arguments
    signature: Callable[[list[Type]], "Type | str"]
    impl: Callable
    doc: str
    # For a count of whole years or months: the same count as an int, from the dates alone (`from_today`:
    # the first date and the as-of date, as `age` takes them). The fast path compares it with a constant
    # directly; an int compares with a Decimal exactly.
    whole: Callable | None = None
    from_today: bool = False


def _numbers_to(result: Type):
    def sig(args):
        if ERROR in args:
            return ERROR
        for i, t in enumerate(args):
            if t != NUMBER:
                return f"argument {i + 1} must be a number, not {describe(t)}"
        return result
    return sig


def _dates_to(result: Type):
    def sig(args):
        if ERROR in args:
            return ERROR
        for i, t in enumerate(args):
            if t != DATE:
                return f"argument {i + 1} must be a date, not {describe(t)}"
        return result
    return sig


def _min_max_sig(args):
    if ERROR in args:
        return ERROR
    if len(args) == 1:
        t = args[0]
        if isinstance(t, ListT) and t.item in (NUMBER, DATE, ANY):
            return t.item if t.item is not ANY else NUMBER
        return f"the argument must be a list of numbers or dates, not {describe(t)}"
    first = args[0]
    if first not in (NUMBER, DATE):
        return f"arguments must be numbers or dates, not {describe(first)}"
    for i, t in enumerate(args[1:], start=2):
        if t != first:
            return f"argument {i} must be {describe(first)} like the first, not {describe(t)}"
    return first


def _min_max(pick):
    def impl(ctx, *args):
        values = args[0] if len(args) == 1 else args
        if not values:
            raise EvalError("empty-list", "the list is empty, so it has no minimum or maximum")
        return pick(values)
    return impl


def _len_sig(args):
    if ERROR in args:
        return ERROR
    t = args[0]
    if isinstance(t, ListT) or t == STRING:
        return NUMBER
    return f"the argument must be a list or a string, not {describe(t)}"


def _round_impl(ctx, x, places=Decimal(0)):
    if places != places.to_integral_value() or not (-30 <= places <= 30):
        raise EvalError("invalid-argument", f"round() needs a whole number of places from -30 to 30, not {places}")
    try:
        return x.quantize(Decimal(1).scaleb(-int(places)), rounding=ROUND_HALF_UP, context=DECIMAL_CONTEXT)
    except ArithmeticError:
        raise EvalError("invalid-argument", f"round({x}, {places}) would need more than 34 digits")


MAX_RANGE = LIMITS.range_items


def _range_impl(ctx, start, end):
    if start != start.to_integral_value() or end != end.to_integral_value():
        raise EvalError("invalid-argument", f"range() needs whole numbers, not {start} and {end}")
    if end - start > MAX_RANGE:
        raise EvalError("invalid-argument", f"range() is limited to {MAX_RANGE} numbers")
    if end > start:  # the numbers made count against the evaluation budget
        ctx.steps += int(end - start)
        if ctx.steps > LIMITS.evaluation_steps:
            raise EvalError("evaluation-budget", f"the evaluation went over its budget of {LIMITS.evaluation_steps} "
                                                 "steps (items gone through by binders and numbers made by range)")
    return [Decimal(i) for i in range(int(start), int(end))]


def _duration(unit: str):
    def impl(ctx, n):
        if n != n.to_integral_value() or abs(n) > 100_000:
            raise EvalError("invalid-argument", f"{unit}() needs a whole number up to 100000, not {n}")
        k = int(n)
        return {"years": Duration(years=k), "months": Duration(months=k), "weeks": Duration(days=7 * k),
                "days": Duration(days=k)}[unit]
    return impl


def _make_date(ctx, y, m, d):
    if any(x != x.to_integral_value() for x in (y, m, d)):
        raise EvalError("invalid-argument", f"date() needs whole numbers, not {y}, {m}, {d}")
    try:
        return _dt.date(int(y), int(m), int(d))
    except (ValueError, OverflowError):
        raise EvalError("invalid-date", f"date({y}, {m}, {d}) does not exist")


BUILTINS: dict[str, Builtin] = {b.name: b for b in [
    Builtin("min", (1, 64), _min_max_sig, _min_max(min), "the smallest of its arguments, or of a list"),
    Builtin("max", (1, 64), _min_max_sig, _min_max(max), "the largest of its arguments, or of a list"),
    Builtin("abs", (1, 1), _numbers_to(NUMBER), lambda ctx, x: x.copy_abs(), "absolute value"),
    Builtin("round", (1, 2), _numbers_to(NUMBER), _round_impl,
            "round half away from zero to a number of decimal places (default 0)"),
    Builtin("len", (1, 1), _len_sig, lambda ctx, x: Decimal(len(x)), "number of items in a list, or characters in a string"),
    Builtin("year", (1, 1), _dates_to(NUMBER), lambda ctx, d: Decimal(d.year), "the year of a date"),
    Builtin("month", (1, 1), _dates_to(NUMBER), lambda ctx, d: Decimal(d.month), "the month of a date, 1 to 12"),
    Builtin("day", (1, 1), _dates_to(NUMBER), lambda ctx, d: Decimal(d.day), "the day of the month of a date"),
    Builtin("range", (2, 2), _numbers_to(ListT(NUMBER)), _range_impl,
            "the whole numbers from the first up to but not including the second: range(2021, 2025) is [2021, 2022, 2023, 2024]"),
    *[Builtin(u, (1, 1), _numbers_to(DURATION), _duration(u), f"a duration of that many {u}: {u}(2) is `2 {u}`")
      for u in ("years", "months", "weeks", "days")],
    Builtin("date", (3, 3), _numbers_to(DATE), _make_date, "the date of a year, month and day"),
    Builtin("age", (1, 1), _dates_to(NUMBER),
            lambda ctx, d: Decimal(whole_years_between(d, ctx.as_of)),
            "full years from a birth date to the evaluation date", whole_years_between, from_today=True),
    Builtin("years_between", (2, 2), _dates_to(NUMBER),
            lambda ctx, a, b: Decimal(whole_years_between(a, b)), "full years from the first date to the second",
            whole_years_between),
    Builtin("months_between", (2, 2), _dates_to(NUMBER),
            lambda ctx, a, b: Decimal(whole_months_between(a, b)), "full months from the first date to the second",
            whole_months_between),
    Builtin("days_between", (2, 2), _dates_to(NUMBER),
            lambda ctx, a, b: Decimal((b - a).days), "days from the first date to the second"),
]}
