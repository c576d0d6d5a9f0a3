"""What a change to a policy set does: its static changes, its impact over a caseload, and the boundary cases
that tell the two versions apart when there is no caseload.

`diff_document` builds one plain-data document (schema/diff.schema.json); `render_text` and
`render_markdown` print it. Both versions decide every case of a caseload through the batch machinery
(`batch.read_records`, `batch.evaluate_record`), so a diff counts exactly what two `policy eval` runs give.
"""
from __future__ import annotations

import datetime as _dt
import os
import subprocess
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable, Iterator

from . import syntax as A
from .batch import Record, evaluate_record, forking, in_workers
from .engine import STATUSES, PolicySet
from .evaluation.errors import COMPARE, EvalFailure
from .evaluation.reference import Reference
from .discovery import INPUTS_FILES
from .printer import format_value, to_text
from .safetext import printable
from .values import DECIMAL_CONTEXT, Duration, Unknown, add_duration

__all__ = ["static_changes", "boundary_cases", "Impact", "run_impact", "diff_document", "decides_differently",
           "render_text", "render_markdown", "GitFailure", "files_at_revision", "EXAMPLES"]

EXAMPLES = 5          # example cases kept per transition and per changed value
ABSENT = "absent"     # the status of an outcome in the version that does not have it
NOT_EVALUATED = "not_evaluated"  # a condition's truth value in a version that did not evaluate it
BLOCK = 2000          # cases per block sent to a worker process
SHOWN_INVALID = 20    # invalid cases listed in text and Markdown (the JSON lists every one)


# ---------------------------------------------------------------- static changes

def _plain(v: Any) -> Any:
    """A parameter value as plain data for the document."""
    if isinstance(v, (_dt.date, Duration)):
        return v.isoformat() if isinstance(v, _dt.date) else str(v)
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v


def _text(e) -> str | None:
    """An expression as printed (layout and comments aside), or its text when it did not parse."""
    if e is None:
        return None
    return to_text(e.node) if e.node is not None else e.text


def _param_change(pid: str, name: str, old, new) -> dict | None:
    entry = {"kind": "parameter", "policy": pid, "name": name}
    if old is None or new is None:
        decl = new or old
        entry["change"] = "added" if old is None else "removed"
        entry.update(_param_value(decl))
        return entry
    if old.kind != new.kind:
        entry.update(change="changed", old=_param_value(old), new=_param_value(new))
        return entry
    if old.kind == "value":
        if old.value == new.value and type(old.value) is type(new.value):
            return None
        entry.update(change="changed", old=_plain(old.value), new=_plain(new.value))
        return entry
    if old.kind == "by_year":
        years = [{"year": y, "old": _plain(old.by_year.get(y)), "new": _plain(new.by_year.get(y))}
                 for y in sorted(set(old.by_year) | set(new.by_year)) if old.by_year.get(y) != new.by_year.get(y)]
        if not years:
            return None
        entry.update(change="changed", years=years)
        return entry
    o, n = dict(old.steps), dict(new.steps)
    steps = [{"from": d.isoformat(), "old": _plain(o.get(d)), "new": _plain(n.get(d))}
             for d in sorted(set(o) | set(n)) if o.get(d) != n.get(d)]
    if not steps:
        return None
    entry.update(change="changed", steps=steps)
    return entry


def _param_value(decl) -> dict:
    if decl.kind == "value":
        return {"value": _plain(decl.value)}
    if decl.kind == "by_year":
        return {"by_year": {str(y): _plain(v) for y, v in sorted(decl.by_year.items())}}
    return {"steps": [{"from": d.isoformat(), "value": _plain(v)} for d, v in decl.steps]}


def _exception_text(e) -> str:
    return f"when {_text(e.when)}: {_text(e.value)}" + (f" ({e.cite})" if e.cite else "")


def _rule_fields(r) -> dict[str, Any]:
    f = {"label": r.label, "cite": r.cite}
    if r.expr is not None:
        f["expr"] = _text(r.expr)
    else:
        f["base"] = _text(r.base)
        f["exceptions"] = [_exception_text(e) for e in r.exceptions]
    return f


def _outcome_fields(o) -> dict[str, Any]:
    f = {"label": o.label, "cite": o.cite, "when": _text(o.when)}
    for k, e in o.values.items():
        f[f"values.{k}"] = _text(e)
    return f


def _field_changes(old: dict, new: dict) -> list[dict]:
    out = []
    for k in list(old) + [k for k in new if k not in old]:
        if old.get(k) != new.get(k):
            out.append({"field": k, "old": old.get(k), "new": new.get(k)})
    return out


def _named_changes(kind: str, pid: str, old: dict, new: dict, fields) -> list[dict]:
    out = []
    for name in list(old) + [n for n in new if n not in old]:
        o, n = old.get(name), new.get(name)
        if o is None or n is None:
            entry = {"kind": kind, "policy": pid, "name": name, "change": "added" if o is None else "removed"}
            entry["fields"] = [{"field": k, "old": v if n is None else None, "new": v if o is None else None}
                               for k, v in fields(n or o).items() if v not in (None, [])]
            out.append(entry)
            continue
        changed = _field_changes(fields(o), fields(n))
        if changed:
            out.append({"kind": kind, "policy": pid, "name": name, "change": "changed", "fields": changed})
    return out


def _amendments(p) -> dict[str, list[str]]:
    """The exceptions a policy adds to rules of other policies, by the rule amended (`policy id.rule`)."""
    out = {}
    for target, (_, excs) in p.amendments.items():
        alias, _, rule = target.rpartition(".")
        used = p.uses.get(alias)
        out[f"{used[0]}.{rule}" if used else target] = [_exception_text(e) for e in excs]
    return out


def _in_force(p) -> dict:
    return {"from": p.in_force_from.isoformat() if p.in_force_from else None,
            "until": p.in_force_until.isoformat() if p.in_force_until else None}


def _input_spec(decl) -> Any:
    return _plain(decl.spec)


def static_changes(old: PolicySet, new: PolicySet) -> list[dict]:
    """What differs between the two sets as written: policies, inputs, parameters, rules, outcomes,
    amendments and in-force dates. Expressions are compared as printed, so layout alone is no change."""
    out: list[dict] = []
    for pid in list(old.policies) + [p for p in new.policies if p not in old.policies]:
        o, n = old.policies.get(pid), new.policies.get(pid)
        if o is None or n is None:
            p = n or o
            entry = {"kind": "policy", "policy": pid, "change": "added" if o is None else "removed",
                     "title": p.title, "outcomes": list(p.outcomes)}
            if p.amendments:
                entry["amendments"] = _amendments(p)
            out.append(entry)
            continue
        if _in_force(o) != _in_force(n):
            out.append({"kind": "in_force", "policy": pid, "change": "changed", "old": _in_force(o), "new": _in_force(n)})
        for name in list(o.params) + [x for x in n.params if x not in o.params]:
            c = _param_change(pid, name, o.params.get(name), n.params.get(name))
            if c is not None:
                out.append(c)
        out += _named_changes("rule", pid, o.rules, n.rules, _rule_fields)
        out += _named_changes("outcome", pid, o.outcomes, n.outcomes, _outcome_fields)
        ao, an = _amendments(o), _amendments(n)
        for target in list(ao) + [t for t in an if t not in ao]:
            if ao.get(target) != an.get(target):
                change = "added" if target not in ao else "removed" if target not in an else "changed"
                out.append({"kind": "amendment", "policy": pid, "name": target, "change": change,
                            "old": ao.get(target), "new": an.get(target)})
    for name in list(old.inputs) + [x for x in new.inputs if x not in old.inputs]:
        o, n = old.inputs.get(name), new.inputs.get(name)
        if o is None or n is None:
            out.append({"kind": "input", "name": name, "change": "added" if o is None else "removed",
                        "spec": _input_spec(n or o)})
        elif _input_spec(o) != _input_spec(n):
            out.append({"kind": "input", "name": name, "change": "changed", "old": _input_spec(o), "new": _input_spec(n)})
    return out


_WORDING = {"label", "cite"}


def _typing(spec: Any) -> Any:
    """An input's declaration without its wording (label, question, note)."""
    if isinstance(spec, dict):
        out = {k: _typing(v) for k, v in spec.items() if not ("type" in spec and k in _INPUT_WORDING)}
        return out["type"] if list(out) == ["type"] and isinstance(out["type"], str) else out  # `a: boolean`
    return spec


_INPUT_WORDING = {"label", "question", "note"}


def decides_differently(changes: list[dict]) -> bool:
    """Whether a static change can change a decision (labels, citations and questions cannot)."""
    for c in changes:
        if c["kind"] in ("rule", "outcome") and c["change"] == "changed" \
                and all(f["field"] in _WORDING for f in c["fields"]):
            continue
        if c["kind"] == "input" and c["change"] == "changed" and _typing(c["old"]) == _typing(c["new"]):
            continue
        return True
    return False


# ---------------------------------------------------------------- boundary cases

class _NotConstant(Exception):
    pass


class _FixedForTheDay:
    """The evaluation context of a value fixed for the day: the date and the parameter tables in force. It has
    no facts and computes no rule: `_Folder.value` evaluates only what reads neither."""

    def __init__(self, as_of: _dt.date, params):
        self.facts: dict = {}
        self.as_of, self.params = as_of, params
        self.rules: dict = {}
        self.steps = 0


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


class _Folder:
    """The value of an expression that reads only literals, parameters and `today` (the same for every
    case on a date), computed by the reference evaluator, or _NotConstant. Used to find where a comparison's
    boundary lies in each version."""

    def __init__(self, pset: PolicySet, as_of: _dt.date):
        self.refs, self.as_of, self.params = pset.checked.refs, as_of, pset.params
        self.reference = Reference(pset.checked, pset.params)

    def fixed(self, node) -> bool:
        """Whether a node reads nothing of a case: no input, no binder's item, no rule or outcome (in the
        branch an `if` takes, when its condition is fixed too)."""
        for n in _live(node, self):
            ref = self.refs.get(id(n)) if isinstance(n, (A.Name, A.Field)) else None
            if ref is not None and ref.kind not in ("param", "today"):
                return False
        return True

    def value(self, node):
        if not self.fixed(node):
            raise _NotConstant
        try:
            v = self.reference.eval(node, _FixedForTheDay(self.as_of, self.params), ())
        except (EvalFailure, ArithmeticError, RecursionError):  # each case reports the error: no boundary here
            raise _NotConstant from None
        if type(v) is Unknown:  # a parameter with no value for the day
            raise _NotConstant
        return v


def _expressions(p) -> Iterator[tuple[str, Any]]:
    """(where, expression) for every expression of a policy."""
    for name, r in p.rules.items():
        if r.expr is not None:
            yield f"rule {name}", r.expr
        else:
            yield f"rule {name}", r.base
            for i, e in enumerate(r.exceptions, start=1):
                yield f"rule {name}, exception {i}", e.when
                yield f"rule {name}, exception {i} value", e.value
    for target, (_, excs) in p.amendments.items():
        for i, e in enumerate(excs, start=1):
            yield f"amendment of {target}, exception {i}", e.when
    for name, o in p.outcomes.items():
        yield f"outcome {name}", o.when
        for k, e in o.values.items():
            yield f"outcome {name}, value {k}", e


def _live(node, folder: _Folder) -> Iterator:
    """The nodes of an expression that a case can reach: of an `if` whose condition is fixed for the day
    (a reading chosen by a parameter), only the branch taken."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, A.If):
            try:
                c = folder.value(n.cond)
            except _NotConstant:
                c = None
            if type(c) is bool:
                stack.append(n.then if c else n.orelse)
                continue
        stack.extend(A.children(n))


def _comparisons(pset: PolicySet, pid: str, as_of: _dt.date) -> dict[tuple, _Boundary]:
    """The comparisons of a fact-dependent side with a boundary fixed for the day, by (where, varying side, op)."""
    folder = _Folder(pset, as_of)
    out: dict[tuple, _Boundary] = {}
    for where, expr in _expressions(pset.policies[pid]):
        if expr is None or expr.node is None:
            continue
        for n in _live(expr.node, folder):
            if not isinstance(n, A.Compare) or n.op not in _FLIP:
                continue
            for varying, fixed, op in ((n.left, n.right, n.op), (n.right, n.left, _FLIP[n.op])):
                try:
                    folder.value(varying)
                    continue  # both sides fixed (no boundary a case can cross), or this side is the fixed one
                except _NotConstant:
                    pass
                try:
                    bound = folder.value(fixed)
                except _NotConstant:
                    continue
                if isinstance(bound, (Decimal, _dt.date, str, bool)):
                    out.setdefault((where, to_text(varying), op), _boundary(folder, n, varying, op, bound))
    return out


@dataclass
class _Boundary:
    """Where a comparison turns, on the fact it reads: `fact op bound`; `truth(value)` is the comparison's
    truth value, computed as written, for a value of that fact."""
    node: Any
    fact: Any
    op: str
    bound: Any
    truth: Any


def _boundary(folder: _Folder, node, varying, op: str, bound) -> _Boundary:
    """The boundary of `varying op bound` on the fact that `varying` reads; a fixed amount added to or
    subtracted from the fact (`graduation_date + years(2)`, `income - allowance`) is moved to the bound."""
    rel = COMPARE[op]
    plain = _Boundary(node, varying, op, bound, lambda v: rel(v, bound))
    if not (isinstance(varying, A.Binary) and varying.op in "+-"):
        return plain
    for fact, fixed, first in ((varying.left, varying.right, True), (varying.right, varying.left, False)):
        try:
            c = folder.value(fixed)
        except _NotConstant:
            continue
        try:
            if first:  # fact + c, fact - c
                shift = (lambda v, c=c: _add(v, c)) if varying.op == "+" else (lambda v, c=c: _add(v, _neg(c)))
                moved, fact_op = (_add(bound, _neg(c)) if varying.op == "+" else _add(bound, c)), op
            elif varying.op == "+":  # c + fact
                shift, moved, fact_op = (lambda v, c=c: _add(v, c)), _add(bound, _neg(c)), op
            else:  # c - fact
                shift, moved, fact_op = (lambda v, c=c: _add(c, _neg(v))), _add(c, _neg(bound)), _FLIP[op]
        except (_NotConstant, ArithmeticError, OverflowError, TypeError):
            return plain
        return _Boundary(node, fact, fact_op, moved, lambda v, shift=shift: rel(shift(v), bound))
    return plain


def _neg(x):
    if isinstance(x, Decimal):
        return DECIMAL_CONTEXT.minus(x)
    if isinstance(x, Duration):
        return -x
    raise _NotConstant


def _add(a, b):
    """a + b as the language adds numbers, or a duration to a date."""
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return DECIMAL_CONTEXT.add(a, b)
    if isinstance(a, _dt.date) and isinstance(b, Duration):
        return add_duration(a, b)
    raise _NotConstant


def _integer_valued(pset: PolicySet, node) -> bool:
    """Whether a varying side takes only whole numbers: a count, or a fact declared integer."""
    if isinstance(node, A.Call) and node.func in ("age", "years_between", "months_between", "days_between", "len", "year",
                                                   "month", "day"):
        return True
    name = node.name if isinstance(node, (A.Name, A.Field)) else None
    if name is None:
        return False

    def integer(spec) -> bool:
        return spec == "integer" or (isinstance(spec, dict) and spec.get("type") == "integer")

    def field_in(spec) -> bool:  # a field of that name declared integer, in a record or a list's items
        if isinstance(spec, dict):
            return any((k == name and integer(v)) or field_in(v) for k, v in spec.items())
        return isinstance(spec, list) and any(field_in(x) for x in spec)

    if isinstance(node, A.Name):
        decl = pset.inputs.get(name)
        return decl is not None and integer(decl.spec)
    return any(field_in(d.spec) for d in pset.inputs.values())


def _step(bounds: list, whole: bool):
    if isinstance(bounds[0], _dt.date):
        return _dt.timedelta(days=1)
    if whole:
        return Decimal(1)
    exps = [b.as_tuple().exponent for b in bounds if isinstance(b, Decimal)]
    return Decimal(1).scaleb(min([-2] + [e for e in exps if isinstance(e, int)]))


def _values_to_try(op: str, bounds: list, step) -> list:
    """For each boundary, the value on it and the nearest value on its other side."""
    values = []
    for b in bounds:
        values.append(b)
        if op in (">=", "<"):
            values.append(b - step)
        elif op in ("<=", ">"):
            values.append(b + step)
    return sorted(set(values))


def boundary_cases(old: PolicySet, new: PolicySet, as_of: _dt.date) -> list[dict]:
    """Without a caseload: for every comparison whose boundary differs between the versions (a moved
    threshold, a condition added or removed, a reading switched by a parameter), the values of the fact
    on and next to each boundary, each with the truth value of the comparison in both versions (null where
    a version does not make it)."""
    out = []
    for pid in [p for p in new.policies if p in old.policies]:
        before, after = _comparisons(old, pid, as_of), _comparisons(new, pid, as_of)
        for key in list(after) + [k for k in before if k not in after]:
            b_old, b_new = before.get(key), after.get(key)
            if b_old and b_new and b_old.bound == b_new.bound and type(b_old.bound) is type(b_new.bound):
                continue
            shown = b_new or b_old
            bounds = [b.bound for b in (b_old, b_new) if b is not None]
            if not all(isinstance(t, (Decimal, _dt.date)) for t in bounds) or len({type(t) for t in bounds}) > 1:
                tried = bounds  # strings and booleans: only the values themselves
            else:
                tried = _values_to_try(shown.op, bounds, _step(bounds, _integer_valued(new if b_new else old, shown.fact)))
            cases = [{"value": _plain(v), "old": None if b_old is None else b_old.truth(v),
                      "new": None if b_new is None else b_new.truth(v)} for v in tried]
            out.append({"policy": pid, "where": key[0], "comparison": to_text(shown.node), "fact": to_text(shown.fact),
                        "op": shown.op, "old": None if b_old is None else _plain(b_old.bound),
                        "new": None if b_new is None else _plain(b_new.bound), "cases": cases})
    return out


# ---------------------------------------------------------------- impact over a caseload

def _key(r: dict) -> str:
    return f"{r['policy']}.{r['outcome']}"


def _why(old: PolicySet, new: PolicySet, rec: Record, as_of, pid: str, name: str) -> list[dict]:
    """Why one outcome of one case is decided differently: the rules giving a value that differs
    (`pension_age` 65 -> 55), then the conditions whose truth value differs: the rules when any
    does, else the other conditions, outermost first."""
    sides = []
    for pset in (old, new):
        sel = [(pid, name)] if (pid, name) in pset.outcome_names() else None
        if sel is None:
            sides.append(None)
            continue
        line = evaluate_record(pset, rec, as_of, sel, True)
        results = line.get("results") or []
        sides.append(results[0]["trace"] if results else None)
    if sides[0] is None or sides[1] is None:
        return []
    truth = [_truth_values(t) for t in sides]
    tops = {k for t in truth for k, (_, _, top) in t.items() if top}
    keys = list(truth[0]) + [k for k in truth[1] if k not in truth[0]]
    differ = [k for k in keys if truth[0].get(k, (None, None, 0))[1] != truth[1].get(k, (None, None, 0))[1]]
    both = [k for k in differ if k in truth[0] and k in truth[1]]
    differ = both or differ  # a condition evaluated in one version only (short-circuited, or added) is no reason
    rules = [k for k in differ if k[0] == "rule"]  # when a condition evaluated in both versions differs
    chosen = rules or [k for k in differ if k[0] == "condition"]
    inner = [k for k in chosen if k not in tops]
    chosen = inner or chosen  # the outcome's own condition, when nothing inside it says more
    given = [_given_values(t) for t in sides]  # rules that give a value (not a truth value) used by both
    out = [{"rule": k, **({"label": given[1][k][0]} if given[1][k][0] else {}),
            "old_value": given[0][k][1], "new_value": given[1][k][1]}
           for k in given[0] if k in given[1] and given[0][k][1] != given[1][k][1]]
    for k in chosen:
        label = (truth[1].get(k) or truth[0].get(k))[0]
        entry = {"rule": k[1]} if k[0] == "rule" else {"condition": k[1]}
        if label:
            entry["label"] = label
        entry["old"] = truth[0].get(k, (None, NOT_EVALUATED, False))[1]
        entry["new"] = truth[1].get(k, (None, NOT_EVALUATED, False))[1]
        out.append(entry)
    return out


_TRUTHS = ("true", "false", "unknown")


def _truth_values(events: list) -> dict[tuple, tuple]:
    """(kind, rule or condition text) -> (label, truth value, whether it is the outcome's own condition), first
    occurrence, from a result's trace."""
    out: dict[tuple, tuple] = {}
    stack = [(e, True) for e in reversed(events)]
    while stack:
        ev, top = stack.pop()
        status = ev.get("status")
        if status in _TRUTHS:
            if ev.get("kind") == "rule":
                key = ("rule", f"{ev.get('policy')}.{ev.get('name')}")
            else:
                key = ("condition", ev.get("text"))
            if key not in out:
                out[key] = (ev.get("label"), status, top)
        stack.extend((c, False) for c in reversed(ev.get("children") or ()))
    return out


def _given_values(events: list) -> dict[str, tuple]:
    """policy.rule -> (label, value) of the rules that give a value (not a truth value), from a trace."""
    out: dict[str, tuple] = {}
    stack = list(events)
    while stack:
        ev = stack.pop()
        if ev.get("kind") == "rule" and ev.get("status") == "value":
            out.setdefault(f"{ev.get('policy')}.{ev.get('name')}", (ev.get("label"), ev.get("value")))
        stack.extend(ev.get("children") or ())
    return out


@dataclass
class Impact:
    """Counts and examples of a diff over a caseload (merged block by block, in input order)."""
    cases: int = 0
    changed_cases: int = 0
    invalid_cases: int = 0
    unchanged: dict[str, int] = field(default_factory=dict)          # outcome -> cases decided alike
    transitions: dict[tuple, list] = field(default_factory=dict)     # (outcome, from, to) -> [count, examples]
    values: dict[tuple, list] = field(default_factory=dict)          # (outcome, value) -> [count, examples]
    invalid: list[dict] = field(default_factory=list)

    def merge(self, other: "Impact"):
        self.cases += other.cases
        self.changed_cases += other.changed_cases
        self.invalid_cases += other.invalid_cases
        for k, n in other.unchanged.items():
            self.unchanged[k] = self.unchanged.get(k, 0) + n
        for table, theirs in ((self.transitions, other.transitions), (self.values, other.values)):
            for k, (n, examples) in theirs.items():
                mine = table.setdefault(k, [0, []])
                mine[0] += n
                mine[1].extend(examples[:EXAMPLES - len(mine[1])])
        self.invalid.extend(other.invalid)


class _Diff:
    """Both versions and what each decides; `block` compares a list of cases."""

    def __init__(self, old: PolicySet, new: PolicySet, as_of, selectors: tuple):
        self.old, self.new, self.as_of = old, new, as_of
        self.sel_old = old.select(selectors)[0] if selectors else None
        self.sel_new = new.select(selectors)[0] if selectors else None

    def block(self, records: Iterable[Record]) -> Impact:
        imp = Impact()
        for rec in records:
            self.case(rec, imp)
        return imp

    def case(self, rec: Record, imp: Impact):
        a = evaluate_record(self.old, rec, self.as_of, self.sel_old, False)
        b = evaluate_record(self.new, rec, self.as_of, self.sel_new, False)
        imp.cases += 1
        ra, rb = a.get("results"), b.get("results")
        if ra is None or rb is None:
            imp.invalid_cases += 1
            imp.invalid.append({"id": b["id"], "record": b["record"], "old": a.get("diagnostics", []) if ra is None else [],
                                "new": b.get("diagnostics", []) if rb is None else []})
            return
        old = {_key(r): r for r in ra}
        new = {_key(r): r for r in rb}
        changed = False
        for k in list(old) + [k for k in new if k not in old]:
            x, y = old.get(k), new.get(k)
            sx = x["status"] if x is not None else ABSENT
            sy = y["status"] if y is not None else ABSENT
            if sx != sy:
                changed = True
                entry = imp.transitions.setdefault((k, sx, sy), [0, []])
                entry[0] += 1
                if len(entry[1]) < EXAMPLES:
                    r = x or y
                    entry[1].append({"id": b["id"], "record": b["record"],
                                     "why": _why(self.old, self.new, rec, self.as_of, r["policy"], r["outcome"])})
                continue
            moved = [name for name in list(x["values"]) + [n for n in y["values"] if n not in x["values"]]
                     if x["values"].get(name) != y["values"].get(name)
                     or type(x["values"].get(name)) is not type(y["values"].get(name))]
            if not moved:
                imp.unchanged[k] = imp.unchanged.get(k, 0) + 1
                continue
            changed = True
            for name in moved:
                entry = imp.values.setdefault((k, name), [0, []])
                entry[0] += 1
                if len(entry[1]) < EXAMPLES:
                    entry[1].append({"id": b["id"], "record": b["record"], "old": x["values"].get(name),
                                     "new": y["values"].get(name)})
        if changed:
            imp.changed_cases += 1


_worker: dict = {}


def _init_worker(load_args):
    from .engine import load
    from .facts import read_facts_file
    old_paths, new_paths, params_path, as_of, selectors = load_args
    sets = []
    for paths in (old_paths, new_paths):
        pset = load(paths).policy_set
        if params_path:
            raw, loc, _ = read_facts_file(params_path)
            pset, _ = pset.with_params(raw, loc, params_path)
        sets.append(pset)
    _worker["diff"] = _Diff(sets[0], sets[1], as_of, tuple(selectors))


def _work(records: list[Record]) -> Impact:
    return _worker["diff"].block(records)


def _blocks(records: Iterable[Record]) -> Iterator[list[Record]]:
    block: list[Record] = []
    for rec in records:
        block.append(rec)
        if len(block) >= BLOCK:
            yield block
            block = []
    if block:
        yield block


def run_impact(old: PolicySet, new: PolicySet, records: Iterable[Record], *, as_of, selectors=(), jobs: int = 1,
               load_args: tuple | None = None) -> Impact:
    """Decide every case with both versions and count what changed; with `jobs` > 1, in worker processes,
    a bounded number of blocks at a time (results merged in input order)."""
    diff = _Diff(old, new, as_of, tuple(selectors))
    if jobs <= 1:
        return diff.block(records)
    if forking():  # the workers inherit both compiled sets
        _worker["diff"] = diff
        init, initargs = None, ()
    else:
        init, initargs = _init_worker, (load_args,)
    total = Impact()
    for imp in in_workers(_work, _blocks(records), jobs, init, initargs):
        total.merge(imp)
    return total


# ---------------------------------------------------------------- the document

def diff_document(old_name: str, new_name: str, old: PolicySet, new: PolicySet, *, as_of: _dt.date,
                  caseload: str | None = None, impact: Impact | None = None, selectors=()) -> dict:
    """The diff as one plain-data document (schema/diff.schema.json); `selectors` (as --outcome takes them)
    limit the outcomes counted."""
    changes = static_changes(old, new)
    order = {k: i for i, k in enumerate([f"{p}.{o}" for p, o in old.outcome_names()]
                                         + [f"{p}.{o}" for p, o in new.outcome_names()])}
    rank = {s: i for i, s in enumerate((*STATUSES, ABSENT))}
    imp = impact or Impact()

    def split(key: str) -> tuple[str, str]:
        for names in (new.outcome_names(), old.outcome_names()):
            for p, o in names:
                if f"{p}.{o}" == key:
                    return p, o
        return key.rsplit(".", 1)[0], key.rsplit(".", 1)[1]

    transitions = []
    for (k, a, b), (n, examples) in sorted(imp.transitions.items(),
                                           key=lambda t: (order.get(t[0][0], 0), rank[t[0][1]], rank[t[0][2]])):
        p, o = split(k)
        transitions.append({"policy": p, "outcome": o, "from": a, "to": b, "count": n, "examples": examples})
    values = []
    for (k, name), (n, examples) in sorted(imp.values.items(), key=lambda t: (order.get(t[0][0], 0), t[0][1])):
        p, o = split(k)
        values.append({"policy": p, "outcome": o, "value": name, "count": n, "examples": examples})
    outcomes = []
    keys = list(dict.fromkeys(order))
    if selectors:
        chosen = {f"{p}.{o}" for pset in (old, new) for p, o in pset.select(selectors)[0]}
        keys = [k for k in keys if k in chosen]
    if caseload is not None:
        for k in keys:
            p, o = split(k)
            moved = sum(n for (kk, _, _), (n, _) in imp.transitions.items() if kk == k)
            outcomes.append({"policy": p, "outcome": o, "unchanged": imp.unchanged.get(k, 0), "changed_status": moved})
    doc = {
        "old": old_name, "new": new_name, "as_of": as_of.isoformat(), "caseload": caseload,
        "changes": changes,
        "cases": imp.cases, "changed_cases": imp.changed_cases, "invalid_cases": imp.invalid_cases,
        "outcomes": outcomes, "transitions": transitions, "values": values, "invalid": imp.invalid,
        "boundary_cases": boundary_cases(old, new, as_of) if caseload is None else [],
    }
    doc["decisions_differ"] = _differs(doc)
    return doc


def _differs(doc: dict) -> bool:
    if doc["caseload"] is not None:
        return doc["changed_cases"] > 0
    return decides_differently(doc["changes"]) or any(
        c["old"] != c["new"] for b in doc["boundary_cases"] for c in b["cases"])


# ---------------------------------------------------------------- text and Markdown

def _v(v) -> str:
    if v is None:
        return "none"
    if isinstance(v, (list, dict)) or isinstance(v, bool):
        return format_value(v)
    return str(v) if not isinstance(v, Decimal) else format_value(v)


def _status(s: str) -> str:
    return s.replace("_", " ")


def _truth(t) -> str:
    return {True: "true", False: "false", None: "not compared"}.get(t, str(t))


def change_lines(c: dict) -> list[str]:
    """A static change as lines of text (the first one names it)."""
    kind, change = c["kind"], c["change"]
    where = f"{c['policy']}" if "policy" in c else ""
    if kind == "policy":
        sign = "+" if change == "added" else "-"
        return [f"policy {c['policy']} {change}: {c['title']}"] + [
            f"  {sign} amends {target}: {t}" for target, texts in c.get("amendments", {}).items() for t in texts]
    if kind == "in_force":
        return [f"in force dates of {where}: {_v(c['old']['from'])} to {_v(c['old']['until'])}"
                f" -> {_v(c['new']['from'])} to {_v(c['new']['until'])}"]
    if kind == "input":
        if change == "changed":
            return [f"input {c['name']} changed: {format_value(c['old'])} -> {format_value(c['new'])}"]
        return [f"input {c['name']} {change}"]
    if kind == "parameter":
        head = f"parameter {where}.{c['name']}"
        if change != "changed":
            return [f"{head} {change}"]
        if "years" in c:
            return [f"{head}:"] + [f"  {y['year']}: {_v(y['old'])} -> {_v(y['new'])}" for y in c["years"]]
        if "steps" in c:
            return [f"{head}:"] + [f"  from {s['from']}: {_v(s['old'])} -> {_v(s['new'])}" for s in c["steps"]]
        return [f"{head}: {_v(c['old'])} -> {_v(c['new'])}"]
    if kind == "amendment":
        lines = [f"amendment of {c['name']} by {where} {change}"]
        lines += [f"  - {t}" for t in c["old"] or [] if t not in (c["new"] or [])]
        lines += [f"  + {t}" for t in c["new"] or [] if t not in (c["old"] or [])]
        return lines
    lines = [f"{kind} {where}.{c['name']} {change}"]
    for f in c["fields"]:
        for sign, val in (("-", f["old"]), ("+", f["new"])):
            if val in (None, []):
                continue
            for t in (val if isinstance(val, list) else [val]):
                lines.append(f"  {sign} {f['field']}: {t}")
    return lines


def _why_text(why: list[dict], policy: str) -> str:
    def name(w):
        if "rule" in w:
            return w["rule"][len(policy) + 1:] if w["rule"].startswith(policy + ".") else w["rule"]
        return f"`{w['condition']}`"

    def change(w):
        if "old_value" in w:
            return f"{_v(w['old_value'])} -> {_v(w['new_value'])}"
        return f"{_status(w['old'])} -> {_status(w['new'])}"
    return ", ".join(f"{name(w)} {change(w)}" for w in why)


def render_text(doc: dict) -> str:
    out = [f"policy diff {doc['old']} -> {doc['new']} (as of {doc['as_of']})", ""]
    out.append("Changes:" if doc["changes"] else "Changes: none")
    for c in doc["changes"]:
        lines = change_lines(c)
        out.append("  " + lines[0])
        out += ["    " + x.lstrip() if x.startswith("  ") else "    " + x for x in lines[1:]]
    if doc["caseload"] is not None:
        out += ["", _impact_line(doc)]
        for t in doc["transitions"]:
            out.append(f"  {t['policy']} / {t['outcome']}: {_status(t['from'])} -> {_status(t['to'])}: {t['count']}")
            for e in t["examples"]:
                why = _why_text(e["why"], t["policy"])
                out.append(f"    e.g. {e['id']}" + (f": {why}" if why else ""))
        for v in doc["values"]:
            out.append(f"  {v['policy']} / {v['outcome']}: value {v['value']} changed: {v['count']}")
            for e in v["examples"]:
                out.append(f"    e.g. {e['id']}: {_v(e['old'])} -> {_v(e['new'])}")
        if doc["invalid"]:
            out.append(f"  cases with invalid facts (counted apart): {doc['invalid_cases']}")
            for bad in doc["invalid"][:SHOWN_INVALID]:
                out.append(f"    {bad['id']} (record {bad['record']})")
                for side, diags in _sides(bad):
                    for d in diags:
                        out.append(f"      {side}: {d['file']}:{d['line']}:{d['column']}: {d['code']}: {d['message']}")
            if len(doc["invalid"]) > SHOWN_INVALID:
                out.append(f"    ... and {len(doc['invalid']) - SHOWN_INVALID} more (all are in --format json)")
    else:
        out += ["", "Boundary cases (no caseload given):" if doc["boundary_cases"] else
                "Boundary cases: no comparison with a fixed boundary differs"]
        for b in doc["boundary_cases"]:
            out.append(f"  {b['policy']}, {b['where']}: {b['comparison']}")
            out.append(f"    old: {_bound(b, 'old')}; new: {_bound(b, 'new')}")
            for c in b["cases"]:
                mark = "  " if c["old"] == c["new"] else "* "
                out.append(f"    {mark}{b['fact']} = {_v(c['value'])}: old {_truth(c['old'])}, new {_truth(c['new'])}")
    out += ["", "decisions differ" if doc["decisions_differ"] else "no decision differs"]
    return "\n".join(printable(line) for line in out) + "\n"  # ids and values of a caseload are untrusted text


def _sides(bad: dict) -> list[tuple[str, list]]:
    """An invalid case's diagnostics by version; said once when both versions say the same."""
    if bad["old"] == bad["new"]:
        return [("old and new", bad["old"])]
    return [("old", bad["old"]), ("new", bad["new"])]


def _bound(b: dict, side: str) -> str:
    return "not compared" if b[side] is None else f"{b['fact']} {b['op']} {_v(b[side])}"


def _impact_line(doc: dict) -> str:
    n = doc["cases"]
    return (f"Impact on {n} case{'s' if n != 1 else ''} of {doc['caseload']}: {doc['changed_cases']} decided differently, "
            f"{doc['invalid_cases']} with invalid facts")


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(doc: dict) -> str:
    """The diff as a pull-request comment."""
    out = [f"### Policy diff: `{doc['old']}` → `{doc['new']}`", "", f"As of {doc['as_of']}.", ""]
    if doc["changes"]:
        out += ["#### Changes", "", "~~~diff"]  # not ```: a report shown inside a ``` block stays whole
        for c in doc["changes"]:
            lines = change_lines(c)
            out.append(lines[0])
            out += lines[1:]
        out += ["~~~", ""]
    else:
        out += ["No change to the policies.", ""]
    if doc["caseload"] is not None:
        out += ["#### Impact", "", _md(_impact_line(doc)) + ".", ""]
        if doc["transitions"]:
            out += ["| outcome | from | to | cases | examples (why) |", "| --- | --- | --- | ---: | --- |"]
            for t in doc["transitions"]:
                ex = "; ".join(f"`{e['id']}`" + (f" ({_why_text(e['why'], t['policy'])})" if e["why"] else "") for e in t["examples"])
                out.append(f"| `{t['policy']}` / `{t['outcome']}` | {_status(t['from'])} | {_status(t['to'])} | "
                           f"{t['count']} | {_md(ex)} |")
            out.append("")
        if doc["values"]:
            out += ["| outcome | value | cases | examples |", "| --- | --- | ---: | --- |"]
            for v in doc["values"]:
                ex = "; ".join(f"`{e['id']}`: {_v(e['old'])} → {_v(e['new'])}" for e in v["examples"])
                out.append(f"| `{v['policy']}` / `{v['outcome']}` | `{v['value']}` | {v['count']} | {_md(ex)} |")
            out.append("")
        if doc["invalid"]:
            out += [f"{doc['invalid_cases']} case(s) with invalid facts, counted apart:", ""]
            for bad in doc["invalid"][:SHOWN_INVALID]:
                diags = [f"{side}: `{d['code']}` {d['message']}" for side, ds in _sides(bad) for d in ds]
                out.append(f"- `{bad['id']}` (record {bad['record']}): " + _md("; ".join(diags)))
            if len(doc["invalid"]) > SHOWN_INVALID:
                out.append(f"- ... and {len(doc['invalid']) - SHOWN_INVALID} more")
            out.append("")
    elif doc["boundary_cases"]:
        out += ["#### Boundary cases", ""]
        for b in doc["boundary_cases"]:
            out += [f"`{b['policy']}`, {b['where']}: `{_md(b['comparison'])}`; old: `{_md(_bound(b, 'old'))}`, "
                    f"new: `{_md(_bound(b, 'new'))}`",
                    "", f"| `{_md(b['fact'])}` | old | new |", "| ---: | --- | --- |"]
            for c in b["cases"]:
                bold = "**" if c["old"] != c["new"] else ""
                out.append(f"| {bold}{_v(c['value'])}{bold} | {_truth(c['old'])} | {_truth(c['new'])} |")
            out.append("")
    out.append("**Decisions differ.**" if doc["decisions_differ"] else "No decision differs.")
    return "\n".join(printable(line) for line in out) + "\n"


# ---------------------------------------------------------------- a version read with git

class GitFailure(Exception):
    """The files of a path at a revision cannot be read with git."""


def _git(args: list[str], cwd: str) -> bytes:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True)
    except OSError as e:
        raise GitFailure(f"cannot run git: {(e.strerror or 'error').lower()}") from None
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitFailure(msg[-1] if msg else f"git {args[0]} failed")
    return proc.stdout


def files_at_revision(path: str, rev: str, into: str) -> str:
    """Write the files under `path` as they are at git revision `rev` into the directory `into`, with `git
    ls-tree` and `git show` (nothing is checked out); returns the path of the copy, to load."""
    here = os.path.abspath(path)
    base = here if os.path.isdir(here) else os.path.dirname(here)
    top = _git(["rev-parse", "--show-toplevel"], base).decode().strip()
    rel = os.path.relpath(here, top).replace(os.sep, "/")
    if rel.startswith(".."):
        raise GitFailure(f"`{path}` is outside the repository at {top}")
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], top)
    except GitFailure:
        raise GitFailure(f"`{rev}` is not a revision of the repository at {top}") from None
    wanted = ["." if rel == "." else rel]
    if not os.path.isdir(here):  # a policy file brings the shared inputs beside it, as `load` reads them
        wanted += [f"{os.path.dirname(rel)}/{name}".lstrip("/") for name in INPUTS_FILES]
    listing = _git(["ls-tree", "-r", "-z", "--name-only", rev, "--", *wanted], top)
    names = [n for n in listing.decode("utf-8", "surrogateescape").split("\0") if n]
    if not names:
        raise GitFailure(f"`{rel}` does not exist at `{rev}`")
    for name in names:
        data = _git(["show", f"{rev}:{name}"], top)
        target = os.path.join(into, *name.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as fh:
            fh.write(data)
    return os.path.join(into, *rel.split("/")) if rel != "." else into
