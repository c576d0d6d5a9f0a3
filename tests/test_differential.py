"""One semantics: every way of evaluating gives what the reference evaluator gives.

Random well-typed policy sets and facts (tests/policygen.py) are evaluated by the reference
evaluator and by each compiled path (tests/differential.py); any difference fails. The number
of generated sets is DIFF_SEEDS (default 150, each with 20 facts documents; a few seconds);
tests/fuzz/differential.py runs the same check for as long as it is asked to.

Below, each disagreement found so far is kept as a named regression case.
"""
import datetime
import os
from decimal import Decimal

import pytest

import interpreter
import policygen
from conftest import policy_text
from differential import PATHS, disagreements, evaluate_by, reference_decisions

SEEDS = int(os.environ.get("DIFF_SEEDS", "150"))
AS_OF = datetime.date(2025, 6, 1)


def _load(tmp_path, files: dict[str, str]):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = interpreter.load([str(tmp_path)])
    assert result.ok, [(d.code, d.message, d.span.line) for d in result.diagnostics if d.is_error]
    return result.policy_set


@pytest.mark.parametrize("seed", range(SEEDS))
def test_generated_policies_agree_with_the_reference(tmp_path, seed):
    pset = _load(tmp_path, policygen.generate(seed))
    for raw, as_of in policygen.facts(seed, 20):
        facts, diags = pset.check_facts(raw)
        assert not [d for d in diags if d.is_error], diags
        assert disagreements(pset, facts, as_of) == []


def test_the_generator_covers_every_construct():
    """The generated sets hold every binder, builtin, operator and kind of name the language has."""
    text = "\n".join("\n".join(policygen.generate(seed).values()) for seed in range(SEEDS))
    for word in ["all(", "any(", "count(", "sum(", "min(v", "max(v", "filter(", "map(", " in ", " not in ",
                 "if ", " and ", " or ", "not (", "abs(", "round(", "len(", "year(", "month(", "day(", "age(",
                 "years_between(", "months_between(", "days_between(", "range(", "years(", "months(", "weeks(",
                 "days(", "date(", "tbl[", "st[", "today", "sp != null", "sp == null", "exceptions:",
                 "amendments:", "in_force:", "main.r", "20%", " / ", "v0.a", "v1", "w.a == v0.a", '"ABC-DEF"', "rate * v"]:
        assert word in text, word


def _decide(tmp_path, inputs: dict, when: str, raw: dict, values: str = ""):
    """Every path's result for outcome `o` (with `values:` lines given as text), checked against the reference."""
    pset = _load(tmp_path, {"p.yaml": policy_text(inputs, when) + values})
    facts, diags = pset.check_facts(raw)
    assert not diags, diags
    assert disagreements(pset, facts, AS_OF) == []
    return reference_decisions(pset, facts, AS_OF)[0], [evaluate_by(pset, facts, AS_OF, p).results[0] for p in PATHS]


YEARS = {"years": "{type: list, items: {salary: number, income_tax: number, tax_due: number}}"}
YEARS_FACTS = {"years": [{"salary": 100000, "income_tax": 30000, "tax_due": 20000},
                         {"salary": 90000, "income_tax": 20000, "tax_due": 25000}]}


def test_two_fields_of_one_item_compared_inside_a_chain(tmp_path):
    """Regression: the fast path compared `y.income_tax` with the item's depth, not with `y.tax_due`."""
    ref, results = _decide(tmp_path, YEARS, "all(y in years: y.income_tax > 0 and y.income_tax >= y.tax_due)",
                           YEARS_FACTS)
    assert ref[2] == "does_not_apply"
    assert [r.status for r in results] == ["does_not_apply"] * len(PATHS)


def test_two_fields_of_one_item_in_arithmetic(tmp_path):
    """Regression: `sum(y in years: y.salary - y.income_tax)` gave 185,000 instead of 140,000."""
    ref, results = _decide(tmp_path, YEARS, "true", YEARS_FACTS,
                           values="    values:\n      net: 'sum(y in years: y.salary - y.income_tax)'\n")
    assert ref[3] == {"net": Decimal(140000)}
    assert [r.values for r in results] == [{"net": Decimal(140000)}] * len(PATHS)


def test_a_field_compared_with_itself_counts_every_item(tmp_path):
    """Regression: `count(v in xs: v.a <= v.a)` over four items gave 1."""
    ref, results = _decide(tmp_path, {"xs": "{type: list, items: {a: number}}"}, "count(v in xs: v.a <= v.a) == 4",
                           {"xs": [{"a": 1}, {"a": 2}, {"a": 3}, {"a": 4}]})
    assert ref[2] == "applies"
    assert [r.status for r in results] == ["applies"] * len(PATHS)


def test_in_on_a_string_inside_a_binder_is_a_substring_test(tmp_path):
    """Regression: the fast path made a set of the string's characters, so `"C-D"` was not found in
    `"ABC-DEF"` (and knowing more facts could flip a decided outcome)."""
    ref, results = _decide(tmp_path, {"ds": "{type: list, items: {code: string}}"},
                           'all(d in ds: d.code in "ABC-DEF")', {"ds": [{"code": "C-D"}, {"code": "AB"}]})
    assert ref[2] == "applies"
    assert [r.status for r in results] == ["applies"] * len(PATHS)


EXCEPTIONS = """\
  limit:
    label: the limit
    value: 60
    exceptions:
{}
"""
N1 = "      - {label: n1, when: n1, value: 70}\n"
S1 = "      - {label: s1, when: s1, value: 60}\n"


@pytest.mark.parametrize("order", [N1 + S1, S1 + N1], ids=["n1-first", "s1-first"])
def test_the_facts_a_rule_misses_do_not_depend_on_the_order_of_its_exceptions(tmp_path, order):
    """Regression: with `n1` (70) and `s1` (60, the base value) both unknown, the rule missed `n1` and
    `s1` one way round and only `n1` the other. Both matter: if both apply, they conflict."""
    text = policy_text({"n1": "boolean", "s1": "boolean", "age": "number"}, "age <= limit").replace(
        "outcomes:", "rules:\n" + EXCEPTIONS.format(order) + "outcomes:")
    pset = _load(tmp_path, {"p.yaml": text})
    facts, _ = pset.check_facts({"age": 65})
    assert disagreements(pset, facts, AS_OF) == []
    assert reference_decisions(pset, facts, AS_OF)[0][4] == ["n1", "s1"]


def test_an_exception_that_gives_the_base_value_leaves_nothing_missing(tmp_path):
    text = policy_text({"s1": "boolean", "age": "number"}, "age <= limit").replace(
        "outcomes:", "rules:\n" + EXCEPTIONS.format(S1) + "outcomes:")
    pset = _load(tmp_path, {"p.yaml": text})
    facts, _ = pset.check_facts({"age": 65})
    assert disagreements(pset, facts, AS_OF) == []
    assert reference_decisions(pset, facts, AS_OF)[0][2:5] == ("does_not_apply", {}, [])


def test_a_number_too_large_is_an_evaluation_error_like_any_other(tmp_path):
    """On the left of `or` with a true right side it is decided true; alone it is `number-too-large`."""
    squares = {"r0": "n * n", **{f"r{i}": f"r{i - 1} * r{i - 1}" for i in range(1, 14)}}  # n ** 16384
    for when, status, errors in [("r13 > 1 or b", "applies", []), ("r13 > 1", "error", ["number-too-large"])]:
        pset = _load(tmp_path, {"p.yaml": policy_text({"n": "number", "b": "boolean"}, when, squares)})
        facts, _ = pset.check_facts({"n": Decimal("1E+99"), "b": True})
        assert disagreements(pset, facts, AS_OF) == []
        assert reference_decisions(pset, facts, AS_OF)[0][2::4] == (status, errors)


def test_a_rule_read_in_an_each_label_is_computed_quietly(tmp_path):
    """Regression: a rule read only inside a rule's `each` label had no compiled closure on the traced
    path (an internal error). The label shows its value, and the label's reading records no event."""
    text = """\
id: t.p
title: test policy
inputs:
  xs: {type: list, items: number}
rules:
  big:
    label: the big numbers
    expr: 'filter(x in xs: x > 2)'
  all_small:
    label: every number is small
    each: "{x} is small (big ones: {big})"
    expr: 'all(x in xs: x <= 2)'
outcomes:
  o:
    label: the outcome
    when: all_small
"""
    pset = _load(tmp_path, {"p.yaml": text})
    facts, _ = pset.check_facts({"xs": [1, 5]})
    assert disagreements(pset, facts, AS_OF) == []
    trace = pset.evaluate(facts, AS_OF, trace=True).results[0].trace

    def events(evs):
        for ev in evs:
            yield ev
            yield from events(ev.children)
    labels = [ev.label for ev in events(trace) if ev.index is not None]
    assert labels == ["5 is small (big ones: [5])"]
    assert [ev.name for ev in events(trace) if ev.kind == "rule"] == ["all_small"]


def test_an_amendment_counts_only_while_its_policy_is_in_force(tmp_path):
    """Regression: a city measure not yet in force still changed the national age limit it amends."""
    national = policy_text({"age": "number"}, "age <= limit").replace(
        "outcomes:", "rules:\n  limit:\n    label: the limit\n    value: 60\noutcomes:").replace("t.p", "t.national")
    city = """\
id: t.city
title: city measure
in_force: {from: 2025-01-01}
uses: {national: t.national}
inputs: {resident: boolean}
amendments:
  national.limit:
    - {when: resident, value: 65, cite: city art. 2}
outcomes:
  o:
    label: lives in the city
    when: resident
"""
    pset = _load(tmp_path, {"national.yaml": national, "city.yaml": city})
    facts, _ = pset.check_facts({"age": 62, "resident": True})
    for as_of, status in [(datetime.date(2024, 12, 31), "does_not_apply"), (datetime.date(2025, 1, 1), "applies")]:
        assert disagreements(pset, facts, as_of) == []
        assert [r.status for r in pset.evaluate(facts, as_of).results if r.policy == "t.national"] == [status]


CHILDREN = {"children": "{type: list, items: {name: string, birth_date: date}}"}
FAMILY = {"children": [{"name": "Aru", "birth_date": "2015-03-01"}, {"name": "Bek"}]}  # Bek's birth date unknown


@pytest.mark.parametrize("when, status, missing", [
    ("count(c in children: age(c.birth_date) < 18) > 0", "applies", []),
    ("len(filter(c in children: age(c.birth_date) < 18)) >= 1", "applies", []),
    ("0 < n_minors", "applies", []),                       # through a rule
    ("len(minors) != 0", "applies", []),                   # through a rule holding the filter
    ("count(c in children: age(c.birth_date) < 18) > 2", "does_not_apply", []),
    ("count(c in children: age(c.birth_date) < 18) == 3", "does_not_apply", []),
    ("count(c in children: age(c.birth_date) < 18) == 1.5", "does_not_apply", []),
    ("count(c in children: age(c.birth_date) < 18) == 2", "undetermined", ["children[1].birth_date"]),
    ("count(c in children: age(c.birth_date) < 18) > 1", "undetermined", ["children[1].birth_date"]),
    ("count(c in children: age(c.birth_date) < 18) + 0 > 0", "undetermined", ["children[1].birth_date"]),
])
def test_a_count_with_unknown_items_is_decided_when_the_known_items_decide(tmp_path, when, status, missing):
    """One child certainly a minor, a sibling of unknown birth date: 'at least one minor child' is true."""
    text = policy_text(CHILDREN, when, {"n_minors": "count(c in children: age(c.birth_date) < 18)",
                                        "minors": "filter(c in children: age(c.birth_date) < 18)"})
    pset = _load(tmp_path, {"p.yaml": text})
    facts, _ = pset.check_facts(FAMILY)
    assert disagreements(pset, facts, AS_OF) == []
    for r in [evaluate_by(pset, facts, AS_OF, p).results[0] for p in PATHS]:
        assert (r.status, [m.name for m in r.missing]) == (status, missing)
