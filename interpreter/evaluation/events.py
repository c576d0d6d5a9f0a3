"""The trace event: one step of an evaluation (a condition, comparison, binder, rule, outcome, exception or
value), with the steps inside it. The traced closures and `PolicySet.evaluate` make them; the text renderer,
the test runner (`because:`) and the interview read them by attribute; `to_dict` gives their JSON form
(docs/cli.md, schema/result.schema.json), which `policy eval --format json` and `policy diff` use.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Event", "NO_VALUE", "event"]


class _NoValue:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_VALUE"

    def __bool__(self) -> bool:
        return False


NO_VALUE = _NoValue()  # `Event.gives` of an exception that gave no value (its JSON form has no `gives`)


@dataclass(slots=True, eq=True)
class Event:
    """A step of a trace. A field that a kind of step does not have is None, False or empty; `gives`, which may
    be None (an unknown value), is NO_VALUE.

    The traced closures make events with `event(...)`, positionally: the fields keep this order."""
    kind: str                   # condition, comparison, binder, rule, outcome, exception or value
    text: str                   # the expression as written (normalised), or the rule's or outcome's name
    status: str | None = None   # true, false, unknown, value, skipped or error
    value: Any = None           # the value as plain data; None when unknown
    label: str | None = None
    cite: str | None = None
    policy: str | None = None
    name: str | None = None     # the rule, outcome, outcome value or supplied parameter
    op: str | None = None       # a comparison's relation, `and` or `or`
    operands: list[dict] | None = None  # a comparison's two operands, as plain data
    missing: list[str] | None = None    # an unknown step: what it misses
    children: list[Event] | tuple = ()  # the steps inside, in order
    repeat: bool = False        # a rule already evaluated for this outcome
    index: int | None = None    # a binder's item: its position
    parameters_only: bool = False  # a condition that reads parameters only (the same for every case)
    gives: Any = NO_VALUE       # an exception that holds: the value it gives

    def to_dict(self) -> dict:
        """The JSON form: each kind of step has its keys in its own order, those it lacks left out."""
        k = self.kind
        if k == "comparison" or k == "condition":
            d = {"kind": k, "text": self.text, "status": self.status, "value": self.value}
            if self.label is not None:
                d["label"] = self.label
            if self.parameters_only:
                d["parameters_only"] = True
            if self.op is not None:
                d["op"] = self.op
            if self.operands is not None:
                d["operands"] = self.operands
            if self.missing is not None:
                d["missing"] = self.missing
            if self.children:
                d["children"] = [c.to_dict() for c in self.children]
            return d
        if k == "rule" or k == "outcome":
            d = {"kind": k, "name": self.name, "policy": self.policy, "text": self.text, "label": self.label,
                 "cite": self.cite}
            if self.children:
                d["children"] = [c.to_dict() for c in self.children]
            if self.repeat:
                d["repeat"] = True
            d["status"] = self.status
            d["value"] = self.value
            if self.missing is not None:
                d["missing"] = self.missing
            return d
        if k == "binder":
            d = {"kind": k, "text": self.text, "status": self.status, "value": self.value}
            if self.children:
                d["children"] = [c.to_dict() for c in self.children]
            if self.missing is not None:
                d["missing"] = self.missing
            return d
        if k == "exception":
            d = {"kind": k, "text": self.text, "label": self.label, "cite": self.cite, "policy": self.policy,
                 "status": self.status, "value": self.value}
            if self.children:
                d["children"] = [c.to_dict() for c in self.children]
            if self.gives is not NO_VALUE:
                d["gives"] = self.gives
            return d
        # values: a binder's item, a supplied parameter, an outcome's value, a rule's base value
        if self.index is not None:
            d = {"kind": k, "text": self.text, "status": self.status, "value": self.value, "index": self.index}
            if self.label is not None:
                d["label"] = self.label
            if self.cite is not None:
                d["cite"] = self.cite
            if self.missing is not None:
                d["missing"] = self.missing
            if self.children:
                d["children"] = [c.to_dict() for c in self.children]
            return d
        if self.name is not None and self.policy is not None:
            return {"kind": k, "text": self.text, "label": self.label, "policy": self.policy, "name": self.name,
                    "status": self.status, "value": self.value}
        if self.name is not None:
            d = {"kind": k, "name": self.name, "text": self.text, "label": self.label, "status": self.status,
                 "value": self.value}
            if self.children:
                d["children"] = [c.to_dict() for c in self.children]
            return d
        return {"kind": k, "text": self.text, "label": self.label, "status": self.status, "value": self.value}


_new = object.__new__


def event(kind, text, status=None, value=None, label=None, cite=None, policy=None, name=None, op=None, operands=None,
          missing=None, children=(), repeat=False, index=None, parameters_only=False, gives=NO_VALUE) -> Event:
    """`Event(...)`, for the traced closures: the same fields and defaults, without the cost of calling a class
    (a quarter of the cost of an event on Python 3.11). tests/test_events.py checks that the two agree."""
    ev = _new(Event)
    ev.kind = kind
    ev.text = text
    ev.status = status
    ev.value = value
    ev.label = label
    ev.cite = cite
    ev.policy = policy
    ev.name = name
    ev.op = op
    ev.operands = operands
    ev.missing = missing
    ev.children = children
    ev.repeat = repeat
    ev.index = index
    ev.parameters_only = parameters_only
    ev.gives = gives
    return ev
