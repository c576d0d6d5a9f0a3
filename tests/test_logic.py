"""Kleene three-valued logic: truth tables, short-circuits, and what is listed as missing."""
from decimal import Decimal

import pytest

T, F, U = True, False, None  # U: the fact is absent
STATUS = {True: "applies", False: "does_not_apply", None: "undetermined"}
BOOLS = {"a": "boolean", "b": "boolean"}


def facts_for(a, b=None):
    f = {}
    if a is not None:
        f["a"] = a
    if b is not None:
        f["b"] = b
    return f


AND = [(T, T, T), (T, F, F), (T, U, U), (F, T, F), (F, F, F), (F, U, F), (U, T, U), (U, F, F), (U, U, U)]
OR = [(T, T, T), (T, F, T), (T, U, T), (F, T, T), (F, F, F), (F, U, U), (U, T, T), (U, F, U), (U, U, U)]


def expected_missing(a, b, result):
    if result is not None:
        return []
    return [n for n, v in (("a", a), ("b", b)) if v is None]


@pytest.mark.parametrize("a,b,want", AND, ids=[f"{a}-and-{b}" for a, b, _ in AND])
def test_and_truth_table(evaluate, a, b, want):
    r = evaluate(BOOLS, "a and b", facts_for(a, b))
    assert r.status == STATUS[want]
    assert [m.name for m in r.missing] == expected_missing(a, b, want)


@pytest.mark.parametrize("a,b,want", OR, ids=[f"{a}-or-{b}" for a, b, _ in OR])
def test_or_truth_table(evaluate, a, b, want):
    r = evaluate(BOOLS, "a or b", facts_for(a, b))
    assert r.status == STATUS[want]
    assert [m.name for m in r.missing] == expected_missing(a, b, want)


@pytest.mark.parametrize("a,want", [(T, F), (F, T), (U, U)])
def test_not_truth_table(evaluate, a, want):
    r = evaluate({"a": "boolean"}, "not a", facts_for(a))
    assert r.status == STATUS[want]


def test_false_and_missing_lists_nothing(evaluate):
    r = evaluate(BOOLS, "a and b", {"a": False})
    assert r.status == "does_not_apply"
    assert r.missing == []


def test_missing_fact_is_listed_with_its_question(evaluate):
    inputs = {"a": "boolean", "b": "{type: boolean, question: 'Is b so?'}"}
    r = evaluate(inputs, "a and b", {"a": True})
    assert r.status == "undetermined"
    assert [(m.kind, m.name, m.question) for m in r.missing] == [("fact", "b", "Is b so?")]


def test_a_fact_that_cannot_matter_is_not_listed(evaluate):
    inputs = {"a": "boolean", "b": "boolean", "c": "boolean"}
    r = evaluate(inputs, "(a and b) or c", {"a": False})
    assert r.status == "undetermined"
    assert [m.name for m in r.missing] == ["c"]


def test_unknown_propagates_through_arithmetic_and_comparison(evaluate):
    r = evaluate({"x": "number", "y": "number"}, "x * 2 + y > 10", {"x": 3})
    assert r.status == "undetermined"
    assert [m.name for m in r.missing] == ["y"]


def test_if_with_unknown_condition_and_equal_branches_is_known(evaluate):
    r = evaluate({"a": "boolean"}, "(if a then 1 else 1) == 1", {})
    assert r.status == "applies"


def test_if_with_unknown_condition_and_different_branches(evaluate):
    r = evaluate({"a": "boolean", "x": "number"}, "(if a then x else 2) == 2", {"x": 3})
    assert r.status == "undetermined"
    assert [m.name for m in r.missing] == ["a"]


LIST = {"xs": "{type: list, items: {v: number}}"}


@pytest.mark.parametrize("expr,facts,status,missing", [
    # `all` is false as soon as one item is false, whatever the others
    ("all(x in xs: x.v > 1)", {"xs": [{"v": 0}, {}]}, "does_not_apply", []),
    ("all(x in xs: x.v > 1)", {"xs": [{"v": 2}, {}]}, "undetermined", ["xs[1].v"]),
    ("all(x in xs: x.v > 1)", {"xs": []}, "applies", []),
    ("any(x in xs: x.v > 1)", {"xs": [{}, {"v": 5}]}, "applies", []),
    ("any(x in xs: x.v > 1)", {"xs": [{}, {"v": 0}]}, "undetermined", ["xs[0].v"]),
    ("any(x in xs: x.v > 1)", {"xs": []}, "does_not_apply", []),
    ("count(x in xs: x.v > 1) == 1", {"xs": [{"v": 5}, {"v": 0}]}, "applies", []),
    ("count(x in xs: x.v > 1) == 1", {"xs": [{"v": 5}, {}]}, "undetermined", ["xs[1].v"]),
    ("sum(x in xs: x.v) == 0.3", {"xs": [{"v": Decimal("0.1")}, {"v": Decimal("0.2")}]}, "applies", []),
    ("all(x in xs: x.v > 1)", {}, "undetermined", ["xs"]),
])
def test_binders_three_valued(evaluate, expr, facts, status, missing):
    r = evaluate(LIST, expr, facts)
    assert r.status == status
    assert [m.name for m in r.missing] == missing


def test_chains_decide_as_nested_pairs_do():
    """`a and b and c and d` is evaluated as one loop; for every mix of true, false, unknown and failing
    operands it gives what the nested two-operand closures give, the same error included."""
    import itertools
    from interpreter.evaluation.errors import EvalFailure
    from interpreter.evaluation.kleene import kleene2 as _kleene2, kleene_n as _kleene_n
    from interpreter.values import Unknown

    def operand(kind, i):
        def f(c, loc):
            if kind == "error":
                raise EvalFailure(f"e{i}", f"error in operand {i}", None)
            return {"true": True, "false": False}.get(kind, Unknown(frozenset([f"x{i}"])))
        return f

    def outcome(fn):
        try:
            v = fn(None, ())
        except EvalFailure as e:
            return ("error", e.code)
        return ("unknown", sorted(v.facts)) if type(v) is Unknown else v

    kinds = ("true", "false", "unknown", "error")
    for op in ("and", "or"):
        for n in (3, 4):
            for mix in itertools.product(kinds, repeat=n):
                fns = [operand(k, i) for i, k in enumerate(mix)]
                nested = fns[0]
                for f in fns[1:]:
                    nested = _kleene2(op, nested, f)
                assert outcome(_kleene_n(op, fns)) == outcome(nested), (op, mix)


def test_a_parenthesised_group_keeps_its_coverage_entry(tmp_path):
    """`a and b and (c and d)`: the group is a condition of its own in condition coverage, while the
    chain is one closure and the two-valued path may flatten the group too."""
    import datetime
    import interpreter
    p = tmp_path / "group.yaml"
    p.write_text("id: t.group\ntitle: t\ninputs: {a: boolean, b: boolean, c: boolean, d: boolean}\n"
                 "outcomes:\n  o:\n    label: o\n    when: a and b and (c and d)\n")
    pset = interpreter.load([str(p)]).policy_set
    facts, _ = pset.check_facts({"a": True, "b": True, "c": True, "d": False})
    seen: set = set()
    res = pset.evaluate(facts, datetime.date(2026, 1, 1), seen=seen).results[0]
    assert res.status == "does_not_apply"
    assert pset.evaluate(facts, datetime.date(2026, 1, 1)).results[0].status == "does_not_apply"
    [chain] = res.trace
    assert [ch.text for ch in chain.children] == ["a", "b", "c", "d"]  # shown flat, as before
    group = next(k for k, v in pset.coverage_universe()["t.group"].items() if v["text"] == "c and d")
    assert ("t.group", group, "false") in seen
