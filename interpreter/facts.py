"""Facts: read a facts document and check it against the declared inputs.

An absent fact is unknown; `null` is a known nothing, allowed only for inputs
declared `nullable`. Every problem names the fact's path, e.g. `children[1].birth_date`.
"""
from __future__ import annotations

import datetime as _dt
import difflib
import re
from decimal import Decimal
from typing import Any

from ._yaml import Locator, load_yaml
from .diagnostics import Diagnostic, Span
from .loader import decode_text, parse_iso_date, read_source
from .limits import LIMITS
from .model import InputDecl
from .types import BOOL, DATE, NUMBER, STRING, ListT, Nullable, RecordT, Type, describe
from .values import Record, number_problem

__all__ = ["read_facts_text", "read_facts_file", "check_facts", "MAX_LIST_ITEMS"]

MAX_LIST_ITEMS = LIMITS.list_items
MAX_STRING_CHARS = LIMITS.string_chars


def read_facts_text(text: str, file: str) -> tuple[Any, Locator | None, list[Diagnostic]]:
    """Parse facts written as YAML or JSON."""
    value, loc, diags = load_yaml(text, file)
    if any(d.is_error for d in diags):
        return None, loc, diags
    if value is None:
        value = {}
    return value, loc, diags


def read_facts_file(path: str) -> tuple[Any, Locator | None, list[Diagnostic]]:
    if path == "-":
        import sys
        data = sys.stdin.buffer.read()
        text, diags = decode_text(data, "<stdin>")
        file = "<stdin>"
    else:
        text, diags = read_source(path)
        file = path
    if text is None:
        return None, None, diags
    return read_facts_text(text, file)


class _FactChecker:
    def __init__(self, loc: Locator | None, file: str):
        self.loc = loc
        self.file = file
        self.diags: list[Diagnostic] = []

    def span(self, path: tuple) -> Span:
        if self.loc is None:
            return Span.point(self.file, 1, 1)
        return self.loc.nearest_span(path)

    def key_span(self, path: tuple) -> Span:
        if self.loc is None:
            return Span.point(self.file, 1, 1)
        return self.loc.key_span(path) or self.loc.nearest_span(path)

    def err(self, code: str, message: str, path: tuple, help: str | None = None, key: bool = False):
        self.diags.append(Diagnostic(code, message, self.key_span(path) if key else self.span(path), help=help))

    def convert(self, v: Any, t: Type, spec: Any, name: str, path: tuple):
        if v is None:
            if isinstance(t, Nullable):
                return None
            self.err("fact-null", f"fact `{name}` cannot be null", path,
                     help="leave a fact out when it is not known; only inputs declared `nullable` take null")
            return _BAD
        t_inner = t.inner if isinstance(t, Nullable) else t
        full = spec if isinstance(spec, dict) and "type" in spec else None
        if t_inner == BOOL:
            if isinstance(v, bool):
                return v
        elif t_inner == NUMBER:
            if isinstance(v, float):  # from the Python API: read through its shortest text, as written
                v = Decimal(repr(v)) if v == v and v not in (float("inf"), float("-inf")) else Decimal(repr(v).replace("inf", "Infinity"))
            if isinstance(v, (int, Decimal)) and not isinstance(v, bool):
                d = Decimal(v)
                problem = number_problem(d)
                if problem:
                    self.err("invalid-number", f"fact `{name}` {problem}", path)
                    return _BAD
                integer = spec == "integer" or (full is not None and full.get("type") == "integer")
                if integer and d != d.to_integral_value():
                    self.err("fact-type", f"fact `{name}` must be a whole number, not {v}", path)
                    return _BAD
                return d
        elif t_inner == STRING:
            if isinstance(v, str) and len(v) > MAX_STRING_CHARS:
                self.err("fact-too-large", f"fact `{name}` is {len(v)} characters long; the limit is {MAX_STRING_CHARS}", path)
                return _BAD
            if isinstance(v, str):
                allowed = full.get("values") if full else None
                if allowed and v not in allowed:
                    hint = difflib.get_close_matches(v, allowed, n=1)
                    self.err("fact-value", f"fact `{name}` is `{v}`, not one of: " + ", ".join(allowed), path,
                             help=f"did you mean `{hint[0]}`?" if hint else None)
                    return _BAD
                return v
        elif t_inner == DATE:
            if isinstance(v, _dt.datetime):
                pass
            elif isinstance(v, _dt.date):
                return v
            elif isinstance(v, str):
                parsed = parse_iso_date(v)
                if parsed is not None:
                    return parsed
                if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", v):
                    self.err("invalid-date", f"fact `{name}` is `{v}`, which is not a date that exists", path)
                else:
                    self.err("invalid-date", f"fact `{name}` must be a date written YYYY-MM-DD, not `{v}`", path)
                return _BAD
        elif isinstance(t_inner, ListT):
            if isinstance(v, list):
                if len(v) > MAX_LIST_ITEMS:
                    self.err("fact-too-large", f"fact `{name}` has {len(v)} items; the limit is {MAX_LIST_ITEMS}", path)
                    return _BAD
                item_spec = (full or {}).get("items") if full else None
                out = []
                for i, x in enumerate(v):
                    cv = self.convert(x, t_inner.item, item_spec, f"{name}[{i}]", path + (i,))
                    out.append(cv)
                return _BAD if any(x is _BAD for x in out) else out
        elif isinstance(t_inner, RecordT):
            if isinstance(v, dict):
                field_specs = (full.get("fields") if full else spec) or {}
                items = {}
                bad = False
                names = [n for n, _ in t_inner.fields]
                for k, x in v.items():
                    ft = t_inner.field(k)
                    if ft is None:
                        hint = difflib.get_close_matches(k, names, n=1)
                        self.err("unknown-fact", f"`{name}` has no field `{k}`", path + (k,),
                                 help=f"did you mean `{hint[0]}`?" if hint else "fields: " + ", ".join(names), key=True)
                        bad = True
                        continue
                    cv = self.convert(x, ft, field_specs.get(k) if isinstance(field_specs, dict) else None,
                                      f"{name}.{k}", path + (k,))
                    bad = bad or cv is _BAD
                    items[k] = cv
                return _BAD if bad else Record(items, name)
        self.err("fact-type", f"fact `{name}` must be {describe(t_inner)}, not {_kind(v)}", path)
        return _BAD


_BAD = object()


def _kind(v) -> str:
    if isinstance(v, bool):
        return "true/false"
    if isinstance(v, (int, float, Decimal)):
        return "a number"
    if isinstance(v, _dt.date):
        return "a date"
    if isinstance(v, str):
        return f"the string `{v if len(v) < 30 else v[:27] + '...'}`"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "a mapping"
    return "null"


def check_facts(raw: Any, inputs: dict[str, InputDecl], loc: Locator | None = None,
                file: str = "<facts>", conflicts: set[str] = frozenset()) -> tuple[dict[str, Any], list[Diagnostic]]:
    """Check raw facts (plain data) against the declared inputs; returns runtime facts and diagnostics."""
    fc = _FactChecker(loc, file)
    if not isinstance(raw, dict):
        fc.err("fact-type", f"facts must be a mapping of fact names to values, not {_kind(raw)}", ())
        return {}, fc.diags
    facts: dict[str, Any] = {}
    for name, v in raw.items():
        name = str(name)
        decl = inputs.get(name)
        if decl is None:
            hint = difflib.get_close_matches(name, list(inputs), n=1)
            fc.err("unknown-fact", f"unknown fact `{name}`: no policy in the set declares it", (name,),
                   help=f"did you mean `{hint[0]}`?" if hint else None, key=True)
            continue
        if name in conflicts:
            fc.err("input-conflict", f"fact `{name}` is declared with different types by the policy sets loaded",
                   (name,), help="evaluate one policy set at a time", key=True)
            continue
        cv = fc.convert(v, decl.type, decl.spec, name, (name,))
        if cv is not _BAD:
            facts[name] = cv
    return facts, fc.diags
