"""The static types of the expression language (named so as not to shadow the standard `types`)."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Type", "Prim", "ListT", "RecordT", "Nullable", "BOOL", "NUMBER", "STRING", "DATE",
    "DURATION", "NULL", "ANY", "ERROR", "unify", "describe", "strip_null", "compatible",
]


class Type:
    pass


@dataclass(frozen=True, slots=True)
class Prim(Type):
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class ListT(Type):
    item: Type

    def __str__(self) -> str:
        return f"list of {self.item}"


@dataclass(frozen=True, slots=True)
class RecordT(Type):
    fields: tuple  # ((name, Type), ...)

    def field(self, name: str) -> Type | None:
        for n, t in self.fields:
            if n == name:
                return t
        return None

    def __str__(self) -> str:
        return "record {" + ", ".join(n for n, _ in self.fields) + "}"


@dataclass(frozen=True, slots=True)
class Nullable(Type):
    inner: Type

    def __str__(self) -> str:
        return f"{self.inner} or null"


BOOL = Prim("boolean")
NUMBER = Prim("number")
STRING = Prim("string")
DATE = Prim("date")
DURATION = Prim("duration")
NULL = Prim("null")
ANY = Prim("any")      # the items of an empty list
ERROR = Prim("error")  # an expression that already produced a diagnostic

SCALARS = {"boolean": BOOL, "number": NUMBER, "integer": NUMBER, "string": STRING, "date": DATE}


def strip_null(t: Type) -> Type:
    return t.inner if isinstance(t, Nullable) else t


def compatible(a: Type, b: Type) -> bool:
    """Whether values of types a and b may be compared for equality or unified."""
    return unify(a, b) is not None


def unify(a: Type, b: Type) -> Type | None:
    """The type holding values of both a and b, or None when there is none."""
    if a == b:
        return a
    if a in (ERROR, ANY):
        return b if a is ANY else ERROR
    if b in (ERROR, ANY):
        return a if b is ANY else ERROR
    if a == NULL:
        return b if isinstance(b, Nullable) else Nullable(b)
    if b == NULL:
        return a if isinstance(a, Nullable) else Nullable(a)
    if isinstance(a, Nullable) or isinstance(b, Nullable):
        inner = unify(strip_null(a), strip_null(b))
        return None if inner is None else (inner if inner is ERROR else Nullable(inner))
    if isinstance(a, ListT) and isinstance(b, ListT):
        inner = unify(a.item, b.item)
        return None if inner is None else ListT(inner)
    return None


def describe(t: Type) -> str:
    """A type in words, for messages: `a number`, `a list of records`."""
    if isinstance(t, Nullable):
        return f"{describe(t.inner)} or null"
    if isinstance(t, ListT):
        return "a list"
    if isinstance(t, RecordT):
        return "a record"
    if t == NULL:
        return "null"
    return ("an " if t.name[0] in "aeiou" else "a ") + t.name
