"""`policy test`: the shipped policy tests stay green, and the runner reports failures, JUnit and coverage."""
import xml.etree.ElementTree as ET
from pathlib import Path

from interpreter.cli import cli

ROOT = Path(__file__).resolve().parent.parent

POLICY = """\
id: t.p
title: t
inputs:
  a: boolean
  n: number
outcomes:
  o:
    label: the outcome
    when: a and n > 1
    values:
      double: n * 2
"""


def write_set(tmp_path, cases: str) -> Path:
    (tmp_path / "p.yaml").write_text(POLICY)
    (tmp_path / "p.test.yaml").write_text(cases)
    return tmp_path


def test_shipped_policy_tests_pass_with_full_coverage(runner):
    r = runner.invoke(cli, ["test", str(ROOT / "policies"), "--coverage", "--min-coverage", "100"])
    assert r.exit_code == 0, r.output
    assert ", 0 failed (" in r.stdout
    assert "(100.0%)" in r.stdout


def test_failures_show_the_difference_and_exit_1(runner, tmp_path):
    d = write_set(tmp_path, """\
cases:
  - name: wrong status
    as_of: 2026-01-01
    facts: {a: true, n: 2}
    expect:
      o: {status: does_not_apply}
  - name: wrong value
    as_of: 2026-01-01
    facts: {a: true, n: 2}
    expect:
      o: {status: applies, values: {double: 5}}
  - name: missing listed
    as_of: 2026-01-01
    facts: {a: true}
    expect:
      o: {status: undetermined, missing: [n]}
""")
    junit = tmp_path / "junit.xml"
    r = runner.invoke(cli, ["test", str(d), "--junit", str(junit)])
    assert r.exit_code == 1
    lines = r.stdout.splitlines()
    assert "  ✗ wrong status" in lines
    assert "      o: expected does_not_apply, got applies" in lines
    assert "      o: value `double`: expected 5, got 4" in lines
    assert "  ✓ missing listed" in lines
    assert lines[-1] == "1 passed, 2 failed (3 cases in 1 file)"
    root = ET.parse(junit).getroot()
    assert root.get("tests") == "3" and root.get("failures") == "2"
    failures = [c.find("failure").get("message") for c in root.iter("testcase") if c.find("failure") is not None]
    assert failures == ["o: expected does_not_apply, got applies", "o: value `double`: expected 5, got 4"]


def test_min_coverage_fails_below(runner, tmp_path):
    d = write_set(tmp_path, """\
cases:
  - name: applies
    as_of: 2026-01-01
    facts: {a: true, n: 2}
    expect: {o: applies}
""")
    r = runner.invoke(cli, ["test", str(d), "--min-coverage", "100"])
    assert r.exit_code == 1
    assert "never false: a" in r.stdout
    assert "coverage of t.p is 0.0%, below the minimum of 100%" in r.stderr


def test_because_and_error_expectations(runner, tmp_path):
    d = write_set(tmp_path, """\
cases:
  - name: reason
    as_of: 2026-01-01
    facts: {a: false, n: 2}
    expect:
      o: {status: does_not_apply, because: [o]}
""")
    r = runner.invoke(cli, ["test", str(d)])
    assert r.exit_code == 1
    assert "o: expected rule `o` to be false, but it was not" in r.stdout


def test_bad_test_file_is_a_diagnostic(runner, tmp_path):
    d = write_set(tmp_path, "cases:\n  - name: x\n    as_of: 2026-01-01\n    facts: {}\n    expct: {o: applies}\n")
    r = runner.invoke(cli, ["test", str(d)])
    assert r.exit_code == 1
    assert "p.test.yaml:5:5: error[unknown-key]: unknown key `expct`" in r.stderr
    assert "Traceback" not in r.output


def test_bad_facts_in_a_case_fail_the_case(runner, tmp_path):
    d = write_set(tmp_path, """\
cases:
  - name: bad facts
    as_of: 2026-01-01
    facts: {a: maybe}
    expect: {o: applies}
""")
    r = runner.invoke(cli, ["test", str(d)])
    assert r.exit_code == 1
    assert "p.test.yaml:4:16: error[fact-type]: fact `a` must be a boolean, not the string `maybe`" in r.stdout


def test_no_tests_found(runner, tmp_path):
    r = runner.invoke(cli, ["test", str(tmp_path)])
    assert r.exit_code == 1
    assert "error[no-tests]" in r.stderr
