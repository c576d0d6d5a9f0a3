"""A compiled policy set and its evaluation: outcomes, statuses, missing facts, traces."""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .checker import CheckedSet, check
from . import syntax as A
from .compiler import _PLAIN_TYPES, Compiler, EvalFailure, Fn, _jsonable, span_key, tri_status
from .printer import to_text
from .typesys import BOOL
from .diagnostics import Diagnostic, Span, has_errors, sort_diagnostics
from .facts import check_facts
from .loader import discover, load_files
from .model import Policy
from .params import apply_overrides, default_tables
from .values import Unknown

__all__ = ["PolicySet", "LoadResult", "Evaluation", "OutcomeResult", "Missing", "load", "STATUSES"]

_FAILED = object()

STATUSES = ("applies", "does_not_apply", "undetermined", "not_in_force", "error")


@dataclass(frozen=True)
class Missing:
    """Something the evaluation needed and did not have: a fact, or a parameter value."""
    kind: str          # "fact" or "parameter"
    name: str          # fact path (`children[1].birth_date`) or `average_salary[2023]`
    policy: str | None = None
    question: str | None = None
    label: str | None = None

    def to_dict(self) -> dict:
        d = {"kind": self.kind, "name": self.name}
        if self.policy:
            d["policy"] = self.policy
        if self.question:
            d["question"] = self.question
        if self.label:
            d["label"] = self.label
        return d


@dataclass(slots=True, init=False)
class OutcomeResult:
    """The decision on one outcome of one policy."""
    policy: str
    outcome: str
    label: str
    cite: str | None
    status: str
    values: dict[str, Any] = field(default_factory=dict)
    missing: list[Missing] = field(default_factory=list)
    trace: list[dict] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    unknown_values: list[str] = field(default_factory=list)

    def __init__(self, policy: str, outcome: str, label: str, cite: str | None, status: str,
                 values: dict | None = None, missing: list | None = None, trace: list | None = None,
                 diagnostics: list | None = None, unknown_values: list | None = None):
        # Written out (not generated) because one is made per outcome per case on the fast path.
        self.policy, self.outcome, self.label, self.cite, self.status = policy, outcome, label, cite, status
        self.values = {} if values is None else values
        self.missing = [] if missing is None else missing
        self.trace = [] if trace is None else trace
        self.diagnostics = [] if diagnostics is None else diagnostics
        self.unknown_values = [] if unknown_values is None else unknown_values

    def to_dict(self, trace: bool = True) -> dict:
        d = {"policy": self.policy, "outcome": self.outcome, "label": self.label, "cite": self.cite,
             "status": self.status, "values": self.values, "missing": [m.to_dict() for m in self.missing],
             "trace": self.trace if trace else []}
        if self.unknown_values:
            d["unknown_values"] = self.unknown_values
        if self.diagnostics:
            d["diagnostics"] = [x.to_dict() for x in self.diagnostics]
        return d


_new = object.__new__


def _fast_values(values: dict[str, Fn]) -> dict | list | None:
    """An outcome's strict values as the fast path takes them: None when there are none; a dict of plain
    data to copy when every value is a constant scalar (the same for every case); else (name, closure) pairs."""
    if not values:
        return None
    consts = {k: getattr(fn, "const", _FAILED) for k, fn in values.items()}
    if all(type(v) in _PLAIN_TYPES for v in consts.values()):  # not a list (shared by every result), not unknown
        return consts
    return list(values.items())


@dataclass(slots=True)
class Evaluation:
    """All decisions for one set of facts, as of one date."""
    as_of: _dt.date
    results: list[OutcomeResult]
    supplied: list[dict] = field(default_factory=list)  # parameter values taken from a parameters file

    @property
    def missing(self) -> list[Missing]:
        """Everything missing, once, most useful first: ordered by how many undetermined outcomes wait on it."""
        return [m for m, _ in self.missing_ranked()]

    def missing_ranked(self) -> list[tuple[Missing, int]]:
        """(missing item, number of undetermined outcomes it could settle), most first, then by name."""
        seen: dict[tuple, Missing] = {}
        count: dict[tuple, int] = {}
        order: dict[tuple, int] = {}
        for r in self.results:
            for m in r.missing:
                key = (m.kind, m.name, m.policy)
                seen.setdefault(key, m)
                order.setdefault(key, len(order))
                count[key] = count.get(key, 0) + 1
        keys = sorted(seen, key=lambda k: (k[0] != "fact", -count[k], order[k]))
        return [(seen[k], count[k]) for k in keys]

    def to_dict(self, trace: bool = True) -> dict:
        d = {"as_of": self.as_of.isoformat(), "results": [r.to_dict(trace) for r in self.results],
             "missing": [{**m.to_dict(), "outcomes": n} for m, n in self.missing_ranked()]}
        if self.supplied:
            d["supplied_parameters"] = self.supplied
        return d


class _Case:
    """One evaluation's state, made by `evaluate` without a class call: `facts`, `as_of`, `params` and
    `strict_memo` always; `memo` once an outcome needs the three-valued closures; and when tracing,
    the traced closures' `stack`, `converted`, `seen` and `items`."""
    __slots__ = ("facts", "as_of", "params", "memo", "strict_memo", "stack", "seen", "converted", "items")


@dataclass
class _CompiledOutcome:
    policy: Policy
    name: str
    when: Fn
    values: dict[str, Fn]


class _Compiled:
    def __init__(self, checked: CheckedSet, traced: bool, params=None, strict: bool = False):
        comp = Compiler(checked, traced, params, strict)
        self.outcomes: list[_CompiledOutcome] = []
        for p in checked.policies.values():
            for name, r in p.rules.items():
                if r.expr is not None:
                    comp.rule_fns[(p.id, name)] = comp.expr(r.expr.node, p.id)
                else:
                    comp.rule_fns[(p.id, name)] = _exceptions_fn(comp, p, r, checked, traced)
            for name, o in p.outcomes.items():
                fn = comp.expr(o.when.node, p.id)
                comp.rule_fns[(p.id, "outcome:" + name)] = fn
                self.outcomes.append(_CompiledOutcome(p, name, fn, {k: comp.expr(e.node, p.id) for k, e in o.values.items()}))
        self.rule_fns = comp.rule_fns


def _exceptions_fn(comp: Compiler, p: Policy, r, checked: CheckedSet, traced: bool) -> Fn:
    base = comp.expr(r.base.node, p.id)
    excs = [(comp.expr(e.when.node, e.policy_id), comp.expr(e.value.node, e.policy_id), e)
            for e in list(r.exceptions) + checked.amendments.get((p.id, r.name), [])]
    span = r.span

    def rule(c, loc):
        fired, pending = [], []
        for when, value, decl in excs:
            if traced:
                children: list = []
                c.stack.append(children)
                try:
                    w = when(c, loc)
                finally:
                    c.stack.pop()
            else:
                w = when(c, loc)
            if w is True:
                fired.append((decl, value(c, loc)))
            elif type(w) is Unknown:
                pending.append((decl, w, value))
            if traced:
                ev = {"kind": "exception", "text": decl.when.text, "label": decl.label, "cite": decl.cite,
                      "policy": decl.policy_id, "status": tri_status(w), "value": _jsonable(w)}
                if w is True:
                    ev["gives"] = _jsonable(fired[-1][1])
                if children:
                    ev["children"] = children
                c.stack[-1].append(ev)
        if fired:
            distinct = []
            for decl, v in fired:
                if all(v != d for _, d in distinct):
                    distinct.append((decl, v))
            if len(distinct) > 1:
                (d1, v1), (d2, v2) = distinct[:2]
                raise EvalFailure("conflict", f"exceptions conflict: {_who(d1)} gives {_show(v1)} but {_who(d2)} gives {_show(v2)}",
                                  span)
            result = distinct[0][1]
        else:
            result = base(c, loc)
            if traced:
                c.stack[-1].append({"kind": "value", "text": r.base.text, "label": "base value", "status": tri_status(result),
                                    "value": _jsonable(result)})
        if pending and type(result) is not Unknown:
            for decl, w, value in pending:
                v = value(c, loc)
                if type(v) is Unknown or v != result:
                    result = w if type(result) is not Unknown else result | w
                    if type(v) is Unknown:
                        result = result | v
        if traced and fired:
            try:
                b = _jsonable(base(c, loc))
            except EvalFailure as e:
                b = f"not computed ({e.message})"
            c.stack[-1].append({"kind": "value", "text": r.base.text, "label": "base value replaced by the exception",
                                "status": "skipped", "value": b})
        return result
    return rule


def _who(decl) -> str:
    return f"`{decl.cite}`" if decl.cite else f"`{decl.label or decl.when.text}`"


def _show(v) -> str:
    from .printer import format_value
    return format_value(_jsonable(v))


@dataclass
class LoadResult:
    """What `load` returns: the compiled set (None when there are errors) and every diagnostic."""
    policy_set: "PolicySet | None"
    diagnostics: list[Diagnostic]
    files: list[str] = field(default_factory=list)  # the files found and read

    @property
    def ok(self) -> bool:
        return self.policy_set is not None


class PolicySet:
    """A checked and compiled set of policies; evaluate it as many times as you like."""

    def __init__(self, checked: CheckedSet, files: list[str]):
        self.checked = checked
        self.files = files
        self.policies = checked.policies
        self.inputs = checked.inputs
        self.params = default_tables(self.policies)
        self._forget_compiled()
        self._plain = _Compiled(checked, traced=False, params=self.params)  # compiled now: errors show at load
        self._supplied = self._supplied_values()

    def with_params(self, raw: Any, locator=None, file: str = "<params>") -> tuple["PolicySet", list[Diagnostic]]:
        """A copy of this set whose parameter values are overridden by `{policy id: {parameter: value}}`.

        The checked policies are shared; the closures are compiled again, on first use, with the
        new values folded in where a value is the same for every case.
        """
        tables, diags = apply_overrides(self.params, self.policies, raw, locator, file)
        clone = object.__new__(PolicySet)
        clone.__dict__.update(self.__dict__)
        clone.params = tables
        clone._forget_compiled()
        clone._supplied = clone._supplied_values()
        return clone, diags

    def _forget_compiled(self) -> None:
        """Drop the compiled closures and the selections made of them; they are compiled again on first use."""
        self._plain = self._strict = self._traced = None
        self._chosen = {}
        self._last_choice = (_FAILED, None, None, None)  # (outcomes, trace, fast, chosen) of the last call

    def coverage_universe(self) -> dict[str, dict[tuple, dict]]:
        """Per policy, every condition and true/false rule that condition coverage counts."""
        comp = Compiler(self.checked, traced=True)
        out: dict[str, dict[tuple, dict]] = {pid: {} for pid in self.policies}

        def walk(node, pid):
            if node is None:
                return
            chained: set[int] = set()  # `a and b and c` counts once, not also as `a and b`
            for n in A.walk(node):
                if isinstance(n, A.BoolOp) and isinstance(n.left, A.BoolOp) and n.left.op == n.op:
                    chained.add(id(n.left))
                if comp.is_covered(n) and id(n) not in chained:
                    out[pid][span_key(n.span)] = {"kind": "condition", "text": to_text(n), "span": n.span}

        for pid, p in self.policies.items():
            for name, r in p.rules.items():
                if self.checked.rule_types.get((pid, name)) == BOOL:
                    out[pid][("rule", name)] = {"kind": "rule", "text": f"rule `{name}`: {r.label}", "span": r.span}
                for e in (r.expr, r.base):
                    if e is not None:
                        walk(e.node, pid)
                for exc in r.exceptions:
                    walk(exc.when.node, pid)
                    walk(exc.value.node, pid)
            for _, (_, excs) in p.amendments.items():
                for exc in excs:
                    walk(exc.when.node, pid)
                    walk(exc.value.node, pid)
            for name, o in p.outcomes.items():
                out[pid][("outcome", name)] = {"kind": "outcome", "text": f"outcome `{name}`: {o.label}", "span": o.span}
                walk(o.when.node, pid)
                for e in o.values.values():
                    walk(e.node, pid)
        return out

    def _compiled_plain(self) -> _Compiled:
        if self._plain is None:
            self._plain = _Compiled(self.checked, traced=False, params=self.params)
        return self._plain

    def _outcomes(self, outcomes: Iterable[tuple[str, str]] | None, trace: bool, fast: bool) -> list[tuple]:
        """The compiled outcomes to decide, in the set's order: (three-valued or traced closures, the strict
        `when` or None, the strict values as `_fast_values` gives them, the outcome's declaration, policy id,
        outcome name, label, cite, in force from, in force until)."""
        key = (None if outcomes is None else tuple(outcomes), trace, fast)
        chosen = self._chosen.get(key)
        if chosen is None:
            if trace:
                if self._traced is None:
                    self._traced = _Compiled(self.checked, traced=True, params=self.params)
                pairs = [(co, None) for co in self._traced.outcomes]
            elif not fast:
                pairs = [(co, None) for co in self._compiled_plain().outcomes]
            else:
                if self._strict is None:
                    self._strict = _Compiled(self.checked, traced=False, params=self.params, strict=True)
                pairs = list(zip(self._compiled_plain().outcomes, self._strict.outcomes))
            wanted = None if key[0] is None else set(key[0])
            chosen = []
            for co, so in pairs:
                decl = co.policy.outcomes[co.name]
                if wanted is None or (co.policy.id, co.name) in wanted:
                    chosen.append((co, None if so is None else so.when, None if so is None else _fast_values(so.values),
                                   decl, co.policy.id, co.name, decl.label, decl.cite,
                                   co.policy.in_force_from, co.policy.in_force_until))
            if len(self._chosen) < 64:
                self._chosen[key] = chosen
        if type(outcomes) in (list, tuple) or outcomes is None:  # a copy: the caller may change its list later
            self._last_choice = (outcomes if outcomes is None else type(outcomes)(outcomes), trace, fast, chosen)
        return chosen

    def outcome_names(self) -> list[tuple[str, str]]:
        return [(o.policy.id, o.name) for o in self._compiled_plain().outcomes]

    def check_facts(self, raw: Any, locator=None, file: str = "<facts>") -> tuple[dict, list[Diagnostic]]:
        """Check raw facts against the set's inputs: (runtime facts, diagnostics)."""
        return check_facts(raw, self.inputs, locator, file, self.checked.input_conflicts)

    def select(self, selectors: Iterable[str]) -> tuple[list[tuple[str, str]], list[str]]:
        """Resolve `--outcome` selectors (`policy.id`, `policy.id.outcome`, or a bare outcome name)."""
        chosen, unknown = [], []
        names = self.outcome_names()
        for s in selectors:
            hits = [(p, o) for p, o in names if s in (p, f"{p}.{o}", o)]
            if not hits:
                unknown.append(s)
            for h in hits:
                if h not in chosen:
                    chosen.append(h)
        return chosen, unknown

    def evaluate(self, facts: Mapping[str, Any], as_of: _dt.date | None = None,
                 outcomes: Iterable[tuple[str, str]] | None = None, trace: bool = False,
                 seen: set | None = None, fast: bool = True) -> Evaluation:
        """Decide every outcome (or the chosen ones) for checked facts, as of a date (default today).

        With `trace`, each result carries its trace; with a `seen` set (which implies the
        trace), the truth values taken by each condition are added to it, for coverage.
        Without the trace, an outcome is first tried on the two-valued fast path, which
        gives the same result whenever it gives one; `fast=False` skips it (for tests).
        """
        if seen is not None:
            trace = True
        if as_of is None:
            as_of = _dt.date.today()
        last = self._last_choice  # the selection of the previous call, most often the same
        if last[0] == outcomes and last[1] == trace and last[2] == fast:
            chosen = last[3]
        else:
            chosen = self._outcomes(outcomes, trace, fast)
        case = _new(_Case)
        case.facts, case.as_of, case.params, case.strict_memo = facts, as_of, self.params, {}
        if trace:
            case.seen = seen
        memo_made = False
        results = []
        for co, when, values, decl, pid, name, label, cite, in_force_from, in_force_until in chosen:
            status = None
            if (in_force_from and as_of < in_force_from) or (in_force_until and as_of > in_force_until):
                status, got = "not_in_force", {}
            elif when is not None:
                try:  # the two-valued fast path; anything it cannot settle is decided below
                    v = when(case, ())
                    if v is True:
                        if values is None:
                            got = {}
                        elif type(values) is dict:
                            got = values.copy()
                        else:
                            got = {k: _jsonable(fn(case, ())) for k, fn in values}
                        status = "applies"
                    elif v is False:
                        status, got = "does_not_apply", {}
                except Exception:  # noqa: BLE001 - a missing fact, an error: the three-valued path says which
                    status = None
            if status is not None:  # as OutcomeResult(pid, name, label, cite, status, got), without the class call
                r = _new(OutcomeResult)
                r.policy, r.outcome, r.label, r.cite, r.status, r.values = pid, name, label, cite, status, got
                r.missing, r.trace, r.diagnostics, r.unknown_values = [], [], [], []
                results.append(r)
                continue
            p = co.policy
            res = OutcomeResult(pid, name, label, cite, "undetermined")
            results.append(res)
            if trace:
                case.memo = {}
                case.stack = [[]]
                case.converted = {}
            elif not memo_made:  # rules computed by the three-valued closures, shared by the outcomes
                case.memo, memo_made = {}, True
            try:
                v = co.when(case, ())
                if v is True:
                    res.status = "applies"
                    for k, fn in co.values.items():
                        if trace:
                            case.stack.append([])
                        try:
                            x = fn(case, ())
                        except EvalFailure as e:  # the outcome applies; this value cannot be computed
                            res.diagnostics.append(Diagnostic(e.code, e.message, e.span))
                            x = _FAILED
                        finally:
                            if trace:
                                children = case.stack.pop()
                        if x is _FAILED:
                            continue
                        if trace:
                            ev = {"kind": "value", "name": k, "text": decl.values[k].text, "label": f"value `{k}`",
                                  "status": "unknown" if type(x) is Unknown else "value", "value": _jsonable(x)}
                            if children:
                                ev["children"] = children
                            case.stack[-1].append(ev)
                        if type(x) is Unknown:
                            res.missing += [m for m in self._missing(x) if m not in res.missing]
                            res.unknown_values.append(k)
                        else:
                            res.values[k] = _jsonable(x)
                elif v is False:
                    res.status = "does_not_apply"
                else:
                    res.status = "undetermined"
                    res.missing = self._missing(v)
            except EvalFailure as e:
                res.status = "error"
                res.diagnostics.append(Diagnostic(e.code, e.message, e.span))
            if trace:
                res.trace = case.stack[0]
            if seen is not None and res.status in ("applies", "does_not_apply"):
                seen.add((p.id, ("outcome", co.name), "true" if res.status == "applies" else "false"))
        evaluation = _new(Evaluation)  # as Evaluation(as_of, results, self._supplied), without the class call
        evaluation.as_of, evaluation.results, evaluation.supplied = as_of, results, self._supplied
        return evaluation

    def _supplied_values(self) -> list[dict]:
        """The parameter values taken from a parameters file, for `Evaluation.supplied`."""
        out = []
        for pid, table in self.params.items():
            for name, pv in table.items():
                if pv.supplied_by is None:
                    continue
                entry = {"policy": pid, "name": name, "file": pv.supplied_by}
                if pv.decl.kind == "by_year":
                    entry["years"] = sorted(pv.supplied_keys)
                out.append(entry)
        return out

    def _missing(self, u: Unknown) -> list[Missing]:
        out = []
        for path in sorted(u.facts):
            root = path.split("[", 1)[0].split(".", 1)[0]
            decl = self.inputs.get(root)
            out.append(Missing("fact", path, None, decl.question if decl else None, decl.label if decl else None))
        for pid, name in sorted(u.params):
            pname = name.split("[", 1)[0]
            decl = self.policies[pid].params.get(pname)
            out.append(Missing("parameter", name, pid, None, decl.label if decl else None))
        return out


def load(paths: Iterable[str] | str, follow_outside: bool = False) -> LoadResult:
    """Load, check and compile the policies under the given files or directories.

    Returns a LoadResult whose `policy_set` is None when any error was found;
    `diagnostics` holds every error and warning, sorted by position. A file in a directory given
    that is a symbolic link out of that directory is an `outside-tree` error unless `follow_outside`.
    """
    if isinstance(paths, str):
        paths = [paths]
    files, diags, implied = discover(paths, follow_outside)
    policies, shared, ds = load_files(files, implied)
    diags += ds
    if not has_errors(diags) and not policies:
        diags.append(Diagnostic("no-policies", "no policies to load", Span.point(files[0] if files else ".", 1, 1)))
    if has_errors(diags):
        return LoadResult(None, sort_diagnostics(diags), files)
    checked, ds = check(policies, shared)
    diags += ds
    if has_errors(diags):
        return LoadResult(None, sort_diagnostics(diags), files)
    try:
        pset = PolicySet(checked, files)
    except EvalFailure as e:
        return LoadResult(None, sort_diagnostics(diags + [Diagnostic(e.code, e.message, e.span)]), files)
    return LoadResult(pset, sort_diagnostics(diags), files)
