"""The default text of `policy eval` is for case officers: labels and words; expressions are for --explain."""
from __future__ import annotations

from pathlib import Path

from interpreter.cli import cli

ROOT = Path(__file__).resolve().parent.parent
URUMQI = str(ROOT / "policies" / "urumqi")
SALARY = str(ROOT / "examples" / "urumqi" / "average-salary.example.yaml")


def _eval(runner, facts, *extra):
    r = runner.invoke(cli, ["eval", URUMQI, "--facts", str(ROOT / "examples" / "urumqi" / facts),
                            "--as-of", "2025-06-01", "--params", SALARY, *extra])
    return r.stdout


def _block(text: str, outcome: str) -> list[str]:
    start = next(i for i, line in enumerate(text.splitlines()) if f"/ {outcome}:" in line)
    lines = text.splitlines()[start:]
    return lines[:lines.index("")] if "" in lines else lines


def test_unlabelled_steps_and_values_read_in_words(runner):
    out = _eval(runner, "qualifies.yaml")
    assert _block(out, "spouse_permanent_residence")[1:] == [
        "    ✓ may apply for permanent residence in China at the public security exit-entry administration (measure 1)",
        "    ✓ spouse: given",
        "    ✓ spouse: foreign"]
    assert _block(out, "children_permanent_residence")[1:] == [
        "    children: Aru",
        "    ✓ may apply for permanent residence in China at the public security exit-entry administration (measure 1)",
        "    ✓ number of eligible children: 1, more than 0"]
    assert _block(out, "meets_age_limit")[1] == "    age limit: none"
    assert "!=" not in out and "len(" not in out and " = " not in out


def test_explain_keeps_the_expressions(runner):
    out = _eval(runner, "qualifies.yaml", "--explain", "--outcome", "spouse_permanent_residence")
    assert "    ✓ spouse != null: {foreign: true} != null" in out


def test_each_missing_fact_is_listed_once_per_outcome(runner):
    out = _eval(runner, "incomplete.yaml")
    block = _block(out, "spouse_permanent_residence")
    assert [line for line in block if "missing" in line] == ["    missing: spouse, years"]
    assert block[1:4] == ["    ? may apply for permanent residence in China at the public security exit-entry administration "
                          "(measure 1)", "    ? spouse: not known", "    ? spouse foreign: not known"]


def test_a_failure_for_want_of_records_says_which_record_is_missing(runner):
    out = _eval(runner, "only-2024-record.yaml", "--outcome", "urumqi.permanent-residence.permanent_residence")
    assert _block(out, "permanent_residence")[1:4] == [
        "    ✗ resided in China at least 183 days in each tested year (measure 1)",
        "      ✗ a record of days in China, salary and tax for each tested year (measure 1)",
        "        ✗ a record for 2021 (measure 1)"]


def test_a_failing_year_is_named_below_the_condition(runner):
    out = _eval(runner, "fails-salary.yaml", "--outcome", "urumqi.permanent-residence.permanent_residence")
    block = _block(out, "permanent_residence")
    assert block[1].startswith("    ✗ annual salary not less than 6 x the average salary")
    assert block[2].startswith("      ✗ salary in 20")
