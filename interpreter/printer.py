"""AST -> expression text: for messages, traces and round-trip tests."""
from __future__ import annotations

import datetime as _dt
from decimal import Decimal

from . import syntax as A
from .values import Duration

__all__ = ["to_text", "format_value"]

_PREC = {"if": 0, "or": 1, "and": 2, "not": 3, "cmp": 4, "+": 5, "-": 5, "*": 6, "/": 6, "neg": 7, "post": 8}


def format_value(v) -> str:
    """A value as it would be written in the language."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, Duration):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(format_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {format_value(x)}" for k, x in v.items()) + "}"
    return str(v)


def _prec(n: A.Node) -> int:
    if isinstance(n, A.If):
        return 0
    if isinstance(n, A.BoolOp):
        return _PREC[n.op]
    if isinstance(n, A.Not):
        return 3
    if isinstance(n, (A.Compare, A.In)):
        return 4
    if isinstance(n, A.Binary):
        return _PREC[n.op]
    if isinstance(n, A.Unary):
        return 7
    if isinstance(n, A.Literal) and isinstance(n.value, Decimal) and n.value.is_signed():  # -0 too
        return 7
    if isinstance(n, A.Literal) and isinstance(n.value, Duration):
        return 7
    return 8


def _wrap(n: A.Node, min_prec: int) -> str:
    s = to_text(n)
    return f"({s})" if _prec(n) < min_prec else s


def to_text(n: A.Node) -> str:
    """Print an expression so that parsing the text gives the same AST."""
    if isinstance(n, A.Literal):
        if isinstance(n.value, Duration):
            d = n.value
            parts = [(d.years, "years"), (d.months, "months"), (d.days, "days")]
            nonzero = [(k, u) for k, u in parts if k]
            if len(nonzero) == 1 and nonzero[0][0] >= 0:
                k, unit = nonzero[0]
                if unit == "days" and k % 7 == 0 and k >= 7:
                    return f"{k // 7} weeks"
                return f"{k} {unit}"
            if not nonzero:
                return "0 days"
        return format_value(n.value)
    if isinstance(n, A.Name):
        return n.name
    if isinstance(n, A.Field):
        return f"{_wrap(n.target, 8)}.{n.name}"
    if isinstance(n, A.Index):
        return f"{_wrap(n.target, 8)}[{to_text(n.key)}]"
    if isinstance(n, A.Unary):
        return f"-{_wrap(n.operand, 7)}"
    if isinstance(n, A.Binary):
        p = _PREC[n.op]
        return f"{_wrap(n.left, p)} {n.op} {_wrap(n.right, p + 1)}"
    if isinstance(n, A.Compare):
        return f"{_wrap(n.left, 5)} {n.op} {_wrap(n.right, 5)}"
    if isinstance(n, A.In):
        return f"{_wrap(n.item, 5)} {'not in' if n.negated else 'in'} {_wrap(n.collection, 5)}"
    if isinstance(n, A.BoolOp):
        p = _PREC[n.op]
        return f"{_wrap(n.left, p)} {n.op} {_wrap(n.right, p + 1)}"
    if isinstance(n, A.Not):
        return f"not {_wrap(n.operand, 3)}"
    if isinstance(n, A.If):
        return f"if {to_text(n.cond)} then {to_text(n.then)} else {to_text(n.orelse)}"
    if isinstance(n, A.ListExpr):
        return "[" + ", ".join(to_text(i) for i in n.items) + "]"
    if isinstance(n, A.Call):
        return f"{n.func}(" + ", ".join(to_text(a) for a in n.args) + ")"
    if isinstance(n, A.Binder):
        return f"{n.kind}({n.var} in {_wrap(n.collection, 5)}: {to_text(n.body)})"
    raise TypeError(f"cannot print {type(n).__name__}")
