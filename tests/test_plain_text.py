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
        "    ✓ the main applicant may apply for permanent residence (the family applies at the same time) (measure 1, phrase 9)",
        "    ✓ spouse: given",
        "    ✓ spouse: foreign"]
    assert _block(out, "children_permanent_residence")[1:] == [
        "    children: Aru",
        "    ✓ the main applicant may apply for permanent residence (the family applies at the same time) (measure 1, phrase 9)",
        "    ✓ has at least one child who is a minor (under 18) and unmarried on the application date (measure 1, phrase 8)"]
    assert _block(out, "records_to_reconcile")[1:] == ["    ✗ number of years with several records: 0, at most 0"]
    assert _block(out, "meets_age_limit")[1] == "    age limit: none"
    assert "!=" not in out and "len(" not in out and " = " not in out


def test_explain_keeps_the_expressions(runner):
    out = _eval(runner, "qualifies.yaml", "--explain", "--outcome", "spouse_permanent_residence")
    assert "    ✓ spouse != null: {foreign: true} != null" in out


def test_each_missing_fact_is_listed_once_per_outcome(runner):
    out = _eval(runner, "incomplete.yaml")
    block = _block(out, "spouse_permanent_residence")
    assert [line for line in block if "missing" in line] == ["    missing: spouse, years"]
    assert block[1:4] == ["    ? the main applicant may apply for permanent residence (the family applies at the same time) "
                          "(measure 1, phrase 9)", "    ? spouse: not known", "    ? spouse foreign: not known"]


def test_a_failure_for_want_of_records_says_which_record_is_missing(runner):
    out = _eval(runner, "only-2024-record.yaml", "--outcome", "urumqi.permanent-residence.permanent_residence")
    assert _block(out, "permanent_residence")[1:4] == [
        "    ✗ exactly one record for each tested year (measure 1, phrase 3)",
        "      ✗ a record of days in China, salary and tax for each tested year (measure 1, phrase 3)",
        "        ✗ a record for 2021 (tested years without a record: [2021, 2022, 2023]) (measure 1, phrase 3)"]


def test_an_exception_that_did_not_apply_is_not_given_as_why(runner):
    out = _eval(runner, "category-c.yaml", "--outcome", "national.work-permit.education_experience_requirements_apply")
    assert _block(out, "education_experience_requirements_apply")[1:] == [
        "    ✗ a bachelor's degree and 2 years of related work experience are required (service guide, category B "
        "education and experience)"]


def test_a_failing_year_is_named_below_the_condition(runner):
    out = _eval(runner, "fails-salary.yaml", "--outcome", "urumqi.permanent-residence.permanent_residence")
    block = _block(out, "permanent_residence")
    assert block[1].startswith("    ✗ annual salary not less than 6 x the average salary")
    assert block[2].startswith("      ✗ salary in 20")
