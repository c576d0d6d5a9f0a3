"""Labels take `{parameter}` placeholders, filled with the values in force; a number stated in a label warns."""
from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from pathlib import Path

import interpreter
from interpreter.cli import cli

ROOT = Path(__file__).resolve().parent.parent

POLICY = """\
id: t.labels
title: T
inputs: {salary: number, average: number}
parameters:
  salary_multiple: {unit: times, value: 6}
  tax_rate: {unit: share, value: 0.20}
  ceiling: {unit: CNY, by_year: {2025: 90000, 2026: 95000}}
rules:
  salary_met:
    label: salary at least {salary_multiple} x the average salary
    expr: salary >= salary_multiple * average
outcomes:
  o:
    label: pays {tax_rate} on at most {ceiling} CNY
    when: salary_met
"""


def _write(tmp_path, text=POLICY, name="p.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_placeholders_are_filled_with_the_values_in_force(tmp_path, runner):
    path = _write(tmp_path)
    facts = _write(tmp_path, "salary: 500000\naverage: 100000\n", "facts.yaml")
    result = runner.invoke(cli, ["eval", str(path), "--facts", str(facts), "--as-of", "2026-03-01", "--explain"])
    assert "t.labels / o: pays 20% on at most 95,000 CNY" in result.output
    assert "salary at least 6 x the average salary" in result.output
    assert "{" not in result.output


def test_params_file_values_fill_the_labels(tmp_path, runner):
    path = _write(tmp_path)
    facts = _write(tmp_path, "salary: 500000\naverage: 100000\n", "facts.yaml")
    params = _write(tmp_path, "t.labels: {salary_multiple: 5}\n", "params.yaml")
    result = runner.invoke(cli, ["eval", str(path), "--facts", str(facts), "--as-of", "2025-03-01", "--explain",
                                 "--params", str(params), "--format", "json"])
    assert '"label": "salary at least 5 x the average salary"' in result.output
    assert '"label": "pays 20% on at most 90,000 CNY"' in result.output


def test_batch_lines_have_filled_labels(tmp_path, runner):
    path = _write(tmp_path)
    cases = _write(tmp_path, '{"salary": 1, "average": 1}\n', "cases.jsonl")
    result = runner.invoke(cli, ["eval", str(path), "--facts", str(cases), "--as-of", "2026-03-01"])
    assert '"label": "pays 20% on at most 95,000 CNY"' in result.output


def test_a_placeholder_that_is_no_parameter_is_an_error(tmp_path):
    path = _write(tmp_path, POLICY.replace("{salary_multiple} x", "{salary_multipel} x"))
    [d] = [d for d in interpreter.load([str(path)]).diagnostics if d.is_error]
    assert (d.code, d.span.line, d.span.column, d.message, d.help) == (
        "template", 10, 12, "`{salary_multipel}` in a label is not a parameter of this policy",
        "did you mean `{salary_multiple}`?")


def test_a_number_stated_in_a_label_that_is_a_parameter_value_warns_at_the_number(tmp_path):
    path = _write(tmp_path, POLICY.replace("{salary_multiple} x", "6 x").replace("pays {tax_rate}", "pays 20%"))
    diags = interpreter.load([str(path)]).diagnostics
    assert [(d.code, d.severity, d.span.line, d.span.column, d.span.end_column, d.message, d.help) for d in diags if d.code == "label-number"] == [
        ("label-number", "warning", 10, 28, 29, "the label states 6, which is the value of parameter `salary_multiple`",
         "if it means `salary_multiple`, write `{salary_multiple}`: the label then follows the parameter when its "
         "value changes"),
        ("label-number", "warning", 14, 17, 20, "the label states 20%, which is the value of parameter `tax_rate`",
         "if it means `tax_rate`, write `{tax_rate}`: the label then follows the parameter when its value changes"),
    ]


def test_numbers_that_are_no_parameter_value_do_not_warn(tmp_path):
    path = _write(tmp_path, POLICY.replace("{salary_multiple} x", "7 x"))
    assert interpreter.load([str(path)]).diagnostics == []


def test_the_api_result_has_its_labels_filled_with_the_values_in_force(tmp_path):
    """PolicySet.evaluate fills the labels itself (results and trace), for each date and parameter values."""
    pset = interpreter.load([str(_write(tmp_path))]).policy_set
    facts, _ = pset.check_facts({"salary": 1, "average": 1})
    ev = pset.evaluate(facts, _dt.date(2026, 3, 1), trace=True)
    assert ev.results[0].label == "pays 20% on at most 95,000 CNY"
    assert ev.results[0].trace[0].label == "salary at least 6 x the average salary"
    assert pset.evaluate(facts, _dt.date(2025, 3, 1)).results[0].label == "pays 20% on at most 90,000 CNY"
    other, diags = pset.with_params({"t.labels": {"tax_rate": Decimal("0.25")}})
    assert not diags
    assert other.evaluate(facts, _dt.date(2025, 3, 1)).results[0].label == "pays 25% on at most 90,000 CNY"


def test_labels_name_parameters_of_a_policy_used_and_follow_params(tmp_path, runner):
    params = _write(tmp_path, "urumqi.work-permit-restrictions: {extended_age_limit: 66}\n", "params.yaml")
    args = ["eval", str(ROOT / "policies/urumqi"), "--facts", str(ROOT / "examples/urumqi/qualifies.yaml"), "--as-of", "2025-06-01",
            "--outcome", "age_limit_extended"]
    assert "the age limit is extended from 60 to 65 years (measure 4, phrase 6)" in runner.invoke(cli, args).output
    assert "the age limit is extended from 60 to 66 years (measure 4, phrase 6)" in runner.invoke(
        cli, args + ["--params", str(params)]).output


def test_a_placeholder_naming_no_parameter_of_a_used_policy_is_an_error(tmp_path):
    import shutil
    copy = tmp_path / "urumqi"
    shutil.copytree(ROOT / "policies/urumqi", copy)
    path = copy / "measure-4-restrictions.yaml"
    path.write_text(path.read_text().replace("{national.national_age_limit} to {extended_age_limit} years",
                                             "{national.national_age_limt} to {extended_age_limit} years"))
    errors = [d for d in interpreter.load([str(copy)]).diagnostics if d.is_error]
    assert [(d.code, d.span.line, d.message, d.help) for d in errors] == [
        ("template", 126, "`{national.national_age_limt}` in a label: policy `national.work-permit` has no parameter "
         "`national_age_limt`", "did you mean `national_age_limit`?")]
