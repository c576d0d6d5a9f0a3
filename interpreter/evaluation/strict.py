"""The two-valued fast path: closures for cases whose facts are all there.

Most cases an office evaluates carry every fact a policy reads. For them the
engine first tries the *strict* closures, which never produce an unknown value:
a missing fact, record field or parameter value raises `Fallback` instead, and
every other surprise (an evaluation error, a decimal trap) simply propagates as
well. The engine then decides that outcome with the three-valued closures, which
give the exact answer, the missing facts and the diagnostic with its position.

So the strict closures promise one thing: when they return, they return what the
reference evaluator gives. That frees them to evaluate a binder body's invariant
side once before the loop, to turn `a and b and c` into one loop, and to test a
record field against a value in C (`operator.ge`, `operator.itemgetter`) rather
than through three closure calls per item. Each such form is produced by the
generator of tests/test_differential.py, which holds it to the reference.
"""
from __future__ import annotations

import operator
from decimal import Decimal
from typing import Any, Callable

from .. import syntax as A
from ..builtins import BUILTINS
from ..typesys import ListT, NUMBER
from ..values import Unknown
from .analysis import NOT_CONSTANT
from .budget import STEPS
from .errors import COMPARE
from .kleene import KleeneCompiler, binary_op, binder as kleene_binder, constant, per_date, today

Fn = Callable[[Any, tuple], Any]

__all__ = ["Fallback", "StrictCompiler"]

_MISSING = object()


class Fallback(Exception):
    """A value the strict closures cannot compute: evaluate the outcome with the three-valued ones."""


IN = "in"  # `item in collection` fused as contains(collection, item)


def fact(name: str) -> Fn:
    def fact(c, loc):
        return c.facts[name]  # KeyError when the fact is not given: the three-valued path says which
    fact.fact = name  # read inline by `call`
    return fact


def budgeted(coll: Fn) -> Fn:
    """A binder's list, its items counted against the evaluation budget: past it, the fast path gives up
    (and the three-valued closures report the error)."""
    def items(c, loc):
        xs = coll(c, loc)
        c.steps += len(xs)
        if c.steps > STEPS:
            raise Fallback
        return xs
    return items


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
    if lk == "field" and rk == "field":
        d1, f1, d2, f2 = left[1], left[2], right[1], right[2]

        def field_field(c, loc):  # `y.salary - y.income_tax`: two fields, of one item or of two
            return op(loc[d1][f1], loc[d2][f2])
        return field_field
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
    if rk == "const" and hasattr(left[1], "fact"):  # `income < 60000`: the fact read inline
        name, k = left[1].fact, right[1]

        def fact_const(c, loc):
            return op(c.facts[name], k)
        return fact_const
    if lk == "const" and hasattr(right[1], "fact"):
        k, name = left[1], right[1].fact

        def const_fact(c, loc):
            return op(k, c.facts[name])
        return const_fact
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


class StrictCompiler(KleeneCompiler):
    """Compiles the two-valued closures: where the three-valued ones give unknown, these raise."""

    def __init__(self, checked, params: dict | None = None, analysis=None):
        super().__init__(checked, params, analysis)
        self.inlined: dict = {}  # rule expressions compiled into the places that read them

    def expr(self, node: A.Node, policy: str | None = None) -> Fn:
        self.policy, self.depth = policy, 0
        return self.c(node)  # any exception, RecursionError included, sends the outcome to the three-valued path

    def fact(self, name: str) -> Fn:
        return fact(name)

    def param(self, pid: str, name: str) -> Fn:
        return checked(super().param(pid, name), Unknown)

    def rule(self, r) -> Fn:
        inline = self._inline_rule(r)
        if inline is not None:
            return inline
        key = (r.policy, r.name) if r.kind == "rule" else (r.policy, "outcome:" + r.name)
        rule_fns = self.rule_fns
        memo_key = f"{key[0]}\0{key[1]}"

        def strict_rule(c, loc):
            memo = c.strict_memo
            v = memo.get(memo_key, _MISSING)
            if v is _MISSING:
                v = memo[memo_key] = rule_fns[key](c, ())
            return v
        return strict_rule

    def _inline_rule(self, r) -> Fn | None:
        """A rule compiled into the place that reads it, with no memo to consult, when that place is the only
        one at the top level, or when the rule's value is the same for a whole date."""
        if r.kind != "rule":
            return None
        decl = self.checked.policies[r.policy].rules.get(r.name)
        if decl is None or decl.expr is None:
            return None
        if self.depth != 0 or self.analysis.rule_uses.get((r.policy, r.name)) != 1:
            fn = self._compile_rule(r.policy, decl)  # a value that is the same for the whole date needs no memo
            return fn if hasattr(fn, "const") or hasattr(fn, "per_date") else None
        return self._compile_rule(r.policy, decl)

    def _compile_rule(self, policy: str, decl) -> Fn:
        """A rule's expression compiled at the top level (no binder around it), once."""
        key = id(decl)
        if key not in self.inlined:
            saved = self.policy, self.depth
            self.policy, self.depth = policy, 0
            try:
                self.inlined[key] = self.c(decl.expr.node)
            finally:
                self.policy, self.depth = saved
        return self.inlined[key]

    def c_Field(self, n: A.Field) -> Fn:
        r = self.refs.get(id(n))
        if r is not None:
            return self.ref(r, n)
        local = self.analysis.local_field(n)
        return local_field(*local) if local is not None else field(self.c(n.target), n.name)

    def c_Index(self, n: A.Index) -> Fn:
        return checked(super().c_Index(n), Unknown)

    def c_Binary(self, n: A.Binary) -> Fn:
        l, r = self.c(n.left), self.c(n.right)
        op = binary_op(self.types, n)
        return apply2(getattr(op, "exact", op), self._operand(n.left, l), self._operand(n.right, r))

    def c_Compare(self, n: A.Compare) -> Fn:
        l, r = self.c(n.left), self.c(n.right)
        return apply2(COMPARE[n.op], self._operand(n.left, l), self._operand(n.right, r))

    def _operand(self, node: A.Node, fn: Fn) -> tuple:
        """How an operand is read: a constant, a binder item's field, or a closure."""
        k = getattr(fn, "const", NOT_CONSTANT)
        if k is not NOT_CONSTANT:
            return ("const", k)
        field = self.analysis.local_field(node)
        return ("fn", fn) if field is None else ("field", *field)

    def c_BoolOp(self, n: A.BoolOp) -> Fn:
        return self.chain(n)

    def _chained_rule(self, r, op: str) -> A.Node | None:
        """The expression of a rule read only at this place (at the top level) when it is itself
        `x op y ...`: the chain that reads it takes its operands in."""
        if r.kind != "rule" or self.depth != 0 or self.analysis.rule_uses.get((r.policy, r.name)) != 1:
            return None
        decl = self.checked.policies[r.policy].rules.get(r.name)
        if decl is None or decl.expr is None:
            return None
        node = decl.expr.node
        return node if isinstance(node, A.BoolOp) and node.op == op else None

    def chain(self, n: A.BoolOp) -> Fn:
        """`a and b and c` (or `or`) as one loop over its operands, parenthesised groups and rules read only
        here flattened in, a rule read twice read once (rules are pure), constants dropped or deciding."""
        operands: list[tuple[A.Node, str | None]] = []
        pending: list[tuple[A.Node, str | None]] = [(n, self.policy)]
        rules_read: set[tuple] = set()
        while pending:  # in order, left to right
            x, pid = pending.pop()
            if isinstance(x, A.BoolOp) and x.op == n.op:
                pending += [(x.right, pid), (x.left, pid)]
                continue
            r = self.refs.get(id(x)) if isinstance(x, (A.Name, A.Field)) else None
            if r is not None and r.kind in ("rule", "outcome"):
                if (r.kind, r.policy, r.name) in rules_read:
                    continue
                rules_read.add((r.kind, r.policy, r.name))
                body = self._chained_rule(r, n.op)
                if body is not None:
                    pending.append((body, r.policy))
                    continue
            operands.append((x, pid))
        decides = n.op == "or"
        fns = []
        for x, pid in operands:
            saved, self.policy = self.policy, pid  # a chained rule's operands are read in its own policy
            try:
                fn = self.c(x)
            finally:
                self.policy = saved
            k = getattr(fn, "const", NOT_CONSTANT)
            if k is decides:
                return constant(decides)
            if type(k) is bool:
                continue
            fns.append(fn)
        if not fns:
            return constant(not decides)
        return fns[0] if len(fns) == 1 else bool_chain(n.op, fns)

    def c_Call(self, n: A.Call) -> Fn:
        b = BUILTINS[n.func]
        return call(b.impl, [self.c(a) for a in n.args], b.whole, b.from_today)

    def c_Binder(self, n: A.Binder) -> Fn:
        coll = self.c(n.collection)
        depth = self.depth
        if depth > 0:  # a binder inside a binder: its items count against the budget (budget.py); one at the
            coll = budgeted(coll)  # top goes through at most one list of the facts or of a range, and is not counted
        self.depth += 1
        try:
            body = self.c(n.body)
            fast = self.binder(n, coll, body, depth)
        finally:
            self.depth = depth
        return fast if fast is not None else kleene_binder(n.kind, coll, body, n.span)

    def binder(self, n: A.Binder, coll: Fn, body: Fn, depth: int) -> Fn | None:
        """all / any / filter: fused when the body tests the item against an invariant or against itself."""
        b = n.body
        if n.kind == "all" and isinstance(b, A.Binder) and b.kind == "any" and isinstance(b.body, A.Compare) \
                and b.body.op == "==" and self.analysis.invariant(b.collection, depth):
            for item, other in ((b.body.left, b.body.right), (b.body.right, b.body.left)):
                get = self._item_getter(item, depth + 1)
                r = self.refs.get(id(other)) if isinstance(other, A.Name) else None
                if get is not None and r is not None and r.kind == "local" and r.depth == depth:
                    return all_matched(coll, self.c(b.collection), get)
        if isinstance(b, A.Compare):
            sides = (b.left, b.right, COMPARE[b.op])
        elif isinstance(b, A.In) and not b.negated and isinstance(self.types.get(id(b.collection)), ListT):
            sides = (b.item, b.collection, IN)  # not a substring test: `in` of two strings stays a closure
        else:
            sides = None
        if sides is not None and n.kind in ("all", "any", "filter"):
            left, right, test = sides
            if isinstance(b, A.Compare):
                lf, rf = self._item_fn(left, depth), self._item_fn(right, depth)
                if lf is not None and rf is not None:
                    return fused_items(n.kind, coll, lf, rf, test)
            for item, other, item_first in ((left, right, True), (right, left, False)):
                get = self._item_getter(item, depth)
                if get is None or not self.analysis.invariant(other, depth):
                    continue
                invariant = self.c(other)
                if test == IN:  # `item in list`: contains(list, item)
                    if not item_first:
                        continue
                    test, item_first = operator.contains, False
                    if hasattr(invariant, "const") or hasattr(invariant, "per_date"):  # the same list all day
                        invariant = per_date(as_set(invariant))
                return fused_binder(n.kind, coll, get, test, invariant, item_first)
        return binder(n.kind, coll, body)

    def _item_getter(self, node: A.Node, depth: int):
        """For `var.field` with `var` the binder's item at `depth`: a C getter of the field."""
        field = self.analysis.local_field(node)
        return operator.itemgetter(field[1]) if field is not None and field[0] == depth else None

    def _item_fn(self, node: A.Node, depth: int):
        """A value computed from the binder's item alone, as a function of the item: `y.salary`,
        or a number times (plus, minus, divided by) it, `20% * y.salary`; None for anything else."""
        if isinstance(node, A.If):  # with a constant condition: the branch taken
            k = self.analysis.constant_condition(node.cond)
            return self._item_fn(node.then if k else node.orelse, depth) if k is not None else None
        get = self._item_getter(node, depth)
        if get is not None or not isinstance(node, A.Binary):
            return get
        if self.types.get(id(node.left)) != NUMBER or self.types.get(id(node.right)) != NUMBER:
            return None
        for k_node, item, const_first in ((node.left, node.right, True), (node.right, node.left, False)):
            k = getattr(self.c(k_node), "const", NOT_CONSTANT)
            g = self._item_fn(item, depth) if k is not NOT_CONSTANT else None
            if g is not None:  # `k * v` is `v * k` (and `k + v` is `v + k`) exactly, even when rounded
                op = binary_op(self.types, node)
                return item_arith(getattr(op, "exact", op), k, g, const_first and node.op not in ("*", "+"))
        return None
