"""Parameters declare their unit (`unit:`) and may declare a `range:`; values that do not fit are refused."""
from __future__ import annotations

import pytest

import interpreter


def _policy(param: str) -> str:
    return ("id: t.units\ntitle: T\ninputs:\n  income: {type: number}\nparameters:\n"
            f"  p: {param}\noutcomes:\n  o:\n    label: x\n    when: income > p\n")


def _load(tmp_path, param: str):
    path = tmp_path / "p.yaml"
    path.write_text(_policy(param), encoding="utf-8")
    return interpreter.load([str(path)])


CASES = [
    ("{unit: share, value: 20}", 6, "20}", "parameter `p` is a share, between 0 and 1, not 20", "write 20% as 0.20"),
    ("{unit: share, value: 7.5}", 6, "7.5", "parameter `p` is a share, between 0 and 1, not 7.5", "write 7.5% as 0.075"),
    ("{unit: share, value: 250}", 6, "250", "parameter `p` is a share, between 0 and 1, not 250", None),
    ("{unit: share, value: -0.1}", 6, "-0.1", "parameter `p` is a share, between 0 and 1, not -0.1", None),
    ("{unit: days, value: -3}", 6, "-3", "parameter `p` is an amount of days, which cannot be negative, not -3", None),
    ("{unit: CNY, by_year: {2024: 98000, 2025: -1}}", 6, "-1",
     "parameter `p` is an amount of CNY, which cannot be negative, not -1", None),
    ("{unit: times, value: -6}", 6, "-6", "parameter `p` is a multiple, which cannot be negative, not -6", None),
    ("{unit: years, range: [18, 70], value: 75}", 6, "75", "parameter `p` must be from 18 to 70, not 75", None),
    ("{range: [0, null], steps: [{from: 2024-01-01, value: -2}]}", 6, "-2", "parameter `p` must be at least 0, not -2", None),
    ("{range: [null, 10], value: 11}", 6, "11", "parameter `p` must be at most 10, not 11", None),
]


@pytest.mark.parametrize("param,line,column,message,help", CASES, ids=[c[0] for c in CASES])
def test_a_value_that_does_not_fit_its_unit_or_range_is_an_error_at_the_value(tmp_path, param, line, column, message, help):
    column = len("  p: ") + param.index(column) + 1  # the position of the value that does not fit
    result = _load(tmp_path, param)
    [d] = result.diagnostics
    assert (d.code, d.severity, d.span.line, d.span.column, d.message, d.help) == (
        "parameter-unit", "error", line, column, message, help)


@pytest.mark.parametrize("param", ["{unit: share, value: 0.20}", "{unit: share, value: 1}", "{unit: share, value: 0}",
                                   "{unit: days, value: 183}", "{unit: persons, value: -4}",
                                   "{unit: years, range: [18, 70], value: 70}", "{range: [0, null], value: 0}"])
def test_values_that_fit_pass(tmp_path, param):
    assert _load(tmp_path, param).diagnostics == []


def test_params_file_values_are_checked_against_the_unit(tmp_path):
    pset = _load(tmp_path, "{unit: share, value: 0.2}").policy_set
    _, diags = pset.with_params({"t.units": {"p": 20}})
    [d] = diags
    assert (d.code, d.message, d.help) == ("parameter-unit", "parameter `p` is a share, between 0 and 1, not 20",
                                           "write 20% as 0.20")


def test_share_and_times_are_not_written_after_values(tmp_path):
    pset = _load(tmp_path, "{unit: share, value: 0.2}").policy_set
    ev = pset.evaluate({"income": 1}, trace=True)
    assert "share" not in str(ev.to_dict())
    assert "0.2" in str(ev.to_dict())
