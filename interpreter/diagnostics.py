"""Diagnostics: every problem any stage finds, with a span into the source.

A diagnostic is data. Stages return lists of them; only the command line
(or an API caller) renders them.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Span", "Diagnostic", "has_errors", "sort_diagnostics"]


@dataclass(frozen=True, slots=True)
class Span:
    """A range in a source file. Lines and columns count from 1; the end is exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    @classmethod
    def point(cls, file: str, line: int, column: int) -> "Span":
        return cls(file, line, column, line, column + 1)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem: a stable code, a one-line message, where, and an optional help."""

    code: str
    message: str
    span: Span | None
    severity: str = "error"  # "error" or "warning"
    help: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def to_dict(self) -> dict:
        d = {"code": self.code, "severity": self.severity, "message": self.message}
        if self.span is not None:
            s = self.span
            d["file"] = s.file
            d["line"] = s.line
            d["column"] = s.column
            d["end_line"] = s.end_line
            d["end_column"] = s.end_column
        if self.help:
            d["help"] = self.help
        return d


def has_errors(diagnostics: list[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def _key(d: Diagnostic):
    s = d.span
    if s is None:
        return ("", 0, 0, d.code)
    return (s.file, s.line, s.column, d.code)


def sort_diagnostics(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(diagnostics, key=_key)
