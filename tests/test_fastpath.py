"""The two-valued fast path gives exactly what the three-valued closures give.

The fast path (interpreter/evaluation/strict.py) decides an outcome when every fact it
reads is there and nothing fails; otherwise the engine falls back. Either way
the result must be the one the three-valued evaluation (`fast=False`) gives:
same statuses, values, missing facts and diagnostics.
"""
import datetime
import operator
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import interpreter
from interpreter.evaluation import strict as fastpath
from interpreter.evaluation.errors import COMPARE
from test_generated_facts import RICH, facts_strategy, policy_sets

ROOT = Path(__file__).resolve().parent.parent
AS_OF = datetime.date(2025, 6, 1)


def _same_both_ways(pset, raw, as_of):
    facts, diags = pset.check_facts(raw)
    assert not [d for d in diags if d.is_error], diags
    fast = pset.evaluate(facts, as_of).to_dict()
    slow = pset._evaluate(facts, as_of, fast=False).to_dict()
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


CHAINS = """\
id: t.chains
title: chains of rules, repeated rules, item-to-item comparisons, calls on facts
inputs:
  a: boolean
  b: boolean
  n: number
  m: number
  d: date
  rows:
    type: list
    items: {x: number, y: number}
rules:
  pa: {label: pa, expr: a and n > 0}
  pb: {label: pb, expr: b or m > 0}
  ratio_ok: {label: ratio, expr: n / m > 1}
  pa_and_ratio: {label: pa and ratio, expr: pa and ratio_ok}
  pb_or_rows: {label: pb or rows, expr: "pb or any(r in rows: 2 * r.y < r.x)"}
  scaled_all: {label: scaled all, expr: "all(r in rows: r.x >= r.y * 20%)"}
  scaled_filter: {label: scaled filter, expr: "filter(r in rows: r.x - 1 <= r.y)"}
  adult: {label: adult, expr: "years_between(d, today) >= 18"}
  young: {label: young, expr: age(d) < 65}
outcomes:
  repeated_and:
    label: a rule read once and chained, and rules repeated in one chain
    when: pa and pa_and_ratio and pa and scaled_all and ratio_ok and pa
  repeated_or:
    label: the same with or, and a parenthesised group
    when: pb or (pb_or_rows or adult) or pb or (pb and scaled_all)
  calls:
    label: calls on facts and today
    when: len(scaled_filter) > 0 and young and adult and year(d) >= 1950
    values:
      born: year(d)
      kind: '"calls"'
  counts:
    label: counts of whole months and years against constants that are not whole
    when: months_between(d, today) >= 600 or age(d) == 17.5 or years_between(d, today) != 45.0
  items:
    label: item against item, every operator and both sides
    when: >-
      all(r in rows: r.y / 2 > r.x) or any(r in rows: 5 + r.y == r.x)
      or any(r in rows: r.x != r.y - 1) or count(r in rows: r.x * 3 < r.y) > 1
      or all(r in rows: 3 * r.y <= r.x) or any(r in rows: r.x * 2 >= r.y)
    values:
      scaled: "map(r in scaled_filter: r.x)"
"""


@pytest.fixture(scope="module")
def chains(tmp_path_factory):
    p = tmp_path_factory.mktemp("chains") / "chains.yaml"
    p.write_text(CHAINS)
    result = interpreter.load([str(p)])
    assert result.ok, result.diagnostics
    return result.policy_set


def _same_trace_both_ways(pset, raw, as_of):
    """With a coverage set every binder item is traced in full; without one, only the items that decide.
    The traces must be the same."""
    facts, _ = pset.check_facts(raw)
    quick = pset.evaluate(facts, as_of, trace=True).to_dict()
    full = pset.evaluate(facts, as_of, seen=set()).to_dict()
    assert quick == full


CHECKS = {"result": _same_both_ways, "trace": _same_trace_both_ways}


@pytest.mark.parametrize("check", sorted(CHECKS))
@pytest.mark.parametrize("source", ["rich", "chains"] + policy_sets())
def test_same_both_ways_on_generated_facts(rich, chains, source, check):
    """The fast path gives the three-valued result; the trace that skips undeciding items, the full one."""
    pset = {"rich": rich, "chains": chains}.get(source) or interpreter.load([source]).policy_set

    @settings(max_examples=300 if source in ("rich", "chains") else 120, deadline=None,
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
    expected = pset._evaluate(facts, AS_OF, MEASURE_1, fast=False).results[0].status
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
    assert fast.to_dict() == pset._evaluate(facts, AS_OF, MEASURE_1, fast=False).to_dict()


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
    assert res.to_dict() == pset._evaluate(facts, AS_OF, fast=False).results[0].to_dict()


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
            if ev.index is not None:
                yield ev
            yield from items(ev.children)
    days = [ev for ev in items(res.trace) if "days in China" in (ev.label or "")]
    assert [(ev.index, ev.status, ev.label) for ev in days] == [(2, "false", "days in China in 2023 at least 183")]
    comparison, = days[0].children
    assert [o["value"] for o in comparison.operands] == [Decimal(150), Decimal(183)]


def test_subtrees_that_record_nothing_give_the_same_trace(rich, monkeypatch):
    """Parts of an expression with no condition, binder, rule or supplied parameter in them are traced
    with the untraced closures (folded, hoisted); the trace must be the one full tracing gives."""
    from interpreter.evaluation.analysis import Analysis
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
    monkeypatch.setattr(Analysis, "records_nothing", lambda self, node: False)
    for pset in sets:
        pset._forget_compiled()
    full = [pset.evaluate(facts, as_of, trace=True).to_dict() for pset, facts, as_of in samples]
    assert quick == full


# ---- what the strict compiler fuses (the differential tests above prove the fused forms give the same)

def _free(fn) -> dict:
    """The variables a closure holds, by name."""
    return dict(zip(fn.__code__.co_freevars, (cell.cell_contents for cell in fn.__closure__)))


def test_a_chain_takes_in_a_rule_read_once_and_reads_repeated_rules_once(chains):
    """`pa and pa_and_ratio and pa and scaled_all and ratio_ok and pa`, with `pa_and_ratio` (read only
    there) being `pa and ratio_ok`, is decided as `pa and ratio_ok and scaled_all`."""
    chains.evaluate({}, AS_OF)
    when = {o.name: o.when for o in chains._strict.outcomes}
    assert when["repeated_and"].__name__ == "and_n"
    assert len(_free(when["repeated_and"])["fns"]) == 3
    # `pb or (pb_or_rows or adult) or pb or (pb and scaled_all)`: pb, the any(...) of pb_or_rows, adult, the group
    assert [f.__name__ for f in _free(when["repeated_or"])["fns"]] == ["strict_rule", "any_scaled", "strict_rule", "and2"]


@pytest.mark.parametrize("raw, statuses", [
    ({"a": True, "b": False, "n": 5, "m": 2, "d": "1980-01-01", "rows": [{"x": 10, "y": 3}, {"x": 4, "y": 9}]},
     ["applies", "applies", "applies", "does_not_apply", "applies"]),
    ({"a": True, "b": False, "n": 5, "m": 0, "d": "1980-01-01", "rows": []},  # n / m fails only in repeated_and
     ["error", "applies", "does_not_apply", "does_not_apply", "applies"]),
    ({"a": False, "b": False, "m": 0, "d": "2020-01-01", "rows": [{"x": 1, "y": 1}]},  # n missing, decided anyway
     ["does_not_apply", "does_not_apply", "does_not_apply", "applies", "applies"]),
    ({"a": True, "n": 1, "m": 1, "rows": [{"x": 1, "y": 1}]},
     ["does_not_apply", "applies", "undetermined", "undetermined", "applies"]),
])
def test_chains_decide_as_the_three_valued_closures(chains, raw, statuses):
    facts, diags = chains.check_facts(raw)
    assert not diags
    fast = chains.evaluate(facts, AS_OF)
    assert [r.status for r in fast.results] == statuses
    assert fast.to_dict() == chains._evaluate(facts, AS_OF, fast=False).to_dict()


def test_calls_read_a_fact_and_today_inline(chains):
    chains.evaluate({}, AS_OF)
    rules = chains._strict.rule_fns
    # counts of whole years are compared as ints: years_between(d, today) >= 18, age(d) < 65
    assert rules[("t.chains", "adult")].__name__ == "whole_fact_today_const"
    assert rules[("t.chains", "young")].__name__ == "whole_fact_today_const"
    calls = {o.name: o for o in chains._strict.outcomes}["calls"]
    # len(scaled_filter) > 0 and young and adult and year(d) >= 1950
    assert [f.__name__ for f in _free(calls.when)["fns"]] == ["fn_const", "whole_fact_today_const", "strict_rule",
                                                            "call_fact_const"]
    assert calls.values["born"].__name__ == "call1_fact"  # year(d)


COMPARISONS = sorted(COMPARE)
ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul}
numbers = st.decimals(min_value=-1000, max_value=1000, places=2)


@settings(max_examples=400, deadline=None)
@given(rows=st.lists(st.fixed_dictionaries({"x": numbers, "y": numbers}), max_size=5),
       kind=st.sampled_from(["all", "any", "filter"]), cmp=st.sampled_from(COMPARISONS),
       arith=st.sampled_from(sorted(ARITH)), k=numbers, scaled_left=st.booleans())
def test_an_item_against_a_scaled_field_of_itself(rows, kind, cmp, arith, k, scaled_left):
    """`r.x cmp r.y op k` (or `r.y op k cmp r.x`) runs without a Python call per item, and gives what
    the comparison written out gives."""
    test, op = COMPARE[cmp], ARITH[arith]
    scaled = fastpath.item_arith(op, k, operator.itemgetter("y"), const_first=False)
    plain = operator.itemgetter("x")
    left, right = (scaled, plain) if scaled_left else (plain, scaled)
    fn = fastpath.fused_items(kind, lambda c, loc: rows, left, right, test)
    hits = [r for r in rows if (test(op(r["y"], k), r["x"]) if scaled_left else test(r["x"], op(r["y"], k)))]
    expected = {"all": len(hits) == len(rows), "any": bool(hits), "filter": hits}[kind]
    assert fn(None, ()) == expected
    assert fn.__name__ == kind + "_scaled"


def test_the_selection_of_the_last_call_is_not_reused_when_the_list_changed():
    pset = _urumqi_with_salary()
    facts, _ = pset.check_facts({"works_in_urumqi": True, "urumqi_employment_start": "2019-09-01", "years": _years()})
    wanted = list(MEASURE_1)
    assert [r.outcome for r in pset.evaluate(facts, AS_OF, wanted).results] == ["permanent_residence"]
    wanted[0] = ("urumqi.permanent-residence", "spouse_permanent_residence")
    assert [r.outcome for r in pset.evaluate(facts, AS_OF, wanted).results] == ["spouse_permanent_residence"]
    wanted.append(MEASURE_1[0])
    assert [r.outcome for r in pset.evaluate(facts, AS_OF, wanted).results] == [
        "permanent_residence", "spouse_permanent_residence"]  # the set's order
    assert [r.outcome for r in pset.evaluate(facts, AS_OF, iter(MEASURE_1)).results] == ["permanent_residence"]
    assert [r.outcome for r in pset.evaluate(facts, AS_OF, iter(MEASURE_1)).results] == ["permanent_residence"]
    assert len(pset.evaluate(facts, AS_OF).results) > 3
    assert [r.status for r in pset.evaluate(facts, AS_OF, tuple(MEASURE_1), trace=True).results] == ["applies"]
    assert pset.evaluate(facts, AS_OF, tuple(MEASURE_1), trace=True).results[0].trace
    assert not pset.evaluate(facts, AS_OF, tuple(MEASURE_1)).results[0].trace


def test_constant_values_are_made_once_but_each_result_has_its_own(tmp_path):
    p = tmp_path / "v.yaml"
    p.write_text("id: t.v\ntitle: t\ninputs: {n: number}\noutcomes:\n  o:\n    label: o\n    when: n > 1\n"
                 "    values:\n      where: '\"the office\"'\n      share: 20%\n      nums: '[1, 2]'\n      none: 'null'\n")
    pset = interpreter.load([str(p)]).policy_set
    first, second = (pset.evaluate({"n": Decimal(2)}, AS_OF).results[0] for _ in range(2))
    assert first.values == {"where": "the office", "share": Decimal("0.2"), "nums": [Decimal(1), Decimal(2)], "none": None}
    first.values["where"] = "changed"
    first.values["nums"].append(Decimal(3))
    assert second.values == {"where": "the office", "share": Decimal("0.2"), "nums": [Decimal(1), Decimal(2)], "none": None}
    assert second.to_dict() == pset._evaluate({"n": Decimal(2)}, AS_OF, fast=False).results[0].to_dict()
