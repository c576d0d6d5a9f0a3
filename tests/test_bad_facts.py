"""Bad facts and resource limits: every one refused with the right code at the right place, quickly.

tests/cases/bad-facts/ holds one bad facts document per case, for the example
policy set policies/example, each run through

    policy eval policies/example --facts FILE --as-of 2026-03-01

  NAME.yaml   the expectation in its leading comment lines, as in tests/cases/bad:
                  # expect: fact-value 3:9 help~did you mean `retired`?
              (code, line:col where the diagnostic starts, optionally a text its help contains;
              several `# expect:` lines when several errors are expected)
  NAME.json   JSON cannot hold comments: the same expectation lines in NAME.expect
  NAME.jsonl  caseloads: NAME.expect has one line per input record, in order:
  NAME.csv        `3: fact-type 3:1` (record 3 is refused with that code at that line:col)
                  `4: ok`            (record 4 is evaluated)

Each single document must exit 1 with `file:line:col: error[code]` on standard
error and no traceback; each caseload must give exactly one JSON line per
record, in order, with the bad records reported by number.

The second half builds what is too large to keep in the repository in a tmp
directory: long strings and lists, 5 MB numbers, empty files, directories
given where a file is expected, and the policy-file limits (a 20,001-character
expression, nesting 300 deep, a 6 MB file, an alias bomb, a 40-digit literal).

KNOWN_WRONG lists cases whose expectation is right but which the interpreter
does not meet yet; they fail on purpose (no skip, no xfail).
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from interpreter.cli import cli

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "cases" / "bad-facts"
EXAMPLE = str(ROOT / "policies" / "example")
AS_OF = "2026-03-01"

# Seconds a case may take before it counts as a hang. Generous: the machine may be busy.
TIME_LIMIT = 20.0
QUICK = {"alias-bomb": 10.0}

# case id -> why the interpreter's answer is wrong (the expectation is kept). Remove an entry once its
# case passes. The 16 cases listed at f537c75 were fixed in f107b92 (tests/fuzz/README.md, Findings).
KNOWN_WRONG: dict[str, str] = {}


def _known(case_id: str) -> str:
    reason = KNOWN_WRONG.get(case_id)
    return f"\n(KNOWN_WRONG: {reason})" if reason else ""


def _no_traceback(result, case_id: str = "") -> None:
    for stream in (result.output, result.stdout, result.stderr):
        assert "Traceback" not in (stream or ""), (stream or "")[-3000:] + _known(case_id)
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception) + _known(case_id)


def _run(args: list[str], case_id: str, limit: float | None = None):
    start = time.monotonic()
    result = CliRunner().invoke(cli, args)
    took = time.monotonic() - start
    _no_traceback(result, case_id)
    limit = limit or QUICK.get(case_id, TIME_LIMIT)
    assert took < limit, f"took {took:.1f} s (limit {limit} s){_known(case_id)}"
    return result


# ------------------------------------------------------------------ expectations

_EXPECT = re.compile(r"^(?P<code>[a-z0-9-]+)\s+(?P<line>\d+):(?P<col>\d+)(?:\s+help~(?P<help>.*?))?\s*$")
_RECORD = re.compile(r"^(?P<record>\d+):\s*(?P<rest>.*)$")


def _parse_expect(text: str, where: str) -> dict:
    m = _EXPECT.match(text.strip())
    if not m:
        raise ValueError(f"{where}: cannot read expectation `{text}`")
    return {"code": m["code"], "line": int(m["line"]), "column": int(m["col"]), "help": m["help"]}


def _comment_expectations(path: Path) -> list[dict]:
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    out = []
    for raw in data.decode("utf-8", errors="replace").splitlines():
        if not raw.startswith("#"):
            break
        m = re.match(r"#\s*expect:\s*(.*)$", raw)
        if m:
            out.append(_parse_expect(m[1], str(path)))
    return out


def _file_expectations(path: Path) -> list[dict]:
    return [_parse_expect(line, str(path)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _record_expectations(path: Path) -> list[tuple[int, dict | None]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        m = _RECORD.match(line.strip())
        assert m, f"{path}: cannot read `{line}`"
        rest = m["rest"].strip()
        out.append((int(m["record"]), None if rest == "ok" else _parse_expect(rest, str(path))))
    return out


def _single_cases() -> list[tuple[str, Path, list[dict]]]:
    cases = []
    for p in sorted(CORPUS.iterdir()):
        if p.suffix in (".yaml", ".yml"):
            cases.append((p.stem, p, _comment_expectations(p)))
        elif p.suffix == ".json":
            cases.append((p.stem, p, _file_expectations(p.with_suffix(".expect"))))
    return cases


def _caseload_cases() -> list[tuple[str, Path, list]]:
    return [(p.stem, p, _record_expectations(p.with_suffix(".expect")))
            for p in sorted(CORPUS.iterdir()) if p.suffix in (".jsonl", ".csv")]


SINGLE = _single_cases()
CASELOADS = _caseload_cases()

GENERATED_IDS = {
    "long-string", "long-list", "hex-number-5mb", "sexagesimal-number-5mb", "facts-file-6mb", "params-is-a-directory",
    "policy-expression-20001-chars", "policy-expression-300-deep", "policy-list-300-deep", "policy-file-6mb",
    "policy-alias-bomb", "policy-40-digit-literal", "policy-40-digit-parameter", "policy-10000-digit-literal",
    "policy-hex-parameter-5mb", "policy-flat-or-chain-250", "policy-record-typespec-100-deep",
    "policy-list-typespec-150-deep", "policy-rule-chain-400", "policy-rule-chain-at-the-limit",
}


def test_the_corpus_is_large_enough():
    assert len(SINGLE) + len(CASELOADS) >= 30
    kinds = {p.suffix for _, p, _ in SINGLE + CASELOADS}
    assert {".yaml", ".json", ".jsonl", ".csv"} <= kinds
    for name, path, expected in SINGLE:
        assert expected, f"{path}: no expectation"
    for name, path, expected in CASELOADS:
        assert [n for n, _ in expected] == list(range(1, len(expected) + 1)), f"{path}.expect: records out of order"


def test_every_expectation_file_belongs_to_a_case():
    stems = {p.stem for p in CORPUS.iterdir() if p.suffix in (".json", ".jsonl", ".csv")}
    orphans = [p.name for p in CORPUS.glob("*.expect") if p.stem not in stems]
    assert not orphans


def test_known_wrong_names_existing_cases():
    names = {n for n, _, _ in SINGLE + CASELOADS} | GENERATED_IDS
    assert set(KNOWN_WRONG) <= names, set(KNOWN_WRONG) - names


# ------------------------------------------------------------------ one facts document

_HEADER = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<sev>error|warning)\[(?P<code>[a-z0-9-]+)\]: ", re.M)


def _blocks(stderr: str) -> list[tuple[str, str]]:
    """(header `file:line:col: error[code]`, the whole rendered diagnostic) for each diagnostic."""
    marks = list(_HEADER.finditer(stderr))
    out = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(stderr)
        out.append((f"{m['file']}:{m['line']}:{m['col']}: {m['sev']}[{m['code']}]", stderr[m.start():end]))
    return out


def check_refused(result, file: str, expected: list[dict], case_id: str):
    blocks = _blocks(result.stderr)
    shown = "\n".join(h for h, _ in blocks) or result.stderr[:2000] or result.stdout[:2000]
    assert result.exit_code == 1, f"exit code {result.exit_code}; output:\n{shown}{_known(case_id)}"
    for e in expected:
        want = f"{file}:{e['line']}:{e['column']}: error[{e['code']}]"
        hits = [b for h, b in blocks if h == want]
        assert hits, f"expected `{want}`; got:\n{shown}{_known(case_id)}"
        if e["help"]:
            assert any("= help: " in b and e["help"] in b for b in hits), (
                f"the help of `{want}` should contain {e['help']!r}; got:\n{hits[0]}{_known(case_id)}")
    assert result.stdout == "", f"nothing should be evaluated; stdout:\n{result.stdout[:2000]}{_known(case_id)}"
    raw = re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]", result.stderr)  # printed as escapes
    assert raw is None, f"a raw control character in the diagnostics: {result.stderr[max(0, raw.start() - 80):raw.end() + 80]!r}"


@pytest.mark.parametrize("case_id,path,expected", SINGLE, ids=[c[0] for c in SINGLE])
def test_bad_facts_file(case_id, path, expected):
    result = _run(["eval", EXAMPLE, "--facts", str(path), "--as-of", AS_OF], case_id)
    check_refused(result, str(path), expected, case_id)


@pytest.mark.parametrize("case_id,path,expected", SINGLE[:3], ids=[c[0] for c in SINGLE[:3]])
def test_bad_facts_on_stdin_name_stdin(case_id, path, expected):
    result = CliRunner().invoke(cli, ["eval", EXAMPLE, "--facts", "-", "--as-of", AS_OF], input=path.read_bytes())
    _no_traceback(result)
    check_refused(result, "<stdin>", expected, case_id)


def test_json_format_gives_the_same_diagnostics():
    path = CORPUS / "several-problems.yaml"
    result = _run(["eval", EXAMPLE, "--facts", str(path), "--as-of", AS_OF, "--format", "json"], "several-problems")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    got = sorted((d["code"], d["line"], d["column"]) for d in doc["diagnostics"])
    want = sorted((e["code"], e["line"], e["column"]) for e in _comment_expectations(path))
    assert got == want
    assert doc["errors"] == len(want)


# ------------------------------------------------------------------ caseloads

@pytest.mark.parametrize("case_id,path,expected", CASELOADS, ids=[c[0] for c in CASELOADS])
def test_bad_caseload(case_id, path, expected):
    result = _run(["eval", EXAMPLE, "--facts", str(path), "--as-of", AS_OF], case_id)
    lines = result.stdout.splitlines()
    shown = "\n".join(x[:300] for x in lines)
    assert len(lines) == len(expected), (
        f"{len(lines)} output lines for {len(expected)} records:\n{shown}{_known(case_id)}")
    out = [json.loads(x) for x in lines]
    assert [o["record"] for o in out] == list(range(1, len(expected) + 1)), shown
    bad = 0
    for o, (number, e) in zip(out, expected):
        where = f"record {number}: {json.dumps(o)[:400]}{_known(case_id)}"
        if e is None:
            assert "results" in o and o.get("status") != "error", f"should be evaluated; {where}"
            continue
        bad += 1
        assert o.get("status") == "error" and "results" not in o, f"should be refused; {where}"
        hits = [d for d in o["diagnostics"]
                if d["code"] == e["code"] and d.get("line") == e["line"] and d.get("column") == e["column"]]
        assert hits, f"expected [{e['code']}] at {e['line']}:{e['column']}; {where}"
        assert all(Path(d["file"]) == path for d in hits), where
        if e["help"]:
            assert any(e["help"] in (d.get("help") or "") for d in hits), f"help should contain {e['help']!r}; {where}"
    assert result.exit_code == (1 if bad else 0), f"exit code {result.exit_code}{_known(case_id)}"
    assert f"{len(expected)} case{'s' if len(expected) != 1 else ''}, {bad} with errors" in result.stderr, (
        result.stderr + _known(case_id))


# ------------------------------------------------------------------ generated facts: too large for the repository

def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_long_string(tmp_path):
    p = _write(tmp_path / "long.yaml", 'status: "' + "x" * 100_001 + '"\n')
    result = _run(["eval", EXAMPLE, "--facts", str(p), "--as-of", AS_OF], "long-string")
    check_refused(result, str(p), [{"code": "fact-too-large", "line": 1, "column": 9, "help": None}], "long-string")


def test_string_at_the_limit_is_accepted_and_checked_as_a_value(tmp_path):
    p = _write(tmp_path / "limit.yaml", 'status: "' + "x" * 100_000 + '"\n')
    result = _run(["eval", EXAMPLE, "--facts", str(p), "--as-of", AS_OF], "string-at-limit")
    check_refused(result, str(p), [{"code": "fact-value", "line": 1, "column": 9, "help": None}], "string-at-limit")


def test_long_list(tmp_path):
    p = _write(tmp_path / "list.yaml", "birth_date: 1970-05-01\nincomes: [" + ", ".join(["{}"] * 100_001) + "]\n")
    result = _run(["eval", EXAMPLE, "--facts", str(p), "--as-of", AS_OF], "long-list")
    check_refused(result, str(p), [{"code": "fact-too-large", "line": 2, "column": 10, "help": None}], "long-list")


def test_facts_file_larger_than_the_limit(tmp_path):
    p = _write(tmp_path / "big.yaml", "resident: true\n# " + "x" * 6_000_000 + "\n")
    result = _run(["eval", EXAMPLE, "--facts", str(p), "--as-of", AS_OF], "facts-file-6mb")
    check_refused(result, str(p), [{"code": "file-too-large", "line": 1, "column": 1, "help": None}], "facts-file-6mb")


def _run_subprocess(args: list[str], case_id: str, limit: float = TIME_LIMIT) -> subprocess.CompletedProcess:
    """Run the command in a child process, so that a hang fails the test instead of stalling the suite."""
    try:
        proc = subprocess.run([sys.executable, "-m", "interpreter.cli", *args], capture_output=True, text=True,
                              timeout=limit, cwd=ROOT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"no answer within {limit:.0f} s: a hang{_known(case_id)}")
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr[-3000:]
    return proc


HUGE_NUMBERS = {"hex-number-5mb": lambda: "0x" + "f" * 4_900_000,
                "sexagesimal-number-5mb": lambda: "1" + ":0" * 2_400_000}


@pytest.mark.parametrize("case_id", sorted(HUGE_NUMBERS))
def test_huge_integer_is_refused_quickly(tmp_path, case_id):
    number = HUGE_NUMBERS[case_id]()
    p = _write(tmp_path / "n.yaml", "incomes: [{year: 2025, amount: " + number + "}]\n")
    proc = _run_subprocess(["eval", EXAMPLE, "--facts", str(p), "--as-of", AS_OF], case_id)
    assert proc.returncode == 1, proc.stderr[:2000]
    assert f"{p}:1:32: error[invalid-number]" in proc.stderr, proc.stderr[:2000] + _known(case_id)


@pytest.mark.parametrize("content", ["", "# nothing known yet\n", "{}\n", "~\n"],
                         ids=["empty", "comment-only", "empty-mapping", "null-document"])
@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_an_empty_facts_file_means_no_facts(tmp_path, content, suffix):
    """docs/cli.md: "An empty file means no facts." Nothing is decided, everything needed is listed."""
    p = _write(tmp_path / f"empty{suffix}", content)
    result = _run(["eval", EXAMPLE, "--facts", str(p), "--as-of", AS_OF, "--format", "json"], "empty")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert {r["status"] for r in doc["results"]} == {"undetermined"}
    assert {m["name"] for m in doc["missing"]} == {"birth_date", "resident", "status", "incomes", "spouse"}


def test_params_given_a_directory(tmp_path):
    d = tmp_path / "params.yaml"
    d.mkdir()
    facts = str(ROOT / "examples" / "applicant.yaml")
    result = _run(["eval", EXAMPLE, "--facts", facts, "--params", str(d), "--as-of", AS_OF], "params-is-a-directory")
    check_refused(result, str(d), [{"code": "not-a-file", "line": 1, "column": 1, "help": None}],
                  "params-is-a-directory")


def test_facts_given_a_missing_file(tmp_path):
    p = tmp_path / "nowhere.yaml"
    result = _run(["eval", EXAMPLE, "--facts", str(p), "--as-of", AS_OF], "missing-file")
    check_refused(result, str(p), [{"code": "unreadable", "line": 1, "column": 1, "help": None}], "missing-file")


def test_a_directory_of_bad_facts_files_is_a_caseload(tmp_path):
    """A directory is a caseload (docs/cli.md): one line per file, in name order, bad files by number."""
    d = tmp_path / "cases"
    d.mkdir()
    (d / "a.yaml").write_text("resident: true\n")
    (d / "b.yaml").write_bytes(b"status: employ\xe9\n")
    (d / "c.json").write_text('{"resident": "maybe"}\n')
    (d / "d.yaml").write_text("")
    (d / "e.yaml").mkdir()  # a directory named like a facts file is not a case
    (d / "notes.txt").write_text("not a case\n")
    result = _run(["eval", EXAMPLE, "--facts", str(d), "--as-of", AS_OF], "dir-caseload")
    out = [json.loads(x) for x in result.stdout.splitlines()]
    assert [(o["record"], o["id"]) for o in out] == [(1, "a.yaml"), (2, "b.yaml"), (3, "c.json"), (4, "d.yaml")]
    assert "results" in out[0] and "results" in out[3]
    assert [d["code"] for d in out[1]["diagnostics"]] == ["not-utf8"]
    assert (out[1]["diagnostics"][0]["line"], out[1]["diagnostics"][0]["column"]) == (1, 15)
    assert [(d["code"], d["line"], d["column"]) for d in out[2]["diagnostics"]] == [("fact-type", 1, 14)]
    assert result.exit_code == 1
    assert "4 cases, 2 with errors" in result.stderr


def test_an_empty_caseload_has_no_cases(tmp_path):
    """An empty directory or .jsonl file is an empty caseload: no lines, `0 cases`, exit 0.

    (A judgement call, reported: `policy validate` on a directory without policies is an error
    `no-policies`; a caseload without cases is accepted, which suits scheduled batches that are
    sometimes empty.)
    """
    d = tmp_path / "none"
    d.mkdir()
    empty = _write(tmp_path / "none.jsonl", "")
    for target in (d, empty):
        result = _run(["eval", EXAMPLE, "--facts", str(target), "--as-of", AS_OF], "empty-caseload")
        assert result.exit_code == 0 and result.stdout == ""
        assert "0 cases, 0 with errors" in result.stderr


# ------------------------------------------------------------------ policy-file limits

POLICY_HEAD = "id: t.limits\ntitle: limits\ninputs: {n: number, b: boolean, xs: {type: list, items: number}}\n"
OUTCOME = "outcomes:\n  o:\n    label: the outcome\n    when: "   # the condition starts at 7:11


def _validate(tmp_path: Path, name: str, text: str, case_id: str, limit: float | None = None):
    p = _write(tmp_path / name, text)
    return p, _run(["validate", str(p)], case_id, limit)


def _validate_refused(tmp_path, name, text, case_id, code, line, col, limit=None):
    p, result = _validate(tmp_path, name, text, case_id, limit)
    blocks = [h for h, _ in _blocks(result.stderr)]
    assert result.exit_code == 1, f"exit {result.exit_code}:\n{result.stderr[:3000]}{_known(case_id)}"
    want = f"{p}:{line}:{col}: error[{code}]"
    assert want in blocks, f"expected `{want}`; got:\n" + "\n".join(blocks) + _known(case_id)


def test_policy_expression_of_20000_characters_is_accepted(tmp_path):
    expr = "len([" + "1, " * 6662 + "111]) > 0"   # long, but only three levels deep
    assert len(expr) == 20_000
    p, result = _validate(tmp_path, "ok.yaml", POLICY_HEAD + OUTCOME + expr + "\n", "length-ok")
    assert result.exit_code == 0, result.stderr[:2000]


def test_policy_flat_chain_of_250_conditions_is_not_nesting(tmp_path):
    """`a or b or c ...` is a flat list of conditions to whoever reads it, not 250 levels of nesting."""
    case_id = "policy-flat-or-chain-250"
    expr = " or ".join(f"n == {i}" for i in range(250))
    p, result = _validate(tmp_path, "flat.yaml", POLICY_HEAD + OUTCOME + expr + "\n", case_id)
    assert result.exit_code == 0, result.stderr[:600] + _known(case_id)


def test_policy_expression_20001_characters(tmp_path):
    expr = "n" + " + 1" * ((20_001 - 5) // 4) + " > 0"
    assert len(expr) == 20_001
    _validate_refused(tmp_path, "long.yaml", POLICY_HEAD + OUTCOME + expr + "\n", "policy-expression-20001-chars",
                      "expression-too-long", 7, 11)


def test_policy_expression_300_levels_deep(tmp_path):
    # `not not ... b`: the 201st level starts at offset 4 * 200 of the expression
    _validate_refused(tmp_path, "deep.yaml", POLICY_HEAD + OUTCOME + "not " * 300 + "b\n", "policy-expression-300-deep",
                      "expression-too-deep", 7, 11 + 4 * 200)


def test_policy_list_300_levels_deep(tmp_path):
    # `len([[[...]]]) > 0`: the outermost list is level 3 (compare, call, list); the 201st level starts
    # at the 199th `[`, offset 4 + 198
    text = POLICY_HEAD + OUTCOME + "len(" + "[" * 300 + "]" * 300 + ") > 0\n"
    _validate_refused(tmp_path, "lists.yaml", text, "policy-list-300-deep", "expression-too-deep", 7, 11 + 4 + 198)


def test_policy_file_of_6_mb(tmp_path):
    text = POLICY_HEAD + OUTCOME + "b\n" + ("# " + "x" * 98 + "\n") * 60_000
    assert len(text) > 6_000_000
    _validate_refused(tmp_path, "big.yaml", text, "policy-file-6mb", "file-too-large", 1, 1)


def test_policy_alias_bomb(tmp_path):
    lines = ["id: t.bomb", "title: T", "x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    _validate_refused(tmp_path, "bomb.yaml", "\n".join(lines) + "\n", "policy-alias-bomb", "yaml-too-large", 1, 1,
                      limit=10.0)


def test_policy_40_digit_literal(tmp_path):
    _validate_refused(tmp_path, "digits.yaml", POLICY_HEAD + OUTCOME + "n > 1234567890123456789012345678901234567890\n",
                      "policy-40-digit-literal", "invalid-number", 7, 15)


def test_policy_10000_digit_literal(tmp_path):
    _validate_refused(tmp_path, "digits.yaml", POLICY_HEAD + OUTCOME + "n > " + "7" * 10_000 + "\n",
                      "policy-10000-digit-literal", "invalid-number", 7, 15)


def test_policy_40_digit_parameter(tmp_path):
    text = ("id: t.param\ntitle: T\ninputs: {n: number}\nparameters:\n"
            "  p: {value: 1234567890123456789012345678901234567890}\n" + OUTCOME + "n > p\n")
    _validate_refused(tmp_path, "param.yaml", text, "policy-40-digit-parameter", "invalid-number", 5, 3)


def test_policy_hex_parameter_is_refused_quickly(tmp_path):
    case_id = "policy-hex-parameter-5mb"
    text = ("id: t.param\ntitle: T\ninputs: {n: number}\nparameters:\n"
            "  p: {value: 0x" + "f" * 4_900_000 + "}\n" + OUTCOME + "n > p\n")
    p = _write(tmp_path / "hex.yaml", text)
    proc = _run_subprocess(["validate", str(p)], case_id)
    assert proc.returncode == 1
    assert f"{p}:5:14: error[invalid-number]" in proc.stderr, proc.stderr[:2000] + _known(case_id)


DEEP_TYPES = {"policy-record-typespec-100-deep": "{a: " * 100 + "number" + "}" * 100,
              "policy-list-typespec-150-deep": "{type: list, items: " * 150 + "number" + "}" * 150}


@pytest.mark.parametrize("case_id", sorted(DEEP_TYPES))
def test_policy_deeply_nested_input_type(tmp_path, case_id):
    """An input type nested very deep is refused with a diagnostic (any code), never a crash."""
    typespec = DEEP_TYPES[case_id]
    text = "id: t.deep\ntitle: T\ninputs:\n  x: " + typespec + "\n" + OUTCOME + "true\n"
    p, result = _validate(tmp_path, "deep.yaml", text, case_id)
    assert result.exit_code == 1, result.stderr[:2000] + _known(case_id)
    assert any(h.startswith(f"{p}:") and "error[" in h for h, _ in _blocks(result.stderr)), (
        result.stderr[:2000] + _known(case_id))


def test_policy_chain_of_400_rules(tmp_path):
    """r399 = r398 + 1 = ... = x + 399: validate accepts it, so evaluation must decide it."""
    case_id = "policy-rule-chain-400"
    rules = "".join(f"  r{i}:\n    label: r{i}\n    expr: r{i - 1} + 1\n" for i in range(1, 400))
    text = ("id: t.chain\ntitle: T\ninputs: {x: number}\nrules:\n  r0:\n    label: r0\n    expr: x\n" + rules
            + "outcomes:\n  o:\n    label: o\n    when: r399 > 0\n    values: {v: r399}\n")
    p, result = _validate(tmp_path, "chain.yaml", text, case_id)
    if result.exit_code == 1:
        return  # refused with a diagnostic: acceptable too
    facts = _write(tmp_path / "x.yaml", "x: 1\n")
    result = _run(["eval", str(p), "--facts", str(facts), "--as-of", AS_OF, "--format", "json"], case_id)
    doc = json.loads(result.stdout)
    [r] = doc["results"]
    assert (r["status"], r.get("diagnostics")) == ("applies", None), json.dumps(r)[:600] + _known(case_id)
    assert str(r["values"]["v"]) == "400"


def test_policy_rule_chain_at_the_limit_is_accepted(tmp_path):
    """validate refuses too long a chain of rules and says the limit; a chain of exactly that length passes."""
    case_id = "policy-rule-chain-at-the-limit"

    def chain(n: int) -> str:
        rules = "".join(f"  r{i}:\n    label: r{i}\n    expr: r{i - 1} + 1\n" for i in range(1, n))
        return ("id: t.chain\ntitle: T\ninputs: {x: number}\nrules:\n  r0:\n    label: r0\n    expr: x\n" + rules
                + f"outcomes:\n  o:\n    label: o\n    when: r{n - 1} > 0\n")

    p, result = _validate(tmp_path, "long.yaml", chain(1000), case_id)
    limit = re.search(r"the limit is (\d+)", result.stderr)
    if result.exit_code == 0 or limit is None:
        return  # no stated limit on chains of rules (test_policy_chain_of_400_rules covers evaluation)
    n = int(limit[1])
    p, result = _validate(tmp_path, "limit.yaml", chain(n), case_id)
    assert result.exit_code == 0, f"a chain of {n} rules, the stated limit, is refused:\n{result.stderr[:600]}" + (
        _known(case_id))
