"""Policy-as-data interpreter.

Load a policy set once, then evaluate it for as many cases as you like::

    from interpreter import load, read_facts

    result = load(["policies/example"])          # LoadResult
    if not result.ok:
        for d in result.diagnostics: print(d)     # Diagnostic: code, message, span
    pset = result.policy_set                      # PolicySet
    facts, diags = pset.check_facts({"resident": True, "birth_date": "1970-05-01"})
    evaluation = pset.evaluate(facts, as_of=datetime.date(2026, 3, 1), trace=True)
    for r in evaluation.results:                  # OutcomeResult
        print(r.policy, r.outcome, r.status, r.values, r.missing)

Statuses are `applies`, `does_not_apply`, `undetermined`, `not_in_force` and
`error`. Everything returned is plain data, except each result's `trace`: a list
of `Event`s (interpreter.evaluation.events; read by attribute: `kind`, `text`,
`status`, `value`, `children`, ...). `to_dict()` gives the JSON form of
schema/result.schema.json, traces included.
"""
from .diagnostics import Diagnostic, Span
from .engine import STATUSES, Evaluation, LoadResult, Missing, OutcomeResult, PolicySet, load
from .facts import read_facts_file as _read_facts_file
from .facts import read_facts_text as _read_facts_text

__all__ = [
    "load", "read_facts", "PolicySet", "LoadResult", "Evaluation", "OutcomeResult", "Missing",
    "Diagnostic", "Span", "STATUSES",
]


def read_facts(source: str, *, text: str | None = None) -> tuple[object, list[Diagnostic]]:
    """Read a facts document (YAML or JSON) from a file path, `-` for stdin, or `text` given directly.

    Returns the raw facts and any diagnostics; pass the raw facts to
    `PolicySet.check_facts` to check them against the declared inputs.
    """
    if text is not None:
        raw, _loc, diags = _read_facts_text(text, source)
    else:
        raw, _loc, diags = _read_facts_file(source)
    return raw, diags
