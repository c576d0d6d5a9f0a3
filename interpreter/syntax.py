"""The expression AST: frozen, slotted dataclasses, each with a span left out of equality."""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from decimal import Decimal

from .diagnostics import Span
from .values import Duration

__all__ = [
    "walk", "Node", "Literal", "Name", "Field", "Index", "Unary", "Binary", "Compare",
    "BoolOp", "Not", "In", "If", "ListExpr", "Call", "Binder",
]


def _span() -> Span | None:
    return field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Node:
    pass


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """A constant: Decimal, str, bool, None, date or Duration."""
    value: Decimal | str | bool | None | _dt.date | Duration
    text: str = field(default="", compare=False)
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Name(Node):
    name: str
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Field(Node):
    target: Node
    name: str
    span: Span | None = _span()
    name_span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Index(Node):
    target: Node
    key: Node
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: str  # "-"
    operand: Node
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Binary(Node):
    op: str  # + - * /
    left: Node
    right: Node
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Compare(Node):
    op: str  # == != < <= > >=
    left: Node
    right: Node
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class BoolOp(Node):
    op: str  # "and" / "or"
    left: Node
    right: Node
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Not(Node):
    operand: Node
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class In(Node):
    item: Node
    collection: Node
    negated: bool = False
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class If(Node):
    cond: Node
    then: Node
    orelse: Node
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class ListExpr(Node):
    items: tuple[Node, ...]
    span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Call(Node):
    func: str
    args: tuple[Node, ...]
    span: Span | None = _span()
    func_span: Span | None = _span()


@dataclass(frozen=True, slots=True)
class Binder(Node):
    """`kind(var in collection: body)`: all, any, count, sum, min, max, filter, map."""
    kind: str
    var: str
    collection: Node
    body: Node
    span: Span | None = _span()
    var_span: Span | None = _span()


def children(node: Node) -> list[Node]:
    """The nodes directly under a node."""
    out: list[Node] = []
    for f in node.__dataclass_fields__:
        child = getattr(node, f)
        if isinstance(child, Node):
            out.append(child)
        elif isinstance(child, tuple):
            out.extend(x for x in child if isinstance(x, Node))
    return out


def walk(node: Node):
    """Every node of an expression, the node itself first; iterative, so depth cannot overflow."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(children(n))
