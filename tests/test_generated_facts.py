"""The checker's promise: a set that passes `validate` meets no type error at evaluation.

Facts are generated from the declared input types (with fields left out,
nulls where allowed, empty and long lists), checked, then evaluated with and
without the trace; the only failures allowed are the runtime ones no static
check can rule out.
"""
import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import interpreter

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_CODES = {"division-by-zero", "empty-list", "conflict", "date-out-of-range", "invalid-index",
                 "number-too-large", "invalid-date", "invalid-argument"}

RICH = """\
id: t.rich
title: a policy that uses every construct
inputs:
  n: number
  k: integer
  s: {type: string, values: [A, B, C]}
  d: date
  flag: boolean
  partner: {type: record, nullable: true, fields: {foreign: boolean, born: date}}
  items:
    type: list
    items: {year: integer, amount: number, when: date}
  tags: {type: list, items: string}
parameters:
  table: {by_year: {2024: 10, 2025: 20}}
  stepped: {steps: [{from: 2020-01-01, value: 1}, {from: 2025-01-01, value: 2}]}
  cap: {value: 100}
rules:
  base:
    label: base
    value: cap
    exceptions:
      - {when: s == "A", value: 50, cite: a}
      - {when: flag and k > 3, value: 60, cite: b}
  recent:
    label: recent items
    expr: >-
      filter(i in items: i.year >= year(today) - 2 and i.when <= today)
  total:
    label: total
    expr: >-
      sum(i in recent: i.amount) + table[year(today) - 1] * stepped
  ratio:
    label: ratio
    expr: if n == 0 then 0 else total / n
  partner_ok:
    label: partner
    expr: partner == null or (partner.foreign and age(partner.born) < 70)
outcomes:
  o1:
    label: o1
    when: >-
      (ratio > 2 or n < 0) and partner_ok and "A" in tags
      and all(i in items: i.amount >= 20% * cap)
    values:
      amount: min(total, base)
      latest: "max(i in items: i.when)"
      years: "map(i in items: i.year)"
  o2:
    label: o2
    when: >-
      not flag and (d + 1 year <= today or years_between(d, today) >= k)
      and count(i in items: i.amount > n) <= len(tags) and abs(n - round(n, 1)) < 1
    values:
      until: min(d + 5 years, 2030-12-31)
"""


def strategy_for(spec):
    """Values of a declared input, from its typespec as written (integers whole, strings from `values`)."""
    if isinstance(spec, str):
        spec = {"type": spec}
    elif "type" not in spec:
        spec = {"type": "record", "fields": spec}
    kind = spec["type"]
    if kind == "boolean":
        s = st.booleans()
    elif kind == "integer":
        s = st.integers(min_value=-50, max_value=3000).map(Decimal)
    elif kind == "number":
        s = st.decimals(min_value=-10**9, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)
    elif kind == "string":
        s = st.sampled_from(spec.get("values") or ["A", "B", "C", ""])
    elif kind == "date":
        s = st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2100, 12, 31))
    elif kind == "list":
        s = st.lists(strategy_for(spec["items"]), max_size=6)
    else:
        s = st.fixed_dictionaries({}, optional={n: strategy_for(f) for n, f in spec["fields"].items()})
    if spec.get("nullable"):
        s = st.one_of(st.none(), s)
    return s


def facts_strategy(inputs):
    return st.fixed_dictionaries({}, optional={name: strategy_for(decl.spec) for name, decl in inputs.items()})


def policy_sets():
    sets = [d for d in sorted((ROOT / "policies").iterdir()) if d.is_dir()]
    return [str(d) for d in sets]


@pytest.fixture(scope="module")
def rich(tmp_path_factory):
    p = tmp_path_factory.mktemp("rich") / "rich.yaml"
    p.write_text(RICH)
    result = interpreter.load([str(p)])
    assert result.ok, [f"{d.span} {d.code} {d.message}" for d in result.diagnostics]
    return result.policy_set


def _check_never_type_error(pset, raw, as_of):
    facts, diags = pset.check_facts(raw)
    assert not [d for d in diags if d.is_error], diags
    for trace in (False, True):
        ev = pset.evaluate(facts, as_of, trace=trace)
        for r in ev.results:
            assert r.status in interpreter.STATUSES
            if r.status == "error":
                assert {d.code for d in r.diagnostics} <= RUNTIME_CODES, r.diagnostics


def test_rich_policy_never_meets_a_type_error(rich):
    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(raw=facts_strategy(rich.inputs),
           as_of=st.dates(min_value=datetime.date(2000, 1, 1), max_value=datetime.date(2060, 1, 1)))
    def run(raw, as_of):
        _check_never_type_error(rich, raw, as_of)
    run()


@pytest.mark.parametrize("path", policy_sets())
def test_shipped_policy_sets_never_meet_a_type_error(path):
    pset = interpreter.load([path]).policy_set
    assert pset is not None

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
    @given(raw=facts_strategy(pset.inputs),
           as_of=st.dates(min_value=datetime.date(2000, 1, 1), max_value=datetime.date(2060, 1, 1)))
    def run(raw, as_of):
        _check_never_type_error(pset, raw, as_of)
    run()
