"""The evaluation budget: a decision that would run for days or fill the memory stops with
`evaluation-budget`, at its place, for that outcome alone; the rest of the case and of the batch goes on."""
import datetime
import json

import pytest

import interpreter
from interpreter.cli import cli
from differential import disagreements

AS_OF = datetime.date(2025, 1, 1)
POLICY = """\
id: t.budget
title: budget
inputs:
  n: {type: number}
rules:
  s0: {label: a string, expr: '"ab"'}
%s
  nested:
    label: three binders nested over long ranges
    expr: 'count(i in range(0, 10000): any(j in range(0, 10000): any(k in range(0, 10000): i + j + k < n))) > 0'
  lists:
    label: a list of long lists
    expr: 'len(map(i in range(0, 1000): range(i, i + 10000))) > 0'
outcomes:
  o1: {label: nested binders, when: nested}
  o2: {label: lists of lists, when: lists}
  o3: {label: a string doubled thirty times, when: 'len(s30) > 0'}
  o4: {label: fine, when: n > 0}
""" % "\n".join(f"  s{i}: {{label: doubled, expr: 's{i - 1} + s{i - 1}'}}" for i in range(1, 31))


@pytest.fixture
def budget_set(tmp_path):
    (tmp_path / "p.yaml").write_text(POLICY)
    result = interpreter.load([str(tmp_path)])
    assert result.ok, result.diagnostics
    return result.policy_set


@pytest.mark.parametrize("trace", [False, True])
def test_each_runaway_outcome_is_an_error_of_its_own(budget_set, trace):
    facts, _ = budget_set.check_facts({"n": 5})
    results = budget_set.evaluate(facts, AS_OF, trace=trace).results
    assert [(r.outcome, r.status, [d.code for d in r.diagnostics]) for r in results] == [
        ("o1", "error", ["evaluation-budget"]), ("o2", "error", ["evaluation-budget"]),
        ("o3", "error", ["evaluation-budget"]), ("o4", "applies", [])]
    nested = results[0].diagnostics[0]
    # at the binder that went over: over `j` or over `k` (where exactly may differ with the trace)
    assert (nested.span.line, nested.span.column) in ((39, 40), (39, 66))


def test_the_reference_evaluator_stops_at_the_same_budget(budget_set):
    facts, _ = budget_set.check_facts({"n": 5})
    assert disagreements(budget_set, facts, AS_OF) == []


def test_a_batch_goes_on_past_a_case_over_budget(budget_set, tmp_path, runner):
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"id": "a", "n": 5}\n{"id": "b", "n": -1}\n')
    out = tmp_path / "out.jsonl"
    result = runner.invoke(cli, ["eval", str(tmp_path / "p.yaml"), "--facts", str(cases), "--as-of", "2025-01-01",
                                 "--outcome", "o3", "--outcome", "o4", "--out", str(out)])
    assert result.exit_code == 1, result.output
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [[(r["outcome"], r["status"]) for r in x["results"]] for x in lines] == [
        [("o3", "error"), ("o4", "applies")], [("o3", "error"), ("o4", "does_not_apply")]]
