"""Trace events: `OutcomeResult.trace` holds `Event`s; their `to_dict()` is the trace `policy eval --format
json` prints, key for key, and loses no field an event has."""
import dataclasses
import datetime
import json
from decimal import Decimal

import pytest

import interpreter
from interpreter.cli import cli
from interpreter.evaluation.events import NO_VALUE, Event
from interpreter.facts import read_facts_file

EXAMPLE, URUMQI = "policies/example", "policies/urumqi"
EXAMPLE_PARAMS, URUMQI_PARAMS = "docs/examples/params.yaml", "examples/urumqi/average-salary.example.yaml"
URUMQI_FACTS = ["category-c", "child-birth-date-unknown", "enrollment-ended", "fails-salary", "graduate-entrepreneur",
                "graduate-too-late", "incomplete", "missing-years", "only-2024-record", "qualifies", "records-as-given",
                "student-incomplete"]
# (policies, facts, as of, parameters file): every shipped example, with and without its parameters file
CASES = [(EXAMPLE, f"examples/{f}.yaml", "2026-03-01", params)
         for f in ("applicant", "applicant-incomplete") for params in (None, EXAMPLE_PARAMS)] + \
        [(URUMQI, f"examples/urumqi/{f}.yaml", "2025-06-01", params)
         for f in URUMQI_FACTS for params in (None, URUMQI_PARAMS)]


def _evaluate(policies, facts_path, as_of, params):
    pset = interpreter.load([policies]).policy_set
    if params is not None:
        raw, loc, _ = read_facts_file(params)
        pset, diags = pset.with_params(raw, loc, params)
        assert not diags
    raw, loc, _ = read_facts_file(facts_path)
    facts, diags = pset.check_facts(raw, loc, facts_path)
    assert not diags
    return pset.evaluate(facts, datetime.date.fromisoformat(as_of), trace=True)


def _walk(events):
    for ev in events:
        yield ev
        yield from _walk(ev.children)


@pytest.fixture(scope="module")
def evaluations():
    return [_evaluate(*case) for case in CASES]


@pytest.mark.parametrize("i", range(len(CASES)), ids=[f"{c[1]}{'+params' if c[3] else ''}" for c in CASES])
def test_to_dict_is_what_the_cli_prints(runner, evaluations, i):
    policies, facts, as_of, params = CASES[i]
    args = ["eval", policies, "--facts", facts, "--as-of", as_of, "--format", "json"]
    result = runner.invoke(cli, args + (["--params", params] if params else []))
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output, parse_float=Decimal)
    evaluation = evaluations[i]
    assert all(isinstance(ev, Event) for r in evaluation.results for ev in _walk(r.trace))
    assert [r["trace"] for r in printed["results"]] == [[ev.to_dict() for ev in r.trace] for r in evaluation.results]
    assert [r.to_dict()["trace"] for r in evaluation.results] == [[ev.to_dict() for ev in r.trace]
                                                                  for r in evaluation.results]


def _set_fields(ev: Event) -> set[str]:
    """The fields of an event that hold something: not None, False nor empty; `gives`, not NO_VALUE (an
    exception's value may be None, unknown)."""
    out = set()
    for f in dataclasses.fields(Event):
        v = getattr(ev, f.name)
        if f.name == "gives":
            unset = v is NO_VALUE
        else:
            unset = v is None or (f.name == "children" and not v) or (v is False and f.type == "bool")
        if not unset:
            out.add(f.name)
    return out


def test_every_field_is_used_and_none_is_lost(evaluations):
    """Each field of Event is set in some event of the shipped examples, and `to_dict()` writes every field
    an event has (the JSON keys are exactly the set fields, plus a rule's or exception's label and cite,
    and `value`, which are always written)."""
    used: set[str] = set()
    for evaluation in evaluations:
        for r in evaluation.results:
            for ev in _walk(r.trace):
                fields, d = _set_fields(ev), ev.to_dict()
                used |= fields
                assert fields <= set(d), (fields, d)
                assert set(d) - fields <= {"value", "label", "cite"}, (ev, d)
                assert list(d)[0] == "kind"
                if "children" in d:
                    assert d["children"] == [c.to_dict() for c in ev.children]
    assert used == {f.name for f in dataclasses.fields(Event)}


def test_the_fast_constructor_is_the_class():
    """`event(...)`, which the traced closures call, takes Event's fields in order with the same defaults, and
    makes the same event."""
    import inspect
    from interpreter.evaluation.events import event
    params = inspect.signature(event).parameters
    fields = dataclasses.fields(Event)
    assert list(params) == [f.name for f in fields]
    assert [p.default for p in params.values()] == [inspect.Parameter.empty if f.default is dataclasses.MISSING
                                                    else f.default for f in fields]
    assert event("rule", "r") == Event("rule", "r")
    args = ("value", "x = 1", "false", False, "label", "cite", "p", "n", "<", [{"text": "x"}], ["x"], [], True, 3,
            True, None)
    assert event(*args) == Event(*args) and event(*args).to_dict() == Event(*args).to_dict()
    assert Event("exception", "w").gives is NO_VALUE and "gives" not in Event("exception", "w").to_dict()
