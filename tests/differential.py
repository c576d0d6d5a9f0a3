"""Every way of evaluating against the reference evaluator, on one policy set and facts.

`disagreements(pset, raw_facts, as_of)` evaluates with the reference evaluator, the three-valued
closures alone, the fast path (with its fall-back), the traced closures, and the traced closures
counting coverage (which trace every item), and lists every difference in status, values, missing
facts and parameter values, values left unknown, and evaluation error codes.
"""
from __future__ import annotations

from interpreter.evaluation.data import jsonable, missing_names
from interpreter.evaluation.reference import Reference

PATHS = ("three-valued", "fast", "traced", "coverage")


def reference_decisions(pset, facts, as_of) -> list[tuple]:
    out = []
    for r in Reference(pset.checked, pset.params).evaluate(facts, as_of):
        out.append((r.policy, r.outcome, r.status, {k: jsonable(v) for k, v in r.values.items()},
                    sorted(missing_names(r.missing)), sorted(r.unknown_values), r.errors))
    return out


def decisions(evaluation) -> list[tuple]:
    return [(r.policy, r.outcome, r.status, r.values, sorted(m.name for m in r.missing), sorted(r.unknown_values),
             [d.code for d in r.diagnostics]) for r in evaluation.results]


def evaluate_by(pset, facts, as_of, path: str):
    if path == "three-valued":
        return pset._evaluate(facts, as_of, fast=False)
    if path == "fast":
        return pset.evaluate(facts, as_of)
    if path == "traced":
        return pset.evaluate(facts, as_of, trace=True)
    return pset.evaluate(facts, as_of, seen=set())


def disagreements(pset, facts, as_of) -> list[str]:
    """What each path gives that the reference evaluator does not, one line per outcome that differs."""
    want = reference_decisions(pset, facts, as_of)
    out = []
    for path in PATHS:
        got = decisions(evaluate_by(pset, facts, as_of, path))
        for w, g in zip(want, got):
            if w != g:
                out.append(f"{path}: {g} but the reference gives {w}")
    return out
