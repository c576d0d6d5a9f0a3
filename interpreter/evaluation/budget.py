"""The evaluation budget: how much work one outcome's decision may do, so that no policy can make an
evaluation run for days or fill the memory (three binders nested over `range(0, 10000)`, a string
doubled through thirty rules).

Each decision counts its *steps*: the items every binder goes through and the numbers every `range`
makes. Past `LIMITS.evaluation_steps` (`POLICY_LIMIT_EVALUATION_STEPS`), or when `+` would make a string
longer than `LIMITS.value_chars`, the outcome's status is `error` with the code `evaluation-budget`, at
the place that went over; other outcomes and other cases are decided as usual. The budget is a resource
limit, not part of the language's meaning: where exactly a decision goes over may differ between
evaluating with and without the trace.
"""
from __future__ import annotations

from ..limits import LIMITS
from .errors import EvalFailure

__all__ = ["STEPS", "CHARS", "over_budget", "join_strings"]

STEPS = LIMITS.evaluation_steps
CHARS = LIMITS.value_chars


def over_budget(span) -> EvalFailure:
    return EvalFailure("evaluation-budget", f"the evaluation went over its budget of {STEPS} steps (items gone "
                                            "through by binders and numbers made by range); see docs/security.md",
                       span)


def join_strings(span):
    """`a + b` of two strings, refused past the longest string a computation may make."""
    def join(a, b):
        if len(a) + len(b) > CHARS:
            raise EvalFailure("evaluation-budget", f"the string would be longer than {CHARS} characters", span)
        return a + b
    return join
