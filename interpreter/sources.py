"""Reading sources: a file's bytes into text (or why not), ISO dates, and the nesting limit of a document.

Used by every reader of files: policies, facts, caseloads, parameters, tests.
"""
from __future__ import annotations

import datetime as _dt
import os
import re
from typing import Any

from ._yaml import Locator
from .diagnostics import Diagnostic, Span
from .limits import LIMITS

__all__ = ["read_source", "decode_text", "parse_iso_date", "nesting_problem", "MAX_FILE_BYTES", "MAX_NESTING"]

MAX_FILE_BYTES = LIMITS.file_bytes


def read_source(path: str) -> tuple[str | None, list[Diagnostic]]:
    """Read a UTF-8 text file, or say plainly why not."""
    where = Span.point(path, 1, 1)
    try:
        if os.path.isdir(path):
            return None, [Diagnostic("not-a-file", f"`{path}` is a directory, not a file", where)]
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            return None, [Diagnostic("file-too-large", f"file is {size} bytes; the limit is {MAX_FILE_BYTES}", where)]
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        return None, [Diagnostic("unreadable", f"cannot read `{path}`: {e.strerror or 'error'}".lower(), where)]
    return decode_text(data, path)


def decode_text(data: bytes, path: str) -> tuple[str | None, list[Diagnostic]]:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        return None, [Diagnostic("not-utf8", "file is not valid UTF-8 text", Span.point(path, line, col))]
    if "\x00" in text:
        return None, [Diagnostic("not-text", "file contains NUL characters; it is not a text file", Span.point(path, 1, 1))]
    return text, []


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_iso_date(text: str) -> _dt.date | None:
    """A date written exactly YYYY-MM-DD that exists, else None."""
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        return _dt.date.fromisoformat(text)
    except ValueError:
        return None


MAX_NESTING = 64


def nesting_problem(doc: Any, loc: Locator | None, file: str) -> Diagnostic | None:
    """A document nested deeper than MAX_NESTING (lists and mappings), found without recursion."""
    stack = [(doc, ())]
    while stack:
        v, path = stack.pop()
        if len(path) > MAX_NESTING:
            where = loc.nearest_span(path) if loc is not None else Span.point(file, 1, 1)
            return Diagnostic("yaml-too-deep", f"the document is nested more than {MAX_NESTING} levels deep", where)
        if isinstance(v, dict):
            stack.extend((x, path + (k,)) for k, x in v.items())
        elif isinstance(v, list):
            stack.extend((x, path + (i,)) for i, x in enumerate(v))
    return None
