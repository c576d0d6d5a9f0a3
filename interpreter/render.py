"""Renderers: diagnostics and results as text, JSON and GitHub annotations. Nothing here decides anything."""
from __future__ import annotations

import datetime as _dt
import json
import os
import re
from decimal import Decimal
from typing import Any

from .diagnostics import Diagnostic
from .engine import Evaluation, OutcomeResult
from .evaluation.events import NO_VALUE, Event
from .printer import format_value
from .safetext import json_safe, printable, xml_safe

__all__ = ["SourceCache", "render_diagnostic", "render_diagnostics_text", "render_diagnostics_github",
           "to_json", "render_evaluation_text", "diagnostics_summary"]


class SourceCache:
    """Source lines for carets: files read on demand, plus texts given directly (stdin)."""

    def __init__(self, texts: dict[str, str] | None = None):
        self.texts = dict(texts or {})
        self._lines: dict[str, list[str]] = {}  # split once per file: rendering stays linear

    def line(self, file: str, n: int) -> str | None:
        lines = self._lines.get(file)
        if lines is None:
            if file not in self.texts:
                try:
                    with open(file, "rb") as fh:
                        self.texts[file] = fh.read(5_000_001).decode("utf-8", errors="replace")
                except OSError:
                    self.texts[file] = ""
            lines = self._lines[file] = self.texts[file].splitlines()
        return lines[n - 1] if 0 < n <= len(lines) else None


class _Style:
    def __init__(self, color: bool):
        self.color = color

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text


def render_diagnostic(d: Diagnostic, sources: SourceCache, color: bool = False) -> str:
    st = _Style(color)
    sev = st(d.severity, "1;31" if d.is_error else "1;33")
    head = f"{printable(str(d.span))}: " if d.span else ""
    out = [f"{head}{sev}[{d.code}]: {printable(d.message)}"]
    if d.span is not None and d.code != "outside-tree":  # that file is not to be read, not even for a line
        src = sources.line(d.span.file, d.span.line)
        if src is not None and src.strip():
            src = src.replace("\t", " ")
            col = d.span.column
            if printable(src) != src:  # escapes widen the line: the caret moves with them
                before = printable(src[:col - 1])
                width_in = d.span.end_column - d.span.column if d.span.end_line == d.span.line else len(src)
                marked = printable(src[col - 1:col - 1 + max(0, width_in)])
                src = printable(src)
                col = len(before) + 1
                d = Diagnostic(d.code, d.message, type(d.span)(d.span.file, d.span.line, col, d.span.end_line,
                               col + len(marked) if d.span.end_line == d.span.line else d.span.end_column),
                               d.severity, d.help)
            if len(src) > 160:  # a very long line: show the part around the problem
                start = max(0, col - 60)
                src = ("..." if start else "") + src[start:start + 150] + ("..." if start + 150 < len(src) else "")
                col = col - start + (3 if start else 0)
                d = Diagnostic(d.code, d.message, type(d.span)(d.span.file, d.span.line, col, d.span.line,
                               min(col + 150, col + (d.span.end_column - d.span.column))), d.severity, d.help)
            num = str(d.span.line)
            width = (d.span.end_column - d.span.column) if d.span.end_line == d.span.line else len(src) - d.span.column + 1
            width = max(1, min(width, max(1, len(src) - d.span.column + 1)))
            out.append(f" {num} | {src}")
            out.append(f" {' ' * len(num)} | {' ' * (d.span.column - 1)}{st('^' * width, '1;31' if d.is_error else '1;33')}")
    if d.help:
        out.append(f"  = help: {printable(d.help)}")
    return "\n".join(out)


def diagnostics_summary(diags: list[Diagnostic]) -> str:
    e = sum(1 for d in diags if d.is_error)
    w = len(diags) - e
    return f"{e} error{'s' if e != 1 else ''}, {w} warning{'s' if w != 1 else ''}"


def render_diagnostics_text(diags: list[Diagnostic], sources: SourceCache, color: bool = False) -> str:
    return "\n".join(render_diagnostic(d, sources, color) for d in diags)


def _gh_escape(s: str, prop: bool = False) -> str:
    s = s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        s = s.replace(":", "%3A").replace(",", "%2C")
    return s


def render_diagnostics_github(diags: list[Diagnostic]) -> str:
    lines = []
    for d in diags:
        level = "error" if d.is_error else "warning"
        props = [f"title={_gh_escape(d.code, True)}"]
        if d.span:
            s = d.span
            props = [f"file={_gh_escape(printable(s.file), True)}", f"line={s.line}", f"col={s.column}",
                     f"endLine={s.end_line}", f"endColumn={s.end_column}"] + props
        msg = printable(d.message + (f" ({d.help})" if d.help else ""))
        lines.append(f"::{level} {','.join(props)}::{_gh_escape(msg)}")
    return "\n".join(lines)


_quote = json.encoder.encode_basestring  # what json.dumps(s, ensure_ascii=False) writes for a string


def _encode(obj: Any, out: list[str]):
    t = type(obj)
    if t is str:
        out.append(_quote(obj))
    elif t is Decimal:
        out.append(format_value(obj) if obj.is_finite() else _quote(str(obj)))
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif obj is None:
        out.append("null")
    elif t is dict or isinstance(obj, dict):
        out.append("{")
        first = True
        for k, v in obj.items():
            if first:
                first = False
            else:
                out.append(", ")
            out.append(_quote(k if type(k) is str else str(k)))
            out.append(": ")
            _encode(v, out)
        out.append("}")
    elif t is list or isinstance(obj, (list, tuple)):
        out.append("[")
        first = True
        for v in obj:
            if first:
                first = False
            else:
                out.append(", ")
            _encode(v, out)
        out.append("]")
    elif isinstance(obj, Decimal):
        out.append(format_value(obj) if obj.is_finite() else _quote(str(obj)))
    elif isinstance(obj, (int, str)):
        out.append(json.dumps(obj, ensure_ascii=False))
    elif isinstance(obj, _dt.date):
        out.append(json.dumps(obj.isoformat()))
    else:
        out.append(json.dumps(str(obj), ensure_ascii=False))


def to_json(obj: Any) -> str:
    """JSON text in which decimals are written exactly, as JSON numbers."""
    out: list[str] = []
    _encode(obj, out)
    return json_safe("".join(out))


# ---------------------------------------------------------------- results as text

_MARK = {"true": "✓", "false": "✗", "unknown": "?", "value": "•", "skipped": "–", "error": "!"}
_STATUS = {
    "applies": ("✓", "applies", "32"), "does_not_apply": ("✗", "does not apply", "31"),
    "undetermined": ("?", "undetermined", "33"), "not_in_force": ("–", "not in force", "2"),
    "error": ("!", "error", "1;31"),
}


def _num(v: Any) -> str:
    if isinstance(v, Decimal):
        s = format_value(v)
        sign = "-" if s.startswith("-") else ""
        s = s.lstrip("-")
        whole, _, frac = s.partition(".")
        whole = f"{int(whole):,}" if len(whole) > 4 else whole
        return sign + whole + ("." + frac if frac else "")
    if isinstance(v, list):
        return "[" + ", ".join(_num(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_num(x)}" for k, x in v.items()) + "}"
    if v is None:
        return "unknown"
    if isinstance(v, str) and not isinstance(v, bool):
        return v
    return format_value(v)


def _operand(o: dict) -> str:
    if o.get("known") is False:
        return "unknown"
    v = o["value"]
    if v is None:
        return "null"
    return format_value(v) if isinstance(v, str) else _num(v)  # strings quoted: `"unknown"` is not `unknown`


_NEGATED = {">=": "<", ">": "<=", "<=": ">", "<": ">=", "==": "≠", "!=": "=", "in": "not in", "not in": "in"}
_OPS = {"*": "x", "/": "/", "+": "+", "-": "-"}


def _with_unit(text: str, unit: str | None) -> str:
    return f"{text} {unit}" if unit and text not in ("unknown", "null") else text


def _operand_text(o: dict) -> str:
    text = _with_unit(_operand(o), o.get("unit"))
    parts = o.get("parts")
    if parts:
        (lv, rv), (lu, ru) = parts["values"], parts["units"]
        left = _with_unit(_num(lv) if lv is not None else "?", lu)
        right = _with_unit(_num(rv) if rv is not None else "?", ru)
        text += f" ({left} {_OPS.get(parts['op'], parts['op'])} {right})"
    return text


def relation(ev: Event) -> str:
    """A comparison as the values behind it, with the relation that actually holds: `300,000 < 588,000`."""
    left, right = ev.operands
    op = ev.op
    if ev.status == "false":
        op = _NEGATED.get(op, op)
    return f"{_operand_text(left)} {op} {_operand_text(right)}"


def _summary(v: Any) -> str:
    """A value in a trace line: short lists in full, lists of records counted."""
    if isinstance(v, list) and v and isinstance(v[0], dict):
        return f"{len(v)} record{'s' if len(v) != 1 else ''}"
    return _num(v)


def _value(ev: Event) -> str:
    if ev.status == "unknown":
        return "unknown"
    return "null" if ev.value is None else _summary(ev.value)


def _collapse(ev: Event) -> tuple[str | None, list[Event]]:
    """A rule or an item whose single child says why: that child's values join the line, its children follow."""
    children = ev.children
    if ev.kind in ("rule", "outcome", "value") and len(children) == 1:
        child = children[0]
        if child.status == ev.status and child.kind in ("comparison", "condition", "binder"):
            if child.kind == "comparison":
                return relation(child), child.children
            return None, child.children
    return None, children


def _event_line(ev: Event, detail: str | None = None) -> str:
    mark = _MARK.get(ev.status, "•")
    tail = f": {detail}" if detail else ""
    if ev.kind in ("rule", "outcome"):
        text = ev.label or ev.name
        cite = f" ({ev.cite})" if ev.cite else ""
        if not tail and ev.status not in ("true", "false", "unknown"):
            tail = f": {_value(ev)}"
        return f"{mark} {text}{cite}{tail}"
    if ev.kind == "exception":
        cite = f" ({ev.cite})" if ev.cite else ""
        gives = "null" if ev.gives is None or ev.gives is NO_VALUE else _num(ev.gives)
        fired = f" → {gives}" if ev.status == "true" else ""
        return f"{mark} exception: {ev.label or ev.text}{cite}{fired}"
    if ev.kind == "comparison":
        return f"{mark} {ev.label or ev.text}: {relation(ev)}"
    if ev.kind == "value" and ev.index is not None:
        if ev.label:
            cite = f" ({ev.cite})" if ev.cite else ""
            return f"{mark} {ev.label}{cite}{tail}"
        return f"{mark} {ev.text}{tail}"
    if ev.kind == "value" and ev.label:
        return f"{mark} {ev.label}: {_value(ev)}"
    if ev.kind == "condition" and ev.label:
        return f"{mark} {ev.label}{tail}"
    if ev.kind == "binder" and not tail and ev.status == "value":
        tail = f": {_value(ev)}"
    return f"{mark} {ev.text}{tail}"


_ORDER = {"false": 0, "unknown": 1, "true": 2}


def _render_events(events: list[Event], depth: int, out: list[str], full: bool):
    for ev in events:
        if ev.parameters_only:
            continue  # a reading chosen by a parameter: the same for every case, see the policy's page
        items = ev.children
        if full and ev.kind == "binder" and any(c.label and c.index is not None for c in items):
            items = sorted(items, key=lambda e: _ORDER.get(e.status, 3))
            _render_events(items, depth, out, full)  # labelled items say it better than the binder
            continue
        detail, children = _collapse(ev)
        if not full:
            children = []
        out.append("    " + "  " * depth + printable(_event_line(ev, detail)))
        if ev.missing and ev.status == "unknown" and not children:
            out.append("    " + "  " * (depth + 1) + "missing: " + printable(", ".join(ev.missing)))
        if full and children:
            if ev.op == "and" or ev.kind in ("rule", "outcome", "binder"):
                children = sorted(children, key=lambda e: _ORDER.get(e.status, 3))
            _render_events(children, depth + 1, out, full)


def _values_events(events: list[Event]) -> list[Event]:
    return [e for e in events if e.kind == "value" and e.name is not None]


def _top_reasons(events: list[Event]) -> list[Event]:
    """The conditions that decided an outcome: the top-level conjuncts, failures first."""
    events = [e for e in events if not (e.kind == "value" and e.name is not None)]  # the outcome's values
    if len(events) == 1 and events[0].kind == "condition" and events[0].op in ("and", "or") and events[0].children:
        events = events[0].children
    order = {"false": 0, "unknown": 1, "true": 2}
    return sorted(events, key=lambda e: order.get(e.status, 3))


# ---- the default text: labels, and unlabelled steps in words (expressions are for --explain)

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")
_LITERAL = re.compile(r'-?[0-9][0-9,.]*%?( (years?|months?|weeks?|days?))?|"[^"]*"|[0-9]{4}-[0-9]{2}-[0-9]{2}|true|false')
_OP_WORDS = {">=": "at least", ">": "more than", "<=": "at most", "<": "less than", "==": "equal to",
             "!=": "not equal to", "≠": "not equal to", "=": "equal to", "in": "one of", "not in": "not one of"}


def _words(text: str) -> str:
    """A name, a field path or `len(...)` in words: `len(eligible_children)` -> `number of eligible children`."""
    text = " ".join(text.split())
    m = re.fullmatch(r"len\((.*)\)", text)
    if m:
        return f"number of {_words(m.group(1))}"
    if _NAME.fullmatch(text) or _PATH.fullmatch(text):
        return text.replace(".", " ").replace("_", " ")
    return text


def _plain_value(v) -> str:
    if v is None or v == []:
        return "none"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list) and not any(isinstance(x, (dict, list)) for x in v):
        return ", ".join(_num(x) for x in v)
    return _summary(v)


def _comparison_words(ev) -> str:
    left, right = ev.operands
    status, op = ev.status, ev.op
    subject = _words(left["text"])
    if right["text"] == "null" and op in ("==", "!="):
        if status == "unknown":
            return f"{subject}: not known"
        given = (op == "!=") == (status == "true")
        return f"{subject}: given" if given else f"{subject}: none"
    if status == "unknown":
        return f"{subject} {_OP_WORDS.get(op, op)} {_words(right['text'])}: not known"
    if status == "false":
        op = _NEGATED.get(op, op)
    other = _operand_text(right)
    if not _LITERAL.fullmatch(right["text"]):
        other = f"{_words(right['text'])} {other}"
    return f"{subject}: {_operand_text(left)}, {_OP_WORDS.get(op, op)} {other}"


def _condition_words(ev) -> str | None:
    text = " ".join(ev.text.split())
    negated = text.startswith("not ") and (_NAME.fullmatch(text[4:]) or _PATH.fullmatch(text[4:]))
    core = text[4:] if negated else text
    if not (_NAME.fullmatch(core) or _PATH.fullmatch(core)):
        return None
    status = ev.status
    holds = (status == "true") != bool(negated)
    *owner, last = core.split(".")
    what = last.replace("_", " ")
    where = f"{_words('.'.join(owner))}: " if owner else ""
    if status == "unknown":
        return f"{_words(core)}: not known"
    return f"{where}{what}" if holds else f"{where}not {what}"


def _plain_line(ev, detail: str | None) -> str:
    """A step of the default text: its label, else its meaning in words; the expression only as a last resort."""
    mark = _MARK.get(ev.status, "•")
    if not ev.label:
        if ev.kind == "comparison" and len(ev.operands or ()) == 2:
            return f"{mark} {_comparison_words(ev)}"
        if ev.kind == "condition" and not ev.op:
            words = _condition_words(ev)
            if words:
                return f"{mark} {words}"
    return _event_line(ev, None if ev.status == "unknown" else detail)  # "unknown == x" says nothing


def _why(ev, depth: int, out: list[str], limit: int = 3):
    """Below a step that failed: the first labelled step inside it that failed too, and so on (a missing
    record, a year below the threshold), so that the default text says what made it fail."""
    if limit == 0:
        return
    todo = list(ev.children)
    while todo:
        child = todo.pop(0)
        if child.status != "false" or child.kind == "exception":
            continue  # an exception that did not apply is not why a value is false
        if child.label and (child.kind in ("rule", "condition", "comparison")
                            or child.kind == "value" and child.index is not None):  # an item
            detail, _ = _collapse(child)
            out.append("    " + "  " * depth + printable(_event_line(child, detail)))
            _why(child, depth + 1, out, limit - 1)
            return
        todo[:0] = list(child.children)


def _render_plain(events: list, out: list[str]):
    for ev in events:
        if ev.parameters_only:
            continue
        detail, _ = _collapse(ev)
        out.append("    " + printable(_plain_line(ev, detail)))
        if ev.status == "false" and ev.kind != "outcome":  # an outcome says why in its own result
            _why(ev, 1, out)


def render_result_text(r: OutcomeResult, explain: bool, color: bool) -> list[str]:
    st = _Style(color)
    mark, word, code = _STATUS[r.status]
    cite = f" ({r.cite})" if r.cite else ""
    out = [f"{st(mark + ' ' + word, code)}  " + printable(f"{r.policy} / {r.outcome}: {r.label}{cite}")]
    for k, v in r.values.items():
        out.append(printable(f"    {k} = {'null' if v is None else _num(v)}" if explain
                             else f"    {_words(k)}: {_plain_value(v)}"))
    for k in r.unknown_values:
        out.append(printable(f"    {k} = unknown" if explain else f"    {_words(k)}: not known"))
    for d in r.diagnostics:
        out.append(printable(f"    {d.span}: error[{d.code}]: {d.message}" if d.span else f"    error[{d.code}]: {d.message}"))
    if r.status in ("applies", "does_not_apply", "undetermined") and r.trace:
        if explain:
            _render_events(_top_reasons(r.trace) + _values_events(r.trace), 0, out, True)
        else:
            _render_plain(_top_reasons(r.trace), out)
    if r.missing:
        out.append(printable("    missing: " + ", ".join(m.name for m in r.missing)))
    return out


def render_evaluation_text(ev: Evaluation, explain: bool = False, color: bool = False) -> str:
    out = [f"as of {ev.as_of.isoformat()}", ""]
    for r in ev.results:
        out.extend(render_result_text(r, explain, color))
        out.append("")
    for sp in ev.supplied:
        years = f" for {', '.join(str(y) for y in sp['years'])}" if sp.get("years") else ""
        out.append(printable(f"Parameter {sp['policy']}: {sp['name']}{years} supplied by {sp['file']}"))
    if ev.supplied:
        out.append("")
    missing = ev.missing
    facts = [m for m in missing if m.kind == "fact"]
    params = [m for m in missing if m.kind == "parameter"]
    if facts:
        out.append("Facts still needed:")
        for m in facts:
            out.append(printable(f"  - {m.name}" + (f": {m.question}" if m.question else "")))
    if params:
        out.append("Parameter values the policy maintainers must supply:")
        for m in params:
            out.append(printable(f"  - {m.policy}: {m.name}" + (f" ({m.label})" if m.label else "")))
    return "\n".join(out).rstrip() + "\n"


def use_color(stream) -> bool:
    """Colour only on a terminal, and never with NO_COLOR set."""
    if os.environ.get("NO_COLOR"):  # any non-empty value (no-color.org)
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# ---------------------------------------------------------------- test runs

def render_test_run_text(run, coverage: bool, color: bool = False) -> str:
    """Pass/fail per case with the differences, then the summary (and coverage when asked)."""
    st = _Style(color)
    out: list[str] = []
    for f in run.files:
        out.append(printable(f.file))
        for c in f.cases:
            mark = st("✓", "32") if c.passed else st("✗", "31")
            out.append(f"  {mark} {printable(c.name)}")
            for line in c.failures:
                out.append(f"      {printable(line)}")
    passed = sum(1 for c in run.cases if c.passed)
    failed = len(run.cases) - passed
    if coverage:
        out.append("")
        out.append("Condition coverage (each condition seen both true and false):")
        for pid, covered, total, uncovered in run.coverage.summary():
            share = 100.0 if total == 0 else 100.0 * covered / total
            out.append(f"  {pid}: {covered}/{total} ({share:.1f}%)")
            for e in uncovered:
                never = [v for v in ("true", "false") if v not in e["seen"]]
                where = f"{e['span']}: " if e["span"] else ""
                out.append(printable(f"      {where}never {' nor '.join(never)}: {e['text']}"))
    out.append("")
    files = len(run.files)
    n = len(run.cases)
    broken = sum(1 for f in run.files if not f.cases and any(d.is_error for d in f.diagnostics))
    not_run = f"; {broken} file{'s have' if broken != 1 else ' has'} errors and {'were' if broken != 1 else 'was'} not run" \
        if broken else ""
    out.append(f"{passed} passed, {failed} failed ({n} case{'s' if n != 1 else ''} in {files} file{'s' if files != 1 else ''}"
               f"{not_run})")
    return "\n".join(out) + "\n"


def render_junit(run) -> str:
    """JUnit XML: a testsuite per test file, a testcase per case, failures with their differences."""
    import xml.etree.ElementTree as ET
    root = ET.Element("testsuites", name="policy test", tests=str(len(run.cases)),
                      failures=str(sum(1 for c in run.cases if not c.passed)))
    x = xml_safe  # text XML 1.0 cannot hold (controls, lone surrogates) is written as visible escapes
    for f in run.files:
        suite = ET.SubElement(root, "testsuite", name=x(f.file), tests=str(len(f.cases)),
                              failures=str(sum(1 for c in f.cases if not c.passed)),
                              errors=str(sum(1 for d in f.diagnostics if d.is_error)))
        for d in f.diagnostics:
            if d.is_error:
                case = ET.SubElement(suite, "testcase", name="(file)", classname=x(f.file))
                ET.SubElement(case, "error", message=x(d.message), type=d.code).text = x(f"{d.span}: {d.message}")
        for c in f.cases:
            case = ET.SubElement(suite, "testcase", name=x(c.name), classname=x(f.file), time=f"{c.seconds:.4f}")
            if not c.passed:
                ET.SubElement(case, "failure", message=x(c.failures[0])).text = x("\n".join(c.failures))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
