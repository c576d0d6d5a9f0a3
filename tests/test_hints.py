"""Every help text is right for the mistake that triggers it: each mistake, its diagnostic, its exact help."""
from __future__ import annotations

import pytest

import interpreter

_HEAD = """\
id: t.hints
title: T
inputs:
  age: {type: number}
  status: {type: string, values: [A, B]}
  ok: {type: boolean}
"""


def _policy(when: str) -> str:
    return _HEAD + f"outcomes:\n  o:\n    label: x\n    when: '{when}'\n"


def _errors(tmp_path, text: str) -> list:
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    return [d for d in interpreter.load([str(path)]).diagnostics if d.is_error]


# (when:, code, column of the error in line 10, the whole help)
EXPRESSIONS = [
    ("age => 18", "parse-error", 16, '`=>` is not an operator: for "at least" write `>=`'),
    ("age =< 18", "parse-error", 16, '`=<` is not an operator: for "at most" write `<=`'),
    ("ok && age > 1", "parse-error", 15, "write `and` to combine conditions"),
    ("ok || age > 1", "parse-error", 15, "write `or` for either condition"),
    ("ok AND age > 1", "parse-error", 15, "keywords are lower case: write `and`"),
    ("age > 1 OR ok", "parse-error", 23, "keywords are lower case: write `or`"),
    ("age ≥ 18", "parse-error", 16, 'write `>=` for "at least"'),
    ("age ≤ 18", "parse-error", 16, 'write `<=` for "at most"'),
    ("age = 18", "parse-error", 16, "use `==` to compare"),
    ("ok and !ok", "parse-error", 19, 'write `not` to negate a condition, or `!=` for "not equal"'),
    ("status == A", "unknown-name", 22, 'write it as a string: "A"'),
    ("status == stauts", "unknown-name", 22, "did you mean `status`?"),
]


@pytest.mark.parametrize("when,code,column,help", EXPRESSIONS, ids=[e[0] for e in EXPRESSIONS])
def test_expression_mistakes_get_the_right_help(tmp_path, when, code, column, help):
    [d] = _errors(tmp_path, _policy(when))
    assert (d.code, d.span.line, d.span.column, d.help) == (code, 10, column, help)


def test_an_unknown_name_that_is_no_allowed_value_is_not_told_to_be_quoted(tmp_path):
    [d] = _errors(tmp_path, _policy("status == C"))
    assert (d.code, d.help) == ("unknown-name", None)


def test_a_key_indented_too_far_gets_help_about_indentation_not_quotes(tmp_path):
    text = _HEAD + "rules:\n  r:\n    label: x\n      expr: ok\noutcomes:\n  o:\n    label: x\n    when: r\n"
    [d] = _errors(tmp_path, text)
    assert (d.code, d.span.line, d.span.column) == ("yaml-syntax", 10, 11)
    assert d.help == "`expr:` is indented more than the key above it; keys of one mapping line up in the same column"


def test_a_key_indented_too_little_gets_help_about_indentation_not_quotes(tmp_path):
    text = _HEAD + "outcomes:\n  o:\n    label: x\n    when: ok\n   values: {a: 1}\n"
    [d] = _errors(tmp_path, text)
    assert (d.code, d.span.line, d.span.column) == ("yaml-syntax", 11, 4)
    assert "quote" not in d.help
    assert d.help == ("this line is indented differently from the lines above it: keys of one mapping line up "
                      "in the same column, and a key's contents are indented under it")


def test_a_value_that_starts_with_a_quote_still_gets_help_about_quotes(tmp_path):
    text = _HEAD + 'outcomes:\n  o:\n    label: x\n    when: "A" == status\n'
    [d] = _errors(tmp_path, text)
    assert (d.code, d.span.line) == ("yaml-syntax", 10)
    assert d.help.startswith("a value that starts with a quote ends at the closing quote")


def test_a_value_with_colon_space_still_gets_help_about_quoting(tmp_path):
    text = _HEAD + "outcomes:\n  o:\n    label: x\n    when: ok and all(x in [1]: x > 0)\n"
    [d] = _errors(tmp_path, text)
    assert d.code == "yaml-syntax"
    assert d.help.startswith("a value containing `: ` (such as `all(x in xs: ...)`) must be quoted")


def test_a_dedented_expr_is_one_error_about_indentation(tmp_path):
    text = _HEAD + "rules:\n  r:\n    label: x\n  expr: ok\noutcomes:\n  o:\n    label: x\n    when: r\n"
    [d] = _errors(tmp_path, text)
    assert (d.code, d.span.line, d.span.column) == ("indentation", 10, 3)
    assert d.message == "`expr:` is not indented under `r`, so it reads as a new entry of `rules`"
    assert d.help == "indent `expr:` to line up with the other keys of `r`"


@pytest.mark.parametrize("line", ["\twhen: ok", "    when: ok\n\tvalues: {a: 1}"])
def test_a_tab_gets_use_spaces(tmp_path, line):
    text = _HEAD + "outcomes:\n  o:\n    label: x\n" + line + "\n"
    [d] = _errors(tmp_path, text)
    assert d.code == "yaml-syntax"
    assert d.help == "indent with spaces: YAML does not allow tabs for indentation"


def test_a_date_in_another_form_gets_the_form_in_words(tmp_path):
    text = _HEAD.replace("inputs:", "in_force: {from: 01/01/2020}\ninputs:") + "outcomes:\n  o:\n    label: x\n    when: ok\n"
    [d] = _errors(tmp_path, text)
    assert (d.code, d.span.line, d.span.column) == ("schema-value", 3, 18)
    assert d.help == "write YYYY-MM-DD, e.g. 2024-06-01"


def test_a_facts_value_in_the_wrong_case_gets_did_you_mean(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(_policy("status == \"A\""), encoding="utf-8")
    pset = interpreter.load([str(path)]).policy_set
    _, diags = pset.check_facts({"status": "a"})
    [d] = diags
    assert (d.code, d.message, d.help) == ("fact-value", "fact `status` is `a`, not one of: A, B", "did you mean `A`?")
