"""Checked AST -> Python closures, with Kleene three-valued logic over unknown facts.

Each expression compiles once into `fn(case, loc)`: `case` holds the facts,
the as-of date, parameter values and the per-case memo of rules; `loc` is the
tuple of binder variables in scope. A traced variant records trace events;
the untraced one pays nothing for tracing.
"""
from __future__ import annotations

import datetime as _dt
import decimal
import operator
from decimal import Decimal
from typing import Any, Callable

from . import syntax as A
from . import fastpath
from .builtins import BUILTINS, EvalError
from .checker import CheckedSet, Ref
from .diagnostics import Span
from .printer import format_value, to_text
from .typesys import BOOL
from .values import DECIMAL_CONTEXT, Duration, Record, Unknown, add_duration

__all__ = ["Compiler", "Fn", "EvalFailure", "tri_status", "span_key"]

Fn = Callable[[Any, tuple], Any]
_MISSING = object()


class EvalFailure(Exception):
    """An evaluation error at a place in a policy."""

    def __init__(self, code: str, message: str, span: Span | None):
        self.code, self.message, self.span = code, message, span
        super().__init__(message)


def span_key(span: Span | None) -> tuple:
    """A condition's identity for coverage: where it is written."""
    if span is None:
        return ("", 0, 0, 0, 0)
    return (span.file, span.line, span.column, span.end_line, span.end_column)


def tri_status(v) -> str:
    if v is True:
        return "true"
    if v is False:
        return "false"
    if type(v) is Unknown:
        return "unknown"
    return "value"


def _merge(a, b) -> Unknown:
    if type(a) is Unknown:
        return a | b if type(b) is Unknown else a
    return b


def _arith(op: str, span: Span | None):
    ctx = DECIMAL_CONTEXT
    if op == "/":
        def f(a, b):
            if not b:
                raise EvalFailure("division-by-zero", "division by zero", span)
            return ctx.divide(a, b)
        return f
    fn = {"+": ctx.add, "-": ctx.subtract, "*": ctx.multiply}[op]
    return fn


class Compiler:
    """Compiles the expressions of a checked set; `traced` selects the variant that records events."""

    def __init__(self, checked: CheckedSet, traced: bool, params: dict | None = None, strict: bool = False):
        """`params`: parameter tables whose single values the untraced variant may fold in as constants.

        `strict`: build the two-valued fast path (see fastpath.py), which raises instead of giving unknowns.
        """
        self.params = params
        self.checked = checked
        self.traced = traced
        self.strict = strict and not traced
        self.depth = 0  # binders around the node being compiled: its item is `loc[depth]`
        self.const_conditions: dict[int, Any] = {}
        self.inlined: dict[int, Fn] = {}  # rule expressions compiled into the places that read them
        self.rule_uses: dict[tuple, int] = {}  # how many places read each rule
        for ref in checked.refs.values():
            if ref.kind == "rule":
                self.rule_uses[(ref.policy, ref.name)] = self.rule_uses.get((ref.policy, ref.name), 0) + 1
        self.types = checked.types
        self.refs = checked.refs
        self.rule_fns: dict[tuple[str, str], Fn] = {}
        self.policy: str | None = None
        self.field_units = _field_units(checked)

    # ---- entry points
    def expr(self, node: A.Node, policy: str | None = None) -> Fn:
        """Compile one expression of `policy` (the policy whose coverage its conditions count for)."""
        self.policy = policy
        self.depth = 0
        try:
            fn = self.c(node)
        except RecursionError:
            raise EvalFailure("expression-too-deep", "expression is nested too deeply", node.span)
        return fn if self.strict else self._guard(fn, node.span)

    def _guard(self, fn: Fn, span: Span | None) -> Fn:
        def guarded(c, loc):
            try:
                return fn(c, loc)
            except decimal.Overflow:
                raise EvalFailure("number-too-large", "a number grew beyond the supported range", span)
            except decimal.InvalidOperation:
                raise EvalFailure("invalid-number", "an arithmetic operation has no defined result", span)
            except RecursionError:
                raise EvalFailure("expression-too-deep", "evaluation nested too deeply", span)
        return guarded

    # ---- dispatch
    def c(self, node: A.Node) -> Fn:
        if self.traced and not isinstance(node, (A.Literal, A.Name)) and self._records_nothing(node):
            return self.c_plain(node)  # folded and hoisted like the untraced closures
        if self.traced and isinstance(node, (A.Compare, A.In)) and self._is_condition(node):
            return self._trace_condition(node, None)
        fn = getattr(self, "c_" + type(node).__name__)(node)
        if self.traced and self._is_condition(node):
            return self._trace_condition(node, fn)
        if not self.traced and not hasattr(fn, "const") and isinstance(node, _FOLDABLE) and self._constant_subtree(node):
            try:
                return _constant(fn(_NO_CASE, ()))
            except (EvalFailure, EvalError, fastpath.Fallback, _NotConstant, decimal.DecimalException):
                return fn  # left to evaluation, which reports it with its position
        if not self.traced and not hasattr(fn, "const") and isinstance(node, _HOISTABLE) and self._same_for_a_date(node):
            return _per_date(fn)
        return fn

    def _records_nothing(self, node: A.Node) -> bool:
        """Whether evaluating a node adds no trace event: no condition, binder or rule in it, and no
        parameter whose values came from a parameters file (each read of those is recorded)."""
        for n in A.walk(node):
            if isinstance(n, A.Binder) or self._is_condition(n):
                return False
            r = self.refs.get(id(n)) if isinstance(n, (A.Name, A.Field)) else None
            if r is None:
                continue
            if r.kind in ("rule", "outcome"):
                return False
            if r.kind == "param":
                table = (self.params or {}).get(r.policy, {}).get(r.name)
                if table is None or table.supplied_by is not None:
                    return False
        return True

    def _same_for_a_date(self, node: A.Node) -> bool:
        """Whether a node's value depends only on the evaluation date (and parameters and literals)."""
        if self.params is None:
            return False
        for n in self._live(node):
            if isinstance(n, (A.Name, A.Field)) and id(n) in self.refs:
                r = self.refs[id(n)]
                if r.kind not in ("param", "today"):
                    return False
            elif isinstance(n, A.Binder):
                return False
        return True

    def _live(self, node: A.Node):
        """Like `A.walk`, but skipping the branch an `if` never takes because its condition is constant."""
        stack = [node]
        while stack:
            n = stack.pop()
            yield n
            if isinstance(n, A.If) and not self.traced:
                k = self._constant_condition(n.cond)
                if type(k) is bool:
                    stack += [n.cond, n.then if k else n.orelse]
                    continue
            stack.extend(A.children(n))

    def _constant_condition(self, node: A.Node):
        """The value of a condition that is the same for every case (`salary_test == "latest"`), else None."""
        key = id(node)
        if key not in self.const_conditions:
            k = None
            if self._constant_subtree(node):
                saved = self.depth
                k = getattr(self.c(node), "const", None)
                self.depth = saved
            self.const_conditions[key] = k
        return self.const_conditions[key]

    def _parameters_only(self, node: A.Node) -> bool:
        """Whether a condition reads nothing of the case: only parameters and literals (a reading in use)."""
        for n in A.walk(node):
            if isinstance(n, (A.Name, A.Field)) and id(n) in self.refs:
                if self.refs[id(n)].kind != "param":
                    return False
            elif isinstance(n, (A.Binder, A.Index)) or (isinstance(n, A.Call) and n.func == "age"):
                return False
        return True

    def _constant_subtree(self, node: A.Node) -> bool:
        """Whether a node's value is the same for every case: literals and single-valued parameters only."""
        for n in A.walk(node):
            if isinstance(n, (A.Name, A.Field)) and id(n) in self.refs:
                r = self.refs[id(n)]
                table = (self.params or {}).get(r.policy, {}).get(r.name) if r.kind == "param" else None
                if table is None or table.decl.kind != "value":
                    return False
            elif isinstance(n, (A.Binder, A.Index)) or (isinstance(n, A.Call) and n.func == "age"):
                return False
        return True

    def is_covered(self, node: A.Node) -> bool:
        """Whether condition coverage counts this node: a condition, or a true/false binder."""
        return self._is_condition(node) or (isinstance(node, A.Binder) and self.types.get(id(node)) == BOOL)

    def _is_condition(self, node: A.Node) -> bool:
        if isinstance(node, (A.Literal, A.Binder)):
            return False
        if isinstance(node, (A.Name, A.Field)) and self.refs.get(id(node)) is not None \
                and self.refs[id(node)].kind in ("rule", "outcome"):
            return False  # the rule's own event stands for it
        return self.types.get(id(node)) == BOOL

    # ---- tracing helpers
    def _trace_condition(self, node: A.Node, fn: Fn | None) -> Fn:
        """A condition that records its event; comparisons (fn None) evaluate their operands once, for both."""
        text = to_text(node)
        pid, key = self.policy, span_key(node.span)
        operands = None
        if isinstance(node, (A.Compare, A.In)):
            left, right = (node.left, node.right) if isinstance(node, A.Compare) else (node.item, node.collection)
            operands = (self._operand_fn(left), self._operand_fn(right))
            op = node.op if isinstance(node, A.Compare) else ("not in" if node.negated else "in")
            fn = _relation(op)
        else:
            op = node.op if isinstance(node, A.BoolOp) else None
        reading = self._parameters_only(node)
        label = None
        ref = self.refs.get(id(node))
        if ref is not None and ref.kind == "input":
            decl = self.checked.inputs.get(ref.name)
            label = decl.label if decl is not None else None

        if operands:
            left_operand, right_operand = operands

            def traced_comparison(c, loc):
                stack = c.stack
                parent = stack[-1]
                children: list = []
                stack.append(children)
                try:
                    a, da = left_operand(c, loc)
                    b, db = right_operand(c, loc)
                    v = fn(a, b)
                finally:
                    stack.pop()
                status = "true" if v is True else "false" if v is False else tri_status(v)
                if c.seen is not None and (v is True or v is False):
                    c.seen.add((pid, key, status))
                ev = {"kind": "comparison", "text": text, "status": status,
                      "value": v if v is True or v is False else _jsonable_in(c, v)}
                if label:
                    ev["label"] = label
                if reading:
                    ev["parameters_only"] = True
                ev["op"] = op
                ev["operands"] = [da, db]
                if type(v) is Unknown:
                    ev["missing"] = _missing_names(v)
                if children:
                    ev["children"] = children
                parent.append(ev)
                return v
            return traced_comparison

        def traced(c, loc):
            stack = c.stack
            parent = stack[-1]
            children: list = []
            stack.append(children)
            try:
                v = fn(c, loc)
            finally:
                stack.pop()
            status = "true" if v is True else "false" if v is False else tri_status(v)
            if c.seen is not None and (v is True or v is False):
                c.seen.add((pid, key, status))
            ev = {"kind": "condition", "text": text, "status": status,
                  "value": v if v is True or v is False else _jsonable_in(c, v)}
            if label:
                ev["label"] = label
            if reading:
                ev["parameters_only"] = True
            if op is not None:
                ev["op"] = op
                flat = []
                for ch in children:  # `a and b and c` reads as one list of conditions
                    if ch.get("op") == op and ch["kind"] == "condition" and "operands" not in ch:
                        flat.extend(ch.get("children", ()))
                    else:
                        flat.append(ch)
                children = flat
            if type(v) is Unknown:
                ev["missing"] = _missing_names(v)
            if children:
                ev["children"] = children
            parent.append(ev)
            return v
        return traced

    def unit_of(self, node: A.Node) -> str | None:
        """The unit an operand is counted in, when the declarations say (CNY, days)."""
        if isinstance(node, (A.Name, A.Index)):
            r = self.refs.get(id(node if isinstance(node, A.Name) else node.target))
            if r is None:
                return None
            if r.kind == "input":
                spec = self.checked.inputs[r.name].spec
                return spec.get("unit") if isinstance(spec, dict) else None
            if r.kind == "param":
                return self.checked.policies[r.policy].params[r.name].unit
            return None
        if isinstance(node, A.Field):
            return self.field_units.get(node.name)
        if isinstance(node, A.Binary):
            lu, ru = self.unit_of(node.left), self.unit_of(node.right)
            if node.op in "+-":
                return lu if lu == ru or ru is None else (ru if lu is None else None)
            if node.op == "*":
                return lu if ru is None else (ru if lu is None else None)
            return lu if ru is None else None
        if isinstance(node, A.Call) and node.func in ("min", "max", "abs", "round") and node.args:
            return self.unit_of(node.args[0])
        if isinstance(node, A.Unary):
            return self.unit_of(node.operand)
        return None

    def _operand_fn(self, node: A.Node):
        """A traced operand of a comparison: gives its value and its display data (text, value, unit,
        and for `a op b` both parts), evaluating it once."""
        text, unit = to_text(node), self.unit_of(node)
        if isinstance(node, A.Binary):
            lf, rf, op = self.c(node.left), self.c(node.right), self._binary_op(node)
            sym, lu, ru = node.op, self.unit_of(node.left), self.unit_of(node.right)

            def binary_operand(c, loc):
                a = lf(c, loc)
                b = rf(c, loc)
                if type(a) is Unknown or type(b) is Unknown:
                    v = _merge(a, b)
                    d = {"text": text, "value": None, "known": False}
                    if unit:
                        d["unit"] = unit
                    return v, d
                v = op(a, b)
                d = {"text": text, "value": _jsonable_in(c, v), "known": True}
                if unit:
                    d["unit"] = unit
                d["parts"] = {"op": sym, "values": [_jsonable_in(c, a), _jsonable_in(c, b)], "units": [lu, ru]}
                return v, d
            return binary_operand
        fn = self.c(node)

        def operand(c, loc):
            v = fn(c, loc)
            d = {"text": text, "value": _jsonable_in(c, v), "known": type(v) is not Unknown}
            if unit:
                d["unit"] = unit
            return v, d
        return operand

    def c_plain(self, node: A.Node) -> Fn:
        """Compile without trace events (operands shown beside a comparison)."""
        saved = self.traced
        self.traced = False
        try:
            return self.c(node)
        finally:
            self.traced = saved

    def c_strict(self, node: A.Node) -> Fn:
        """Compile for the two-valued fast path (see fastpath.py): raises where the others give unknown."""
        saved = self.traced, self.strict
        self.traced, self.strict = False, True
        try:
            return self.c(node)
        finally:
            self.traced, self.strict = saved

    # ---- leaves
    def c_Literal(self, n: A.Literal) -> Fn:
        return _constant(n.value)

    def c_Name(self, n: A.Name) -> Fn:
        return self._ref(self.refs[id(n)], n)

    def _ref(self, r: Ref, n: A.Node) -> Fn:
        if r.kind == "local":
            d = r.depth
            return lambda c, loc: loc[d]
        if r.kind == "today":
            return fastpath.today
        if r.kind == "input":
            name = r.name
            if self.strict:
                return fastpath.fact(name)
            unknown = Unknown(frozenset([name]))

            def fact(c, loc):
                v = c.facts.get(name, _MISSING)
                return unknown if v is _MISSING else v
            return fact
        if r.kind == "param":
            pid, name = r.policy, r.name

            def param(c, loc):
                return c.params[pid][name].current(c.as_of, pid)
            if not self.traced:
                table = (self.params or {}).get(pid, {}).get(name)
                if table is not None and table.decl.kind == "value":
                    return _constant(table.value)
                return fastpath.checked(param, Unknown) if self.strict else param

            def traced_param(c, loc):
                pv = c.params[pid][name]
                v = pv.current(c.as_of, pid)
                _note_supplied(c, pv, pid, name, pv.current_key(c.as_of), v)
                return v
            return traced_param
        key = (r.policy, r.name) if r.kind == "rule" else (r.policy, "outcome:" + r.name)
        rule_fns = self.rule_fns

        if self.strict:
            inline = self._inline_rule(r)
            if inline is not None:
                return inline
        memo_key = f"{key[0]}\0{key[1]}"  # a string keeps its hash; a tuple hashes again on every lookup
        if self.strict:
            def strict_rule(c, loc):
                memo = c.strict_memo
                v = memo.get(memo_key, _MISSING)
                if v is _MISSING:
                    v = memo[memo_key] = rule_fns[key](c, ())
                return v
            return strict_rule

        if not self.traced:
            def rule(c, loc):
                memo = c.memo
                v = memo.get(memo_key, _MISSING)
                if v is _MISSING:
                    v = memo[memo_key] = rule_fns[key](c, ())
                return v
            return rule

        policy = self.checked.policies[r.policy]
        decl = policy.rules.get(r.name) if r.kind == "rule" else policy.outcomes.get(r.name)

        kind, name, policy, label, cite = r.kind, r.name, r.policy, decl.label, decl.cite

        def traced_rule(c, loc):
            memo = c.memo
            stack = c.stack
            v = memo.get(memo_key, _MISSING)
            ev = {"kind": kind, "name": name, "policy": policy, "text": name, "label": label, "cite": cite}
            if v is _MISSING:
                children: list = []
                stack.append(children)
                try:
                    v = memo[memo_key] = rule_fns[key](c, ())
                finally:
                    stack.pop()
                if children:
                    ev["children"] = children
            else:
                ev["repeat"] = True
            if v is True or v is False:
                ev["status"] = status = "true" if v else "false"
                ev["value"] = v
                if c.seen is not None:
                    c.seen.add((policy, (kind, name), status))
            else:
                ev["status"] = tri_status(v)
                ev["value"] = _jsonable_in(c, v)
                if type(v) is Unknown:
                    ev["missing"] = _missing_names(v)
            stack[-1].append(ev)
            return v
        return traced_rule

    def _inline_rule(self, r: Ref) -> Fn | None:
        """On the strict path, a rule compiled into the place that reads it, with no memo to consult, when
        that place is the only one at the top level, or when the rule's value is the same for a whole date."""
        if r.kind != "rule":
            return None
        decl = self.checked.policies[r.policy].rules.get(r.name)
        if decl is None or decl.expr is None:
            return None
        if self.depth != 0 or self.rule_uses.get((r.policy, r.name)) != 1:
            fn = self._compile_rule(r.policy, decl)  # a value that is the same for the whole date needs no memo
            return fn if hasattr(fn, "const") or hasattr(fn, "per_date") else None
        return self._compile_rule(r.policy, decl)

    def _chained_rule(self, r: Ref, op: str) -> A.Node | None:
        """On the strict path, the expression of a rule read only at this place (at the top level) when it is
        itself `x op y ...`: the chain that reads it takes its operands in, and reads repeated rules once."""
        if r.kind != "rule" or self.depth != 0 or self.rule_uses.get((r.policy, r.name)) != 1:
            return None
        decl = self.checked.policies[r.policy].rules.get(r.name)
        if decl is None or decl.expr is None:
            return None
        node = decl.expr.node
        return node if isinstance(node, A.BoolOp) and node.op == op else None

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
            return self._ref(r, n)
        target = self.c(n.target)
        name = n.name
        tr = self.refs.get(id(n.target)) if isinstance(n.target, A.Name) else None
        if self.strict:
            return fastpath.local_field(tr.depth, name) if tr is not None and tr.kind == "local" \
                else fastpath.field(target, name)
        if tr is not None and tr.kind == "local" and not self.traced:
            d = tr.depth

            def local_field(c, loc):  # `y.salary` for a binder's item: one step
                v = loc[d]
                if type(v) is Unknown:
                    return v
                x = v.get(name, _MISSING)
                if x is _MISSING:
                    return Unknown(frozenset([f"{v.path}.{name}"]))
                return x
            return local_field

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

        traced = self.traced

        def index(c, loc):
            k = key(c, loc)
            if type(k) is Unknown:
                return k
            pv = c.params[pid][name]
            v = pv.at(k, pid, span)
            if traced:
                _note_supplied(c, pv, pid, name, k, v)
            return v
        return fastpath.checked(index, Unknown) if self.strict else index

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
        op = self._binary_op(n)
        if self.strict:
            return fastpath.apply2(op, self._operand(n.left, l), self._operand(n.right, r))

        def binary(c, loc):
            a = l(c, loc)
            b = r(c, loc)
            if type(a) is Unknown or type(b) is Unknown:
                return _merge(a, b)
            return op(a, b)
        return binary

    def _binary_op(self, n: A.Binary):
        """The operation of `a op b` on two known values: exact decimals, dates and durations, strings."""
        lt, rt = self.types[id(n.left)], self.types[id(n.right)]
        from .typesys import DATE, NUMBER
        span = n.span
        if lt == NUMBER and rt == NUMBER:
            op = _arith(n.op, span)
        elif lt == DATE or rt == DATE:
            sign = -1 if n.op == "-" else 1

            def op(a, b):
                d, dur = (a, b) if isinstance(a, Duration) is False else (b, a)
                try:
                    return add_duration(d, dur if sign == 1 else -dur)
                except (OverflowError, ValueError):
                    raise EvalFailure("date-out-of-range", "the date falls outside the years 1 to 9999", span)
        elif n.op == "+":
            op = lambda a, b: a + b  # noqa: E731 - durations, strings
        else:
            op = lambda a, b: a - b  # noqa: E731
        return op

    def _operand(self, node: A.Node, fn: Fn) -> tuple:
        """How the strict path reads an operand: a constant, a binder item's field, or a closure."""
        k = getattr(fn, "const", _NOT_CONST)
        if k is not _NOT_CONST:
            return ("const", k)
        field = self._local_field(node)
        return ("fn", fn) if field is None else ("field", *field)

    def _local_field(self, node: A.Node) -> tuple[int, str] | None:
        """For `var.field` with `var` a binder's item: (the item's depth, the field name)."""
        if isinstance(node, A.Field) and isinstance(node.target, A.Name) and id(node) not in self.refs:
            r = self.refs.get(id(node.target))
            if r is not None and r.kind == "local":
                return r.depth, node.name
        return None

    def c_Compare(self, n: A.Compare) -> Fn:
        l, r = self.c(n.left), self.c(n.right)
        if self.strict:
            return fastpath.apply2(fastpath.COMPARE[n.op], self._operand(n.left, l), self._operand(n.right, r))
        k = getattr(r, "const", _NOT_CONST)
        if k is not _NOT_CONST and type(k) is not Unknown:
            return _compare_const(n.op, l, k)
        return _compare(n.op, l, r)

    def c_BoolOp(self, n: A.BoolOp) -> Fn:
        if self.strict or (isinstance(n.left, A.BoolOp) and n.left.op == n.op):
            return self._chain(n)
        l, r = self.c(n.left), self.c(n.right)
        if not self.traced:
            k = getattr(l, "const", _NOT_CONST)
            if k is True:
                return _constant(True) if n.op == "or" else r
            if k is False:
                return r if n.op == "or" else _constant(False)
        return _kleene2(n.op, l, r)

    def _chain(self, n: A.BoolOp) -> Fn:
        """`a and b and c` (or `or`) as one closure over its operands, constants dropped or deciding the
        whole (not when tracing: the trace shows them). The strict path flattens parenthesised groups
        too; the others keep them, as they have their own coverage entry and event."""
        operands: list[tuple[A.Node, str | None]] = []
        pending: list[tuple[A.Node, bool, str | None]] = [(n, True, self.policy)]
        rules_read: set[tuple] = set()
        while pending:  # in order, left to right
            x, chained, pid = pending.pop()
            if chained and isinstance(x, A.BoolOp) and x.op == n.op:
                pending += [(x.right, self.strict, pid), (x.left, True, pid)]
                continue
            r = self.refs.get(id(x)) if self.strict and isinstance(x, (A.Name, A.Field)) else None
            if r is not None and r.kind in ("rule", "outcome"):
                if (r.kind, r.policy, r.name) in rules_read:
                    continue  # pure and two-valued here: `a and b and a` is `a and b`
                rules_read.add((r.kind, r.policy, r.name))
                body = self._chained_rule(r, n.op)
                if body is not None:  # a rule read only here, itself a chain of the same operator
                    pending.append((body, True, r.policy))
                    continue
            operands.append((x, pid))
        decides = n.op == "or"  # the constant that decides the whole: true for `or`, false for `and`
        fns = []
        for x, pid in operands:
            saved, self.policy = self.policy, pid  # a chained rule's operands are read in its own policy
            try:
                fn = self.c(x)
            finally:
                self.policy = saved
            k = getattr(fn, "const", _NOT_CONST) if not self.traced else _NOT_CONST
            if k is decides:
                return _constant(decides)  # whatever the others are, even unknown or failing
            if k is not _NOT_CONST and type(k) is bool:
                continue
            fns.append(fn)
        if not fns:
            return _constant(not decides)
        if len(fns) == 1:
            return fns[0]
        if self.strict:
            return fastpath.bool_chain(n.op, fns)
        return _kleene2(n.op, fns[0], fns[1]) if len(fns) == 2 else _kleene_n(n.op, fns)

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
                return _merge(a, b)
            return (a not in b) if neg else (a in b)
        return in_

    def c_If(self, n: A.If) -> Fn:
        cond, then, orelse = self.c(n.cond), self.c(n.then), self.c(n.orelse)
        k = getattr(cond, "const", _NOT_CONST)
        if not self.traced and k is True:
            return then
        if not self.traced and k is False:
            return orelse

        def if_(c, loc):
            k = cond(c, loc)
            if k is True:
                return then(c, loc)
            if k is False:
                return orelse(c, loc)
            try:  # either branch may be the one taken: an error in one is not yet an error
                a = then(c, loc)
            except EvalFailure:
                return k
            try:
                b = orelse(c, loc)
            except EvalFailure:
                return k
            if type(a) is not Unknown and type(b) is not Unknown and a == b:
                return a
            return _merge(_merge(k, a), b)
        return if_

    def c_ListExpr(self, n: A.ListExpr) -> Fn:
        items = [self.c(i) for i in n.items]

        def list_(c, loc):
            out = [f(c, loc) for f in items]
            unknown = [v for v in out if type(v) is Unknown]
            if unknown:
                u = unknown[0]
                for v in unknown[1:]:
                    u = u | v
                return u
            return out
        return list_

    def c_Call(self, n: A.Call) -> Fn:
        b = BUILTINS[n.func]
        args = [self.c(a) for a in n.args]
        impl = b.impl
        span = n.span
        if self.strict:
            return fastpath.call(impl, args, b.whole, b.from_today)

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
            fast = self._strict_binder(n, coll, body, depth) if self.strict else None
        finally:
            self.depth = depth
        if fast is not None:
            return fast
        kind = n.kind
        span = n.span
        traced = self.traced
        var = n.var
        item_label = None
        if traced and id(n) in self.checked.item_labels:
            template, item_cite = self.checked.item_labels[id(n)]
            pieces = [x if isinstance(x, str) else self.c_plain(x.node) for x in template.parts]

            def item_label(c, loc):
                out = []
                for piece in pieces:
                    if isinstance(piece, str):
                        out.append(piece)
                    else:
                        v = _quiet(piece, c, loc)
                        out.append("?" if type(v) is Unknown else _display(v))
                return "".join(out)

        if not traced:
            fast = _fast_binder(kind, coll, body)
            if fast is not None:
                return fast
        # Traced: an item whose value does not decide (true in `all`, false in `any`, any item of the other
        # kinds) keeps no events. Its body is first evaluated with the strict closures, without events, and
        # again, traced, only when it decides, is unknown or fails. Not when coverage is counted (every
        # item's conditions count), nor when the body reads a rule (its first, full event would be lost to
        # the memo).
        # The whole all / any / filter is tried that way first, on the items already evaluated (`c.items`):
        # when no item decides, none is traced at all.
        quick = whole = None
        settled = (kind == "all") if kind in ("all", "any") else None  # an item value that decides nothing
        if traced and not self._reads_rules(n.body):
            saved = self.traced, self.strict
            self.depth = depth + 1
            try:
                quick = self.c_strict(n.body)
                self.traced, self.strict = False, True
                whole = self._strict_binder(n, _items, quick, depth)
            finally:
                self.depth = depth
                self.traced, self.strict = saved

        def run(c, loc):
            xs = coll(c, loc)
            if type(xs) is Unknown:
                return xs
            if whole is not None and c.seen is None:
                c.items = xs
                try:
                    v = whole(c, loc)
                except Exception:  # noqa: BLE001 - traced item by item below
                    v = _MISSING
                if v is not _MISSING and (settled is None or v is settled):
                    return v
            unknown = None
            results = []
            for i, x in enumerate(xs):
                if quick is not None and c.seen is None:
                    try:
                        v = quick(c, loc + (x,))
                    except Exception:  # noqa: BLE001 - unknown or failing: traced below, which says why
                        v = _MISSING
                    if v is True if kind == "all" else v is False if kind == "any" else v is not _MISSING:
                        results.append((x, v))
                        continue
                if traced:
                    children: list = []
                    c.stack.append(children)
                    try:
                        v = body(c, loc + (x,))
                    finally:
                        c.stack.pop()
                    decisive = (v is not True) if kind == "all" else (v is not False) if kind == "any" else False
                    if decisive or type(v) is Unknown:
                        ev = {"kind": "value", "text": f"{var} = {format_value(_plain(x))}", "status": tri_status(v),
                              "value": _jsonable(v), "index": i}
                        if item_label is not None:
                            ev["label"] = item_label(c, loc + (x,))
                            if item_cite:
                                ev["cite"] = item_cite
                        if type(v) is Unknown:
                            ev["missing"] = _missing_names(v)
                        if children:
                            ev["children"] = children
                        c.stack[-1].append(ev)
                else:
                    v = body(c, loc + (x,))
                if type(v) is Unknown:
                    unknown = v if unknown is None else unknown | v
                    continue
                if kind == "all" and v is False:
                    return False
                if kind == "any" and v is True:
                    return True
                results.append((x, v))
            if kind == "all":
                return unknown if unknown is not None else True
            if kind == "any":
                return unknown if unknown is not None else False
            if unknown is not None:
                return unknown
            if kind == "count":
                return Decimal(sum(1 for _, v in results if v))
            if kind == "sum":
                total = Decimal(0)
                for _, v in results:
                    total = DECIMAL_CONTEXT.add(total, v)
                return total
            if kind == "filter":
                return [x for x, v in results if v]
            if kind == "map":
                return [v for _, v in results]
            values = [v for _, v in results]
            if not values:
                raise EvalFailure("empty-list", f"`{kind}` over an empty list has no value", span)
            return min(values) if kind == "min" else max(values)

        if not traced:
            return run
        text = to_text(n)
        pid, key = self.policy, span_key(n.span)

        def traced_binder(c, loc):
            children: list = []
            c.stack.append(children)
            try:
                v = run(c, loc)
            finally:
                c.stack.pop()
            status = tri_status(v)
            if c.seen is not None and status in ("true", "false"):
                c.seen.add((pid, key, status))
            ev = {"kind": "binder", "text": text, "status": status, "value": _jsonable_in(c, v)}
            if children:
                ev["children"] = children
            if type(v) is Unknown:
                ev["missing"] = _missing_names(v)
            c.stack[-1].append(ev)
            return v
        return traced_binder


    def _strict_binder(self, n: A.Binder, coll: Fn, body: Fn, depth: int) -> Fn | None:
        """all / any / filter on the strict path: fused when the body tests the item against an invariant."""
        b = n.body
        if n.kind == "all" and isinstance(b, A.Binder) and b.kind == "any" and isinstance(b.body, A.Compare) \
                and b.body.op == "==" and self._invariant(b.collection, depth):
            for item, other in ((b.body.left, b.body.right), (b.body.right, b.body.left)):
                get = self._item_getter(item, depth + 1)
                r = self.refs.get(id(other)) if isinstance(other, A.Name) else None
                if get is not None and r is not None and r.kind == "local" and r.depth == depth:
                    return fastpath.all_matched(coll, self.c(b.collection), get)
        if isinstance(b, A.Compare):
            sides = (b.left, b.right, fastpath.COMPARE[b.op])
        elif isinstance(b, A.In) and not b.negated:
            sides = (b.item, b.collection, fastpath.IN)
        else:
            sides = None
        if sides is not None and n.kind in ("all", "any", "filter"):
            left, right, test = sides
            if isinstance(b, A.Compare):
                lf, rf = self._item_fn(left, depth), self._item_fn(right, depth)
                if lf is not None and rf is not None:
                    return fastpath.fused_items(n.kind, coll, lf, rf, test)
            for item, other, item_first in ((left, right, True), (right, left, False)):
                get = self._item_getter(item, depth)
                if get is None or not self._invariant(other, depth):
                    continue
                invariant = self.c(other)
                if test == fastpath.IN:  # `item in list`: contains(list, item)
                    if not item_first:
                        continue
                    test, item_first = operator.contains, False
                    if hasattr(invariant, "const") or hasattr(invariant, "per_date"):  # the same list all day
                        invariant = _per_date(fastpath.as_set(invariant))
                return fastpath.fused_binder(n.kind, coll, get, test, invariant, item_first)
        return fastpath.binder(n.kind, coll, body)

    def _item_getter(self, node: A.Node, depth: int):
        """For `var.field` with `var` the binder's item at `depth`: a C getter of the field."""
        field = self._local_field(node)
        return operator.itemgetter(field[1]) if field is not None and field[0] == depth else None

    def _reads_rules(self, node: A.Node) -> bool:
        for x in A.walk(node):
            r = self.refs.get(id(x)) if isinstance(x, (A.Name, A.Field)) else None
            if r is not None and r.kind in ("rule", "outcome"):
                return True
        return False

    def _item_fn(self, node: A.Node, depth: int):
        """A value computed from the binder's item alone, as a function of the item: `y.salary`,
        or a number times (plus, minus, divided by) it, `20% * y.salary`; None for anything else."""
        if isinstance(node, A.If):  # with a constant condition: the branch taken
            k = self._constant_condition(node.cond)
            return self._item_fn(node.then if k else node.orelse, depth) if type(k) is bool else None
        get = self._item_getter(node, depth)
        if get is not None or not isinstance(node, A.Binary):
            return get
        from .typesys import NUMBER
        if self.types.get(id(node.left)) != NUMBER or self.types.get(id(node.right)) != NUMBER:
            return None
        for k_node, item, const_first in ((node.left, node.right, True), (node.right, node.left, False)):
            k = getattr(self.c(k_node), "const", _NOT_CONST)
            g = self._item_fn(item, depth) if k is not _NOT_CONST else None
            if g is not None:  # `k * v` is `v * k` (and `k + v` is `v + k`) exactly, even when rounded
                return fastpath.item_arith(_arith(node.op, node.span), k, g, const_first and node.op not in ("*", "+"))
        return None

    def _invariant(self, node: A.Node, depth: int) -> bool:
        """Whether a node inside a binder's body is the same for every item: no binder, no item."""
        for x in self._live(node):
            if isinstance(x, A.Binder):
                return False
            if isinstance(x, A.Name):
                r = self.refs.get(id(x))
                if r is not None and r.kind == "local" and r.depth >= depth:
                    return False
        return True


def _items(c, loc):
    """The collection a traced binder has just evaluated, for its strict try (see c_Binder)."""
    return c.items


def _note_supplied(c, pv, pid: str, name: str, key, v):
    """A trace event for a parameter value that came from a parameters file, not the policy."""
    src = pv.source(key)
    if src is None or type(v) is Unknown:
        return
    texts = _SUPPLIED_TEXT.get((name, key, src))
    if texts is None:
        text = name if key is None else f"{name}[{format_value(key)}]"
        texts = (text, f"{text} supplied by {src}")
        if len(_SUPPLIED_TEXT) < 4096:
            _SUPPLIED_TEXT[(name, key, src)] = texts
    c.stack[-1].append({"kind": "value", "text": texts[0], "label": texts[1], "policy": pid,
                        "name": name, "status": "value", "value": _jsonable(v)})


_SUPPLIED_TEXT: dict = {}  # (parameter, key, file) -> (text, label) of its trace event


_NOT_CONST = object()
_HOISTABLE = (A.Binary, A.Call, A.Index, A.If, A.ListExpr)


def _per_date(fn: Fn) -> Fn:
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
_FOLDABLE = (A.Binary, A.Unary, A.Compare, A.BoolOp, A.Not, A.In, A.If, A.ListExpr, A.Call)


class _NotConstant(Exception):
    pass


class _NoCase:
    """Stands for the case while folding constants: touching it means the value is not constant."""

    def __getattr__(self, name):
        raise _NotConstant(name)


_NO_CASE = _NoCase()


def _constant(v) -> Fn:
    def const(c, loc):
        return v
    const.const = v
    return const


_RELATIONS = {**fastpath.COMPARE, "in": lambda a, b: a in b, "not in": lambda a, b: a not in b}


def _relation(op: str):
    """A comparison or `in` of two values, either of which may be unknown (traced comparisons)."""
    test = _RELATIONS[op]

    def relation(a, b):
        if type(a) is Unknown or type(b) is Unknown:
            return _merge(a, b)
        return test(a, b)
    return relation


def _kleene2(op: str, l: Fn, r: Fn) -> Fn:
    """Kleene `l and r` / `l or r`."""
    # An error on the left matters only if the right does not decide: `1 / n > 0 or b` with b true is true,
    # as it was while n was unknown (knowing more never changes a decided outcome).
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


def _kleene_n(op: str, fns: list[Fn]) -> Fn:
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


def _compare(op: str, l: Fn, r: Fn) -> Fn:
    """A comparison closure per operator, so the comparison itself is inline."""
    if op == ">=":
        def cmp(c, loc):
            a, b = l(c, loc), r(c, loc)
            if type(a) is Unknown or type(b) is Unknown:
                return _merge(a, b)
            return a >= b
    elif op == "<=":
        def cmp(c, loc):
            a, b = l(c, loc), r(c, loc)
            if type(a) is Unknown or type(b) is Unknown:
                return _merge(a, b)
            return a <= b
    elif op == ">":
        def cmp(c, loc):
            a, b = l(c, loc), r(c, loc)
            if type(a) is Unknown or type(b) is Unknown:
                return _merge(a, b)
            return a > b
    elif op == "<":
        def cmp(c, loc):
            a, b = l(c, loc), r(c, loc)
            if type(a) is Unknown or type(b) is Unknown:
                return _merge(a, b)
            return a < b
    elif op == "==":
        def cmp(c, loc):
            a, b = l(c, loc), r(c, loc)
            if type(a) is Unknown or type(b) is Unknown:
                return _merge(a, b)
            return a == b
    else:
        def cmp(c, loc):
            a, b = l(c, loc), r(c, loc)
            if type(a) is Unknown or type(b) is Unknown:
                return _merge(a, b)
            return a != b
    return cmp


def _compare_const(op: str, l: Fn, k) -> Fn:
    """A comparison with a constant right side."""
    if op == ">=":
        def cmp(c, loc):
            a = l(c, loc)
            return a if type(a) is Unknown else a >= k
    elif op == "<=":
        def cmp(c, loc):
            a = l(c, loc)
            return a if type(a) is Unknown else a <= k
    elif op == ">":
        def cmp(c, loc):
            a = l(c, loc)
            return a if type(a) is Unknown else a > k
    elif op == "<":
        def cmp(c, loc):
            a = l(c, loc)
            return a if type(a) is Unknown else a < k
    elif op == "==":
        def cmp(c, loc):
            a = l(c, loc)
            return a if type(a) is Unknown else a == k
    else:
        def cmp(c, loc):
            a = l(c, loc)
            return a if type(a) is Unknown else a != k
    return cmp


def _fast_binder(kind: str, coll: Fn, body: Fn) -> Fn | None:
    """Binders specialised by kind, for the untraced path: the body gets its item directly."""
    if kind == "all":
        def all_(c, loc):
            xs = coll(c, loc)
            if type(xs) is Unknown:
                return xs
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
            unknown = None
            for x in xs:
                v = body(c, loc + (x,))
                if v is True:
                    return True
                if v is not False:
                    unknown = v if unknown is None else unknown | v
            return False if unknown is None else unknown
        return any_
    if kind == "filter":
        def filter_(c, loc):
            xs = coll(c, loc)
            if type(xs) is Unknown:
                return xs
            out = []
            unknown = None
            for x in xs:
                v = body(c, loc + (x,))
                if v is True:
                    out.append(x)
                elif v is not False:
                    unknown = v if unknown is None else unknown | v
            return out if unknown is None else unknown
        return filter_
    return None


def _quiet(fn: Fn, c, loc):
    """Evaluate an operand for display without recording events."""
    saved = c.stack
    c.stack = [[]]
    try:
        return fn(c, loc)
    except EvalFailure:
        return None
    finally:
        c.stack = saved


def _display(v) -> str:
    """A value inside a label: numbers and dates as written, strings bare."""
    v = _jsonable(_plain(v))
    return v if isinstance(v, str) else format_value(v)


def _field_units(checked: CheckedSet) -> dict[str, str]:
    """Units declared on record fields of the inputs, by field name (only when every declaration agrees)."""
    found: dict[str, set] = {}

    def walk(spec):
        if not isinstance(spec, dict):
            return
        fields = spec.get("fields") if "type" in spec else spec
        if "type" in spec and spec.get("items") is not None:
            walk(spec["items"])
        if isinstance(fields, dict) and ("type" not in spec or spec.get("type") == "record"):
            for name, f in fields.items():
                if isinstance(f, dict) and "type" in f:
                    found.setdefault(name, set()).add(f.get("unit"))
                walk(f)

    for decl in checked.inputs.values():
        walk(decl.spec)
    return {name: units.pop() for name, units in found.items() if len(units) == 1 and None not in units}


def _missing_names(u: Unknown) -> list[str]:
    """Fact paths, then parameter values (`average_salary[2024]`), as in a result's `missing` list."""
    return sorted(u.facts) + sorted(n for _, n in u.params)


def _plain(v):
    if isinstance(v, Record):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


_PLAIN_TYPES = frozenset([bool, Decimal, str, type(None)])


def _jsonable(v):
    """A runtime value as plain data for results (Decimals stay Decimals; the renderer writes them exactly)."""
    t = type(v)
    if t in _PLAIN_TYPES:
        return v
    if t is Unknown:
        return None
    if t is list:
        return [x if type(x) in _PLAIN_TYPES else _jsonable(x) for x in v]
    if isinstance(v, dict):
        if _PLAIN_TYPES.issuperset(map(type, v.values())):  # a record of numbers, strings and booleans
            return dict(v)
        return {k: x if type(x) in _PLAIN_TYPES else _jsonable(x) for k, x in v.items()}
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, Duration):
        return str(v)
    if isinstance(v, (bool, Decimal, str)):
        return v
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    return str(v)


def _jsonable_in(c, v):
    """`_jsonable` for trace events: a list or record met again in the same case is converted once."""
    t = type(v)
    if t in _PLAIN_TYPES:
        return v
    if t is list or t is Record:
        hit = c.converted.get(id(v))
        if hit is None:
            hit = c.converted[id(v)] = (v, _jsonable(v))  # holding v keeps its id from being reused
        return hit[1]
    return _jsonable(v)
