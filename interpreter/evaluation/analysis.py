"""What is known about a checked set's expressions before any case: constants, values fixed for a date,
values invariant inside a binder, conditions, units. The compiled back-ends read it; none of them decides
these things for itself.

Constant values are computed by the reference evaluator, so folding a constant cannot give a value the
language does not.
"""
from __future__ import annotations

import datetime as _dt
import decimal

from .. import syntax as A
from ..typesys import BOOL
from .errors import EvalFailure
from .reference import Reference

__all__ = ["Analysis", "NOT_CONSTANT"]

NOT_CONSTANT = object()


class Analysis:
    def __init__(self, checked, params: dict | None):
        """`params`: the parameter tables in force (None: nothing about parameter values is assumed)."""
        self.checked, self.params = checked, params
        self.refs, self.types = checked.refs, checked.types
        self.rule_uses: dict[tuple, int] = {}  # how many places read each rule
        for ref in checked.refs.values():
            if ref.kind == "rule":
                self.rule_uses[(ref.policy, ref.name)] = self.rule_uses.get((ref.policy, ref.name), 0) + 1
        self._constants: dict[int, object] = {}
        self._reference = Reference(checked, params) if params is not None else None
        self.field_units = _field_units(checked)

    # ---- constants and values fixed for a date
    def single_valued(self, r) -> bool:
        table = (self.params or {}).get(r.policy, {}).get(r.name) if r.kind == "param" else None
        return table is not None and table.decl.kind == "value"

    def is_constant(self, node: A.Node) -> bool:
        """Whether a node's value is the same for every case: literals and single-valued parameters only."""
        for n in A.walk(node):
            if isinstance(n, (A.Name, A.Field)) and id(n) in self.refs:
                if not self.single_valued(self.refs[id(n)]):
                    return False
            elif isinstance(n, (A.Binder, A.Index)) or (isinstance(n, A.Call) and n.func == "age"):
                return False
        return True

    def constant(self, node: A.Node):
        """The value of a constant node, by the reference evaluator; NOT_CONSTANT when it is not constant or
        its evaluation fails (the failure is left to evaluation, which reports it for each case)."""
        key = id(node)
        if key not in self._constants:
            k = NOT_CONSTANT
            if self._reference is not None and self.is_constant(node):
                try:
                    k = self._reference.eval(node, _NoCase(self.params), ())
                except (EvalFailure, decimal.DecimalException, RecursionError):
                    k = NOT_CONSTANT
            self._constants[key] = k
        return self._constants[key]

    def constant_condition(self, node: A.Node):
        """True or False for a condition that is the same for every case (`salary_test == "latest"`)."""
        k = self.constant(node)
        return k if type(k) is bool else None

    def live(self, node: A.Node):
        """Like `A.walk`, but skipping the branch an `if` never takes because its condition is constant."""
        stack = [node]
        while stack:
            n = stack.pop()
            yield n
            if isinstance(n, A.If):
                k = self.constant_condition(n.cond)
                if k is not None:
                    stack += [n.cond, n.then if k else n.orelse]
                    continue
            stack.extend(A.children(n))

    def same_for_a_date(self, node: A.Node) -> bool:
        """Whether a node's value depends only on the evaluation date (and parameters and literals)."""
        if self.params is None:
            return False
        for n in self.live(node):
            if isinstance(n, (A.Name, A.Field)) and id(n) in self.refs:
                if self.refs[id(n)].kind not in ("param", "today"):
                    return False
            elif isinstance(n, A.Binder):
                return False
        return True

    def invariant(self, node: A.Node, depth: int) -> bool:
        """Whether a node inside a binder's body at `depth` is the same for every item: no binder, no item."""
        for x in self.live(node):
            if isinstance(x, A.Binder):
                return False
            if isinstance(x, A.Name):
                r = self.refs.get(id(x))
                if r is not None and r.kind == "local" and r.depth >= depth:
                    return False
        return True

    def local_field(self, node: A.Node) -> tuple[int, str] | None:
        """For `var.field` with `var` a binder's item: (the item's depth, the field name)."""
        if isinstance(node, A.Field) and isinstance(node.target, A.Name) and id(node) not in self.refs:
            r = self.refs.get(id(node.target))
            if r is not None and r.kind == "local":
                return r.depth, node.name
        return None

    # ---- what a node reads
    def reads_rules(self, node: A.Node) -> bool:
        for x in A.walk(node):
            r = self.refs.get(id(x)) if isinstance(x, (A.Name, A.Field)) else None
            if r is not None and r.kind in ("rule", "outcome"):
                return True
        return False

    def parameters_only(self, node: A.Node) -> bool:
        """Whether a condition reads nothing of the case: only parameters and literals (a reading in use)."""
        for n in A.walk(node):
            if isinstance(n, (A.Name, A.Field)) and id(n) in self.refs:
                if self.refs[id(n)].kind != "param":
                    return False
            elif isinstance(n, (A.Binder, A.Index)) or (isinstance(n, A.Call) and n.func == "age"):
                return False
        return True

    def records_nothing(self, node: A.Node) -> bool:
        """Whether evaluating a node adds no trace event: no condition, binder or rule in it, and no
        parameter whose values came from a parameters file (each read of those is recorded)."""
        for n in A.walk(node):
            if isinstance(n, A.Binder) or self.is_condition(n):
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

    # ---- conditions (for the trace and coverage)
    def is_covered(self, node: A.Node) -> bool:
        """Whether condition coverage counts this node: a condition, or a true/false binder."""
        return self.is_condition(node) or (isinstance(node, A.Binder) and self.types.get(id(node)) == BOOL)

    def is_condition(self, node: A.Node) -> bool:
        if isinstance(node, (A.Literal, A.Binder)):
            return False
        if isinstance(node, (A.Name, A.Field)) and self.refs.get(id(node)) is not None \
                and self.refs[id(node)].kind in ("rule", "outcome"):
            return False  # the rule's own event stands for it
        return self.types.get(id(node)) == BOOL

    # ---- units, for showing operands
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


class _NoCase:
    """The context of a constant: it has no facts and no date (a constant reads neither)."""
    facts: dict = {}
    as_of: _dt.date | None = None

    def __init__(self, params):
        self.rules = {}
        self.params = params
        self.steps = 0


def _field_units(checked) -> dict[str, str]:
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
