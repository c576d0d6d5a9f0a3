"""The command line through click's CliRunner: output, exit codes, formats."""
import json
from pathlib import Path

import pytest

from interpreter.cli import cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = str(ROOT / "policies" / "example")
APPLICANT = str(ROOT / "examples" / "applicant.yaml")
INCOMPLETE = str(ROOT / "examples" / "applicant-incomplete.yaml")

MISSPELT = """\
id: t.misspelt
title: misspelt name
inputs:
  resident: boolean
  income: number
outcomes:
  o:
    label: the outcome
    when: |
      resident
      and income > 0
      and incme < 100
"""


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_validate_clean_set(runner):
    r = runner.invoke(cli, ["validate", str(ROOT / "policies")])
    assert r.exit_code == 0, r.output
    assert "0 errors, 0 warnings" in r.stderr


def test_validate_points_at_misspelt_name_on_third_line_of_when(runner, tmp_path):
    path = write(tmp_path, "p.yaml", MISSPELT)
    r = runner.invoke(cli, ["validate", path])
    assert r.exit_code == 1
    first = r.stderr.splitlines()[0]
    assert first == f"{path}:12:11: error[unknown-name]: unknown name `incme`"
    assert "      and incme < 100" in r.stderr
    assert "= help: did you mean `income`?" in r.stderr
    caret_line = r.stderr.splitlines()[2]
    assert caret_line.index("^") == r.stderr.splitlines()[1].index("incme")


def test_validate_json_and_github_formats(runner, tmp_path):
    path = write(tmp_path, "p.yaml", MISSPELT)
    r = runner.invoke(cli, ["validate", path, "--format", "json"])
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert doc["errors"] == 1 and doc["ok"] is False
    d = doc["diagnostics"][0]
    assert (d["code"], d["line"], d["column"], d["end_column"]) == ("unknown-name", 12, 11, 16)
    r = runner.invoke(cli, ["validate", path, "--format", "github"])
    assert r.exit_code == 1
    assert r.stdout.startswith(f"::error file={path},line=12,col=11,endLine=12,endColumn=16,title=unknown-name::unknown name `incme`")


def test_strict_makes_warnings_errors(runner, tmp_path):
    path = write(tmp_path, "p.yaml", "id: t.w\ntitle: w\ninputs:\n  unused: boolean\noutcomes:\n  o:\n    label: o\n    when: 'true'\n")
    assert runner.invoke(cli, ["validate", path]).exit_code == 0
    r = runner.invoke(cli, ["validate", "--strict", path])
    assert r.exit_code == 1
    assert "warning[unused-input]: input `unused` is declared but never read" in r.stderr


def test_usage_errors_exit_2(runner):
    assert runner.invoke(cli, ["validate"]).exit_code == 2
    assert runner.invoke(cli, ["eval", EXAMPLE]).exit_code == 2
    r = runner.invoke(cli, ["eval", EXAMPLE, "--facts", APPLICANT, "--as-of", "2024-02-30"])
    assert r.exit_code == 2
    assert "is not a date" in r.stderr
    r = runner.invoke(cli, ["eval", EXAMPLE, "--facts", APPLICANT, "--outcome", "nope"])
    assert r.exit_code == 2
    assert "no outcome matches `nope`" in r.stderr


def test_eval_text(runner):
    r = runner.invoke(cli, ["eval", EXAMPLE, "--facts", APPLICANT, "--as-of", "2026-03-01"])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[:4] == [
        "as of 2026-03-01",
        "",
        "✓ applies  example.housing-allowance / housing_allowance: receives the housing allowance (clause 2)",
        "    yearly amount: 18,000.00",
    ]


def test_eval_missing_facts(runner):
    r = runner.invoke(cli, ["eval", EXAMPLE, "--facts", INCOMPLETE, "--as-of", "2026-03-01", "--format", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    statuses = {x["outcome"]: x["status"] for x in doc["results"]}
    assert statuses == {"housing_allowance": "undetermined", "spouse_supplement": "undetermined"}
    assert [m["name"] for m in doc["results"][1]["missing"]] == ["incomes", "spouse"]


def test_eval_json_matches_result_schema(runner):
    import jsonschema
    schema = json.loads((ROOT / "schema" / "result.schema.json").read_text())
    r = runner.invoke(cli, ["eval", EXAMPLE, "--facts", APPLICANT, "--as-of", "2026-03-01", "--format", "json", "--explain"])
    assert r.exit_code == 0
    doc = json.loads(r.stdout)
    jsonschema.Draft202012Validator(schema).validate(doc)
    assert doc["results"][0]["values"] == {"yearly_amount": 18000.00}
    assert '"yearly_amount": 18000.00' in r.stdout  # decimals written exactly


def test_eval_outcome_selection_and_stdin(runner):
    facts = Path(APPLICANT).read_text()
    r = runner.invoke(cli, ["eval", EXAMPLE, "--facts", "-", "--as-of", "2026-03-01",
                            "--outcome", "example.housing-allowance.spouse_supplement", "--format", "json"], input=facts)
    assert r.exit_code == 0, r.output
    assert [x["outcome"] for x in json.loads(r.stdout)["results"]] == ["spouse_supplement"]


def test_not_in_force(runner):
    r = runner.invoke(cli, ["eval", EXAMPLE, "--facts", APPLICANT, "--as-of", "2022-06-01", "--format", "json"])
    assert {x["status"] for x in json.loads(r.stdout)["results"]} == {"not_in_force"}


@pytest.mark.parametrize("facts,code,where", [
    ("birth_date: 1970-02-30\n", "invalid-date", "1:13"),
    ("resident: yes please\n", "fact-type", "1:11"),
    ("residnt: true\n", "unknown-fact", "1:1"),
    ("status: unemployed\n", "fact-value", "1:9"),
    ("incomes:\n  - {year: 2024, amount: 1}\n  - {year: 2025, amont: 2}\n", "unknown-fact", "3:18"),
    ("incomes:\n  - {year: 2024.5, amount: 1}\n", "fact-type", "2:12"),
    ("birth_date: '1970-13-01'\n", "invalid-date", "1:13"),
    ("resident: null\n", "fact-null", "1:11"),
    ("- 1\n- 2\n", "fact-type", "1:1"),
    ("a: [1\n", "yaml-syntax", "1:4"),
    ('{"resident": tru}\n', "fact-type", "1:14"),
])
def test_bad_facts_are_diagnosed(runner, tmp_path, facts, code, where):
    path = write(tmp_path, "facts.yaml", facts)
    r = runner.invoke(cli, ["eval", EXAMPLE, "--facts", path, "--as-of", "2026-03-01"])
    assert r.exit_code == 1, r.output
    assert f"{path}:{where}: error[{code}]" in r.stderr
    assert "Traceback" not in r.output


@pytest.mark.parametrize("text", [
    "", "   \n", "- a\n- b\n", "id: [\n", "id: x\ntitle: y\n\tfoo: 1\n", "\xff\xfe", "id: t.x\ntitle: t\nrules: 5\n",
    "id: t.x\ntitle: t\noutcomes:\n  o: {label: o, when: '1 +'}\n",
    "id: t.x\ntitle: t\noutcomes:\n  o: {label: o, when: '((((((((((((((((((((((((((((((((((((((1'}\n",
    "id: t.x\ntitle: t\noutcomes:\n  o: {label: o, when: '" + "not " * 3000 + "true'}\n",
    "id: t.x\ntitle: t\noutcomes:\n  o: {label: o, when: '" + " + ".join(["1"] * 3000) + " > 0'}\n",
])
def test_careless_policy_files_never_trace_back(runner, tmp_path, text):
    p = tmp_path / "p.yaml"
    p.write_bytes(text.encode("utf-8", errors="surrogateescape") if isinstance(text, str) else text)
    r = runner.invoke(cli, ["validate", str(p)])
    assert r.exit_code == 1, r.output
    assert "Traceback" not in r.output and r.exception is None or isinstance(r.exception, SystemExit)
    assert "error[" in r.stderr


def test_directory_without_policies(runner, tmp_path):
    r = runner.invoke(cli, ["validate", str(tmp_path)])
    assert r.exit_code == 1
    assert "error[no-policies]" in r.stderr


def test_missing_path(runner, tmp_path):
    r = runner.invoke(cli, ["validate", str(tmp_path / "nope.yaml")])
    assert r.exit_code == 1
    assert "error[file-not-found]" in r.stderr


def test_no_color_unless_terminal(runner, tmp_path):
    path = write(tmp_path, "p.yaml", MISSPELT)
    r = runner.invoke(cli, ["validate", path], color=False)
    assert "\x1b[" not in r.output


def test_use_color_only_on_a_terminal_without_no_color(monkeypatch):
    from interpreter.render import use_color

    class Tty:
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(Tty()) is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(Tty()) is False
    monkeypatch.delenv("NO_COLOR")
    import io
    assert use_color(io.StringIO()) is False


def test_generated_policy_pages_are_current(runner):
    """docs/policies/ is generated from policies/urumqi; regenerate with `policy docs policies/urumqi --out docs/policies`."""
    r = runner.invoke(cli, ["docs", str(ROOT / "policies" / "urumqi"), "--out", str(ROOT / "docs" / "policies"), "--check"])
    assert r.exit_code == 0, r.stderr


def test_docs_writes_a_page_per_policy_and_an_index(runner, tmp_path):
    r = runner.invoke(cli, ["docs", EXAMPLE, "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["example-age-limit.md", "example-housing-allowance.md", "index.md"]
    page = (tmp_path / "example-housing-allowance.md").read_text()
    assert "- to `national.age_limit`: retired applicants face no age limit (clause 2)" in page
    assert "| `income_ceiling` | 2022: 80,000 CNY; 2023: 84,000 CNY; 2024: 88,000 CNY; 2025: 90,000 CNY |" in page
    r = runner.invoke(cli, ["docs", EXAMPLE, "--out", str(tmp_path), "--check"])
    assert r.exit_code == 0
    (tmp_path / "index.md").write_text("old\n")
    r = runner.invoke(cli, ["docs", EXAMPLE, "--out", str(tmp_path), "--check"])
    assert r.exit_code == 1 and "index.md: stale" in r.stderr


def test_a_value_that_fails_to_compute_leaves_the_outcome_applying_with_its_error(runner, tmp_path):
    """As docs/cli.md says: the outcome applies (its condition is decided), the failed value is left out
    with its diagnostic, the record's line has the status `error`, and the exit code is 1."""
    import json
    (tmp_path / "p.yaml").write_text("id: t.v\ntitle: v\ninputs:\n  n: number\noutcomes:\n  o:\n    label: o\n"
                                     "    when: 'true'\n    values:\n      q: 1 / n\n      k: n + 1\n")
    (tmp_path / "c.jsonl").write_text('{"id": "a", "n": 0}\n')
    result = runner.invoke(cli, ["eval", str(tmp_path / "p.yaml"), "--facts", str(tmp_path / "c.jsonl"),
                                 "--as-of", "2025-01-01", "--out", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 1
    line = json.loads((tmp_path / "o.jsonl").read_text())
    r, = line["results"]
    assert (line["status"], r["status"], r["values"], [d["code"] for d in r["diagnostics"]]) == \
        ("error", "applies", {"k": 1}, ["division-by-zero"])
