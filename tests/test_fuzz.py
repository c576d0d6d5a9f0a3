"""Fuzzing (hypothesis): arbitrary and mutated input may only give the documented outcomes.

Targets:
  expression   interpreter.parser.parse_expression: an AST (which to_text can print) or a
               ParseFailure carrying a Diagnostic
  yaml         interpreter._yaml.load_yaml: plain values, a Locator whose lookups work, diagnostics
  policy       interpreter.load on a tmp file (alone, or in a copy of policies/example): a LoadResult;
               when it loads, evaluation gives statuses or runtime errors; diagnostics render
  facts        a facts document read and checked against policies/example, then evaluated
  caseload     a .jsonl / .csv caseload read record by record and evaluated, one result per record

Budget: FUZZ_EXAMPLES examples per target (default 200, derandomized, so the normal suite stays
fast and repeatable), or FUZZ_SECONDS seconds shared by the targets (random, in batches, for a long
run: `FUZZ_SECONDS=1200 python -m pytest -q tests/test_fuzz.py`). A long run keeps going after a
failure and collects every distinct one (by exception type and the interpreter line that raised);
an example that runs longer than FUZZ_HANG_SECONDS (default 10) counts as a hang. FUZZ_REPORT=FILE
appends a summary of each target (examples run, time, failures with their smallest input).
tests/fuzz/README.md records the long runs and what they found.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import re
import shutil
import signal
import sys
import time
import traceback
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import interpreter
from interpreter import syntax as A
from interpreter._yaml import Locator, load_yaml
from interpreter.batch import read_records, evaluate_record
from interpreter.diagnostics import Diagnostic
from interpreter.facts import read_facts_text
from interpreter.parser import ParseFailure, parse_expression
from interpreter.printer import to_text
from interpreter.render import SourceCache, render_diagnostic, to_json

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "policies" / "example"

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))
FUZZ_SECONDS = float(os.environ.get("FUZZ_SECONDS", "0"))
HANG_SECONDS = float(os.environ.get("FUZZ_HANG_SECONDS", "10"))
TARGETS = ("expression", "yaml", "policy", "facts", "caseload")

RUNTIME_CODES = {"division-by-zero", "empty-list", "invalid-argument", "date-out-of-range", "number-too-large",
                 "invalid-number", "invalid-date", "invalid-index", "conflict",
                 "expression-too-deep"}  # docs/language.md, Evaluation errors
_CODE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


# ------------------------------------------------------------------ seeds

def _texts(pattern_dirs, suffixes) -> list[str]:
    out = []
    for d in pattern_dirs:
        for p in sorted(Path(d).rglob("*")):
            if p.is_file() and p.suffix in suffixes and p.stat().st_size < 60_000:
                try:
                    out.append(p.read_text(encoding="utf-8"))
                except UnicodeDecodeError:
                    pass
    return out


POLICY_SEEDS = _texts([ROOT / "policies", ROOT / "tests" / "cases" / "good", ROOT / "tests" / "cases" / "bad"],
                      (".yaml",))
FACTS_SEEDS = _texts([ROOT / "examples"], (".yaml",)) + [
    '{"birth_date": "1970-05-01", "resident": true, "status": "employed", '
    '"incomes": [{"year": 2025, "amount": 64500.50}], "spouse": {"resident": true}}',
    "birth_date: 1970-05-01\nresident: true\nstatus: retired\nincomes: [{year: 2024, amount: 1}]\nspouse: null\n",
]
CASELOAD_SEEDS = [
    ("jsonl", "\n".join(json.dumps(x) for x in [
        {"id": "a", "birth_date": "1970-05-01", "resident": True, "status": "employed",
         "incomes": [{"year": 2025, "amount": 1000}], "spouse": None},
        {"id": "b", "resident": False, "as_of": "2024-01-01"},
        {"birth_date": "1950-01-01", "status": "retired", "spouse": {"resident": True}},
    ]) + "\n"),
    ("csv", 'id,birth_date,resident,status,incomes,spouse.resident,as_of\n'
            'a,1970-05-01,true,employed,"[{""year"": 2025, ""amount"": 1000}]",true,\n'
            'b,,no,retired,[],,2025-01-01\n,1950-01-01,1,student,,null,\n'),
]


def _expression_seeds() -> list[str]:
    out = []
    for text in POLICY_SEEDS:
        raw, _loc, diags = load_yaml(text, "seed.yaml")
        stack = [raw]
        while stack:
            v = stack.pop()
            if isinstance(v, dict):
                for k, x in v.items():
                    if k in ("when", "expr", "value") and isinstance(x, str):
                        out.append(x)
                    stack.append(x)
            elif isinstance(v, list):
                stack.extend(v)
    return sorted(set(out)) or ["true"]


EXPRESSION_SEEDS = _expression_seeds()
SEEDS = {"expression": EXPRESSION_SEEDS, "policy": POLICY_SEEDS, "facts": FACTS_SEEDS,
         "jsonl": [CASELOAD_SEEDS[0][1]], "csv": [CASELOAD_SEEDS[1][1]]}

TOKENS = ["(", ")", "[", "]", ",", ":", ".", "+", "-", "*", "/", "==", "!=", "<", "<=", ">", ">=", "=", "and", "or",
          "not", "in", "not in", "if", "then", "else", "true", "false", "null", "today", "x", "xs", "all(x in xs: ",
          "sum(", "min(", "max(", "date(", "1", "0", "-0", "2024-02-30", "2024-01-01", "9999-12-31", "0000-01-01",
          "1 year", "999999 weeks", "3 fortnights", "50%", "1.5", "1" * 40, "9" * 5000, '"', '"a\\"b"', '"\\q"',
          "#", "\n", "\t", "\r", "\x00", "\ufeff", "é", "\u2028", "🙂", "\\", "'", "`", "&a ", "*a", "!!str ", "? ",
          "- ", ": ", "{", "}", "---\n", "...\n", "%YAML 1.1\n", "<<: ", "0x" + "f" * 50, "1:2:3", ".inf", ".nan",
          "1e400", "~", "|", ">-", "  ", "(" * 300, ")" * 300, "[" * 300, "not " * 250, "- " * 300]

_chars = st.one_of(st.sampled_from(list("()[]{},:.+-*/<>=!\"'#%&*|>?~@`\\ \n\t0123456789aefilnorstxy_")),
                   st.characters())


@st.composite
def mutated(draw, corpus: str) -> str:
    """A seed text of SEEDS[corpus] after one to six random edits."""
    seeds = SEEDS[corpus]
    text = seeds[draw(st.integers(0, len(seeds) - 1))]
    for _ in range(draw(st.integers(1, 6))):
        n = len(text)
        i = draw(st.integers(0, n))
        j = draw(st.integers(i, min(n, i + 40)))
        kind = draw(st.integers(0, 9))
        if kind == 0:
            text = text[:i] + text[j:]                                   # delete
        elif kind == 1:
            text = text[:i] + draw(st.text(_chars, max_size=8)) + text[i:]  # insert characters
        elif kind == 2:
            text = text[:i] + draw(st.sampled_from(TOKENS)) + text[j:]   # replace by a token
        elif kind == 3:
            text = text[:i] + text[i:j] * draw(st.integers(2, 50)) + text[j:]  # repeat a slice
        elif kind == 4:
            k = draw(st.integers(0, n))
            text = text[:i] + text[k:k + 30] + text[i:]                   # copy a slice elsewhere
        elif kind == 5:
            text = text[:i]                                               # truncate
        elif kind == 6 and n:
            ch = text[min(i, n - 1)]
            other = {"(": ")", ")": "(", "[": "]", "]": "[", '"': "'", ":": "=", " ": "\t", "\n": "\r"}.get(ch, "#")
            text = text[:i] + other + text[i + 1:]                        # swap a delimiter
        elif kind == 7:
            depth = draw(st.integers(1, 400))
            text = text[:i] + "(" * depth + text[i:j] + ")" * depth + text[j:]  # nest
        elif kind == 8:
            text = text[:i] + seeds[draw(st.integers(0, len(seeds) - 1))][:200] + text[j:]  # splice another seed
        else:
            depth = draw(st.integers(1, 300))                                  # nest YAML flow collections
            opener, closer = draw(st.sampled_from([("{a: ", "}"), ("[", "]"), ("{type: list, items: ", "}")]))
            text = text[:i] + opener * depth + (text[i:j] or "1") + closer * depth + text[j:]
    return text


def _arbitrary_text(max_size=300):
    return st.one_of(st.text(_chars, max_size=max_size), st.text(max_size=max_size),
                     st.binary(max_size=max_size).map(lambda b: b.decode("utf-8", errors="replace")))


# ------------------------------------------------------------------ the checks: only documented outcomes

def _check_diagnostic(d, file: str | None = None):
    assert isinstance(d, Diagnostic), type(d)
    assert isinstance(d.code, str) and _CODE.match(d.code), d.code
    assert isinstance(d.message, str) and d.message, d
    assert d.severity in ("error", "warning")
    if d.span is not None:
        assert d.span.line >= 1 and d.span.column >= 1, d
        assert (d.span.end_line, d.span.end_column) >= (d.span.line, d.span.column), d
        if file is not None:
            assert isinstance(d.span.file, str)
    d.to_dict()


def _render(diags, texts: dict[str, str]):
    cache = SourceCache(texts)
    for d in diags:
        render_diagnostic(d, cache, color=False)
        render_diagnostic(d, cache, color=True)


def check_expression(text: str):
    try:
        node = parse_expression(text, "fuzz.yaml")
    except ParseFailure as e:
        _check_diagnostic(e.diagnostic, "fuzz.yaml")
        _render([e.diagnostic], {"fuzz.yaml": text})
        return
    assert isinstance(node, A.Node)
    printed = to_text(node)
    assert isinstance(printed, str)


_PLAIN = (dict, list, str, int, Decimal, bool, type(None), _dt.date)


def _paths(value, path=(), limit=200):
    """Some paths into a loaded document, for the Locator."""
    out = [path]
    stack = [(value, path)]
    while stack and len(out) < limit:
        v, p = stack.pop()
        assert isinstance(v, _PLAIN), type(v)
        assert not isinstance(v, float), "a binary float leaked out"
        if isinstance(v, dict):
            for k, x in v.items():
                assert isinstance(k, str), repr(k)
                out.append(p + (k,))
                stack.append((x, p + (k,)))
        elif isinstance(v, list):
            for i, x in enumerate(v[:20]):
                out.append(p + (i,))
                stack.append((x, p + (i,)))
    return out


def check_yaml(text: str):
    value, loc, diags = load_yaml(text, "fuzz.yaml")
    assert isinstance(loc, Locator)
    for d in diags:
        _check_diagnostic(d, "fuzz.yaml")
    _render(diags, {"fuzz.yaml": text})
    if any(d.is_error for d in diags):
        return
    for path in _paths(value):
        loc.nearest_span(path)
        loc.key_span(path)
        target = value
        try:
            for part in path:
                target = target[part]
        except (KeyError, IndexError, TypeError):
            continue
        if isinstance(target, str) and path:
            mapper = loc.offset_mapper(path)
            for offset in {0, len(target) // 2, max(len(target) - 1, 0), len(target)}:
                line, col = mapper(offset)
                assert line >= 1 and col >= 1


_example_set = None


def _example():
    global _example_set
    if _example_set is None:
        _example_set = interpreter.load([str(EXAMPLE)]).policy_set
    return _example_set


AS_OFS = [_dt.date(2026, 3, 1), _dt.date(1, 1, 1), _dt.date(9999, 12, 31)]


def _evaluate_contained(pset, facts, as_of):
    for trace in (False, True):
        ev = pset.evaluate(facts, as_of, trace=trace)
        for r in ev.results:
            assert r.status in interpreter.STATUSES, r.status
            if r.status == "error":
                codes = {d.code for d in r.diagnostics}
                assert codes and codes <= RUNTIME_CODES, [(d.code, d.message) for d in r.diagnostics]
        json.dumps(ev.to_dict(trace=trace), default=str)
        to_json(ev.to_dict(trace=trace))


class PolicyTarget:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.n = 0
        self.set_dir = workdir / "set"
        shutil.copytree(EXAMPLE, self.set_dir)

    def __call__(self, text: str, in_set: bool):
        self.n += 1
        # lone surrogates become bytes that are not UTF-8: the file must then be refused as not-utf8
        data = text.encode("utf-8", errors="surrogatepass")
        if in_set:
            path = self.set_dir / "housing-allowance.yaml"
            target = str(self.set_dir)
        else:
            path = self.workdir / f"p{self.n % 50}.yaml"
            target = str(path)
        path.write_bytes(data)
        result = interpreter.load([target])
        assert isinstance(result, interpreter.LoadResult)
        for d in result.diagnostics:
            _check_diagnostic(d)
        _render(result.diagnostics, {str(path): text})
        errors = [d for d in result.diagnostics if d.is_error]
        assert (result.policy_set is None) == bool(errors), [(d.code, d.message) for d in errors]
        if result.ok:
            pset = result.policy_set
            raw = interpreter.read_facts(str(ROOT / "examples" / "applicant.yaml"))[0]
            facts, diags = pset.check_facts(raw)
            for as_of in AS_OFS[:2]:
                _evaluate_contained(pset, {}, as_of)
                if not [d for d in diags if d.is_error]:
                    _evaluate_contained(pset, facts, as_of)


def check_facts_text(text: str, as_of: _dt.date):
    raw, loc, diags = read_facts_text(text, "facts.yaml")
    for d in diags:
        _check_diagnostic(d)
    if raw is None or any(d.is_error for d in diags):
        _render(diags, {"facts.yaml": text})
        return
    pset = _example()
    facts, diags = pset.check_facts(raw, loc, "facts.yaml")
    for d in diags:
        _check_diagnostic(d)
    _render(diags, {"facts.yaml": text})
    if not any(d.is_error for d in diags):
        _evaluate_contained(pset, facts, as_of)


def check_caseload(kind: str, text: str, tmp: Path):
    path = tmp / f"cases.{kind}"
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    pset = _example()
    n = 0
    for rec in read_records(str(path), kind, pset.inputs):
        n += 1
        assert rec.number == n
        line = evaluate_record(pset, rec, _dt.date(2026, 3, 1), None, explain=n % 2 == 0)
        assert line["record"] == n
        assert ("results" in line) != ("diagnostics" in line), line
        for d in line.get("diagnostics", []):
            assert _CODE.match(d["code"]), d
        to_json(line)
    if kind == "jsonl":  # one record per line: lines end at \n, \r\n or \r, as Python reads text
        assert n == len(re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text)), n


# ------------------------------------------------------------------ the runner: budgets, hangs, distinct failures

class Hang(Exception):
    pass


def _on_alarm(signum, frame):
    raise Hang(f"an example ran for more than {HANG_SECONDS:g} s")


def _signature(e: BaseException) -> str:
    """Exception type and the innermost line of the interpreter (or of this file) that raised it."""
    frames = [f for f in traceback.extract_tb(e.__traceback__) if "/hypothesis/" not in f.filename]
    inner = [f for f in frames if "/interpreter/" in f.filename] or frames
    where = f"{Path(inner[-1].filename).name}:{inner[-1].lineno}" if inner else "?"
    if isinstance(e, AssertionError):
        first = (str(e).splitlines() or [""])[0][:80]
        return f"AssertionError at {where}: {first}"
    return f"{type(e).__name__} at {where}"


REPORT: list[str] = []


def fuzz(name: str, strategy, check):
    """Run `check` on examples of `strategy`; fail with every distinct failure found."""
    budget = FUZZ_SECONDS / len(TARGETS) if FUZZ_SECONDS else None
    found: dict[str, tuple[object, str]] = {}
    last_input: dict[str, object] = {}
    count = 0
    slowest = (0.0, None)
    start = time.monotonic()
    use_alarm = hasattr(signal, "setitimer") and os.name == "posix"
    if use_alarm:
        old = signal.signal(signal.SIGALRM, _on_alarm)

    def one(x):
        nonlocal count, slowest
        count += 1
        t0 = time.monotonic()
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
        try:
            check(x)
        except BaseException as e:
            if isinstance(e, (KeyboardInterrupt, SystemExit)) and not isinstance(e, Hang):
                raise
            sig = _signature(e)
            last_input[sig] = x
            if sig in found:
                return  # already recorded: look for something else
            raise
        finally:
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
            took = time.monotonic() - t0
            if took > slowest[0]:
                slowest = (took, x)

    try:
        while True:
            batch = FUZZ_EXAMPLES if budget is None else max(FUZZ_EXAMPLES, 500)

            @settings(max_examples=batch, deadline=None, database=None, derandomize=budget is None,
                      suppress_health_check=list(HealthCheck), print_blob=False)
            @given(strategy)
            def run(x):
                one(x)

            try:
                run()
            except BaseException as e:  # hypothesis re-raises the smallest failing example's exception
                if isinstance(e, KeyboardInterrupt):
                    raise
                sig = _signature(e)
                tb = "".join(traceback.format_exception(type(e), e, e.__traceback__)[-6:])
                found[sig] = (last_input.get(sig), tb)
            if budget is None or time.monotonic() - start > budget:
                break
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
    took = time.monotonic() - start
    summary = [f"target {name}: {count} examples in {took:.0f} s, {len(found)} distinct failure(s); "
               f"slowest example {slowest[0]:.2f} s"]
    for sig, (x, tb) in found.items():
        summary.append(f"  FAILURE {sig}\n    input: {x!r}"[:3000] + "\n    " + tb.strip().replace("\n", "\n    ")[-1500:])
    text = "\n".join(summary)
    REPORT.append(text)
    if os.environ.get("FUZZ_REPORT"):
        with open(os.environ["FUZZ_REPORT"], "a", encoding="utf-8") as fh:
            fh.write(text + "\n")
    print(text, file=sys.stderr)
    assert not found, text


# ------------------------------------------------------------------ the targets

def test_fuzz_expression():
    fuzz("expression", st.one_of(_arbitrary_text(), mutated("expression"),
                                 st.lists(st.sampled_from(TOKENS), max_size=30).map(" ".join)),
         check_expression)


def test_fuzz_yaml():
    fuzz("yaml", st.one_of(_arbitrary_text(), mutated("policy"), mutated("facts")), check_yaml)


def test_fuzz_policy(tmp_path):
    target = PolicyTarget(tmp_path)
    fuzz("policy", st.tuples(st.one_of(mutated("policy"), _arbitrary_text(200)), st.booleans()),
         lambda x: target(*x))


def test_fuzz_facts():
    fuzz("facts", st.tuples(st.one_of(mutated("facts"), _arbitrary_text(200)), st.sampled_from(AS_OFS)),
         lambda x: check_facts_text(*x))


def test_fuzz_caseload(tmp_path):
    fuzz("caseload", st.sampled_from(["csv", "jsonl"]).flatmap(lambda k: st.tuples(st.just(k), mutated(k))),
         lambda x: check_caseload(x[0], x[1], tmp_path))


def test_the_seeds_are_there():
    assert len(EXPRESSION_SEEDS) > 50 and len(POLICY_SEEDS) > 50 and FACTS_SEEDS
