"""`policy diff`: static changes, the impact over a caseload, boundary cases without one, and --against."""
import json
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from interpreter.cli import cli

ROOT = Path(__file__).resolve().parent.parent
URUMQI = ROOT / "policies" / "urumqi"
SALARY_PARAMS = str(ROOT / "examples" / "urumqi" / "average-salary.example.yaml")
VALIDATOR = Draft202012Validator(json.loads((ROOT / "schema" / "diff.schema.json").read_text(encoding="utf-8")))

INPUTS = """\
title: facts
inputs:
  income: number
  n: integer
  a: boolean
  x: number
  y: number
  miner: boolean
  birth_date: date
  graduation_date: date
"""


def write_set(root: Path, files: dict[str, str]) -> str:
    root.mkdir(parents=True)
    (root / "inputs.yaml").write_text(INPUTS)
    for name, text in files.items():
        (root / name).write_text(text)
    return str(root)


def caseload(tmp_path, cases: list[dict], raw_lines: list[str] = ()) -> str:
    p = tmp_path / "cases.jsonl"
    p.write_text("".join(json.dumps(c) + "\n" for c in cases) + "".join(line + "\n" for line in raw_lines))
    return str(p)


def diff(runner, *args, fmt="json"):
    r = runner.invoke(cli, ["diff", *args, "--format", fmt], catch_exceptions=False)
    if fmt == "json" and r.exit_code in (0, 1):
        doc = json.loads(r.stdout, parse_float=Decimal)
        errors = sorted(VALIDATOR.iter_errors(doc), key=str)
        assert not errors, errors[0]
        return r, doc
    return r, None


def expected(old: str, new: str, caseload: str | None, as_of: str, **parts) -> dict:
    """A whole diff document: what the test gives, and the defaults of a document for the rest."""
    doc = {"old": old, "new": new, "as_of": as_of, "caseload": caseload, "changes": [], "cases": 0, "changed_cases": 0,
           "invalid_cases": 0, "outcomes": [], "transitions": [], "values": [], "invalid": [], "boundary_cases": [],
           "decisions_differ": True}
    assert set(parts) <= set(doc)
    doc.update(parts)
    return doc


def strip_paths(doc: dict, *paths: str) -> dict:
    """The document with the temporary paths replaced by names, for exact comparison."""
    text = json.dumps(doc, default=str)
    for i, p in enumerate(paths):
        text = text.replace(p, f"<{i}>")
    return json.loads(text)


# ---------------------------------------------------------------- a threshold change

THRESHOLD = """\
id: t.grant
title: a grant
parameters:
  ceiling: {{value: {ceiling}}}
outcomes:
  grant:
    label: receives the grant
    when: income <= ceiling
    values:
      amount: '100'
"""


def test_threshold_change_over_a_caseload(runner, tmp_path):
    old = write_set(tmp_path / "old", {"grant.yaml": THRESHOLD.format(ceiling=1000)})
    new = write_set(tmp_path / "new", {"grant.yaml": THRESHOLD.format(ceiling=900)})
    cases = caseload(tmp_path, [{"id": "c1", "income": 850}, {"id": "c2", "income": 900}, {"id": "c3", "income": 950},
                                {"id": "c4", "income": 1000}, {"id": "c5", "income": 1100}, {"id": "c6"},
                                {"id": "c7", "income": "lots"}])
    r, doc = diff(runner, old, new, "--facts", cases, "--as-of", "2026-03-01")
    assert r.exit_code == 1
    assert strip_paths(doc, old, new, cases) == {
        "old": "<0>", "new": "<1>", "as_of": "2026-03-01", "caseload": "<2>",
        "changes": [{"kind": "parameter", "policy": "t.grant", "name": "ceiling", "change": "changed",
                     "old": 1000, "new": 900}],
        "cases": 7, "changed_cases": 2, "invalid_cases": 1,
        "outcomes": [{"policy": "t.grant", "outcome": "grant", "unchanged": 4, "changed_status": 2}],
        "transitions": [{"policy": "t.grant", "outcome": "grant", "from": "applies", "to": "does_not_apply", "count": 2,
                         "examples": [
                             {"id": "c3", "record": 3, "why": [{"condition": "income <= ceiling", "old": "true", "new": "false"}]},
                             {"id": "c4", "record": 4, "why": [{"condition": "income <= ceiling", "old": "true", "new": "false"}]}]}],
        "values": [],
        "invalid": [{"id": "c7", "record": 7,
                     "old": [{"code": "fact-type", "severity": "error", "message": "fact `income` must be a number, not the string `lots`",
                              "file": "<2>", "line": 7, "column": 1, "end_line": 7, "end_column": 2}],
                     "new": [{"code": "fact-type", "severity": "error", "message": "fact `income` must be a number, not the string `lots`",
                              "file": "<2>", "line": 7, "column": 1, "end_line": 7, "end_column": 2}]}],
        "boundary_cases": [], "decisions_differ": True,
    }


def test_threshold_change_without_a_caseload_gives_the_boundary_cases(runner, tmp_path):
    old = write_set(tmp_path / "old", {"grant.yaml": THRESHOLD.format(ceiling=1000)})
    new = write_set(tmp_path / "new", {"grant.yaml": THRESHOLD.format(ceiling=900)})
    r, doc = diff(runner, old, new, "--as-of", "2026-03-01")
    assert r.exit_code == 1
    assert doc["caseload"] is None and doc["cases"] == 0 and doc["transitions"] == []
    assert doc["boundary_cases"] == [{
        "policy": "t.grant", "where": "outcome grant", "comparison": "income <= ceiling", "fact": "income", "op": "<=",
        "old": 1000, "new": 900,
        "cases": [{"value": 900, "old": True, "new": True}, {"value": Decimal("900.01"), "old": True, "new": False},
                  {"value": 1000, "old": True, "new": False}, {"value": Decimal("1000.01"), "old": False, "new": False}]}]
    text, _ = diff(runner, old, new, "--as-of", "2026-03-01", fmt="text")
    assert text.exit_code == 1
    assert text.stdout.split("\n", 1)[1] == """
Changes:
  parameter t.grant.ceiling: 1000 -> 900

Boundary cases (no caseload given):
  t.grant, outcome grant: income <= ceiling
    old: income <= 1000; new: income <= 900
      income = 900: old true, new true
    * income = 900.01: old true, new false
    * income = 1000: old true, new false
      income = 1000.01: old false, new false

decisions differ
"""


# ---------------------------------------------------------------- a reading switched through a parameter

READING = """\
id: t.reading
title: a reading
parameters:
  basis:
    type: string
    allowed: [x, y]
    value: {basis}
rules:
  met:
    label: the basis reaches 10
    expr: if basis == "x" then x >= 10 else y >= 10
outcomes:
  ok:
    label: qualifies
    when: met
"""


def test_a_reading_switched_through_a_parameter(runner, tmp_path):
    old = write_set(tmp_path / "old", {"reading.yaml": READING.format(basis="x")})
    new = write_set(tmp_path / "new", {"reading.yaml": READING.format(basis="y")})
    cases = caseload(tmp_path, [{"id": 1, "x": 12, "y": 3}, {"id": 2, "x": 12, "y": 12}, {"id": 3, "x": 1, "y": 30},
                                {"id": 4, "x": 12}])
    r, doc = diff(runner, old, new, "--facts", cases, "--as-of", "2026-03-01")
    assert r.exit_code == 1
    met = {"rule": "t.reading.met", "label": "the basis reaches 10"}
    assert doc == expected(
        old, new, cases, "2026-03-01",
        changes=[{"kind": "parameter", "policy": "t.reading", "name": "basis", "change": "changed", "old": "x", "new": "y"}],
        cases=4, changed_cases=3,
        outcomes=[{"policy": "t.reading", "outcome": "ok", "unchanged": 1, "changed_status": 3}],
        transitions=[
            {"policy": "t.reading", "outcome": "ok", "from": "applies", "to": "does_not_apply", "count": 1,
             "examples": [{"id": 1, "record": 1, "why": [{**met, "old": "true", "new": "false"}]}]},
            {"policy": "t.reading", "outcome": "ok", "from": "applies", "to": "undetermined", "count": 1,
             "examples": [{"id": 4, "record": 4, "why": [{**met, "old": "true", "new": "unknown"}]}]},
            {"policy": "t.reading", "outcome": "ok", "from": "does_not_apply", "to": "applies", "count": 1,
             "examples": [{"id": 3, "record": 3, "why": [{**met, "old": "false", "new": "true"}]}]}])


def test_a_reading_switched_without_a_caseload(runner, tmp_path):
    old = write_set(tmp_path / "old", {"reading.yaml": READING.format(basis="x")})
    new = write_set(tmp_path / "new", {"reading.yaml": READING.format(basis="y")})
    r, doc = diff(runner, old, new, "--as-of", "2026-03-01")
    assert r.exit_code == 1
    assert doc == expected(
        old, new, None, "2026-03-01",
        changes=[{"kind": "parameter", "policy": "t.reading", "name": "basis", "change": "changed", "old": "x", "new": "y"}],
        boundary_cases=[  # the reading decides which comparison a case meets
            {"policy": "t.reading", "where": "rule met", "comparison": "y >= 10", "fact": "y", "op": ">=", "old": None, "new": 10,
             "cases": [{"value": Decimal("9.99"), "old": None, "new": False}, {"value": 10, "old": None, "new": True}]},
            {"policy": "t.reading", "where": "rule met", "comparison": "x >= 10", "fact": "x", "op": ">=", "old": 10, "new": None,
             "cases": [{"value": Decimal("9.99"), "old": False, "new": None}, {"value": 10, "old": True, "new": None}]}])


# ---------------------------------------------------------------- an added condition

ADDED = """\
id: t.added
title: an added condition
outcomes:
  o:
    label: the outcome
    when: {when}
"""


def test_an_added_condition(runner, tmp_path):
    old = write_set(tmp_path / "old", {"o.yaml": ADDED.format(when="a")})
    new = write_set(tmp_path / "new", {"o.yaml": ADDED.format(when="a and n >= 3")})
    cases = caseload(tmp_path, [{"id": "k1", "a": True, "n": 2}, {"id": "k2", "a": True, "n": 3},
                                {"id": "k3", "a": False, "n": 1}, {"id": "k4", "a": True}])
    r, doc = diff(runner, old, new, "--facts", cases, "--as-of", "2026-03-01")
    assert r.exit_code == 1
    changes = [{"kind": "outcome", "policy": "t.added", "name": "o", "change": "changed",
                "fields": [{"field": "when", "old": "a", "new": "a and n >= 3"}]}]
    assert doc == expected(
        old, new, cases, "2026-03-01", changes=changes, cases=4, changed_cases=2,
        outcomes=[{"policy": "t.added", "outcome": "o", "unchanged": 2, "changed_status": 2}],
        transitions=[
            {"policy": "t.added", "outcome": "o", "from": "applies", "to": "does_not_apply", "count": 1,
             "examples": [{"id": "k1", "record": 1, "why": [{"condition": "n >= 3", "old": "not_evaluated", "new": "false"}]}]},
            {"policy": "t.added", "outcome": "o", "from": "applies", "to": "undetermined", "count": 1,
             "examples": [{"id": "k4", "record": 4, "why": [{"condition": "n >= 3", "old": "not_evaluated", "new": "unknown"}]}]}])
    r, doc = diff(runner, old, new, "--as-of", "2026-03-01")
    assert r.exit_code == 1
    assert doc == expected(old, new, None, "2026-03-01", changes=changes, boundary_cases=[{
        "policy": "t.added", "where": "outcome o", "comparison": "n >= 3", "fact": "n", "op": ">=", "old": None, "new": 3,
        "cases": [{"value": 2, "old": None, "new": False}, {"value": 3, "old": None, "new": True}]}])


# ---------------------------------------------------------------- a removed outcome

TWO_OUTCOMES = """\
id: t.two
title: two outcomes
outcomes:
  first:
    label: the first
    when: a
  second:
    label: the second
    cite: art. 2
    when: not a
"""


def test_a_removed_outcome(runner, tmp_path):
    old = write_set(tmp_path / "old", {"two.yaml": TWO_OUTCOMES})
    new = write_set(tmp_path / "new", {"two.yaml": TWO_OUTCOMES.split("  second:")[0]})
    cases = caseload(tmp_path, [{"id": "p", "a": True}, {"id": "q", "a": False}, {"id": "r"}])
    r, doc = diff(runner, old, new, "--facts", cases, "--as-of", "2026-03-01")
    assert r.exit_code == 1
    assert doc == expected(
        old, new, cases, "2026-03-01",
        changes=[{"kind": "outcome", "policy": "t.two", "name": "second", "change": "removed",
                  "fields": [{"field": "label", "old": "the second", "new": None},
                             {"field": "cite", "old": "art. 2", "new": None},
                             {"field": "when", "old": "not a", "new": None}]}],
        cases=3, changed_cases=3,
        outcomes=[{"policy": "t.two", "outcome": "first", "unchanged": 3, "changed_status": 0},
                  {"policy": "t.two", "outcome": "second", "unchanged": 0, "changed_status": 3}],
        transitions=[
            {"policy": "t.two", "outcome": "second", "from": "applies", "to": "absent", "count": 1,
             "examples": [{"id": "q", "record": 2, "why": []}]},
            {"policy": "t.two", "outcome": "second", "from": "does_not_apply", "to": "absent", "count": 1,
             "examples": [{"id": "p", "record": 1, "why": []}]},
            {"policy": "t.two", "outcome": "second", "from": "undetermined", "to": "absent", "count": 1,
             "examples": [{"id": "r", "record": 3, "why": []}]}])
    r, _ = diff(runner, old, new, "--facts", cases, "--as-of", "2026-03-01", fmt="markdown")
    assert r.exit_code == 1
    assert "| `t.two` / `second` | applies | absent | 1 | `q` |" in r.stdout.splitlines()
    r, doc = diff(runner, old, new, "--facts", cases, "--as-of", "2026-03-01", "--outcome", "first")
    assert r.exit_code == 0  # the outcome that changed is not counted
    assert (doc["cases"], doc["changed_cases"], doc["transitions"]) == (3, 0, [])
    assert doc["outcomes"] == [{"policy": "t.two", "outcome": "first", "unchanged": 3, "changed_status": 0}]


# ---------------------------------------------------------------- a table by year

TABLE = """\
id: t.table
title: a table by year
parameters:
  allowance:
    label: the allowance
    by_year: {{2024: 100, 2025: {y2025}{more}}}
outcomes:
  paid:
    label: an allowance is paid
    when: a
    values:
      amount: allowance[year(today)]
  high:
    label: the allowance is high
    when: allowance[year(today)] >= 140
"""


def test_a_changed_table_by_year(runner, tmp_path):
    old = write_set(tmp_path / "old", {"t.yaml": TABLE.format(y2025=120, more="")})
    new = write_set(tmp_path / "new", {"t.yaml": TABLE.format(y2025=150, more=", 2026: 160")})
    cases = caseload(tmp_path, [{"id": "m", "a": True}, {"id": "n", "a": False},
                                {"id": "o", "as_of": "2024-05-01", "a": True}, {"id": "p", "as_of": "2026-05-01", "a": True}])
    r, doc = diff(runner, old, new, "--facts", cases, "--as-of", "2025-03-01")
    assert r.exit_code == 1
    assert doc["changes"] == [{"kind": "parameter", "policy": "t.table", "name": "allowance", "change": "changed",
                               "years": [{"year": 2025, "old": 120, "new": 150}, {"year": 2026, "old": None, "new": 160}]}]
    why = {"condition": "allowance[year(today)] >= 140", "new": "true"}
    assert strip_paths(doc, old, new, cases) == {
        "old": "<0>", "new": "<1>", "as_of": "2025-03-01", "caseload": "<2>",
        "changes": [{"kind": "parameter", "policy": "t.table", "name": "allowance", "change": "changed",
                     "years": [{"year": 2025, "old": 120, "new": 150}, {"year": 2026, "old": None, "new": 160}]}],
        "cases": 4, "changed_cases": 3, "invalid_cases": 0,
        "outcomes": [{"policy": "t.table", "outcome": "paid", "unchanged": 2, "changed_status": 0},
                     {"policy": "t.table", "outcome": "high", "unchanged": 1, "changed_status": 3}],
        "transitions": [
            {"policy": "t.table", "outcome": "high", "from": "does_not_apply", "to": "applies", "count": 2,
             "examples": [{"id": "m", "record": 1, "why": [{**why, "old": "false"}]},
                          {"id": "n", "record": 2, "why": [{**why, "old": "false"}]}]},
            {"policy": "t.table", "outcome": "high", "from": "undetermined", "to": "applies", "count": 1,
             "examples": [{"id": "p", "record": 4, "why": [{**why, "old": "unknown"}]}]}],
        "values": [{"policy": "t.table", "outcome": "paid", "value": "amount", "count": 2,
                    "examples": [{"id": "m", "record": 1, "old": 120, "new": 150},
                                 {"id": "p", "record": 4, "old": None, "new": 160}]}],  # 2026: no value in the old table
        "invalid": [], "boundary_cases": [], "decisions_differ": True,
    }
    text, _ = diff(runner, old, new, "--facts", cases, "--as-of", "2025-03-01", fmt="text")
    assert text.stdout.split("\n", 1)[1] == f"""
Changes:
  parameter t.table.allowance:
    2025: 120 -> 150
    2026: none -> 160

Impact on 4 cases of {cases}: 3 decided differently, 0 with invalid facts
  t.table / high: does not apply -> applies: 2
    e.g. m: `allowance[year(today)] >= 140` false -> true
    e.g. n: `allowance[year(today)] >= 140` false -> true
  t.table / high: undetermined -> applies: 1
    e.g. p: `allowance[year(today)] >= 140` unknown -> true
  t.table / paid: value amount changed: 2
    e.g. m: 120 -> 150
    e.g. p: none -> 160

decisions differ
"""


# ---------------------------------------------------------------- an amendment in another file

NATIONAL = """\
id: t.national
title: national rules
rules:
  pension_age:
    label: the pension age
    value: 65
outcomes:
  pension:
    label: receives a pension
    when: age(birth_date) >= pension_age
"""
CITY = """\
id: t.city
title: a city measure
uses:
  national: t.national
amendments:
  national.pension_age:
    - label: miners retire at 55
      cite: city measure 7
      when: miner
      value: 55
"""


def test_an_amendment_added_in_another_file(runner, tmp_path):
    old = write_set(tmp_path / "old", {"national.yaml": NATIONAL})
    new = write_set(tmp_path / "new", {"national.yaml": NATIONAL, "city.yaml": CITY})
    cases = caseload(tmp_path, [{"id": "miner-58", "birth_date": "1968-01-01", "miner": True},
                                {"id": "clerk-58", "birth_date": "1968-01-01", "miner": False},
                                {"id": "miner-50", "birth_date": "1976-01-01", "miner": True},
                                {"id": "miner-66", "birth_date": "1960-01-01", "miner": True}])
    r, doc = diff(runner, old, new, "--facts", cases, "--as-of", "2026-03-01")
    assert r.exit_code == 1
    changes = [{"kind": "policy", "policy": "t.city", "change": "added", "title": "a city measure", "outcomes": [],
                "amendments": {"t.national.pension_age": ["when miner: 55 (city measure 7)"]}}]
    assert doc == expected(
        old, new, cases, "2026-03-01", changes=changes, cases=4, changed_cases=1,
        outcomes=[{"policy": "t.national", "outcome": "pension", "unchanged": 3, "changed_status": 1}],
        transitions=[{"policy": "t.national", "outcome": "pension", "from": "does_not_apply", "to": "applies", "count": 1,
                      "examples": [{"id": "miner-58", "record": 1,
                                    "why": [{"rule": "t.national.pension_age", "label": "the pension age",
                                             "old_value": 65, "new_value": 55},
                                            {"condition": "age(birth_date) >= pension_age", "old": "false", "new": "true"}]}]}])
    r, doc = diff(runner, old, new, "--as-of", "2026-03-01")
    assert r.exit_code == 1
    assert doc == expected(old, new, None, "2026-03-01", changes=changes)  # the amendment moves no fixed boundary
    text, _ = diff(runner, old, new, "--as-of", "2026-03-01", fmt="text")
    assert "  policy t.city added: a city measure\n    + amends t.national.pension_age: when miner: 55 (city measure 7)\n" \
        in text.stdout
    # the same amendment added to a file that was already there
    also = write_set(tmp_path / "also", {"national.yaml": NATIONAL, "city.yaml": CITY})
    before = write_set(tmp_path / "before", {"national.yaml": NATIONAL, "city.yaml": CITY.split("amendments:")[0]
                                              + "outcomes:\n  o:\n    label: o\n    when: miner\n"})
    (Path(also) / "city.yaml").write_text(CITY + "outcomes:\n  o:\n    label: o\n    when: miner\n")
    r, doc = diff(runner, before, also, "--facts", cases, "--as-of", "2026-03-01")
    assert r.exit_code == 1
    assert doc["changes"] == [{"kind": "amendment", "policy": "t.city", "name": "t.national.pension_age", "change": "added",
                               "old": None, "new": ["when miner: 55 (city measure 7)"]}]
    assert [(t["outcome"], t["from"], t["to"], t["count"]) for t in doc["transitions"]] == [
        ("pension", "does_not_apply", "applies", 1)]


# ---------------------------------------------------------------- invalid facts, exit codes, usage

def test_a_case_invalid_for_one_version_only_is_reported_once(runner, tmp_path):
    old = write_set(tmp_path / "old", {"o.yaml": ADDED.format(when="a")})
    new = write_set(tmp_path / "new", {"o.yaml": ADDED.format(when="a")})
    (Path(new) / "inputs.yaml").write_text(INPUTS.replace("  a: boolean\n", "  a: boolean\n  b: boolean\n"))
    cases = caseload(tmp_path, [{"id": 1, "a": True, "b": True}, {"id": 2, "a": True}], ['{"id": 3, "a": '])
    r, doc = diff(runner, old, new, "--facts", cases, "--as-of", "2026-03-01")
    assert r.exit_code == 0  # no valid case is decided differently
    assert doc["changes"] == [{"kind": "input", "name": "b", "change": "added", "spec": "boolean"}]
    assert (doc["cases"], doc["changed_cases"], doc["invalid_cases"]) == (3, 0, 2)
    assert [(b["id"], b["record"], [d["code"] for d in b["old"]], [d["code"] for d in b["new"]]) for b in doc["invalid"]] == [
        (1, 1, ["unknown-fact"], []), (3, 3, ["json-syntax"], ["json-syntax"])]
    assert doc["outcomes"] == [{"policy": "t.added", "outcome": "o", "unchanged": 1, "changed_status": 0}]


def test_no_change_exits_with_0(runner, tmp_path):
    old = write_set(tmp_path / "old", {"two.yaml": TWO_OUTCOMES})
    new = write_set(tmp_path / "new", {"two.yaml": TWO_OUTCOMES.replace("the first", "the first outcome")})
    r, doc = diff(runner, old, new, "--as-of", "2026-03-01")
    assert r.exit_code == 0  # a label cannot change a decision
    assert doc["changes"] == [{"kind": "outcome", "policy": "t.two", "name": "first", "change": "changed",
                               "fields": [{"field": "label", "old": "the first", "new": "the first outcome"}]}]
    assert doc["decisions_differ"] is False
    worded = write_set(tmp_path / "worded", {"two.yaml": TWO_OUTCOMES})
    (Path(worded) / "inputs.yaml").write_text(INPUTS.replace("  a: boolean\n", "  a: {type: boolean, question: 'Is it a?'}\n"))
    r, doc = diff(runner, old, worded, "--as-of", "2026-03-01")
    assert r.exit_code == 0  # nor can an input's question
    assert doc["changes"] == [{"kind": "input", "name": "a", "change": "changed", "old": "boolean",
                               "new": {"type": "boolean", "question": "Is it a?"}}]
    text, _ = diff(runner, old, old, "--as-of", "2026-03-01", fmt="text")
    assert text.exit_code == 0 and text.stdout.endswith("Changes: none\n\nBoundary cases: no comparison with a fixed "
                                                        "boundary differs\n\nno decision differs\n")


def test_trouble_exits_with_2(runner, tmp_path):
    old = write_set(tmp_path / "old", {"two.yaml": TWO_OUTCOMES})
    bad = write_set(tmp_path / "bad", {"two.yaml": TWO_OUTCOMES.replace("when: a", "when: a and")})
    r = runner.invoke(cli, ["diff", old, bad])
    assert r.exit_code == 2 and "error[parse-error]" in r.stderr
    assert r.stderr.endswith(f"policy: the new version (`{bad}`) cannot be loaded\n")
    r = runner.invoke(cli, ["diff", old])
    assert r.exit_code == 2 and "give OLD and NEW policy directories, or one directory and --against REV" in r.stderr
    r = runner.invoke(cli, ["diff", old, old, "--facts", str(tmp_path / "one.yaml")])
    assert r.exit_code == 2 and "--facts takes a caseload" in r.stderr
    r = runner.invoke(cli, ["diff", old, old, "--outcome", "nothing"])
    assert r.exit_code == 2 and "no outcome matches `nothing` in either version" in r.stderr
    r = runner.invoke(cli, ["diff", old, old, "--facts", str(tmp_path / "missing.jsonl")])
    assert r.exit_code == 2 and "cannot read" in r.stderr


# ---------------------------------------------------------------- --against a git revision

def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=repo,
                          capture_output=True, text=True, check=True).stdout


def test_against_a_revision_of_a_temporary_repository(runner, tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    pol = Path(write_set(repo / "policies" / "grant", {"grant.yaml": THRESHOLD.format(ceiling=1000)}))
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "first")
    (pol / "grant.yaml").write_text(THRESHOLD.format(ceiling=900))
    monkeypatch.chdir(repo / "policies")
    r, doc = diff(runner, "grant", "--against", "HEAD", "--as-of", "2026-03-01")
    assert r.exit_code == 1
    assert (doc["old"], doc["new"]) == ("HEAD:grant", "grant")
    assert doc["changes"] == [{"kind": "parameter", "policy": "t.grant", "name": "ceiling", "change": "changed",
                               "old": 1000, "new": 900}]
    assert [b["comparison"] for b in doc["boundary_cases"]] == ["income <= ceiling"]
    assert git(repo, "status", "--porcelain") == " M policies/grant/grant.yaml\n"  # nothing checked out or changed
    r, one = diff(runner, "grant/grant.yaml", "--against", "HEAD", "--as-of", "2026-03-01")  # a file, with its inputs
    assert r.exit_code == 1 and one["changes"] == doc["changes"] and one["boundary_cases"] == doc["boundary_cases"]
    r = runner.invoke(cli, ["diff", "grant", "--against", "no-such-rev"])
    assert r.exit_code == 2
    assert r.stderr == f"policy: cannot read `grant` at `no-such-rev`: `no-such-rev` is not a revision of the repository at {repo}\n"
    (repo / "policies" / "later").mkdir()
    (repo / "policies" / "later" / "x.yaml").write_text(ADDED.format(when="a"))
    r = runner.invoke(cli, ["diff", "later", "--against", "HEAD"])
    assert r.exit_code == 2 and r.stderr == "policy: cannot read `later` at `HEAD`: `policies/later` does not exist at `HEAD`\n"


# ---------------------------------------------------------------- the same counts as two `policy eval` runs

def test_transitions_are_those_of_two_eval_runs_case_by_case(runner, tmp_path):
    sys.path.insert(0, str(ROOT / "bench"))
    import caseload as C
    cases = C.generate(1200, seed=16)
    path = tmp_path / "cases.jsonl"
    C.write_jsonl(str(path), cases)
    new = tmp_path / "urumqi"
    new.mkdir()
    for f in URUMQI.iterdir():
        (new / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    m1 = new / "measure-1-permanent-residence.yaml"
    text = m1.read_text(encoding="utf-8")
    changed = text.replace("    unit: times\n    value: 6\n", "    unit: times\n    value: 5\n").replace(
        "    value: 183\n", "    value: 180\n")
    assert changed.count("value: 5\n") == text.count("value: 5\n") + 1 and "value: 183\n" not in changed
    text = changed
    m1.write_text(text, encoding="utf-8")
    common = ["--facts", str(path), "--as-of", "2025-06-01", "--params", SALARY_PARAMS]
    lines = []
    for version in (URUMQI, new):
        r = runner.invoke(cli, ["eval", str(version), *common])
        assert r.exit_code == 0, r.stderr
        lines.append([json.loads(x) for x in r.stdout.splitlines()])
    expected, examples = Counter(), {}
    for a, b in zip(*lines, strict=True):
        assert a["id"] == b["id"]
        for x, y in zip(a["results"], b["results"], strict=True):
            if x["status"] != y["status"]:
                key = (x["policy"], x["outcome"], x["status"], y["status"])
                expected[key] += 1
                examples.setdefault(key, []).append(a["id"])
    assert sum(expected.values()) > 100  # the change moves many cases
    r, doc = diff(runner, str(URUMQI), str(new), *common)
    assert r.exit_code == 1
    got = {(t["policy"], t["outcome"], t["from"], t["to"]): t["count"] for t in doc["transitions"]}
    assert got == dict(expected)
    for t in doc["transitions"]:
        assert [e["id"] for e in t["examples"]] == examples[(t["policy"], t["outcome"], t["from"], t["to"])][:5]
    assert doc["cases"] == 1200 and doc["invalid_cases"] == 0
    assert doc["changed_cases"] == sum(1 for a, b in zip(*lines) if a["results"] != b["results"])
    r2, doc2 = diff(runner, str(URUMQI), str(new), *common, "--jobs", "2")
    assert r2.exit_code == 1 and doc2 == doc


def test_csv_and_directory_caseloads_give_the_same_counts(runner, tmp_path):
    old = write_set(tmp_path / "old", {"grant.yaml": THRESHOLD.format(ceiling=1000)})
    new = write_set(tmp_path / "new", {"grant.yaml": THRESHOLD.format(ceiling=900)})
    incomes = [850, 950, 1000, 1100, None]
    (tmp_path / "cases.csv").write_text("id,income\n" + "".join(f"c{i},{'' if v is None else v}\n"
                                                                for i, v in enumerate(incomes)))
    folder = tmp_path / "cases"
    folder.mkdir()
    for i, v in enumerate(incomes):
        (folder / f"c{i}.yaml").write_text("" if v is None else f"income: {v}\n")
    (folder / "c9.yaml").write_text("income: [\n")
    docs = []
    for load in (str(tmp_path / "cases.csv"), str(folder)):
        r, doc = diff(runner, old, new, "--facts", load, "--as-of", "2026-03-01", "--jobs", "2")
        assert r.exit_code == 1
        docs.append(doc)
    for doc in docs:
        assert [(t["from"], t["to"], t["count"], [e["id"] for e in t["examples"]]) for t in doc["transitions"]] == [
            ("applies", "does_not_apply", 2, ["c1", "c2"] if doc is docs[0] else ["c1.yaml", "c2.yaml"])]
    assert (docs[0]["cases"], docs[0]["invalid_cases"]) == (5, 0)
    assert (docs[1]["cases"], docs[1]["invalid_cases"]) == (6, 1)
    assert docs[1]["invalid"][0]["id"] == "c9.yaml" and docs[1]["invalid"][0]["old"][0]["code"] == "yaml-syntax"


WINDOW = """\
id: t.window
title: a window after graduation
parameters:
  window: {{value: {years}}}
  fee: {{value: {fee}}}
outcomes:
  in_window:
    label: applies within the window
    when: today <= graduation_date + years(window)
  margin:
    label: the income leaves a margin over the fee
    when: 1000 - income >= fee
"""


def test_boundaries_behind_a_fixed_amount_added_to_a_fact(runner, tmp_path):
    old = write_set(tmp_path / "old", {"w.yaml": WINDOW.format(years=2, fee=100)})
    new = write_set(tmp_path / "new", {"w.yaml": WINDOW.format(years=3, fee=150)})
    r, doc = diff(runner, old, new, "--as-of", "2025-06-01")
    assert r.exit_code == 1
    assert doc["boundary_cases"] == [
        {"policy": "t.window", "where": "outcome in_window", "comparison": "today <= graduation_date + years(window)",
         "fact": "graduation_date", "op": ">=", "old": "2023-06-01", "new": "2022-06-01",
         "cases": [{"value": "2022-05-31", "old": False, "new": False}, {"value": "2022-06-01", "old": False, "new": True},
                   {"value": "2023-05-31", "old": False, "new": True}, {"value": "2023-06-01", "old": True, "new": True}]},
        {"policy": "t.window", "where": "outcome margin", "comparison": "1000 - income >= fee",
         "fact": "income", "op": "<=", "old": 900, "new": 850,
         "cases": [{"value": 850, "old": True, "new": True}, {"value": Decimal("850.01"), "old": True, "new": False},
                   {"value": 900, "old": True, "new": False}, {"value": Decimal("900.01"), "old": False, "new": False}]},
    ]


GRACE = """\
id: t.grace
title: a grace period
parameters:
  grace_days: {{value: {days}}}
outcomes:
  recent:
    label: graduated recently
    when: graduation_date >= today - (days(grace_days) + years(1))
"""


def test_boundaries_computed_by_the_reference_evaluator(runner, tmp_path):
    # the fixed side is date arithmetic (today minus durations made from a parameter), evaluated as eval does
    old = write_set(tmp_path / "old", {"g.yaml": GRACE.format(days=10)})
    new = write_set(tmp_path / "new", {"g.yaml": GRACE.format(days=40)})
    r, doc = diff(runner, old, new, "--as-of", "2025-06-01")
    assert r.exit_code == 1
    assert doc["boundary_cases"] == [
        {"policy": "t.grace", "where": "outcome recent",
         "comparison": "graduation_date >= today - (days(grace_days) + years(1))",
         "fact": "graduation_date", "op": ">=", "old": "2024-05-22", "new": "2024-04-22",
         "cases": [{"value": "2024-04-21", "old": False, "new": False}, {"value": "2024-04-22", "old": False, "new": True},
                   {"value": "2024-05-21", "old": False, "new": True}, {"value": "2024-05-22", "old": True, "new": True}]},
    ]
