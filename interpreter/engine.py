"""A compiled policy set and its evaluation: outcomes, statuses, missing facts, traces."""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .checker import CheckedSet, check
from . import syntax as A
from .evaluation.analysis import Analysis
from .evaluation.data import PLAIN_TYPES as _PLAIN_TYPES, jsonable as _jsonable, span_key
from .evaluation.errors import EvalFailure
from .evaluation.events import Event, event
from .evaluation.kleene import Compiled, KleeneCompiler
from .evaluation.strict import StrictCompiler
from .evaluation.traced import TracedCompiler
from .printer import to_text
from .typesys import BOOL
from .diagnostics import Diagnostic, Span, has_errors, sort_diagnostics
from .facts import check_facts
from .discovery import discover
from .labels import filler
from .loader import load_files
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
    trace: list[Event] = field(default_factory=list)
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
             "trace": [e.to_dict() for e in self.trace] if trace else []}
        if self.unknown_values:
            d["unknown_values"] = self.unknown_values
        if self.diagnostics:
            d["diagnostics"] = [x.to_dict() for x in self.diagnostics]
        return d


class _Chosen:
    """An outcome to decide, with what is the same for every case: its three-valued (or traced) closures,
    its strict `when` and values when the fast path is tried, its declaration and in-force period."""
    __slots__ = ("compiled", "strict_when", "strict_values", "constant_values", "decl", "policy", "name",
                 "in_force_from", "in_force_until", "label_at")

    def __init__(self, compiled, strict, params: dict, policies: dict):
        self.compiled, self.decl = compiled, compiled.policy.outcomes[compiled.name]
        self.policy, self.name = compiled.policy.id, compiled.name
        self.in_force_from, self.in_force_until = compiled.policy.in_force_from, compiled.policy.in_force_until
        self.label_at = filler(params, policies, self.policy, self.decl.label)  # None: no `{parameter}` in it
        self.strict_when = strict.when if strict is not None else None
        self.strict_values = list(strict.values.items()) if strict is not None else []
        # values that are the same plain scalar for every case: copied into each result, not computed
        consts = {k: getattr(fn, "const", _FAILED) for k, fn in self.strict_values}
        self.constant_values = consts if all(type(v) in _PLAIN_TYPES for v in consts.values()) else None

    def in_force(self, as_of: _dt.date) -> bool:
        return not ((self.in_force_from and as_of < self.in_force_from)
                    or (self.in_force_until and as_of > self.in_force_until))

    def result(self, status: str, as_of: _dt.date) -> "OutcomeResult":
        label = self.decl.label if self.label_at is None else self.label_at(as_of)
        return OutcomeResult(self.policy, self.name, label, self.decl.cite, status)


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
    """One evaluation's state, read by the closures: the facts, the date, the parameter tables, the rules
    computed so far by each kind of closure; and when tracing, the event `stack`, `converted` values,
    the coverage set `seen`, and a binder's `items`."""
    __slots__ = ("facts", "as_of", "params", "memo", "strict_memo", "stack", "seen", "converted", "items", "steps")

    def __init__(self, facts, as_of: _dt.date, params, seen: set | None = None):
        self.facts, self.as_of, self.params, self.seen = facts, as_of, params, seen
        self.memo, self.strict_memo = None, {}  # `memo` made by the first three-valued decision
        self.steps = 0  # the evaluation budget spent by the decision under way (evaluation/budget.py)


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
        self._plain = self._compile(KleeneCompiler)  # compiled now: errors show at load
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
        self._analysis = None
        self._chosen = {}  # (outcomes, trace, fast) -> the outcomes to decide, with their closures
        self._last = (_FAILED, None, None, None)  # the last call's (outcomes, trace, fast, chosen)

    def coverage_universe(self) -> dict[str, dict[tuple, dict]]:
        """Per policy, every condition and true/false rule that condition coverage counts."""
        comp = Analysis(self.checked, None)
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

    def _compile(self, backend: type[KleeneCompiler]) -> Compiled:
        """The outcomes compiled by one back-end, with the parameter values in force."""
        if self._analysis is None:
            self._analysis = Analysis(self.checked, self.params)
        return backend(self.checked, self.params, self._analysis).compile_set()

    def _compiled_plain(self) -> Compiled:
        if self._plain is None:
            self._plain = self._compile(KleeneCompiler)
        return self._plain

    def _selection(self, outcomes: Iterable[tuple[str, str]] | None, trace: bool, fast: bool) -> list[_Chosen]:
        """The outcomes to decide, in the set's order, with their closures: traced ones with `trace`, else
        three-valued ones, and with `fast` the strict ones too."""
        last = self._last
        if last[0] == outcomes and last[1] == trace and last[2] == fast:  # most often the previous call's
            return last[3]
        key = (None if outcomes is None else tuple(outcomes), trace, fast)
        chosen = self._chosen.get(key)
        if chosen is None:
            if trace:
                if self._traced is None:
                    self._traced = self._compile(TracedCompiler)
                pairs = [(co, None) for co in self._traced.outcomes]
            elif not fast:
                pairs = [(co, None) for co in self._compiled_plain().outcomes]
            else:
                if self._strict is None:
                    self._strict = self._compile(StrictCompiler)
                pairs = list(zip(self._compiled_plain().outcomes, self._strict.outcomes))
            wanted = None if key[0] is None else set(key[0])
            chosen = [_Chosen(co, so, self.params, self.policies) for co, so in pairs
                      if wanted is None or (co.policy.id, co.name) in wanted]
            if len(self._chosen) < 64:
                self._chosen[key] = chosen
        if outcomes is None or type(outcomes) in (list, tuple):  # kept as a copy: the caller may change its list
            self._last = (outcomes if outcomes is None else type(outcomes)(outcomes), trace, fast, chosen)
        return chosen

    def outcome_names(self) -> list[tuple[str, str]]:
        """(policy id, outcome name) of every outcome, in the set's order (no compiling needed)."""
        return [(pid, name) for pid, p in self.policies.items() for name in p.outcomes]

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
                 seen: set | None = None) -> Evaluation:
        """Decide every outcome (or the chosen ones) for checked facts, as of a date (default today).

        With `trace`, each result carries its trace; with a `seen` set (which implies the
        trace), the truth values taken by each condition are added to it, for coverage.
        Without the trace, an outcome is first tried on the two-valued fast path, which
        gives the same result whenever it gives one.
        """
        return self._evaluate(facts, as_of, outcomes, trace, seen, True)

    def _evaluate(self, facts: Mapping[str, Any], as_of: _dt.date | None = None, outcomes=None, trace: bool = False,
                  seen: set | None = None, fast: bool = True) -> Evaluation:
        """`evaluate`; `fast=False` decides every outcome with the three-valued closures alone (for tests)."""
        if seen is not None:
            trace = True
        if as_of is None:
            as_of = _dt.date.today()
        case = _Case(facts, as_of, self.params, seen)
        results = []
        for o in self._selection(outcomes, trace, fast and not trace):
            if (o.in_force_from or o.in_force_until) and not o.in_force(as_of):
                results.append(o.result("not_in_force", as_of))
                continue
            if o.strict_when is not None:  # the two-valued fast path first: it decides or gives up
                case.steps = 0
                try:
                    v = o.strict_when(case, ())
                    if v is True:
                        values = o.constant_values.copy() if o.constant_values is not None else \
                            {k: _jsonable(fn(case, ())) for k, fn in o.strict_values}
                except Exception:  # noqa: BLE001 - a missing fact, an error: the three-valued closures say which
                    v = None
                if v is True:
                    r = o.result("applies", as_of)
                    r.values = values
                    results.append(r)
                    continue
                if v is False:
                    results.append(o.result("does_not_apply", as_of))
                    continue
            results.append(self._decide(case, o, trace))
        return Evaluation(as_of, results, self._supplied)

    def _decide(self, case: _Case, o: _Chosen, trace: bool) -> OutcomeResult:
        """The decision of the three-valued (or traced) closures, with what is missing and every error."""
        res = o.result("undetermined", case.as_of)
        case.steps = 0
        if trace:  # each outcome's trace shows its rules in full: no rule is taken from another's memo
            case.memo, case.stack, case.converted = {}, [[]], {}
        elif case.memo is None:  # shared by the outcomes of this case
            case.memo = {}
        co = o.compiled
        try:
            v = co.when(case, ())
            if v is True:
                res.status = "applies"
                self._values(case, o, res, trace)
            elif v is False:
                res.status = "does_not_apply"
            else:
                res.missing = self._missing(v)
        except EvalFailure as e:
            res.status = "error"
            res.diagnostics.append(Diagnostic(e.code, e.message, e.span))
        if trace:
            res.trace = case.stack[0]
        if case.seen is not None and res.status in ("applies", "does_not_apply"):
            case.seen.add((o.policy, ("outcome", o.name), "true" if res.status == "applies" else "false"))
        return res

    def _values(self, case: _Case, o: _Chosen, res: OutcomeResult, trace: bool) -> None:
        """The values of an outcome that applies; one that cannot be computed is a diagnostic, and one that
        is unknown is listed with what it misses."""
        for k, fn in o.compiled.values.items():
            if trace:
                case.stack.append([])
            try:
                x = fn(case, ())
            except EvalFailure as e:
                res.diagnostics.append(Diagnostic(e.code, e.message, e.span))
                x = _FAILED
            finally:
                children = case.stack.pop() if trace else None
            if x is _FAILED:
                continue
            if trace:
                status = "unknown" if type(x) is Unknown else "value"
                case.stack[-1].append(event("value", o.decl.values[k].text, status, _jsonable(x), f"value `{k}`",
                                            None, None, k, None, None, None, children))
            if type(x) is Unknown:
                res.missing += [m for m in self._missing(x) if m not in res.missing]
                res.unknown_values.append(k)
            else:
                res.values[k] = _jsonable(x)

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
