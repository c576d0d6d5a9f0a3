import datetime
import textwrap

import pytest
from click.testing import CliRunner

import interpreter
from differential import disagreements


@pytest.fixture
def runner():
    return CliRunner()


def policy_text(inputs: dict, when: str = "true", rules: dict | None = None, extra: str = "", pid: str = "t.p") -> str:
    """A one-outcome policy: inputs as {name: typespec-yaml}, the outcome `o` with `when`."""
    lines = [f"id: {pid}", "title: test policy"]
    if inputs:
        lines.append("inputs:")
        lines += [f"  {k}: {v}" for k, v in inputs.items()]
    if rules:
        lines.append("rules:")
        for name, expr in rules.items():
            lines += [f"  {name}:", "    label: a rule", "    expr: >-", f"      {expr}"]
    lines += ["outcomes:", "  o:", "    label: the outcome", "    when: >-", f"      {when}"]
    return "\n".join(lines) + "\n" + textwrap.dedent(extra)


@pytest.fixture
def evaluate(tmp_path):
    """Evaluate outcome `o` of a one-file policy; returns the OutcomeResult."""
    counter = iter(range(10_000))

    def run(inputs: dict, when: str, facts: dict, as_of=datetime.date(2026, 3, 1), rules=None, extra=""):
        path = tmp_path / f"p{next(counter)}.yaml"
        path.write_text(policy_text(inputs, when, rules, extra))
        result = interpreter.load([str(path)])
        assert result.ok, [str(d.span) + " " + d.code + " " + d.message for d in result.diagnostics]
        pset = result.policy_set
        checked, diags = pset.check_facts(facts)
        assert not diags, diags
        assert disagreements(pset, checked, as_of) == []  # every path gives what the reference evaluator gives
        ev = pset.evaluate(checked, as_of, trace=True)
        return ev.results[0]

    return run
