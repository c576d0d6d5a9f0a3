"""The three-valued closures: each expression compiled once into `fn(case, loc)`, Kleene logic over unknowns.

`case` holds the facts, the as-of date, the parameter tables and the memo of rules
(`case.memo`); `loc` is the tuple of binder items in scope. A value that misses a fact
or a parameter value is an `Unknown`. Constants are folded and values fixed for a date
are computed once per date, as the analysis says; otherwise each closure does what
the reference evaluator does for its node, and the differential tests hold it to that.
"""
from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Any, Callable

from .. import syntax as A
from ..builtins import BUILTINS, EvalError
from ..typesys import DATE, NUMBER, STRING
from ..values import DECIMAL_CONTEXT, Duration, Record, Unknown, add_duration
from .analysis import NOT_CONSTANT, Analysis
from .budget import STEPS, join_strings, over_budget
from .counting import counted, decide
from .errors import COMPARE, EvalFailure
from .rules import combine_exceptions, exceptions_of, in_force

__all__ = ["Fn", "KleeneCompiler", "Compiled", "CompiledOutcome", "constant", "per_date", "arith", "union"]

Fn = Callable[[Any, tuple], Any]
_MISSING = object()
_FOLDABLE = (A.Binary, A.Unary, A.Compare, A.BoolOp, A.Not, A.In, A.If, A.ListExpr, A.Call)
_HOISTABLE = (A.Binary, A.Call, A.Index, A.If, A.ListExpr)


class CompiledOutcome:
    __slots__ = ("policy", "name", "when", "values")

    def __init__(self, policy, name: str, when: Fn, values: dict[str, Fn]):
        self.policy, self.name, self.when, self.values = policy, name, when, values


class Compiled:
    """A policy set's outcomes compiled by one back-end, in the set's order."""

    def __init__(self, outcomes: list[CompiledOutcome], rule_fns: dict):
        self.outcomes, self.rule_fns = outcomes, rule_fns


def union(a, b) -> Unknown:
    """The unknown of two operands at least one of which is unknown: what both miss."""
    if type(a) is Unknown:
        return a | b if type(b) is Unknown else a
    return b


def constant(v) -> Fn:
    def const(c, loc):
        return v
    const.const = v
    return const


def per_date(fn: Fn) -> Fn:
    """A value that depends only on the as-of date: computed once per date, not once per case."""
    cache: dict = {}

    def per_date(c, loc):
        v = cache.get(c.as_of, _MISSING)
        if v is _MISSING:
            v = fn(c, loc)
            if len(cache) < 64:
                cache[c.as_of] = v
        return v
    per_date.per_date = True
    return per_date


def decimal_failure(e: decimal.DecimalException, span) -> EvalFailure:
    if isinstance(e, decimal.Overflow):
        return EvalFailure("number-too-large", "a number grew beyond the supported range", span)
    return EvalFailure("invalid-number", "an arithmetic operation has no defined result", span)


def arith(op: str, span) -> Callable:
    """Exact decimal `+ - * /` of two known numbers; a trapped condition is an error at `span`."""
    ctx = DECIMAL_CONTEXT
    fn = {"+": ctx.add, "-": ctx.subtract, "*": ctx.multiply, "/": ctx.divide}[op]
    if op == "/":
        def divide(a, b):
            if not b:
                raise EvalFailure("division-by-zero", "division by zero", span)
            try:
                return fn(a, b)
            except decimal.DecimalException as e:
                raise decimal_failure(e, span)
        divide.exact = fn
        return divide

    def arithmetic(a, b):
        try:
            return fn(a, b)
        except decimal.DecimalException as e:
            raise decimal_failure(e, span)
    arithmetic.exact = fn  # the C operation itself, for loops that convert its traps once around the loop
    return arithmetic


def binary_op(types: dict, n: A.Binary) -> Callable:
    """The operation of `a op b` on two known values: exact decimals, dates and durations, strings."""
    lt, rt = types[id(n.left)], types[id(n.right)]
    span = n.span
    if lt == NUMBER and rt == NUMBER:
        return arith(n.op, span)
    if lt == DATE or rt == DATE:
        sign = -1 if n.op == "-" else 1

        def date_op(a, b):
            d, dur = (b, a) if isinstance(a, Duration) else (a, b)
            try:
                return add_duration(d, dur if sign == 1 else -dur)
            except (OverflowError, ValueError):
                raise EvalFailure("date-out-of-range", "the date falls outside the years 1 to 9999", span)
        return date_op
    if lt == STRING:
        return join_strings(span)
    if n.op == "+":
        return lambda a, b: a + b  # noqa: E731 - durations
    return lambda a, b: a - b  # noqa: E731


def kleene2(op: str, l: Fn, r: Fn) -> Fn:
    """Kleene `l and r` / `l or r`, as the reference evaluator's `BoolOp`."""
    if op == "and":
        def and_(c, loc):
            try:
                a = l(c, loc)
            except EvalFailure:
                if r(c, loc) is False:
                    return False
                raise
            if a is False:
                return False
            b = r(c, loc)
            if b is False:
                return False
            if a is True:
                return b
            return a if b is True else a | b
        return and_

    def or_(c, loc):
        try:
            a = l(c, loc)
        except EvalFailure:
            if r(c, loc) is True:
                return True
            raise
        if a is True:
            return True
        b = r(c, loc)
        if b is True:
            return True
        if a is False:
            return b
        return a if b is False else a | b
    return or_


def kleene_n(op: str, fns: list[Fn]) -> Fn:
    """Kleene `a and b and c ...` / `or`, as the nested two-operand closures decide it: the first operand
    that decides (false for `and`, true for `or`) ends it; an error is raised only when no later operand
    decides (the last error, if several); otherwise unknown when any operand is unknown."""
    stop = op == "or"
    fns = tuple(fns)

    def chain(c, loc):
        unknown = error = None
        for f in fns:
            try:
                v = f(c, loc)
            except EvalFailure as e:
                error = e
                continue
            if v is stop:
                return stop
            if type(v) is Unknown and error is None:
                unknown = v if unknown is None else unknown | v
        if error is not None:
            raise error
        return (not stop) if unknown is None else unknown
    return chain


class KleeneCompiler:
    """Compiles the expressions of a checked set into three-valued closures."""

    def __init__(self, checked, params: dict | None = None, analysis: Analysis | None = None):
        """`params`: the parameter tables in force, whose single values may be folded in as constants."""
        self.checked = checked
        self.analysis = analysis or Analysis(checked, params)
        self.refs, self.types = checked.refs, checked.types
        self.depth = 0  # binders around the node being compiled: its item is `loc[depth]`
        self.policy: str | None = None
        self.rule_fns: dict[tuple[str, str], Fn] = {}

    # ---- the whole set
    def compile_set(self) -> Compiled:
        outcomes = []
        for p in self.checked.policies.values():
            for name, r in p.rules.items():
                self.rule_fns[(p.id, name)] = self.expr(r.expr.node, p.id) if r.expr is not None \
                    else self.exceptions_rule(p, r)
            for name, o in p.outcomes.items():
                fn = self.rule_fns[(p.id, "outcome:" + name)] = self.expr(o.when.node, p.id)
                outcomes.append(CompiledOutcome(p, name, fn, {k: self.expr(e.node, p.id) for k, e in o.values.items()}))
        return Compiled(outcomes, self.rule_fns)

    def exceptions_rule(self, p, r) -> Fn:
        base = self.expr(r.base.node, p.id)
        excs = [(self.expr(e.when.node, e.policy_id), self.expr(e.value.node, e.policy_id), e, period)
                for e, period in exceptions_of(self.checked, p.id, r)]
        span = r.span

        def rule(c, loc):
            return combine_exceptions([(lambda w=w: w(c, loc), lambda v=v: v(c, loc), d)
                                       for w, v, d, period in excs if in_force(period, c.as_of)],
                                      lambda: base(c, loc), span)
        return rule

    def expr(self, node: A.Node, policy: str | None = None) -> Fn:
        """Compile one expression of `policy` (the policy whose coverage its conditions count for)."""
        self.policy = policy
        self.depth = 0
        try:
            fn = self.c(node)
        except RecursionError:
            raise EvalFailure("expression-too-deep", "expression is nested too deeply", node.span)
        return self.guard(fn, node.span)

    def guard(self, fn: Fn, span) -> Fn:
        def guarded(c, loc):
            try:
                return fn(c, loc)
            except RecursionError:
                raise EvalFailure("expression-too-deep", "evaluation nested too deeply", span)
        return guarded

    # ---- dispatch
    def c(self, node: A.Node) -> Fn:
        if isinstance(node, _FOLDABLE):
            k = self.analysis.constant(node)
            if k is not NOT_CONSTANT:
                return constant(k)
        fn = getattr(self, "c_" + type(node).__name__)(node)
        if not hasattr(fn, "const") and isinstance(node, _HOISTABLE) and self.analysis.same_for_a_date(node):
            return per_date(fn)
        return fn

    # ---- leaves
    def c_Literal(self, n: A.Literal) -> Fn:
        return constant(n.value)

    def c_Name(self, n: A.Name) -> Fn:
        return self.ref(self.refs[id(n)], n)

    def ref(self, r, n: A.Node) -> Fn:
        if r.kind == "local":
            d = r.depth
            return lambda c, loc: loc[d]
        if r.kind == "today":
            return today
        if r.kind == "input":
            return self.fact(r.name)
        if r.kind == "param":
            if self.analysis.single_valued(r):
                return constant(self.analysis.params[r.policy][r.name].value)
            return self.param(r.policy, r.name)
        return self.rule(r)

    def fact(self, name: str) -> Fn:
        unknown = Unknown(frozenset([name]))

        def fact(c, loc):
            v = c.facts.get(name, _MISSING)
            return unknown if v is _MISSING else v
        return fact

    def param(self, pid: str, name: str) -> Fn:
        def param(c, loc):
            return c.params[pid][name].current(c.as_of, pid)
        return param

    def rule(self, r) -> Fn:
        key = (r.policy, r.name) if r.kind == "rule" else (r.policy, "outcome:" + r.name)
        rule_fns = self.rule_fns
        memo_key = f"{key[0]}\0{key[1]}"  # a string keeps its hash; a tuple hashes again on every lookup

        def rule(c, loc):
            memo = c.memo
            v = memo.get(memo_key, _MISSING)
            if v is _MISSING:
                v = memo[memo_key] = rule_fns[key](c, ())
            return v
        return rule

    def c_Field(self, n: A.Field) -> Fn:
        r = self.refs.get(id(n))
        if r is not None:
            return self.ref(r, n)
        name = n.name
        local = self.analysis.local_field(n)
        if local is not None:
            d = local[0]

            def local_field(c, loc):  # `y.salary` for a binder's item: one step
                v = loc[d]
                if type(v) is Unknown:
                    return v
                x = v.get(name, _MISSING)
                if x is _MISSING:
                    return Unknown(frozenset([f"{v.path}.{name}"]))
                return x
            return local_field
        target = self.c(n.target)

        def field(c, loc):
            v = target(c, loc)
            if type(v) is Unknown:
                return v
            x = v.get(name, _MISSING)
            if x is _MISSING:
                path = v.path if isinstance(v, Record) else "?"
                return Unknown(frozenset([f"{path}.{name}"]))
            return x
        return field

    def c_Index(self, n: A.Index) -> Fn:
        r = self.refs[id(n.target)]
        pid, name = r.policy, r.name
        key = self.c(n.key)
        span = n.key.span

        def index(c, loc):
            k = key(c, loc)
            if type(k) is Unknown:
                return k
            return c.params[pid][name].at(k, pid, span)
        return index

    # ---- operators
    def c_Unary(self, n: A.Unary) -> Fn:
        x = self.c(n.operand)

        def neg(c, loc):
            v = x(c, loc)
            if type(v) is Unknown:
                return v
            return v.copy_negate() if type(v) is Decimal else -v  # exact: never rounded by a context
        return neg

    def c_Binary(self, n: A.Binary) -> Fn:
        l, r = self.c(n.left), self.c(n.right)
        op = binary_op(self.types, n)

        def binary(c, loc):
            a = l(c, loc)
            b = r(c, loc)
            if type(a) is Unknown or type(b) is Unknown:
                return union(a, b)
            return op(a, b)
        return binary

    def c_Compare(self, n: A.Compare) -> Fn:
        l, r = self.c(n.left), self.c(n.right)
        test = COMPARE[n.op]
        ranges = (self.count_range(n.left), self.count_range(n.right))
        if ranges != (None, None):
            return counted_compare(n.op, l, r, *ranges)
        k = getattr(r, "const", NOT_CONSTANT)
        if k is not NOT_CONSTANT:
            def compare_const(c, loc):
                a = l(c, loc)
                return a if type(a) is Unknown else test(a, k)
            return compare_const

        def compare(c, loc):
            a, b = l(c, loc), r(c, loc)
            if type(a) is Unknown or type(b) is Unknown:
                return union(a, b)
            return test(a, b)
        return compare

    def count_range(self, node: A.Node) -> Fn | None:
        """For a counted expression (see counting.py): a closure giving the least and the most it can be
        when it is unknown and its list is known (else None); None when the node is not counted."""
        found = counted(self.checked, node)
        if found is None:
            return None
        binder, in_rule = found
        saved = self.depth
        self.depth = 0 if in_rule else saved
        try:
            coll = self.c(binder.collection)
            self.depth += 1
            body = self.c(binder.body)
        finally:
            self.depth = saved

        def count_range(c, loc):
            base = () if in_rule else loc
            xs = coll(c, base)
            if type(xs) is Unknown:
                return None
            low = high = 0
            for x in xs:
                v = body(c, base + (x,))
                if v is True:
                    low += 1
                    high += 1
                elif type(v) is Unknown:
                    high += 1
            return low, high
        return count_range

    def c_BoolOp(self, n: A.BoolOp) -> Fn:
        if isinstance(n.left, A.BoolOp) and n.left.op == n.op:
            return self.chain(n)
        l, r = self.c(n.left), self.c(n.right)
        k = getattr(l, "const", NOT_CONSTANT)
        if k is True:
            return constant(True) if n.op == "or" else r
        if k is False:
            return r if n.op == "or" else constant(False)
        return kleene2(n.op, l, r)

    def chain_operands(self, n: A.BoolOp) -> list[A.Node]:
        """The operands of `a and b and c` (or `or`), left to right; parenthesised groups stay whole."""
        operands, x = [], n
        while isinstance(x, A.BoolOp) and x.op == n.op:
            operands.append(x.right)
            x = x.left
        operands.append(x)
        return operands[::-1]

    def chain(self, n: A.BoolOp) -> Fn:
        """`a and b and c` (or `or`) as one closure over its operands, constants dropped or deciding the whole."""
        decides = n.op == "or"  # the constant that decides the whole: true for `or`, false for `and`
        fns = []
        for x in self.chain_operands(n):
            fn = self.c(x)
            k = getattr(fn, "const", NOT_CONSTANT)
            if k is decides:
                return constant(decides)  # whatever the others are, even unknown or failing
            if type(k) is bool:
                continue
            fns.append(fn)
        if not fns:
            return constant(not decides)
        if len(fns) == 1:
            return fns[0]
        return kleene2(n.op, fns[0], fns[1]) if len(fns) == 2 else kleene_n(n.op, fns)

    def c_Not(self, n: A.Not) -> Fn:
        x = self.c(n.operand)

        def not_(c, loc):
            v = x(c, loc)
            return v if type(v) is Unknown else not v
        return not_

    def c_In(self, n: A.In) -> Fn:
        item, coll = self.c(n.item), self.c(n.collection)
        neg = n.negated

        def in_(c, loc):
            a = item(c, loc)
            b = coll(c, loc)
            if type(a) is Unknown or type(b) is Unknown:
                return union(a, b)
            return (a not in b) if neg else (a in b)
        return in_

    def c_If(self, n: A.If) -> Fn:
        cond, then, orelse = self.c(n.cond), self.c(n.then), self.c(n.orelse)
        k = getattr(cond, "const", NOT_CONSTANT)
        if k is True:
            return then
        if k is False:
            return orelse
        return if_closure(cond, then, orelse)

    def c_ListExpr(self, n: A.ListExpr) -> Fn:
        items = [self.c(i) for i in n.items]

        def list_(c, loc):
            out = [f(c, loc) for f in items]
            unknown = None
            for v in out:
                if type(v) is Unknown:
                    unknown = v if unknown is None else unknown | v
            return out if unknown is None else unknown
        return list_

    def c_Call(self, n: A.Call) -> Fn:
        impl = BUILTINS[n.func].impl
        args = [self.c(a) for a in n.args]
        span = n.span

        def call(c, loc):
            vals = [f(c, loc) for f in args]
            u = None
            for v in vals:
                if type(v) is Unknown:
                    u = v if u is None else u | v
            if u is not None:
                return u
            try:
                return impl(c, *vals)
            except EvalError as e:
                raise EvalFailure(e.code, e.message, span)
        return call

    def c_Binder(self, n: A.Binder) -> Fn:
        coll = self.c(n.collection)
        depth = self.depth
        self.depth += 1
        try:
            body = self.c(n.body)
        finally:
            self.depth = depth
        return binder(n.kind, coll, body, n.span)


def compare_unknown(op: str, a, b, left_range: Fn | None, right_range: Fn | None, c, loc):
    """A comparison with an unknown operand: decided when that operand is counted and its range decides
    (see counting.py), else unknown, missing what the operands miss."""
    for value, other, count_range, on_left in ((a, b, left_range, True), (b, a, right_range, False)):
        if count_range is not None and type(value) is Unknown and type(other) is not Unknown:
            span = count_range(c, loc)
            if span is not None:
                d = decide(op, span[0], span[1], other, on_left)
                if d is not None:
                    return d
    return union(a, b)


def counted_compare(op: str, l: Fn, r: Fn, left_range: Fn | None, right_range: Fn | None) -> Fn:
    test = COMPARE[op]

    def compare(c, loc):
        a, b = l(c, loc), r(c, loc)
        if type(a) is Unknown or type(b) is Unknown:
            return compare_unknown(op, a, b, left_range, right_range, c, loc)
        return test(a, b)
    return compare


def today(c, loc):
    """`today`, the as-of date (on every path: it is never unknown)."""
    return c.as_of


def if_closure(cond: Fn, then: Fn, orelse: Fn) -> Fn:
    """`if c then a else b`, as the reference evaluator's `If`."""
    def if_(c, loc):
        k = cond(c, loc)
        if k is True:
            return then(c, loc)
        if k is False:
            return orelse(c, loc)
        try:  # either branch may be the one taken: an error in one is not yet an error
            a = then(c, loc)
            b = orelse(c, loc)
        except EvalFailure:
            return k
        if type(a) is not Unknown and type(b) is not Unknown and a == b:
            return a
        return union(union(k, a), b)
    return if_


def binder(kind: str, coll: Fn, body: Fn, span) -> Fn:
    """A binder over three-valued closures: `body` takes its item as the last of `loc`."""
    if kind == "all":
        def all_(c, loc):
            xs = coll(c, loc)
            if type(xs) is Unknown:
                return xs
            c.steps += len(xs)
            if c.steps > STEPS:
                raise over_budget(span)
            unknown = None
            for x in xs:
                v = body(c, loc + (x,))
                if v is False:
                    return False
                if v is not True:
                    unknown = v if unknown is None else unknown | v
            return True if unknown is None else unknown
        return all_
    if kind == "any":
        def any_(c, loc):
            xs = coll(c, loc)
            if type(xs) is Unknown:
                return xs
            c.steps += len(xs)
            if c.steps > STEPS:
                raise over_budget(span)
            unknown = None
            for x in xs:
                v = body(c, loc + (x,))
                if v is True:
                    return True
                if v is not False:
                    unknown = v if unknown is None else unknown | v
            return False if unknown is None else unknown
        return any_

    def run(c, loc):
        xs = coll(c, loc)
        if type(xs) is Unknown:
            return xs
        c.steps += len(xs)
        if c.steps > STEPS:
            raise over_budget(span)
        values, unknown = [], None
        for x in xs:
            v = body(c, loc + (x,))
            if type(v) is Unknown:
                unknown = v if unknown is None else unknown | v
            else:
                values.append(v)
        if unknown is not None:
            return unknown
        return finish(kind, xs, values, span)
    return run


def finish(kind: str, xs: list, values: list, span):
    """count, sum, min, max, filter or map of a binder whose body values (`values`, one per item) are known."""
    if kind == "count":
        return Decimal(values.count(True))
    if kind == "filter":
        return [x for x, v in zip(xs, values) if v is True]
    if kind == "map":
        return values
    if kind == "sum":
        total = Decimal(0)
        try:
            for v in values:
                total = DECIMAL_CONTEXT.add(total, v)
        except decimal.DecimalException as e:
            raise decimal_failure(e, span)
        return total
    if not values:
        raise EvalFailure("empty-list", f"`{kind}` over an empty list has no value", span)
    return min(values) if kind == "min" else max(values)
