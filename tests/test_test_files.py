"""Test files are policy files too: `policy validate` checks them; `policy test FILE --coverage` covers what FILE exercises."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from interpreter.cli import cli

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def example(tmp_path):
    copy = tmp_path / "example"
    shutil.copytree(ROOT / "policies" / "example", copy)
    return copy


def _edit(path: Path, old: str, new: str):
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _diags(runner, *args):
    r = runner.invoke(cli, ["validate", *args, "--format", "json"])
    return r.exit_code, [(Path(d["file"]).name, d["code"], d.get("line"), d.get("column"), d.get("help"))
                         for d in json.loads(r.stdout)["diagnostics"]]


def test_validate_refuses_a_date_in_another_form_in_a_test_file(runner, example):
    _edit(example / "housing-allowance.test.yaml", "as_of: 2026-03-01", "as_of: 31/12/2020")
    assert _diags(runner, str(example)) == (1, [
        ("housing-allowance.test.yaml", "schema-value", 5, 12, "write YYYY-MM-DD, e.g. 2024-06-01")])
    assert _diags(runner, str(example / "housing-allowance.test.yaml")) == (1, [
        ("housing-allowance.test.yaml", "schema-value", 5, 12, "write YYYY-MM-DD, e.g. 2024-06-01")])


def test_validate_checks_the_facts_of_each_case(runner, example):
    _edit(example / "housing-allowance.test.yaml", "status: employed", "status: employd")
    assert _diags(runner, str(example)) == (1, [
        ("housing-allowance.test.yaml", "fact-value", 9, 15, "did you mean `employed`?")])


def test_validate_checks_the_outcomes_a_case_expects(runner, example):
    _edit(example / "housing-allowance.test.yaml", "      housing_allowance:\n", "      housing_alowance:\n")
    assert _diags(runner, str(example)) == (1, [
        ("housing-allowance.test.yaml", "test-outcome", 13, 7, "did you mean `housing_allowance`?")])


def test_validate_counts_test_files_and_a_clean_set_stays_clean(runner):
    r = runner.invoke(cli, ["validate", str(ROOT / "policies" / "example")])
    assert (r.exit_code, r.stderr) == (0, "checked 4 files: 0 errors, 0 warnings\n")


def test_policy_test_says_a_file_with_errors_was_not_run(runner, example):
    _edit(example / "housing-allowance.test.yaml", "as_of: 2026-03-01", "as_of: 31/12/2020")
    r = runner.invoke(cli, ["test", str(example)])
    assert r.exit_code == 1
    assert r.stdout.endswith("0 passed, 0 failed (0 cases in 1 file; 1 file has errors and was not run)\n")
    assert "housing-allowance.test.yaml:5:12: error[schema-value]" in r.stderr


def test_coverage_of_one_file_reports_only_the_policies_it_exercises(runner):
    r = runner.invoke(cli, ["test", str(ROOT / "policies/urumqi/measure-2-foreign-students.test.yaml"), "--coverage"])
    assert r.exit_code == 0, r.output
    report = r.stdout.split("Condition coverage (each condition seen both true and false):\n")[1]
    assert report.splitlines()[0:2] == ["  urumqi.foreign-students: 29/29 (100.0%)", ""]


def test_coverage_of_a_file_includes_the_policies_its_policies_use(runner):
    r = runner.invoke(cli, ["test", str(ROOT / "policies/urumqi/measure-4-restrictions.test.yaml"), "--coverage"])
    report = r.stdout.split("Condition coverage (each condition seen both true and false):\n")[1]
    assert [line.split(":")[0].strip() for line in report.splitlines() if line.startswith("  ") and "%" in line] == [
        "national.work-permit", "urumqi.work-permit-restrictions"]
