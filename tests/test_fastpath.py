"""The two-valued fast path gives exactly what the three-valued closures give.

The fast path (interpreter/fastpath.py) decides an outcome when every fact it
reads is there and nothing fails; otherwise the engine falls back. Either way
the result must be the one the three-valued evaluation (`fast=False`) gives:
same statuses, values, missing facts and diagnostics.
"""
import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import interpreter
from test_generated_facts import RICH, facts_strategy, policy_sets

ROOT = Path(__file__).resolve().parent.parent
AS_OF = datetime.date(2025, 6, 1)


def _same_both_ways(pset, raw, as_of):
    facts, diags = pset.check_facts(raw)
    assert not [d for d in diags if d.is_error], diags
    fast = pset.evaluate(facts, as_of).to_dict()
    slow = pset.evaluate(facts, as_of, fast=False).to_dict()
    assert fast == slow


def _urumqi_with_salary():
    pset = interpreter.load([str(ROOT / "policies" / "urumqi")]).policy_set
    pset, diags = pset.with_params({"urumqi.permanent-residence": {"average_salary": {2024: 98000}}})
    assert not diags
    return pset


@pytest.fixture(scope="module")
def rich(tmp_path_factory):
    p = tmp_path_factory.mktemp("rich") / "rich.yaml"
    p.write_text(RICH)
    return interpreter.load([str(p)]).policy_set


def _same_trace_both_ways(pset, raw, as_of):
    """With a coverage set every binder item is traced in full; without one, only the items that decide.
    The traces must be the same."""
    facts, _ = pset.check_facts(raw)
    quick = pset.evaluate(facts, as_of, trace=True).to_dict()
    full = pset.evaluate(facts, as_of, seen=set()).to_dict()
    assert quick == full


CHECKS = {"result": _same_both_ways, "trace": _same_trace_both_ways}


@pytest.mark.parametrize("check", sorted(CHECKS))
@pytest.mark.parametrize("source", ["rich"] + policy_sets())
def test_same_both_ways_on_generated_facts(rich, source, check):
    """The fast path gives the three-valued result; the trace that skips undeciding items, the full one."""
    pset = rich if source == "rich" else interpreter.load([source]).policy_set

    @settings(max_examples=300 if source == "rich" else 120, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(raw=facts_strategy(pset.inputs),
           as_of=st.dates(min_value=datetime.date(2000, 1, 1), max_value=datetime.date(2060, 1, 1)))
    def run(raw, as_of):
        CHECKS[check](pset, raw, as_of)
    run()


def _years(days=200, salary=650000, tax=150000, skip=None):
    return [{"year": y, "days_in_china": days, "salary": salary, "income_tax": tax} for y in range(2021, 2025) if y != skip]


MEASURE_1 = [("urumqi.permanent-residence", "permanent_residence")]


@pytest.mark.parametrize("raw, status", [
    ({"works_in_urumqi": True, "urumqi_employment_start": "2019-09-01", "years": _years()}, "applies"),
    ({"works_in_urumqi": True, "urumqi_employment_start": "2019-09-01", "years": _years(days=182)}, "does_not_apply"),
    ({"works_in_urumqi": True, "urumqi_employment_start": "2019-09-01", "years": _years(skip=2022)}, "does_not_apply"),
    ({"works_in_urumqi": True, "urumqi_employment_start": "2021-06-02", "years": _years()}, "does_not_apply"),
    ({"works_in_urumqi": True, "urumqi_employment_start": "2019-09-01",
      "years": _years(salary=Decimal("1591107.85"), tax=Decimal("318221.57"))}, "applies"),
    ({"works_in_urumqi": True, "urumqi_employment_start": "2019-09-01",
      "years": _years(salary=Decimal("1591107.85"), tax=Decimal("318221.56"))}, "does_not_apply"),
])
def test_complete_facts_are_decided_on_the_fast_path(raw, status):
    """With every fact there, the three-valued closures are never called: breaking them changes nothing."""
    pset = _urumqi_with_salary()
    facts, diags = pset.check_facts(raw)
    assert not diags
    expected = pset.evaluate(facts, AS_OF, MEASURE_1, fast=False).results[0].status
    assert expected == status

    def broken(c, loc):
        raise AssertionError("the three-valued path was used")
    for co in pset._compiled_plain().outcomes:
        co.when = broken
    assert pset.evaluate(facts, AS_OF, MEASURE_1).results[0].status == status


def test_a_missing_fact_falls_back_and_is_named():
    pset = _urumqi_with_salary()
    raw = {"works_in_urumqi": True, "years": _years()}  # urumqi_employment_start not given
    facts, _ = pset.check_facts(raw)
    fast = pset.evaluate(facts, AS_OF, MEASURE_1)
    assert fast.results[0].status == "undetermined"
    assert [m.name for m in fast.results[0].missing] == ["urumqi_employment_start"]
    assert fast.to_dict() == pset.evaluate(facts, AS_OF, MEASURE_1, fast=False).to_dict()


def test_a_missing_record_field_falls_back_and_is_named():
    pset = _urumqi_with_salary()
    years = _years()
    del years[1]["salary"]
    facts, _ = pset.check_facts({"works_in_urumqi": True, "urumqi_employment_start": "2019-09-01", "years": years})
    res = pset.evaluate(facts, AS_OF, MEASURE_1).results[0]
    assert res.status == "undetermined"
    assert [m.name for m in res.missing] == ["years[1].salary"]


def test_a_missing_parameter_value_falls_back_and_is_named():
    pset = interpreter.load([str(ROOT / "policies" / "urumqi")]).policy_set  # no average salary
    facts, _ = pset.check_facts({"works_in_urumqi": True, "urumqi_employment_start": "2019-09-01", "years": _years()})
    res = pset.evaluate(facts, AS_OF, MEASURE_1).results[0]
    assert res.status == "undetermined"
    assert [(m.kind, m.name) for m in res.missing] == [("parameter", "average_salary[2024]")]


def test_an_error_on_the_fast_path_is_reported_with_its_position(tmp_path):
    p = tmp_path / "div.yaml"
    p.write_text("id: t.div\ntitle: t\ninputs: {n: number, m: number}\noutcomes:\n"
                 "  o:\n    label: o\n    when: n / m > 1\n")
    pset = interpreter.load([str(p)]).policy_set
    facts, _ = pset.check_facts({"n": 1, "m": 0})
    res = pset.evaluate(facts, AS_OF).results[0]
    assert res.status == "error"
    assert [(d.code, d.span.line, d.span.column) for d in res.diagnostics] == [("division-by-zero", 7, 11)]
    assert res.to_dict() == pset.evaluate(facts, AS_OF, fast=False).results[0].to_dict()


def test_and_with_a_failing_side_decided_by_the_other(tmp_path):
    """`1 / m > 0 and b` with b false is false even when m is 0: the fast path falls back and agrees."""
    p = tmp_path / "and.yaml"
    p.write_text("id: t.and\ntitle: t\ninputs: {m: number, b: boolean}\noutcomes:\n"
                 "  o:\n    label: o\n    when: 1 / m > 0 and b\n")
    pset = interpreter.load([str(p)]).policy_set
    facts, _ = pset.check_facts({"m": 0, "b": False})
    assert pset.evaluate(facts, AS_OF).results[0].status == "does_not_apply"
    facts, _ = pset.check_facts({"m": 0, "b": True})
    res = pset.evaluate(facts, AS_OF).results[0]
    assert res.status == "error" and res.diagnostics[0].code == "division-by-zero"


def test_strict_closures_raise_rather_than_guess(tmp_path):
    """The strict variant never returns an unknown: it raises, and the engine falls back."""
    p = tmp_path / "k.yaml"
    p.write_text("id: t.k\ntitle: t\ninputs: {n: number}\noutcomes:\n  o:\n    label: o\n    when: n > 1\n")
    pset = interpreter.load([str(p)]).policy_set
    pset.evaluate({}, AS_OF)  # compiles the strict variant
    strict = pset._strict.outcomes[0].when
    with pytest.raises(KeyError):
        strict(type("C", (), {"facts": {}, "strict_memo": {}, "as_of": AS_OF})(), ())


# ---- the traced path: binder items that decide nothing are first evaluated without events

def test_a_failing_item_is_traced_in_full():
    """The one record below 183 days appears in the trace with its comparison; the others do not."""
    pset = _urumqi_with_salary()
    years = _years()
    years[2]["days_in_china"] = 150
    facts, _ = pset.check_facts({"works_in_urumqi": True, "urumqi_employment_start": "2019-09-01", "years": years})
    res = pset.evaluate(facts, AS_OF, MEASURE_1, trace=True).results[0]
    assert res.status == "does_not_apply"

    def items(events):
        for ev in events:
            if ev.get("index") is not None:
                yield ev
            yield from items(ev.get("children", []))
    days = [ev for ev in items(res.trace) if "days in China" in ev.get("label", "")]
    assert [(ev["index"], ev["status"], ev["label"]) for ev in days] == [(2, "false", "days in China in 2023 at least 183")]
    comparison, = days[0]["children"]
    assert [o["value"] for o in comparison["operands"]] == [Decimal(150), Decimal(183)]


def test_subtrees_that_record_nothing_give_the_same_trace(rich, monkeypatch):
    """Parts of an expression with no condition, binder, rule or supplied parameter in them are traced
    with the untraced closures (folded, hoisted); the trace must be the one full tracing gives."""
    from interpreter.compiler import Compiler
    sets = [rich] + [interpreter.load([p]).policy_set for p in policy_sets()] + [_urumqi_with_salary()]
    samples = []

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def collect(data):
        pset = data.draw(st.sampled_from(sets))
        raw = data.draw(facts_strategy(pset.inputs))
        as_of = data.draw(st.dates(min_value=datetime.date(2000, 1, 1), max_value=datetime.date(2060, 1, 1)))
        samples.append((pset, pset.check_facts(raw)[0], as_of))
    collect()
    quick = [pset.evaluate(facts, as_of, trace=True).to_dict() for pset, facts, as_of in samples]
    monkeypatch.setattr(Compiler, "_records_nothing", lambda self, node: False)
    for pset in sets:
        pset._traced = None
        pset._chosen = {}
    full = [pset.evaluate(facts, as_of, trace=True).to_dict() for pset, facts, as_of in samples]
    assert quick == full
