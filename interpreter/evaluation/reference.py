"""The reference evaluator: the definition of what an expression and a policy set mean.

A plain tree-walking interpreter over the checked AST, written to be read next to
docs/language.md, with no speed tricks: no constant folding, no fused loops, no
two-valued shortcuts. Every other way of evaluating (the three-valued closures,
the two-valued fast path, the traced closures) is tested against it on randomly
generated policies and facts (tests/test_differential.py); where they disagree,
this module is right.

Values are those of the language (Decimal, str, bool, None, date, Duration, list,
Record) or `Unknown`, which carries the fact paths and parameter values it misses.
Evaluation errors raise `EvalFailure` with the position of the failing node.
"""
from __future__ import annotations

import datetime as _dt
import decimal
from dataclasses import dataclass, field
from decimal import Decimal

from .. import syntax as A
from ..builtins import BUILTINS, EvalError
from ..typesys import DATE, NUMBER, STRING
from ..values import DECIMAL_CONTEXT, Duration, Record, Unknown, add_duration
from .budget import STEPS, join_strings, over_budget
from .counting import counted, decide
from .errors import COMPARE, EvalFailure
from .rules import combine_exceptions, exceptions_of, in_force

__all__ = ["Reference", "ReferenceResult"]


@dataclass
class ReferenceResult:
    """The decision on one outcome: what the compiled paths' `OutcomeResult` must agree with."""
    policy: str
    outcome: str
    status: str                      # applies, does_not_apply, undetermined, not_in_force, error
    values: dict = field(default_factory=dict)
    missing: Unknown = field(default_factory=Unknown)  # what `when` misses (undetermined) or the values miss
    unknown_values: list = field(default_factory=list)
    errors: list = field(default_factory=list)           # codes of the evaluation errors, in order


class _Context:
    """One evaluation: the facts, the date, the parameter tables and the rules computed so far."""

    def __init__(self, facts, as_of: _dt.date, params):
        self.facts, self.as_of, self.params = facts, as_of, params
        self.rules: dict = {}   # (policy, rule) -> value or EvalFailure
        self.steps = 0          # the budget spent by the outcome being decided


class Reference:
    """Evaluate a checked policy set by walking its expressions."""

    def __init__(self, checked, params):
        self.checked, self.params = checked, params

    # ---- outcomes
    def evaluate(self, facts, as_of: _dt.date) -> list[ReferenceResult]:
        ctx = _Context(facts, as_of, self.params)
        out = []
        for pid, p in self.checked.policies.items():
            for name, o in p.outcomes.items():
                res = ReferenceResult(pid, name, "undetermined")
                out.append(res)
                if (p.in_force_from and as_of < p.in_force_from) or (p.in_force_until and as_of > p.in_force_until):
                    res.status = "not_in_force"
                    continue
                ctx.steps = 0
                try:
                    v = self.rule(ctx, pid, "outcome:" + name)
                except EvalFailure as e:
                    res.status, res.errors = "error", [e.code]
                    continue
                if v is True:
                    res.status = "applies"
                    for k, e in o.values.items():
                        try:
                            x = self.eval(e.node, ctx, ())
                        except EvalFailure as err:
                            res.errors.append(err.code)
                            continue
                        if type(x) is Unknown:
                            res.missing = res.missing | x
                            res.unknown_values.append(k)
                        else:
                            res.values[k] = x
                elif v is False:
                    res.status = "does_not_apply"
                else:
                    res.missing = v
        return out

    # ---- rules (pure: each is computed once per evaluation)
    def rule(self, ctx: _Context, pid: str, name: str):
        key = (pid, name)
        if key not in ctx.rules:
            try:
                ctx.rules[key] = self._rule(ctx, pid, name)
            except EvalFailure as e:
                ctx.rules[key] = e
        v = ctx.rules[key]
        if isinstance(v, EvalFailure):
            raise v
        return v

    def _rule(self, ctx: _Context, pid: str, name: str):
        p = self.checked.policies[pid]
        if name.startswith("outcome:"):
            return self.eval(p.outcomes[name[len("outcome:"):]].when.node, ctx, ())
        r = p.rules[name]
        if r.expr is not None:
            return self.eval(r.expr.node, ctx, ())
        return combine_exceptions(
            [(lambda e=e: self.eval(e.when.node, ctx, ()), lambda e=e: self.eval(e.value.node, ctx, ()), e)
             for e, period in exceptions_of(self.checked, pid, r) if in_force(period, ctx.as_of)],
            lambda: self.eval(r.base.node, ctx, ()), r.span)

    # ---- expressions
    def eval(self, node: A.Node, ctx: _Context, loc: tuple):
        """The value of `node`; `loc` holds the binder items in scope, outermost first."""
        try:
            return getattr(self, "e_" + type(node).__name__)(node, ctx, loc)
        except decimal.Overflow:
            raise EvalFailure("number-too-large", "a number grew beyond the supported range", node.span)
        except decimal.InvalidOperation:
            raise EvalFailure("invalid-number", "an arithmetic operation has no defined result", node.span)

    def e_Literal(self, n: A.Literal, ctx, loc):
        return n.value

    def e_Name(self, n: A.Name, ctx, loc):
        return self.ref(n, ctx, loc)

    def ref(self, n: A.Node, ctx, loc):
        r = self.checked.refs[id(n)]
        if r.kind == "local":
            return loc[r.depth]
        if r.kind == "today":
            return ctx.as_of
        if r.kind == "input":
            return ctx.facts[r.name] if r.name in ctx.facts else Unknown(frozenset([r.name]))
        if r.kind == "param":
            return ctx.params[r.policy][r.name].current(ctx.as_of, r.policy)
        return self.rule(ctx, r.policy, r.name if r.kind == "rule" else "outcome:" + r.name)

    def e_Field(self, n: A.Field, ctx, loc):
        if id(n) in self.checked.refs:  # `alias.rule`
            return self.ref(n, ctx, loc)
        v = self.eval(n.target, ctx, loc)
        if type(v) is Unknown:
            return v
        if n.name not in v:
            return Unknown(frozenset([f"{v.path if isinstance(v, Record) else '?'}.{n.name}"]))
        return v[n.name]

    def e_Index(self, n: A.Index, ctx, loc):
        r = self.checked.refs[id(n.target)]
        k = self.eval(n.key, ctx, loc)
        if type(k) is Unknown:
            return k
        return ctx.params[r.policy][r.name].at(k, r.policy, n.key.span)

    def e_Unary(self, n: A.Unary, ctx, loc):
        v = self.eval(n.operand, ctx, loc)
        if type(v) is Unknown:
            return v
        return v.copy_negate() if type(v) is Decimal else -v

    def e_Binary(self, n: A.Binary, ctx, loc):
        a = self.eval(n.left, ctx, loc)
        b = self.eval(n.right, ctx, loc)
        if type(a) is Unknown or type(b) is Unknown:
            return _union(a, b)
        lt, rt = self.checked.types[id(n.left)], self.checked.types[id(n.right)]
        if lt == NUMBER and rt == NUMBER:
            if n.op == "/" and b == 0:
                raise EvalFailure("division-by-zero", "division by zero", n.span)
            op = {"+": DECIMAL_CONTEXT.add, "-": DECIMAL_CONTEXT.subtract, "*": DECIMAL_CONTEXT.multiply,
                  "/": DECIMAL_CONTEXT.divide}[n.op]
            return op(a, b)
        if lt == DATE or rt == DATE:
            d, dur = (b, a) if isinstance(a, Duration) else (a, b)
            try:
                return add_duration(d, dur if n.op == "+" else -dur)
            except (OverflowError, ValueError):
                raise EvalFailure("date-out-of-range", "the date falls outside the years 1 to 9999", n.span)
        if lt == STRING:
            return join_strings(n.span)(a, b)
        return a + b if n.op == "+" else a - b  # durations

    def e_Compare(self, n: A.Compare, ctx, loc):
        a = self.eval(n.left, ctx, loc)
        b = self.eval(n.right, ctx, loc)
        if type(a) is Unknown or type(b) is Unknown:
            for side, value, other, on_left in ((n.left, a, b, True), (n.right, b, a, False)):
                if type(value) is Unknown and type(other) is not Unknown:
                    span = self.count_range(side, ctx, loc)
                    if span is not None:
                        d = decide(n.op, span[0], span[1], other, on_left)
                        if d is not None:
                            return d
            return _union(a, b)
        return COMPARE[n.op](a, b)

    def count_range(self, node: A.Node, ctx, loc) -> tuple[int, int] | None:
        """For a counted expression (see counting.py) that is unknown: the least and the most it can be,
        when its list is known."""
        found = counted(self.checked, node)
        if found is None:
            return None
        binder, in_rule = found
        base = () if in_rule else loc
        xs = self.eval(binder.collection, ctx, base)
        if type(xs) is Unknown:
            return None
        values = [self.eval(binder.body, ctx, base + (x,)) for x in xs]
        low = sum(1 for v in values if v is True)
        return low, low + sum(1 for v in values if type(v) is Unknown)

    def e_BoolOp(self, n: A.BoolOp, ctx, loc):
        stop = n.op == "or"  # the value that decides: true for `or`, false for `and`
        try:
            a = self.eval(n.left, ctx, loc)
        except EvalFailure:  # an error on the left matters only when the right does not decide
            if self.eval(n.right, ctx, loc) is stop:
                return stop
            raise
        if a is stop:
            return stop
        b = self.eval(n.right, ctx, loc)
        if b is stop:
            return stop
        if a is (not stop):
            return b
        if b is (not stop):
            return a
        return a | b

    def e_Not(self, n: A.Not, ctx, loc):
        v = self.eval(n.operand, ctx, loc)
        return v if type(v) is Unknown else not v

    def e_In(self, n: A.In, ctx, loc):
        a = self.eval(n.item, ctx, loc)
        b = self.eval(n.collection, ctx, loc)
        if type(a) is Unknown or type(b) is Unknown:
            return _union(a, b)
        return (a not in b) if n.negated else (a in b)  # list membership, or a substring of a string

    def e_If(self, n: A.If, ctx, loc):
        k = self.eval(n.cond, ctx, loc)
        if k is True:
            return self.eval(n.then, ctx, loc)
        if k is False:
            return self.eval(n.orelse, ctx, loc)
        try:  # either branch may be the one taken: an error in one is not yet an error
            a = self.eval(n.then, ctx, loc)
            b = self.eval(n.orelse, ctx, loc)
        except EvalFailure:
            return k
        if type(a) is not Unknown and type(b) is not Unknown and a == b:
            return a
        return _union(_union(k, a), b)

    def e_ListExpr(self, n: A.ListExpr, ctx, loc):
        items = [self.eval(x, ctx, loc) for x in n.items]
        unknown = Unknown()
        for v in items:
            if type(v) is Unknown:
                unknown = unknown | v
        return unknown if any(type(v) is Unknown for v in items) else items

    def e_Call(self, n: A.Call, ctx, loc):
        args = [self.eval(x, ctx, loc) for x in n.args]
        if any(type(v) is Unknown for v in args):
            unknown = Unknown()
            for v in args:
                if type(v) is Unknown:
                    unknown = unknown | v
            return unknown
        try:
            return BUILTINS[n.func].impl(ctx, *args)
        except EvalError as e:
            raise EvalFailure(e.code, e.message, n.span)

    def e_Binder(self, n: A.Binder, ctx, loc):
        xs = self.eval(n.collection, ctx, loc)
        if type(xs) is Unknown:
            return xs
        ctx.steps += len(xs)  # the budget (budget.py): a resource limit, not meaning
        if ctx.steps > STEPS:
            raise over_budget(n.span)
        unknown = None
        results = []  # (item, body value) of the items whose body is known
        for x in xs:
            v = self.eval(n.body, ctx, loc + (x,))
            if type(v) is Unknown:
                unknown = v if unknown is None else unknown | v
                continue
            if n.kind == "all" and v is False:
                return False
            if n.kind == "any" and v is True:
                return True
            results.append((x, v))
        if unknown is not None:
            return unknown
        if n.kind == "all":
            return True
        if n.kind == "any":
            return False
        if n.kind == "count":
            return Decimal(sum(1 for _, v in results if v))
        if n.kind == "sum":
            total = Decimal(0)
            for _, v in results:
                total = DECIMAL_CONTEXT.add(total, v)
            return total
        if n.kind == "filter":
            return [x for x, v in results if v]
        if n.kind == "map":
            return [v for _, v in results]
        if not results:
            raise EvalFailure("empty-list", f"`{n.kind}` over an empty list has no value", n.span)
        values = [v for _, v in results]
        return min(values) if n.kind == "min" else max(values)


def _union(a, b) -> Unknown:
    """The unknown of two operands at least one of which is unknown: what both miss."""
    if type(a) is Unknown:
        return a | b if type(b) is Unknown else a
    return b
