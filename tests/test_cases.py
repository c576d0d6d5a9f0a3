"""Data-driven tests: the policy files under tests/cases/.

bad/   One bad policy file, or a small directory, per case. A file declares the
       diagnostics it must produce in leading comment lines:

           # expect: unknown-name 13:11 help~did you mean `income_below_ceiling`?

       (code, line:col of the start of the diagnostic in that file, and
       optionally a text the diagnostic's help must contain). A directory has
       an expect.txt with lines `file-relative-path code line:col [help~text]`.
       Each case runs through `policy validate --format json`; it must exit 1,
       report every expected error exactly there, and print no traceback.

good/  A policy file `name.yaml` (or a directory `name/`) with its scenarios in
       `name.scenarios.yaml`:

           cases:
             - name: true and missing
               as_of: 2026-03-01
               facts: {a: true}            # inline facts, or facts_file: relative path
               cli: true                   # also run `policy eval --format json`
               expect: {outcome: status}   # outcome name, or policy.id/outcome
               values: {outcome: {name: "18000.00"}}   # numbers as strings, compared as Decimals
               unknown_values: {outcome: [name]}       # values of an applying outcome left unknown
               missing: {outcome: [fact.path, "parameter:name[2025]"]}
               errors: {outcome: {code: conflict, message_contains: [...], at: "9:11"}}
               fact_errors: [fact-null]    # the facts themselves are refused with these codes

       Each scenario runs through the Python API (load, check_facts, evaluate).

KNOWN_WRONG lists cases whose expectation is right but which the interpreter
does not meet yet; they are left failing on purpose (no skip, no xfail).
"""
from __future__ import annotations

import datetime as _dt
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from differential import disagreements
from click.testing import CliRunner

import interpreter
from interpreter.cli import cli

CASES = Path(__file__).resolve().parent / "cases"
BAD = CASES / "bad"
GOOD = CASES / "good"

# case id -> why the interpreter's answer is wrong (the expectation is kept).
KNOWN_WRONG: dict[str, str] = {}


def _known(case_id: str) -> str:
    reason = KNOWN_WRONG.get(case_id)
    return f"\n(KNOWN_WRONG: {reason})" if reason else ""


def _no_traceback(result) -> None:
    for stream in (result.output, result.stdout, result.stderr):
        assert "Traceback" not in (stream or ""), stream
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)


# ------------------------------------------------------------------ bad cases

_EXPECT = re.compile(r"^(?P<code>[a-z0-9-]+)\s+(?P<line>\d+):(?P<col>\d+)(?:\s+help~(?P<help>.*?))?\s*$")


def _parse_expect(text: str, where: str) -> dict:
    m = _EXPECT.match(text.strip())
    if not m:
        raise ValueError(f"{where}: cannot read expectation `{text}`")
    return {"code": m["code"], "line": int(m["line"]), "column": int(m["col"]), "help": m["help"]}


def _bad_expectations(path: Path) -> list[dict]:
    out = []
    if path.is_dir():
        for raw in (path / "expect.txt").read_text(encoding="utf-8").splitlines():
            if not raw.strip() or raw.lstrip().startswith("#"):
                continue
            rel, rest = raw.split(None, 1)
            e = _parse_expect(rest, str(path / "expect.txt"))
            e["file"] = (path / rel).resolve()
            out.append(e)
    else:
        data = path.read_bytes()
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        for raw in data.decode("utf-8", errors="replace").splitlines():
            if not raw.startswith("#"):
                break
            m = re.match(r"#\s*expect:\s*(.*)$", raw)
            if m:
                e = _parse_expect(m[1], str(path))
                e["file"] = path.resolve()
                out.append(e)
    if not out:
        raise ValueError(f"{path}: no expectation")
    return out


def _bad_cases() -> list[Path]:
    return sorted(p for p in BAD.iterdir() if p.is_dir() or p.suffix in (".yaml", ".yml"))


def _case_name(p: Path) -> str:
    return p.name[: -len(p.suffix)] if p.is_file() else p.name


BAD_CASES = _bad_cases()


def test_there_are_enough_cases():
    assert len(BAD_CASES) >= 45
    assert len(GOOD_CASES) >= 12


def test_known_wrong_names_existing_cases():
    names = {f"bad/{_case_name(p)}" for p in BAD_CASES} | {f"good/{name}" for name, _, _ in GOOD_CASES}
    assert set(KNOWN_WRONG) <= names, set(KNOWN_WRONG) - names


@pytest.mark.parametrize("path", BAD_CASES, ids=[_case_name(p) for p in BAD_CASES])
def test_bad_case(path: Path):
    case_id = f"bad/{_case_name(path)}"
    expected = _bad_expectations(path)
    result = CliRunner().invoke(cli, ["validate", str(path), "--format", "json"])
    _no_traceback(result)
    doc = json.loads(result.stdout)
    diags = doc["diagnostics"]
    errors = [d for d in diags if d["severity"] == "error"]
    shown = "\n".join(
        f"  {d['severity']} {Path(d.get('file', '?')).name}:{d.get('line')}:{d.get('column')} "
        f"[{d['code']}] {d['message']}" + (f" (help: {d['help']})" if d.get("help") else "")
        for d in diags)
    assert result.exit_code == 1, f"exit code {result.exit_code}; diagnostics:\n{shown}{_known(case_id)}"
    assert doc["ok"] is False
    for e in expected:
        hits = [d for d in errors
                if d["code"] == e["code"] and d.get("line") == e["line"] and d.get("column") == e["column"]
                and "file" in d and Path(d["file"]).resolve() == e["file"]]
        assert hits, (f"expected error [{e['code']}] at {e['file'].name}:{e['line']}:{e['column']}; got:\n{shown}"
                      f"{_known(case_id)}")
        if e["help"]:
            assert any(e["help"] in (d.get("help") or "") for d in hits), (
                f"the help of [{e['code']}] should contain {e['help']!r}; got:\n{shown}{_known(case_id)}")


# ------------------------------------------------------------------ good cases

def _good_cases() -> list[tuple[str, Path, Path]]:
    out = []
    for test_file in sorted(GOOD.glob("*.scenarios.yaml")):
        name = test_file.name[: -len(".scenarios.yaml")]
        target = GOOD / name if (GOOD / name).is_dir() else GOOD / f"{name}.yaml"
        out.append((name, target, test_file))
    return out


GOOD_CASES = _good_cases()


def _read_yaml(path: Path):
    """Read YAML the way the interpreter reads facts: numbers as Decimal, dates as dates."""
    raw, diags = interpreter.read_facts(str(path))
    assert not [d for d in diags if d.is_error], [str(d) for d in diags]
    return raw


def _scenarios():
    params, ids = [], []
    for name, target, test_file in GOOD_CASES:
        doc = _read_yaml(test_file)
        for i, sc in enumerate(doc["cases"]):
            params.append((name, target, test_file, sc))
            slug = re.sub(r"[^a-z0-9]+", "-", str(sc.get("name", i)).lower()).strip("-")
            ids.append(f"{name}/{slug}")
    return params, ids


SCENARIOS, SCENARIO_IDS = _scenarios()
_LOADED: dict[Path, interpreter.LoadResult] = {}


def _load(target: Path) -> interpreter.LoadResult:
    if target not in _LOADED:
        _LOADED[target] = interpreter.load([str(target)])
    return _LOADED[target]


def _as_date(v) -> _dt.date:
    return v if isinstance(v, _dt.date) else _dt.date.fromisoformat(str(v))


def _facts_of(sc: dict, test_file: Path):
    if "facts_file" in sc:
        return _read_yaml(test_file.parent / sc["facts_file"])
    return sc.get("facts") or {}


def _same(actual, expected) -> bool:
    """Exact comparison: numbers as Decimals (expected written as strings), dates as ISO strings."""
    if expected is None:
        return actual is None
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected
    if isinstance(actual, (Decimal, int, float)):
        if isinstance(actual, float):
            return False  # a binary float leaked out
        return isinstance(expected, (str, Decimal, int)) and Decimal(str(expected)) == Decimal(actual)
    if isinstance(actual, list):
        return isinstance(expected, list) and len(actual) == len(expected) and all(
            _same(a, e) for a, e in zip(actual, expected))
    if isinstance(actual, dict):
        return isinstance(expected, dict) and set(actual) == set(expected) and all(
            _same(actual[k], expected[k]) for k in actual)
    if isinstance(expected, _dt.date):
        expected = expected.isoformat()
    if isinstance(actual, _dt.date):
        actual = actual.isoformat()
    return actual == expected


def _missing_names(missing) -> list[str]:
    out = []
    for m in missing:
        kind, name = (m["kind"], m["name"]) if isinstance(m, dict) else (m.kind, m.name)
        out.append(name if kind == "fact" else f"{kind}:{name}")
    return sorted(out)


def _by_outcome(results) -> dict:
    """Results keyed by `policy.id/outcome` and, when unambiguous, by the bare outcome name."""
    table, counts = {}, {}
    for r in results:
        pol, out = (r["policy"], r["outcome"]) if isinstance(r, dict) else (r.policy, r.outcome)
        table[f"{pol}/{out}"] = r
        counts[out] = counts.get(out, 0) + 1
    for r in results:
        pol, out = (r["policy"], r["outcome"]) if isinstance(r, dict) else (r.policy, r.outcome)
        if counts[out] == 1:
            table[out] = r
    return table


def _check_results(results, sc: dict, case_id: str, how: str):
    get = (lambda r, k: r[k]) if results and isinstance(results[0], dict) else getattr
    table = _by_outcome(results)
    summary = "\n".join(
        f"  {get(r, 'policy')}/{get(r, 'outcome')}: {get(r, 'status')} values={get(r, 'values')} "
        f"missing={_missing_names(get(r, 'missing'))}" for r in results)
    where = f"{how}, scenario `{sc.get('name')}`; results:\n{summary}{_known(case_id)}"
    for key, status in (sc.get("expect") or {}).items():
        assert key in table, f"no outcome `{key}`; {where}"
        assert get(table[key], "status") == status, f"`{key}` should be {status}; {where}"
    for key, values in (sc.get("values") or {}).items():
        actual = get(table[key], "values")
        for vname, expected in values.items():
            assert vname in actual, f"`{key}` has no value `{vname}`; {where}"
            assert _same(actual[vname], expected), (
                f"`{key}`.{vname} is {actual[vname]!r}, expected {expected!r}; {where}")
    for key, names in (sc.get("unknown_values") or {}).items():
        r = table[key]
        actual = r.get("unknown_values", []) if isinstance(r, dict) else r.unknown_values
        assert sorted(actual) == sorted(names), f"unknown values of `{key}`; {where}"
        for n in names:
            assert n not in get(r, "values"), f"`{key}`.{n} is unknown but is reported; {where}"
    for key, names in (sc.get("missing") or {}).items():
        assert _missing_names(get(table[key], "missing")) == sorted(names), f"missing of `{key}`; {where}"
    return table, where


@pytest.mark.parametrize("name,target,test_file", GOOD_CASES, ids=[c[0] for c in GOOD_CASES])
def test_good_case_loads(name, target, test_file):
    result = _load(target)
    shown = "\n".join(str(d) + f" [{d.code}] {d.message}" for d in result.diagnostics)
    assert result.ok, f"{target} does not load:\n{shown}{_known('good/' + name)}"
    assert not result.diagnostics, f"{target} has diagnostics:\n{shown}{_known('good/' + name)}"
    validate = CliRunner().invoke(cli, ["validate", str(target), "--format", "json"])
    _no_traceback(validate)
    assert validate.exit_code == 0, validate.output + _known("good/" + name)


@pytest.mark.parametrize("name,target,test_file,sc", SCENARIOS, ids=SCENARIO_IDS)
def test_good_scenario(name, target, test_file, sc):
    case_id = f"good/{name}"
    result = _load(target)
    assert result.ok, "\n".join(f"{d} [{d.code}] {d.message}" for d in result.diagnostics) + _known(case_id)
    pset = result.policy_set
    raw = _facts_of(sc, test_file)
    facts, diags = pset.check_facts(raw)
    fact_errors = [d.code for d in diags if d.is_error]
    if "fact_errors" in sc:
        assert sorted(fact_errors) == sorted(sc["fact_errors"]), [f"[{d.code}] {d.message}" for d in diags]
        return
    assert not fact_errors, [f"[{d.code}] {d.message}" for d in diags]
    assert disagreements(pset, facts, _as_date(sc["as_of"])) == []  # every path gives what the reference gives
    evaluation = pset.evaluate(facts, _as_date(sc["as_of"]))
    table, where = _check_results(evaluation.results, sc, case_id, "API")
    for key, err in (sc.get("errors") or {}).items():
        r = table[key]
        assert r.status == "error", f"`{key}` should be an error; {where}"
        hits = [d for d in r.diagnostics if d.code == err["code"]]
        assert hits, f"`{key}` should fail with [{err['code']}], got {[(d.code, d.message) for d in r.diagnostics]}"
        d = hits[0]
        for text in err.get("message_contains", []):
            assert text in d.message, f"the message {d.message!r} should name {text!r}"
        if "at" in err:
            assert d.span is not None, f"[{d.code}] has no span"
            assert f"{d.span.line}:{d.span.column}" == err["at"], f"[{d.code}] is at {d.span}, expected {err['at']}"


def _json_value(v) -> str:
    if isinstance(v, bool) or v is None:
        return json.dumps(v)
    if isinstance(v, (Decimal, int)):
        return str(v)
    if isinstance(v, _dt.date):
        return json.dumps(v.isoformat())
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_json_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(json.dumps(str(k)) + ": " + _json_value(x) for k, x in v.items()) + "}"
    raise TypeError(type(v))


CLI_SCENARIOS = [(p, i) for p, i in zip(SCENARIOS, SCENARIO_IDS) if p[3].get("cli")]


def test_there_are_cli_scenarios():
    assert len(CLI_SCENARIOS) >= 5


@pytest.mark.parametrize("name,target,test_file,sc", [p for p, _ in CLI_SCENARIOS], ids=[i for _, i in CLI_SCENARIOS])
def test_good_scenario_cli(name, target, test_file, sc, tmp_path):
    case_id = f"good/{name}"
    if "facts_file" in sc:
        facts_path = test_file.parent / sc["facts_file"]
    else:
        facts_path = tmp_path / "facts.json"
        facts_path.write_text(_json_value(_facts_of(sc, test_file)), encoding="utf-8")
    as_of = _as_date(sc["as_of"]).isoformat()
    result = CliRunner().invoke(cli, ["eval", str(target), "--facts", str(facts_path), "--as-of", as_of,
                                      "--format", "json"])
    _no_traceback(result)
    assert result.exit_code == 0, f"exit code {result.exit_code}:\n{result.output}{_known(case_id)}"
    doc = json.loads(result.stdout, parse_float=Decimal, parse_int=Decimal)
    assert doc["as_of"] == as_of
    _check_results(doc["results"], sc, case_id, "policy eval --format json")
    everything = sorted({n for r in doc["results"] for n in _missing_names(r["missing"])})
    assert _missing_names(doc["missing"]) == everything
