"""Exact decimals, dates and durations, and evaluation errors with positions."""
import datetime
from decimal import Decimal

import pytest

from interpreter.values import Duration, add_duration, whole_years_between

D = datetime.date


@pytest.mark.parametrize("expr", [
    "0.1 + 0.2 == 0.3",
    "20% == 0.2",
    "1 / 4 == 0.25",
    "2024-02-29 + 1 year == 2025-02-28",
    "2024-02-29 + 4 years == 2028-02-29",
    "2024-01-31 + 1 month == 2024-02-29",
    "2023-01-31 + 1 month == 2023-02-28",
    "2024-03-01 - 1 day == 2024-02-29",
    "2024-01-01 + 2 weeks == 2024-01-15",
    "2020-06-30 + 1 year + 6 months == 2021-12-30",
    "years_between(2020-06-30, 2024-06-30) == 4",
    "years_between(2020-06-30, 2024-06-29) == 3",
    "months_between(2024-01-31, 2024-02-29) == 1",
    "days_between(2024-02-28, 2024-03-01) == 2",
    "round(2.5) == 3 and round(-2.5) == -3 and round(1.005, 2) == 1.01",
    "min(3, 1, 2) == 1 and max(2024-01-01, 2023-01-01) == 2024-01-01",
    "abs(-1.50) == 1.5",
    "len([1, 2, 3]) == 3 and len(\"abc\") == 3",
    "year(2024-06-30) == 2024 and month(2024-06-30) == 6 and day(2024-06-30) == 30",
    "date(2024, 2, 29) == 2024-02-29",
    "\"B\" in [\"A\", \"B\"] and \"C\" not in [\"A\", \"B\"]",
    "(if 1 > 2 then \"x\" else \"y\") == \"y\"",
    "-(2 - 5) == 3",
    "2 + 3 * 4 == 14 and (2 + 3) * 4 == 20",
    "10 - 2 - 3 == 5 and 64 / 4 / 2 == 8",
    "sum(x in [1, 2, 3]: x * x) == 14",
    "map(x in [1, 2]: x * 10) == [10, 20]",
    "filter(x in [1, 5, 9]: x > 4) == [5, 9]",
    "min(x in [3, 1, 2]: x) == 1 and max(x in [3, 1, 2]: x) == 3",
    "count(x in [1, 5, 9]: x > 4) == 2",
    "today == 2026-03-01",
    "age(2008-03-01) == 18 and age(2008-03-02) == 17",
])
def test_expression_is_true(evaluate, expr):
    r = evaluate({}, expr, {})
    assert r.status == "applies", (expr, r.trace)


def test_tax_floor_is_exact_at_the_boundary(evaluate):
    inputs = {"salary": "number", "income_tax": "number"}
    when = "income_tax >= 20% * salary"
    ok = evaluate(inputs, when, {"salary": Decimal("1591107.85"), "income_tax": Decimal("318221.57")})
    short = evaluate(inputs, when, {"salary": Decimal("1591107.85"), "income_tax": Decimal("318221.56")})
    assert (ok.status, short.status) == ("applies", "does_not_apply")


def test_float_in_facts_is_read_through_its_text(tmp_path):
    from interpreter import load, read_facts
    p = tmp_path / "p.yaml"
    p.write_text("id: t.p\ntitle: t\ninputs:\n  a: number\n  b: number\noutcomes:\n  o:\n    label: o\n    when: a + b == 0.3\n")
    pset = load([str(p)]).policy_set
    for text in ('{"a": 0.1, "b": 0.2}', "a: 0.1\nb: 0.2\n"):
        raw, diags = read_facts("facts", text=text)
        facts, diags = pset.check_facts(raw)
        assert facts == {"a": Decimal("0.1"), "b": Decimal("0.2")}
        assert pset.evaluate(facts, D(2026, 1, 1)).results[0].status == "applies"


def test_division_by_zero_is_an_error_with_a_span(evaluate):
    r = evaluate({"x": "number"}, "10 / x > 1", {"x": 0})
    assert r.status == "error"
    [d] = r.diagnostics
    assert d.code == "division-by-zero"
    assert (d.span.line, d.span.column) == (9, 7)


def test_min_of_empty_list_is_an_error(evaluate):
    r = evaluate({"xs": "{type: list, items: number}"}, "min(xs) > 1", {"xs": []})
    assert r.status == "error"
    assert r.diagnostics[0].code == "empty-list"


def test_duration_arithmetic_helpers():
    assert add_duration(D(2024, 2, 29), Duration(years=1)) == D(2025, 2, 28)
    assert add_duration(D(2024, 1, 31), Duration(months=1)) == D(2024, 2, 29)
    assert whole_years_between(D(2008, 2, 29), D(2026, 2, 28)) == 18
    assert whole_years_between(D(2008, 2, 29), D(2026, 2, 27)) == 17
    assert whole_years_between(D(2024, 6, 30), D(2020, 6, 30)) == -4


def test_whole_years_between_agrees_with_adding_years():
    """The largest n with a + n years <= b (29 February clamped to the 28th), for any pair of dates."""
    from hypothesis import given, settings
    from hypothesis import strategies as st
    dates = st.dates(min_value=datetime.date(1, 1, 1), max_value=datetime.date(9998, 12, 31))

    @settings(max_examples=3000, deadline=None)
    @given(a=dates, b=dates)
    def run(a, b):
        lo, hi = (a, b) if a <= b else (b, a)
        n = hi.year - lo.year
        while n > 0 and add_duration(lo, Duration(years=n)) > hi:
            n -= 1
        assert add_duration(lo, Duration(years=n)) <= hi
        assert whole_years_between(a, b) == (n if a <= b else -n)
    run()
    D = datetime.date
    assert whole_years_between(D(2020, 2, 29), D(2021, 2, 28)) == 1
    assert whole_years_between(D(2020, 2, 29), D(2024, 2, 28)) == 3
    assert whole_years_between(D(2020, 2, 29), D(2024, 2, 29)) == 4
    assert whole_years_between(D(2021, 2, 28), D(2024, 2, 28)) == 3


def test_number_problem_counts_significant_digits_exactly():
    """More than MAX_DIGITS significant digits (trailing zeros aside) is refused; checked against counting them."""
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from interpreter.values import MAX_DIGITS, MAX_EXPONENT, number_problem

    def by_counting(d: Decimal):
        if d.is_zero() or abs(d.adjusted()) > MAX_EXPONENT:
            return None
        return len(str(abs(d.as_tuple().digits and int("".join(map(str, d.as_tuple().digits))))).rstrip("0")) > MAX_DIGITS

    @settings(max_examples=3000, deadline=None)
    @given(digits=st.integers(min_value=0, max_value=10 ** 40), exponent=st.integers(min_value=-60, max_value=60),
           negative=st.booleans())
    def run(digits, exponent, negative):
        d = Decimal((int(negative), tuple(int(c) for c in str(digits)), exponent))
        want = by_counting(d)
        if want is None:
            return
        assert (number_problem(d) is not None) == want, d
    run()
    assert number_problem(Decimal("1" * MAX_DIGITS + "000000")) is None
    assert number_problem(Decimal("1" * (MAX_DIGITS + 1))) == f"has more than {MAX_DIGITS} significant digits"
