"""What a count with unknown items still tells: `count(c in children: minor(c)) > 0` is true as soon as
one child is certainly a minor, whatever the others are.

A *counted* expression is `count(x in xs: cond)` or `len(filter(x in xs: cond))`, written in place or as
the whole expression of a rule that is read. When it is unknown because some items' conditions are
unknown (not because the list itself is), its value is a whole number between the items certainly
counted and those plus the undecided ones. A comparison of it with a known number is decided when every
number in that range gives the same answer; otherwise it stays unknown, as any comparison with an
unknown operand.
"""
from __future__ import annotations

from decimal import Decimal

from .. import syntax as A
from .errors import COMPARE

__all__ = ["counted", "decide"]


def counted(checked, node: A.Node) -> tuple[A.Binder, bool] | None:
    """The `count` or `filter` binder a counted expression counts, and whether it stands in a rule's
    expression (whose binders count their depth from the rule, not from the place that reads it)."""
    in_rule = False
    for _ in range(64):  # rules that are other rules, at most this deep
        if isinstance(node, A.Binder) and node.kind == "count":
            return node, in_rule
        if isinstance(node, A.Call) and node.func == "len" and len(node.args) == 1:
            inner, inner_rule = _through_rules(checked, node.args[0])
            if isinstance(inner, A.Binder) and inner.kind == "filter":
                return inner, in_rule or inner_rule
            return None
        nxt, _ = _through_rules(checked, node)
        if nxt is node:
            return None
        node, in_rule = nxt, True
    return None


def _through_rules(checked, node: A.Node) -> tuple[A.Node, bool]:
    """The expression of the rule a name reads (`n_minors` for `n_minors: count(...)`), else the node."""
    seen = 0
    in_rule = False
    while isinstance(node, (A.Name, A.Field)) and seen < 64:
        r = checked.refs.get(id(node))
        if r is None or r.kind != "rule":
            break
        decl = checked.policies[r.policy].rules.get(r.name)
        if decl is None or decl.expr is None:
            break
        node, in_rule, seen = decl.expr.node, True, seen + 1
    return node, in_rule


def decide(op: str, low: int, high: int, k, count_on_left: bool):
    """`count op k` (or `k op count`) for a whole-number count between `low` and `high`: True or False when
    every count in that range gives it, else None."""
    if type(k) is not Decimal:
        return None
    test = COMPARE[op]
    at_low = test(low, k) if count_on_left else test(k, low)
    at_high = test(high, k) if count_on_left else test(k, high)
    if op in ("<", "<=", ">", ">="):  # monotone in the count: the ends decide the range
        return at_low if at_low == at_high else None
    possible = low <= k <= high and k == k.to_integral_value()  # could the count equal k?
    if not possible:
        return op == "!="
    return at_low if low == high else None
