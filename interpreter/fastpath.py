"""The two-valued fast path: closures for cases whose facts are all there.

Most cases an office evaluates carry every fact a policy reads. For them the
compiler builds a second untraced variant, the *strict* one, which never
produces an unknown value: a missing fact, record field or parameter value
raises `Fallback` instead. Every other surprise (an evaluation error, a
decimal trap) simply propagates as well. The engine then evaluates that
outcome again with the three-valued closures, which give the exact answer,
the missing facts and the diagnostic with its position.

So the strict closures only promise one thing: when they return, they return
what the three-valued closures return. That frees them to evaluate a binder
body's invariant side once before the loop, to turn `a and b and c` into one
loop, and to test a record field against a value in C (`operator.ge`,
`operator.itemgetter`) rather than through three closure calls per item.
"""
from __future__ import annotations

import operator
from decimal import Decimal
from typing import Any, Callable

Fn = Callable[[Any, tuple], Any]

__all__ = ["Fallback", "fact", "today", "local_field", "field", "checked", "bool_chain", "call", "binder", "fused_binder",
           "fused_items", "item_arith", "apply2", "as_set", "all_matched", "COMPARE", "IN"]


class Fallback(Exception):
    """A value the strict closures cannot compute: evaluate the outcome with the three-valued ones."""


COMPARE = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "==": operator.eq,
           "!=": operator.ne}
IN = "in"  # `item in collection` fused as contains(collection, item)


def fact(name: str) -> Fn:
    def fact(c, loc):
        return c.facts[name]  # KeyError when the fact is not given: the three-valued path says which
    fact.fact = name  # read inline by `call`
    return fact


def today(c, loc):
    """`today`, the as-of date (on every path: it is never unknown)."""
    return c.as_of


def local_field(depth: int, name: str) -> Fn:
    def local_field(c, loc):
        return loc[depth][name]
    return local_field


def field(target: Fn, name: str) -> Fn:
    def field(c, loc):
        return target(c, loc)[name]
    return field


def checked(fn: Fn, unknown_type: type) -> Fn:
    """A value that may be unknown (a parameter value not supplied): raise `Fallback` instead."""
    def known(c, loc):
        v = fn(c, loc)
        if type(v) is unknown_type:
            raise Fallback
        return v
    return known


def bool_chain(op: str, fns: list[Fn]) -> Fn:
    """`a and b and c` (or `or`) as one loop: the first operand that decides ends it."""
    stop = op == "or"  # `or` stops at the first true operand, `and` at the first false one
    if len(fns) == 2:
        f0, f1 = fns
        if stop:
            def or2(c, loc):
                return f0(c, loc) or f1(c, loc)
            return or2

        def and2(c, loc):
            return f0(c, loc) and f1(c, loc)
        return and2
    fns = tuple(fns)
    if stop:
        def or_n(c, loc):
            for f in fns:
                if f(c, loc):
                    return True
            return False
        return or_n

    def and_n(c, loc):
        for f in fns:
            if not f(c, loc):
                return False
        return True
    return and_n


def call(impl, args: list[Fn], whole: Callable | None = None, from_today: bool = False) -> Fn:
    """A builtin call by arity; an error raised by the builtin propagates to the fallback. A fact as the
    argument (`age(birth_date)`), or a fact and `today` (`years_between(start, today)`), is read inline.

    `whole` and `from_today` are the builtin's (see builtins.Builtin): when the call is `whole`'s dates,
    the fact and the as-of date, a comparison with a constant compares `whole`'s int (see apply2)."""
    name = getattr(args[0], "fact", None) if args else None
    if len(args) == 1:
        a0, = args
        if name is not None:
            def call1_fact(c, loc):
                return impl(c, c.facts[name])
            call1_fact.on_fact = (whole, name, "whole") if whole and from_today else (impl, name, "call")
            return call1_fact

        def call1(c, loc):
            return impl(c, a0(c, loc))
        return call1
    if len(args) == 2:
        a0, a1 = args
        if name is not None and a1 is today:
            def call2_fact_today(c, loc):
                return impl(c, c.facts[name], c.as_of)
            call2_fact_today.on_fact = (whole, name, "whole") if whole and not from_today else (impl, name, "today")
            return call2_fact_today

        def call2(c, loc):
            return impl(c, a0(c, loc), a1(c, loc))
        return call2

    def call_n(c, loc):
        return impl(c, *[f(c, loc) for f in args])
    return call_n


def binder(kind: str, coll: Fn, body: Fn) -> Fn | None:
    """all / any / filter whose body is any true/false expression."""
    if kind == "all":
        def all_(c, loc):
            for x in coll(c, loc):
                if not body(c, loc + (x,)):
                    return False
            return True
        return all_
    if kind == "any":
        def any_(c, loc):
            for x in coll(c, loc):
                if body(c, loc + (x,)):
                    return True
            return False
        return any_
    if kind == "filter":
        def filter_(c, loc):
            return [x for x in coll(c, loc) if body(c, loc + (x,))]
        return filter_
    return None


def fused_binder(kind: str, coll: Fn, get: Callable, test: Callable, invariant: Fn, item_first: bool) -> Fn | None:
    """all / any / filter whose body tests the item (or one of its fields) against a value that does
    not depend on the item: the value is computed once, and the loop runs without closure calls.

    `get` takes the item's value out of the item (`operator.itemgetter(field)`); `test(item value,
    invariant)` when `item_first`, else `test(invariant, item value)`.
    """
    if item_first:
        if kind == "all":
            def all_item_first(c, loc):
                xs = coll(c, loc)
                k = invariant(c, loc)
                for x in xs:
                    if not test(get(x), k):
                        return False
                return True
            return all_item_first
        if kind == "any":
            def any_item_first(c, loc):
                xs = coll(c, loc)
                k = invariant(c, loc)
                for x in xs:
                    if test(get(x), k):
                        return True
                return False
            return any_item_first
        if kind == "filter":
            def filter_item_first(c, loc):
                xs = coll(c, loc)
                k = invariant(c, loc)
                return [x for x in xs if test(get(x), k)]
            return filter_item_first
        return None
    if kind == "all":
        def all_value_first(c, loc):
            xs = coll(c, loc)
            k = invariant(c, loc)
            for x in xs:
                if not test(k, get(x)):
                    return False
            return True
        return all_value_first
    if kind == "any":
        def any_value_first(c, loc):
            xs = coll(c, loc)
            k = invariant(c, loc)
            for x in xs:
                if test(k, get(x)):
                    return True
            return False
        return any_value_first
    if kind == "filter":
        def filter_value_first(c, loc):
            xs = coll(c, loc)
            k = invariant(c, loc)
            return [x for x in xs if test(k, get(x))]
        return filter_value_first
    return None


def apply2(op: Callable, left: tuple, right: tuple) -> Fn:
    """`op(left, right)` (a comparison or arithmetic) with each operand given as an operand form:
    ("const", value), ("field", depth, name) for a binder item's field, or ("fn", closure).
    Constants and item fields are read inline rather than through a closure call."""
    lk, rk = left[0], right[0]
    if lk == "const" and rk == "const":  # folded by the compiler when it can be; else an error at run time
        left, lk = ("fn", _const_fn(left[1])), "fn"
    if lk == "field" and rk == "const":
        d, f, k = left[1], left[2], right[1]

        def field_const(c, loc):
            return op(loc[d][f], k)
        return field_const
    if lk == "const" and rk == "field":
        k, d, f = left[1], right[1], right[2]

        def const_field(c, loc):
            return op(k, loc[d][f])
        return const_field
    if lk == "field":
        d, f, r = left[1], left[2], right[1] if rk == "fn" else _const_fn(right[1])

        def field_fn(c, loc):
            return op(loc[d][f], r(c, loc))
        return field_fn
    if rk == "field":
        l, d, f = left[1] if lk == "fn" else _const_fn(left[1]), right[1], right[2]

        def fn_field(c, loc):
            return op(l(c, loc), loc[d][f])
        return fn_field
    if rk == "const" and hasattr(left[1], "on_fact") and type(right[1]) is Decimal:  # `age(birth_date) < 18`
        return _call_const(op, *left[1].on_fact, right[1])
    if rk == "const":
        l, k = left[1], right[1]

        def fn_const(c, loc):
            return op(l(c, loc), k)
        return fn_const
    if lk == "const":
        k, r = left[1], right[1]

        def const_fn(c, loc):
            return op(k, r(c, loc))
        return const_fn
    l, r = left[1], right[1]

    def fn_fn(c, loc):
        return op(l(c, loc), r(c, loc))
    return fn_fn


def _call_const(op: Callable, fn, name: str, form: str, k) -> Fn:
    """A builtin on a fact compared with a constant, in one closure (see `call`): `op(builtin(fact), k)`,
    `op(builtin(fact, today), k)`, or, for a count of whole years or months, `op(whole(fact, today), k)`."""
    if form == "whole":
        def whole_fact_today_const(c, loc):
            return op(fn(c.facts[name], c.as_of), k)
        return whole_fact_today_const
    if form == "today":
        def call_fact_today_const(c, loc):
            return op(fn(c, c.facts[name], c.as_of), k)
        return call_fact_today_const

    def call_fact_const(c, loc):
        return op(fn(c, c.facts[name]), k)
    return call_fact_const


def _const_fn(v) -> Fn:
    def const(c, loc):
        return v
    return const


def as_set(fn: Fn) -> Fn:
    """A list as a frozenset, for `in` tests by hash (equal numbers hash alike); unhashable items: the list."""
    def as_set(c, loc):
        xs = fn(c, loc)
        try:
            return frozenset(xs)
        except TypeError:
            return xs
    return as_set


def all_matched(coll: Fn, records: Fn, get: Callable) -> Fn:
    """`all(k in coll: any(y in records: y.f == k))`: every value has a record, tested on a set.

    Values that cannot go in a set (records, lists) raise TypeError, and the engine falls back.
    """
    def all_matched(c, loc):
        ks = coll(c, loc)
        if not ks:
            return True
        found = set(map(get, records(c, loc)))  # no comprehension frame
        for k in ks:
            if k not in found:
                return False
        return True
    return all_matched


_FLIPPED = {operator.ge: operator.le, operator.le: operator.ge, operator.gt: operator.lt, operator.lt: operator.gt,
            operator.eq: operator.eq, operator.ne: operator.ne}


def fused_items(kind: str, coll: Fn, left: Callable, right: Callable, test: Callable) -> Fn | None:
    """all / any / filter whose body compares two values computed from the item alone
    (`y.income_tax >= 20% * y.salary`): `left` and `right` take the item."""
    if hasattr(left, "scaled") and type(right) is operator.itemgetter and test in _FLIPPED:
        left, right, test = right, left, _FLIPPED[test]  # `k * y.a <= y.b` tested as `y.b >= y.a * k`
    if type(left) is operator.itemgetter and hasattr(right, "scaled"):
        return _fused_scaled(kind, coll, left, *right.scaled, test)
    if kind == "all":
        def all_items(c, loc):
            for x in coll(c, loc):
                if not test(left(x), right(x)):
                    return False
            return True
        return all_items
    if kind == "any":
        def any_items(c, loc):
            for x in coll(c, loc):
                if test(left(x), right(x)):
                    return True
            return False
        return any_items
    if kind == "filter":
        def filter_items(c, loc):
            return [x for x in coll(c, loc) if test(left(x), right(x))]
        return filter_items
    return None


def _fused_scaled(kind: str, coll: Fn, left: Callable, get: Callable, op: Callable, k, test: Callable) -> Fn | None:
    """fused_items for `y.a test y.b op k`, the commonest form (`y.income_tax >= y.salary * 20%`), with
    no Python call per item: `left` and `get` are item getters, `op` and `test` C functions."""
    if kind == "all":
        def all_scaled(c, loc):
            for x in coll(c, loc):
                if not test(left(x), op(get(x), k)):
                    return False
            return True
        return all_scaled
    if kind == "any":
        def any_scaled(c, loc):
            for x in coll(c, loc):
                if test(left(x), op(get(x), k)):
                    return True
            return False
        return any_scaled
    if kind == "filter":
        def filter_scaled(c, loc):
            return [x for x in coll(c, loc) if test(left(x), op(get(x), k))]
        return filter_scaled
    return None


def item_arith(op: Callable, k, get: Callable, const_first: bool) -> Callable:
    """`k op item value` (or `item value op k`) as a function of the item. The compiler passes a
    commutative `k op item value` as `item value op k`, which fused_items can run inline."""
    if const_first:
        def const_op_item(x):
            return op(k, get(x))
        return const_op_item

    def item_op_const(x):
        return op(get(x), k)
    if type(get) is operator.itemgetter:
        item_op_const.scaled = (get, op, k)
    return item_op_const
