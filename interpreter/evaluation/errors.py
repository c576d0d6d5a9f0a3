"""What every evaluator shares: the evaluation error, and the comparison operators."""
from __future__ import annotations

import operator

from ..diagnostics import Span

__all__ = ["EvalFailure", "COMPARE"]


class EvalFailure(Exception):
    """An evaluation error at a place in a policy (division by zero, an impossible date, a conflict...)."""

    def __init__(self, code: str, message: str, span: Span | None):
        self.code, self.message, self.span = code, message, span
        super().__init__(message)


COMPARE = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "==": operator.eq,
           "!=": operator.ne}
