"""Diagnostics: every problem any stage finds, with a span into the source.

A diagnostic is data. Stages return lists of them; only the command line
(or an API caller) renders them.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Span", "Diagnostic", "has_errors", "sort_diagnostics", "cap_per_file"]


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


def cap_per_file(diagnostics: list[Diagnostic], limit: int) -> list[Diagnostic]:
    """At most `limit` diagnostics per file, in the order given; the rest of a file become one
    `too-many-diagnostics` diagnostic at the first one left out, saying how many there were."""
    kept: list[Diagnostic] = []
    per_file: dict[str | None, int] = {}
    left_out: dict[str | None, list] = {}  # file -> [first left out, count, any error]
    for d in diagnostics:
        file = d.span.file if d.span is not None else None
        if d.code == "too-many-diagnostics":  # a count made earlier (by the fact checker): always kept
            kept.append(d)
            continue
        n = per_file.get(file, 0)
        if n < limit:
            per_file[file] = n + 1
            kept.append(d)
            continue
        more = left_out.get(file)
        if more is None:
            left_out[file] = [d, 1, d.is_error]
        else:
            more[1] += 1
            more[2] = more[2] or d.is_error
    for first, count, error in left_out.values():
        kept.append(Diagnostic("too-many-diagnostics", f"and {count} more diagnostic{'s' if count != 1 else ''} "
                               f"from here on, not shown (the first {limit} are)", first.span,
                               "error" if error else "warning"))
    return kept
