"""Facts: read a facts document and check it against the declared inputs.

An absent fact is unknown; `null` is a known nothing, allowed only for inputs
declared `nullable`. Every problem names the fact's path, e.g. `children[1].birth_date`.
"""
from __future__ import annotations

import datetime as _dt
import difflib
import re
import weakref
from collections import OrderedDict
from decimal import Decimal
from typing import Any

from ._yaml import Locator, load_yaml
from .diagnostics import Diagnostic, Span
from .sources import decode_text, nesting_problem, parse_iso_date, read_source
from .limits import LIMITS
from .model import InputDecl
from .typesys import BOOL, DATE, NUMBER, STRING, ListT, Nullable, RecordT, Type, describe
from .values import DIGITS_CONTEXT, MAX_DIGITS, MAX_EXPONENT, Record, number_problem

__all__ = ["read_facts_text", "read_facts_file", "read_stdin", "check_facts", "MAX_LIST_ITEMS"]

MAX_LIST_ITEMS = LIMITS.list_items
MAX_STRING_CHARS = LIMITS.string_chars
MAX_DIAGNOSTICS = LIMITS.diagnostics_per_file


def read_facts_text(text: str, file: str) -> tuple[Any, Locator | None, list[Diagnostic]]:
    """Parse facts written as YAML or JSON."""
    value, loc, diags = load_yaml(text, file)
    if any(d.is_error for d in diags):
        return None, loc, diags
    too_deep = nesting_problem(value, loc, file)
    if too_deep:
        return None, loc, [too_deep]
    if value is None:
        value = {}
    return value, loc, diags


def read_stdin(stream=None) -> tuple[str | None, list[Diagnostic]]:
    """Standard input as text, refused once it passes the file size limit (read no further than that)."""
    if stream is None:
        import sys
        stream = sys.stdin.buffer
    limit = LIMITS.file_bytes
    chunks, size = [], 0
    while size <= limit:
        chunk = stream.read(min(1 << 20, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        return None, [Diagnostic("file-too-large", f"standard input is larger than the limit of {limit} bytes",
                                 Span.point("<stdin>", 1, 1))]
    return decode_text(b"".join(chunks), "<stdin>")


def read_facts_file(path: str) -> tuple[Any, Locator | None, list[Diagnostic]]:
    if path == "-":
        text, diags = read_stdin()
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
        self.more = 0  # diagnostics past the limit: counted, not made (a document may hold millions)
        self.first_more: Span | None = None

    def span(self, path: tuple) -> Span:
        if self.loc is None:
            return Span.point(self.file, 1, 1)
        return self.loc.nearest_span(path)

    def key_span(self, path: tuple) -> Span:
        if self.loc is None:
            return Span.point(self.file, 1, 1)
        return self.loc.key_span(path) or self.loc.nearest_span(path)

    @property
    def full(self) -> bool:
        """No more diagnostics are made: a hint (a did-you-mean search) is not worth computing."""
        return len(self.diags) >= MAX_DIAGNOSTICS

    def err(self, code: str, message: str, path: tuple, help: str | None = None, key: bool = False):
        if len(self.diags) >= MAX_DIAGNOSTICS:
            if not self.more:
                self.first_more = self.key_span(path) if key else self.span(path)
            self.more += 1
            return
        self.diags.append(Diagnostic(code, message, self.key_span(path) if key else self.span(path), help=help))

    def finish(self) -> list[Diagnostic]:
        if self.more:
            n = self.more
            self.diags.append(Diagnostic("too-many-diagnostics", f"and {n} more diagnostic{'s' if n != 1 else ''} "
                                         f"from here on, not shown (the first {MAX_DIAGNOSTICS} are)", self.first_more))
            self.more = 0
        return self.diags


class _Checkers:
    """The check of each declared type, built once and kept (compile once, check many).

    By declaration, for as long as the declaration lives; by type and spec as
    written, the most recent `size` of them, so that declarations alike share one.
    """

    def __init__(self, size: int = 512):
        self.size = size
        self.by_decl: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.by_spec: OrderedDict = OrderedDict()

    def of_decl(self, decl: InputDecl):
        fn = self.by_decl.get(decl)
        if fn is None:
            fn = self.by_decl[decl] = self.of_type(decl.type, decl.spec)
        return fn

    def of_type(self, t: Type, spec: Any):
        key = (t, repr(spec))
        fn = self.by_spec.get(key)
        if fn is None:
            fn = self.by_spec[key] = _build_checker(t, spec)
            if len(self.by_spec) > self.size:
                self.by_spec.popitem(last=False)
        else:
            self.by_spec.move_to_end(key)
        return fn


_CHECKERS = _Checkers()


# How a number is written, in a facts file and in `policy ask` alike: digits, with an optional sign, decimal
# point and exponent (64500.50, -3, 1e5); no thousands separators or spaces.
NUMBER_FORM = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_SEPARATED = re.compile(r"[+-]?[0-9]{1,3}([,_ ][0-9]{3})+(\.[0-9]+)?")


def number_form_help(text: str) -> str | None:
    """For a number written with thousands separators (`810,000`): how to write it."""
    text = text.strip()
    if _SEPARATED.fullmatch(text):
        return f"write numbers without separators: {re.sub(r'[,_ ]', '', text)}"
    return None


def _fail(fc, path, t_inner, v):
    help = number_form_help(v) if isinstance(v, str) and t_inner == NUMBER else None
    fc.err("fact-type", f"fact `{_path_name(path)}` must be {describe(t_inner)}, not {_kind(v)}", path, help=help)
    return _BAD


def _build_checker(t: Type, spec: Any):
    nullable = isinstance(t, Nullable)
    t_inner = t.inner if nullable else t
    full = spec if isinstance(spec, dict) and "type" in spec else None
    inner = _build_inner(t_inner, spec, full)

    def check(v, path, fc):
        if v is None:
            if nullable:
                return None
            fc.err("fact-null", f"fact `{_path_name(path)}` cannot be null", path,
                   help="leave a fact out when it is not known; only inputs declared `nullable` take null")
            return _BAD
        return inner(v, path, fc)
    return check


def _build_inner(t_inner: Type, spec: Any, full: dict | None):
    if t_inner == BOOL:
        def boolean(v, path, fc):
            return v if v is True or v is False else _fail(fc, path, t_inner, v)
        return boolean
    if t_inner == NUMBER:
        integer = spec == "integer" or (full is not None and full.get("type") == "integer")

        def number(v, path, fc):
            tv = type(v)
            if tv is int and -_SMALL_INT < v < _SMALL_INT:  # a whole number well within the limits
                return Decimal(v)
            if tv is Decimal and v.is_finite() and DIGITS_CONTEXT.plus(v) == v \
                    and -MAX_EXPONENT <= v.adjusted() <= MAX_EXPONENT:
                d = v  # number_problem's tests, inline: finite, not too many digits, in range
            else:
                if tv is float:  # from the Python API: read through its shortest text, as written
                    v = Decimal(repr(v).replace("inf", "Infinity"))
                elif tv is str and v.strip().lower().lstrip("+-") in ("nan", "inf", "infinity", ".nan", ".inf"):
                    fc.err("invalid-number", f"fact `{_path_name(path)}` is `{v}`, not a finite number", path)
                    return _BAD
                elif tv is bool or not (tv is Decimal or tv is int or isinstance(v, (int, Decimal))):
                    return _fail(fc, path, t_inner, v)
                d = v if type(v) is Decimal else Decimal(v)
                problem = number_problem(d)
                if problem:
                    fc.err("invalid-number", f"fact `{_path_name(path)}` {problem}", path)
                    return _BAD
            if integer and d != d.to_integral_value():
                fc.err("fact-type", f"fact `{_path_name(path)}` must be a whole number, not {v}", path)
                return _BAD
            return d
        return number
    if t_inner == STRING:
        allowed = full.get("values") if full else None

        def string(v, path, fc):
            if type(v) is not str:
                return _fail(fc, path, t_inner, v)
            if len(v) > MAX_STRING_CHARS:
                fc.err("fact-too-large", f"fact `{_path_name(path)}` is {len(v)} characters long; the limit is {MAX_STRING_CHARS}", path)
                return _BAD
            if allowed and v not in allowed:
                hint = None if fc.full else ([a for a in allowed if a.casefold() == v.casefold()]
                                             or difflib.get_close_matches(v, allowed, n=1))
                fc.err("fact-value", f"fact `{_path_name(path)}` is `{v}`, not one of: " + ", ".join(allowed), path,
                       help=f"did you mean `{hint[0]}`?" if hint else None)
                return _BAD
            return v
        return string
    if t_inner == DATE:
        def date(v, path, fc):
            if type(v) is _dt.date:
                return v
            if isinstance(v, str):
                parsed = parse_iso_date(v)
                if parsed is not None:
                    return parsed
                if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", v):
                    fc.err("invalid-date", f"fact `{_path_name(path)}` is `{v}`, which is not a date that exists", path)
                else:
                    fc.err("invalid-date", f"fact `{_path_name(path)}` must be a date written YYYY-MM-DD, not `{v}`", path)
                return _BAD
            return _fail(fc, path, t_inner, v)
        return date
    if isinstance(t_inner, ListT):
        item = _CHECKERS.of_type(t_inner.item, full.get("items") if full else None)

        def list_(v, path, fc):
            if type(v) is not list:
                return _fail(fc, path, t_inner, v)
            if len(v) > MAX_LIST_ITEMS:
                fc.err("fact-too-large", f"fact `{_path_name(path)}` has {len(v)} items; the limit is {MAX_LIST_ITEMS}", path)
                return _BAD
            out = [item(x, path + (i,), fc) for i, x in enumerate(v)]
            return _BAD if any(x is _BAD for x in out) else out
        return list_
    if isinstance(t_inner, RecordT):
        field_specs = (full.get("fields") if full else spec) or {}
        fields = {n: _CHECKERS.of_type(ft, field_specs.get(n) if isinstance(field_specs, dict) else None)
                  for n, ft in t_inner.fields}
        names = list(fields)

        def record(v, path, fc):
            if type(v) is not dict and not isinstance(v, dict):
                return _fail(fc, path, t_inner, v)
            items = {}
            bad = False
            for k, x in v.items():
                check = fields.get(k)
                if check is None:
                    hint = None if fc.full else difflib.get_close_matches(k, names, n=1)
                    fc.err("unknown-fact", f"`{_path_name(path)}` has no field `{k}`", path + (k,),
                           help=f"did you mean `{hint[0]}`?" if hint else "fields: " + ", ".join(names), key=True)
                    bad = True
                    continue
                cv = check(x, path + (k,), fc)
                if cv is _BAD:
                    bad = True
                items[k] = cv
            return _BAD if bad else Record(items, _path_name(path))
        return record

    def anything(v, path, fc):  # pragma: no cover - every declared type is handled above
        return _fail(fc, path, t_inner, v)
    return anything


_BAD = object()


def _path_name(path: tuple) -> str:
    """A fact's name as messages and missing lists write it: `years[1].salary`."""
    name = str(path[0])
    for k in path[1:]:
        name += f"[{k}]" if type(k) is int else f".{k}"
    return name
_SMALL_INT = 10 ** min(MAX_DIGITS, MAX_EXPONENT)


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
        return {}, fc.finish()
    facts: dict[str, Any] = {}
    for name, v in raw.items():
        name = str(name)
        decl = inputs.get(name)
        if decl is None:
            hint = None if fc.full else difflib.get_close_matches(name, list(inputs), n=1)
            fc.err("unknown-fact", f"unknown fact `{name}`: no policy in the set declares it", (name,),
                   help=f"did you mean `{hint[0]}`?" if hint else None, key=True)
            continue
        if name in conflicts:
            fc.err("input-conflict", f"fact `{name}` is declared with different types by the policy sets loaded",
                   (name,), help="evaluate one policy set at a time", key=True)
            continue
        cv = _CHECKERS.of_decl(decl)(v, (name,), fc)
        if cv is not _BAD:
            facts[name] = cv
    return facts, fc.finish()
