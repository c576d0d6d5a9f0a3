"""A rule with a base value and exceptions (default logic): how the exceptions combine.

Every evaluator calls `combine_exceptions` with its own closures, so the meaning
of exceptions, their conflicts and what an undecided exception leaves missing is
written once.
"""
from __future__ import annotations

from typing import Callable

from ..printer import format_value
from ..values import Unknown
from .data import jsonable
from .errors import EvalFailure

__all__ = ["combine_exceptions", "exceptions_of", "in_force"]


def exceptions_of(checked, pid: str, rule) -> list:
    """A rule's exceptions: its own, then those other policies add to it (amendments), as
    (declaration, the in-force period of the policy that declares it: (from, until), or None)."""
    out = []
    for decl in list(rule.exceptions) + checked.amendments.get((pid, rule.name), []):
        p = checked.policies[decl.policy_id]
        period = (p.in_force_from, p.in_force_until) if p.in_force_from or p.in_force_until else None
        out.append((decl, period))
    return out


def in_force(period, as_of) -> bool:
    """Whether an exception counts on a date: one declared by a policy applies only while that policy is
    in force (a local measure not yet in force does not yet change the national rule)."""
    if period is None:
        return True
    start, end = period
    return not ((start and as_of < start) or (end and as_of > end))


def combine_exceptions(excs: list[tuple[Callable, Callable, object]], base: Callable, span):
    """The value of a rule whose exceptions are `(when, value, declaration)` and whose base is `base`.

    In order: every `when` is evaluated; the `value` of each exception whose `when` is true; then the base,
    when none is true; then the value of each exception whose `when` is unknown. An evaluation error
    anywhere is the rule's error. Then:

    - exceptions that certainly apply with two different known values: a `conflict` error;
    - one that certainly applies and gives an unknown value: unknown;
    - else the value of the exceptions that apply, or the base value when none does, unless an exception
      whose `when` is unknown could change it: one whose value is unknown or differs. Then the rule is
      unknown, missing what those exceptions' conditions miss, and, when no exception certainly applies,
      what every undecided exception's condition misses (two of them could still conflict).

    The order in which the exceptions are written changes nothing but which error is met first.
    """
    fired, pending = [], []
    for when, value, decl in excs:
        w = when()
        if w is True:
            fired.append((decl, value()))
        elif type(w) is Unknown:
            pending.append((decl, w, value))
    known = []  # distinct known values of the exceptions that apply
    unknown = None
    for decl, v in fired:
        if type(v) is Unknown:
            unknown = v if unknown is None else unknown | v
        elif all(v != k for _, k in known):
            known.append((decl, v))
    if len(known) > 1:
        (d1, v1), (d2, v2) = known[:2]
        raise EvalFailure("conflict", f"exceptions conflict: {_who(d1)} gives {_show(v1)} but {_who(d2)} gives "
                                      f"{_show(v2)}", span)
    result = (known[0][1] if known else None) if fired else base()
    if unknown is not None:
        result = unknown
    values = [(w, value()) for _, w, value in pending]
    if not values:
        return result
    changes = [(w, v) for w, v in values if type(result) is Unknown or type(v) is Unknown or v != result]
    if not changes:
        return result
    missing = result if type(result) is Unknown else Unknown()
    for w, v in (changes if fired else values):
        missing = missing | w
        if type(v) is Unknown:
            missing = missing | v
    return missing


def _who(decl) -> str:
    return f"`{decl.cite}`" if decl.cite else f"`{decl.label or decl.when.text}`"


def _show(v) -> str:
    return format_value(jsonable(v))
