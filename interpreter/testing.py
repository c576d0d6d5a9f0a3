"""`policy test`: run test files of cases against policies, compare decisions, measure condition coverage."""
from __future__ import annotations

import datetime as _dt
import difflib
import os
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

from ._yaml import load_yaml
from .diagnostics import Diagnostic, Span, has_errors
from .engine import LoadResult, OutcomeResult, PolicySet, load
from .evaluation.events import Event
from .schemacheck import schema_check
from .sources import read_source
from .printer import format_value
from .trees import inside, outside_tree, split_outside

__all__ = ["TEST_SUFFIXES", "check_test_files", "discover_tests", "CaseResult", "FileResult", "Coverage", "TestRun", "run_tests"]

TEST_SUFFIXES = (".test.yaml", ".test.yml")


@dataclass
class CaseResult:
    file: str
    name: str
    span: Span
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class FileResult:
    file: str
    cases: list[CaseResult] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


@dataclass
class Coverage:
    """Per policy: each condition and boolean rule, and the truth values the suite saw it take."""
    conditions: dict[str, dict[tuple, dict]] = field(default_factory=dict)  # policy -> key -> {text, span, seen}

    def add_universe(self, pset: PolicySet, only: set[str] | None = None):
        for pid, items in pset.coverage_universe().items():
            if only is not None and pid not in only:
                continue
            table = self.conditions.setdefault(pid, {})
            for key, info in items.items():
                table.setdefault(key, {**info, "seen": set()})

    def record(self, seen: Iterable[tuple]):
        for pid, key, status in seen:
            entry = self.conditions.get(pid, {}).get(key)
            if entry is not None:
                entry["seen"].add(status)

    def summary(self) -> list[tuple[str, int, int, list[dict]]]:
        """(policy, covered, total, uncovered entries) per policy, in id order."""
        out = []
        for pid in sorted(self.conditions):
            entries = list(self.conditions[pid].values())
            uncovered = [e for e in entries if not {"true", "false"} <= e["seen"]]
            uncovered.sort(key=lambda e: (e["span"].file, e["span"].line, e["span"].column) if e["span"] else ("", 0, 0))
            out.append((pid, len(entries) - len(uncovered), len(entries), uncovered))
        return out


@dataclass
class TestRun:
    files: list[FileResult] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    coverage: Coverage = field(default_factory=Coverage)

    @property
    def cases(self) -> list[CaseResult]:
        return [c for f in self.files for c in f.cases]

    @property
    def ok(self) -> bool:
        return not has_errors(self.all_diagnostics) and all(c.passed for c in self.cases)

    @property
    def all_diagnostics(self) -> list[Diagnostic]:
        return self.diagnostics + [d for f in self.files for d in f.diagnostics]


def discover_tests(paths: Iterable[str]) -> tuple[list[str], list[Diagnostic]]:
    files, diags = [], []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = []
            for dirpath, dirnames, filenames in os.walk(p, onerror=lambda e: None):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
                found += [str(Path(dirpath) / f) for f in filenames if f.endswith(TEST_SUFFIXES)]
            if not found:
                diags.append(Diagnostic("no-tests", f"no test files (*.test.yaml) found in `{raw}`", Span.point(raw, 1, 1)))
            files += sorted(found)
        elif p.is_file():
            files.append(str(p))
        else:
            diags.append(Diagnostic("file-not-found", f"`{raw}` does not exist", Span.point(raw, 1, 1)))
    return list(dict.fromkeys(files)), diags


class _Sub:
    """A locator seen from a sub-document (the facts or params of one case)."""

    def __init__(self, loc, prefix: tuple):
        self.loc, self.prefix = loc, prefix

    def span(self, path):
        return self.loc.span(self.prefix + tuple(path))

    def key_span(self, path):
        return self.loc.key_span(self.prefix + tuple(path))

    def nearest_span(self, path):
        return self.loc.nearest_span(self.prefix + tuple(path))


def _norm(v: Any) -> Any:
    """Expected and actual values in one comparable form."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (int, Decimal)):
        return Decimal(v)
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, list):
        return [_norm(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _norm(x) for k, x in v.items()}
    return v


def _show(v: Any) -> str:
    if isinstance(v, str):
        return v
    return format_value(v)


def _false_rules(events: list[Event], out: set[str]):
    for ev in events:
        if ev.kind in ("rule", "outcome") and ev.status == "false":
            out.add(ev.name)
        _false_rules(ev.children, out)


def _compare(sel: str, r: OutcomeResult, want: Any) -> list[str]:
    if isinstance(want, str):
        want = {"status": want}
    fails = []
    if r.status != want["status"]:
        detail = ""
        if r.status == "undetermined" and r.missing:
            detail = " (missing: " + ", ".join(m.name for m in r.missing) + ")"
        if r.status == "error" and r.diagnostics:
            detail = f" ({r.diagnostics[0].code}: {r.diagnostics[0].message})"
        fails.append(f"{sel}: expected {want['status']}, got {r.status}{detail}")
    for k, v in (want.get("values") or {}).items():
        if k not in r.values:
            got = "unknown" if k in r.unknown_values else "nothing"
            fails.append(f"{sel}: value `{k}`: expected {_show(_norm(v))}, got {got}")
        elif _norm(v) != _norm(r.values[k]):
            fails.append(f"{sel}: value `{k}`: expected {_show(_norm(v))}, got {_show(_norm(r.values[k]))}")
    if "unknown_values" in want and sorted(want["unknown_values"]) != sorted(r.unknown_values):
        fails.append(f"{sel}: unknown values: expected {sorted(want['unknown_values'])}, got {sorted(r.unknown_values)}")
    if "missing" in want:
        got = sorted(m.name for m in r.missing)
        if sorted(want["missing"]) != got:
            fails.append(f"{sel}: missing: expected [{', '.join(sorted(want['missing']))}], got [{', '.join(got)}]")
    if want.get("because"):
        false_rules: set[str] = set()
        _false_rules(r.trace, false_rules)
        for name in want["because"]:
            if name not in false_rules:
                fails.append(f"{sel}: expected rule `{name}` to be false, but it was not"
                             + (f" (false: {', '.join(sorted(false_rules))})" if false_rules else ""))
    if "error" in want:
        codes = [d.code for d in r.diagnostics]
        if want["error"] not in codes:
            fails.append(f"{sel}: expected error `{want['error']}`, got {', '.join(codes) or 'none'}")
    return fails


def _test_files(paths: list[str], follow_outside: bool) -> tuple[list[str], list[Diagnostic], list[str] | None]:
    """The test files under the paths, the diagnostics of finding them, and the trees being checked (None
    with `follow_outside`): the current directory and the paths given (a file's folder). Unless
    `follow_outside`, a file reached through a symbolic link out of the folder given is an `outside-tree` error."""
    files, diags = discover_tests(paths)
    if follow_outside:
        return files, diags, None
    folders = [p if Path(p).is_dir() else str(Path(p).parent) for p in paths]
    files, outside = split_outside(files, folders)
    return files, diags + [outside_tree(f, str(Path(f).parent)) for f in outside], [os.getcwd()] + folders


def run_tests(paths: Iterable[str], coverage: bool = False, follow_outside: bool = False) -> TestRun:
    """Run every test file under the paths; returns the results and, when asked, condition coverage.

    The tree being checked is the current directory and the paths given (a file's folder). Unless
    `follow_outside`, a test file whose `policies:` leads out of it, and a file reached through a
    symbolic link out of the folder given, are `outside-tree` errors."""
    run = TestRun()
    paths = list(paths)
    files, run.diagnostics, trees = _test_files(paths, follow_outside)
    cache: dict[tuple, LoadResult] = {}
    if coverage:  # policies under the paths count even when no test reaches them
        dirs = [p for p in paths if Path(p).is_dir()]
        if dirs:
            under = load(dirs, follow_outside)
            if under.ok:
                run.coverage.add_universe(under.policy_set)
    for f in files:
        run.files.append(_run_file(f, cache, run.coverage if coverage else None, trees))
    return run


def _read_test_file(path: str, cache: dict, trees: list[str] | None = None
                    ) -> tuple[Any, Any, PolicySet | None, list[Diagnostic]]:
    """The document, its locator and the policies it tests, or the errors that stop it from running.
    With `trees`, policies named outside them are `outside-tree` errors (None: followed)."""
    text, diags = read_source(path)
    if text is None:
        return None, None, None, diags
    doc, loc, diags = load_yaml(text, path)
    if not has_errors(diags):
        if doc is None:
            diags.append(Diagnostic("empty-file", "test file is empty", Span.point(path, 1, 1)))
        else:
            diags += schema_check(doc, loc, path, "test.schema.json")
    if has_errors(diags):
        return doc, loc, None, diags
    base = Path(path).parent
    targets = doc.get("policies") or "."
    targets = [targets] if isinstance(targets, str) else targets
    resolved = tuple(str((base / t)) for t in targets)  # relative to the test file
    if trees is not None:
        outside = [t for t in resolved if not inside(t, trees)]
        if outside:
            return doc, loc, None, [outside_tree(t, None, loc.nearest_span(("policies",))) for t in outside]
    if resolved not in cache:
        cache[resolved] = load(list(resolved), trees is None)
    loaded = cache[resolved]
    if not loaded.ok:
        return doc, loc, None, [d for d in loaded.diagnostics if d.is_error] or loaded.diagnostics
    return doc, loc, loaded.policy_set, diags


def check_test_files(paths: Iterable[str], cache: dict | None = None,
                     follow_outside: bool = False) -> tuple[list[str], list[Diagnostic]]:
    """Check test files without running them, as `policy validate` does: the file itself (YAML, schema,
    dates), the policies it names, its parameters, each case's facts and the outcomes it expects.
    Files out of the tree being checked are refused as `policy test` refuses them, unless `follow_outside`."""
    files, found_diags, trees = _test_files([p for p in paths if Path(p).is_dir() or str(p).endswith(TEST_SUFFIXES)],
                                            follow_outside)
    cache = {} if cache is None else cache
    diags: list[Diagnostic] = [d for d in found_diags if d.code == "outside-tree"]
    for path in files:
        doc, loc, pset, found = _read_test_file(path, cache, trees)
        own = [d for d in found if d.span is None or d.span.file == path]
        diags += own
        if pset is None:
            if len(own) < len(found):  # the policies it tests do not load
                errors = len(found) - len(own)
                where = loc.key_span(("policies",)) if doc and "policies" in doc else Span.point(path, 1, 1)
                diags.append(Diagnostic("test-policies", f"the policies this test file names do not load "
                                        f"({errors} error{'s' if errors != 1 else ''})", where,
                                        help="run `policy validate` on them"))
            continue
        if doc.get("params"):
            pset, ds = pset.with_params(doc["params"], _Sub(loc, ("params",)), path)
            diags += ds
            if has_errors(ds):
                continue
        for i, case in enumerate(doc["cases"]):
            cpset = pset
            if case.get("params"):
                cpset, ds = pset.with_params(case["params"], _Sub(loc, ("cases", i, "params")), path)
                diags += ds
            diags += cpset.check_facts(case["facts"], _Sub(loc, ("cases", i, "facts")), path)[1]
            for sel in case["expect"]:
                chosen, _ = cpset.select([sel])
                if len(chosen) != 1:
                    names = ", ".join(f"{p}.{o}" for p, o in chosen) if chosen else "none"
                    full = [f"{p}.{o}" for p, o in cpset.outcome_names()]
                    hint = difflib.get_close_matches(sel, full + [o for _, o in cpset.outcome_names()], n=1)
                    diags.append(Diagnostic("test-outcome", f"`{sel}` must name exactly one outcome (matches: {names})",
                                            loc.key_span(("cases", i, "expect", sel)) or loc.nearest_span(("cases", i, "expect")),
                                            help=f"did you mean `{hint[0]}`?" if hint else None))
    return files, diags


def _run_file(path: str, cache: dict, coverage: Coverage | None, trees: list[str] | None = None) -> FileResult:
    res = FileResult(path)
    doc, loc, pset, diags = _read_test_file(path, cache, trees)
    if pset is None:
        res.diagnostics = diags
        return res
    if coverage is not None:  # the policies the file exercises: those of the outcomes it expects, and those they use
        exercised: set[str] = set()
        for case in doc["cases"]:
            exercised.update(p for p, _ in pset.select(list(case["expect"]))[0])
        todo = list(exercised)
        while todo:
            for target, *_ in pset.policies[todo.pop()].uses.values():
                if target not in exercised and target in pset.policies:
                    exercised.add(target)
                    todo.append(target)
        coverage.add_universe(pset, exercised)
    if doc.get("params"):
        pset, diags = pset.with_params(doc["params"], _Sub(loc, ("params",)), path)
        if has_errors(diags):
            res.diagnostics = diags
            return res
    for i, case in enumerate(doc["cases"]):
        res.cases.append(_run_case(pset, case, i, loc, path, coverage))
    return res


def _run_case(pset: PolicySet, case: dict, i: int, loc, path: str, coverage: Coverage | None) -> CaseResult:
    started = time.perf_counter()
    cr = CaseResult(path, str(case["name"]), loc.nearest_span(("cases", i)))
    as_of = case["as_of"]
    if not isinstance(as_of, _dt.date):
        cr.failures.append(f"`as_of` must be a date that exists, not `{as_of}`")
        return cr
    if case.get("params"):
        pset, diags = pset.with_params(case["params"], _Sub(loc, ("cases", i, "params")), path)
        if has_errors(diags):
            cr.failures += [f"{d.span}: error[{d.code}]: {d.message}" for d in diags if d.is_error]
            return cr
    facts, diags = pset.check_facts(case["facts"], _Sub(loc, ("cases", i, "facts")), path)
    if has_errors(diags):
        cr.failures += [f"{d.span}: error[{d.code}]: {d.message}" for d in diags if d.is_error]
        return cr
    wanted = []
    for sel in case["expect"]:
        chosen, unknown = pset.select([sel])
        if unknown or len(chosen) != 1:
            names = ", ".join(f"{p}.{o}" for p, o in chosen) if chosen else "none"
            cr.failures.append(f"`{sel}` must name exactly one outcome (matches: {names})")
            continue
        wanted.append((sel, chosen[0]))
    seen: set | None = set() if coverage is not None else None
    evaluation = pset.evaluate(facts, as_of, [w for _, w in wanted], trace=True, seen=seen)
    by_key = {(r.policy, r.outcome): r for r in evaluation.results}
    for sel, key in wanted:
        cr.failures += _compare(sel, by_key[key], case["expect"][sel])
    if coverage is not None and seen:
        coverage.record(seen)
    cr.seconds = time.perf_counter() - started
    return cr
