"""The policy model: what a policy file says, after the schema check, with expressions parsed."""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

from .syntax import Node
from .diagnostics import Span
from .typesys import Type

__all__ = [
    "Expr", "Template", "InputDecl", "ParamDecl", "ExceptionDecl", "RuleDecl", "OutcomeDecl", "Policy", "SharedInputs",
]


@dataclass(eq=False)
class Expr:
    """An expression as written in the file: its text, where it is, and its AST (None if it did not parse)."""
    text: str
    span: Span
    node: Node | None


@dataclass(eq=False)
class Template:
    """Text with {expression} placeholders, such as a rule's `each` label."""
    text: str
    span: Span
    parts: list  # str segments and Expr placeholders, in order


@dataclass(eq=False)
class InputDecl:
    name: str
    type: Type
    spec: Any               # the declaration as written, for facts checking (integer, allowed values)
    span: Span
    label: str | None = None
    question: str | None = None
    owner: str | None = None  # policy id, or None when shared by the set


@dataclass(eq=False)
class ParamDecl:
    name: str
    kind: str               # "value", "by_year" or "steps"
    type: Type
    span: Span
    value: Any = None
    by_year: dict[int, Any] = field(default_factory=dict)
    steps: list[tuple[_dt.date, Any]] = field(default_factory=list)
    label: str | None = None
    unit: str | None = None
    source: str | None = None
    note: str | None = None
    allowed: list | None = None
    range: tuple | None = None   # (low, high), either may be None: the values it admits
    measure: str | None = None   # the declared `unit:`; `unit` is None for plain numbers (share, times)


@dataclass(eq=False)
class ExceptionDecl:
    when: Expr
    value: Expr
    label: str | None
    cite: str | None
    policy_id: str          # whose names `when` and `value` use
    span: Span


@dataclass(eq=False)
class RuleDecl:
    name: str
    label: str
    cite: str | None
    span: Span
    expr: Expr | None = None
    base: Expr | None = None
    exceptions: list[ExceptionDecl] = field(default_factory=list)
    note: str | None = None
    each: Template | None = None
    nullable: bool = False


@dataclass(eq=False)
class OutcomeDecl:
    name: str
    label: str
    cite: str | None
    span: Span
    when: Expr
    values: dict[str, Expr] = field(default_factory=dict)
    note: str | None = None


@dataclass(eq=False)
class Policy:
    id: str
    title: str
    file: str
    span: Span
    source: dict = field(default_factory=dict)
    in_force_from: _dt.date | None = None
    in_force_until: _dt.date | None = None
    uses: dict[str, tuple[str, Span, Span]] = field(default_factory=dict)  # alias -> (id, where, alias key)
    inputs: dict[str, InputDecl] = field(default_factory=dict)
    params: dict[str, ParamDecl] = field(default_factory=dict)
    rules: dict[str, RuleDecl] = field(default_factory=dict)
    outcomes: dict[str, OutcomeDecl] = field(default_factory=dict)
    amendments: dict[str, tuple[Span, list[ExceptionDecl]]] = field(default_factory=dict)


@dataclass(eq=False)
class SharedInputs:
    """A set's `inputs.yaml`: inputs read by every policy in its directory and below."""
    file: str
    inputs: dict[str, InputDecl]
    implied: bool = False  # loaded because a policy file beside it was named, not the whole directory
