"""Policy files -> policy model: each file read, composed with positions, schema-checked and built.

Discovery is in discovery.py, reading and decoding in sources.py, the schema
check in schemacheck.py; this module builds the model (model.py) from a checked
document, parsing each expression where it stands.
"""
from __future__ import annotations

import datetime as _dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from ._yaml import Locator, load_yaml
from .diagnostics import Diagnostic, Span
from .discovery import INPUTS_FILES
from .labels import check_labels
from .model import ExceptionDecl, Expr, Template, InputDecl, OutcomeDecl, ParamDecl, Policy, RuleDecl, SharedInputs
from .parser import ParseFailure, parse_expression
from .schemacheck import schema_check
from .sources import nesting_problem, parse_iso_date, read_source
from .typesys import BOOL, DATE, ERROR, NUMBER, SCALARS, STRING, ListT, Nullable, RecordT, Type
from .units import PLAIN_UNITS, unit_problem
from .values import number_problem

__all__ = ["load_file", "load_files", "type_of_value", "typespec_to_type", "to_decimal"]


def to_decimal(v: Any) -> Any:
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return Decimal(v)
    if isinstance(v, list):
        return [to_decimal(x) for x in v]
    return v


def type_of_value(v: Any) -> Type | None:
    if isinstance(v, bool):
        return BOOL
    if isinstance(v, (int, Decimal)):
        return NUMBER
    if isinstance(v, _dt.date):
        return DATE
    if isinstance(v, str):
        return STRING
    if isinstance(v, list):
        items = {type_of_value(x) for x in v}
        if len(items) == 1:
            return ListT(items.pop())
        return None
    return None


def typespec_to_type(spec: Any) -> Type:
    if isinstance(spec, str):
        return SCALARS[spec]
    if "type" in spec:
        kind = spec["type"]
        if kind == "list":
            t: Type = ListT(typespec_to_type(spec["items"]))
        elif kind == "record":
            t = RecordT(tuple((n, typespec_to_type(s)) for n, s in spec["fields"].items()))
        else:
            t = SCALARS[kind]
        return Nullable(t) if spec.get("nullable") else t
    return RecordT(tuple((n, typespec_to_type(s)) for n, s in spec.items()))


def _text(v: Any) -> str | None:
    return None if v is None else str(v)


class _Builder:
    def __init__(self, file: str, loc: Locator):
        self.file = file
        self.loc = loc
        self.diags: list[Diagnostic] = []

    def span(self, *path) -> Span:
        return self.loc.nearest_span(tuple(path))

    def expr(self, value: Any, *path) -> Expr:
        path = tuple(path)
        span = self.span(*path)
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif value is None:
            text = "null"
        elif isinstance(value, _dt.date):
            text = value.isoformat()
        elif isinstance(value, Decimal):
            text = format(value, "f")  # a bare number: never exponent notation
        else:
            text = str(value)
        mapper = self.loc.offset_mapper(path) if isinstance(value, str) else (lambda off: (span.line, span.column))
        try:
            node = parse_expression(text, self.file, mapper)
        except ParseFailure as e:
            self.diags.append(e.diagnostic)
            node = None
        return Expr(text, span, node)

    def date(self, value: Any, *path) -> _dt.date | None:
        """A date written plainly or in quotes (YYYY-MM-DD); None, with a diagnostic, for anything else."""
        if value is None or isinstance(value, _dt.date):
            return value
        parsed = parse_iso_date(str(value))
        if parsed is None:
            self.diags.append(Diagnostic("invalid-date", f"`{path[-1]}` must be a date that exists, written YYYY-MM-DD, "
                                         f"not `{value}`", self.span(*path)))
        return parsed

    def template(self, text: str, *path) -> Template:
        """Split `text {expr} text` into segments and placeholders parsed at their exact positions."""
        path = tuple(path)
        span = self.span(*path)
        mapper = self.loc.offset_mapper(path)
        parts: list = []
        i = 0
        while i < len(text):
            start = text.find("{", i)
            if start < 0:
                parts.append(text[i:])
                break
            end = text.find("}", start)
            if end < 0:
                line, col = mapper(start)
                self.diags.append(Diagnostic("template", "`{` is never closed by `}`", Span.point(self.file, line, col)))
                break
            if start > i:
                parts.append(text[i:start])
            inner = text[start + 1:end]
            try:
                node = parse_expression(inner, self.file, lambda off, base=start + 1: mapper(base + off))
                line, col = mapper(start + 1)
                parts.append(Expr(inner, Span(self.file, line, col, line, col + len(inner)), node))
            except ParseFailure as e:
                self.diags.append(e.diagnostic)
            i = end + 1
        return Template(text, span, parts)

    def inputs(self, decls: dict, owner: str | None, base: tuple) -> dict[str, InputDecl]:
        out = {}
        for name, spec in (decls or {}).items():
            d = spec if isinstance(spec, dict) else {}
            out[name] = InputDecl(
                name=name, type=typespec_to_type(spec), spec=spec,
                span=self.loc.key_span(base + (name,)) or self.span(*base, name),
                label=_text(d.get("label")) if "type" in d else None,
                question=_text(d.get("question")) if "type" in d else None, owner=owner,
            )
        return out

    def param(self, name: str, d: dict) -> ParamDecl:
        path = ("parameters", name)
        span = self.loc.key_span(path) or self.span(*path)
        declared = SCALARS.get(d.get("type")) if d.get("type") else None
        p = ParamDecl(name=name, kind="value", type=ERROR, span=span, label=_text(d.get("label")),
                      unit=None if d.get("unit") in PLAIN_UNITS else _text(d.get("unit")), measure=_text(d.get("unit")),
                      source=_text(d.get("source")), note=_text(d.get("note")),
                      allowed=to_decimal(d["allowed"]) if "allowed" in d else None)
        if "value" in d:
            p.kind, p.value = "value", to_decimal(d["value"])
            values = [d["value"]]
        elif "by_year" in d:
            p.kind = "by_year"
            p.by_year = {int(k): to_decimal(v) for k, v in d["by_year"].items()}
            values = [v for v in d["by_year"].values() if v is not None]
        else:
            p.kind = "steps"
            starts = [self.date(s["from"], *path, "steps", i, "from") for i, s in enumerate(d["steps"])]
            p.steps = sorted(((start, to_decimal(s["value"])) for start, s in zip(starts, d["steps"]) if start),
                             key=lambda x: x[0])
            values = [s["value"] for s in d["steps"]]
        for v in values if d.get("type") != "string" else []:
            if isinstance(v, str) and re.fullmatch(r"-?[0-9]+(\.[0-9]+)?%", v.strip()):
                self.diags.append(Diagnostic("parameter-value", f"parameter `{name}` is the text `{v}`, not a number",
                                             span, help=f"parameter values are data, not expressions: write {v} as "
                                             f"{Decimal(v.strip()[:-1]).scaleb(-2)}"))
        p.range = tuple(to_decimal(b) for b in d["range"]) if "range" in d else None
        placed = ([(("value",), d["value"])] if "value" in d else
                  [(("by_year", k), v) for k, v in d["by_year"].items()] if "by_year" in d else
                  [(("steps", i, "value"), s["value"]) for i, s in enumerate(d["steps"])])
        for where, v in placed:
            problem = next(filter(None, (unit_problem(name, p.measure, p.range, to_decimal(x))
                                         for x in (v if isinstance(v, list) else [v]))), None)
            if problem:
                self.diags.append(Diagnostic("parameter-unit", problem[0], self.loc.nearest_span(path + where),
                                             help=problem[1]))
        if p.allowed is not None:
            for v in values:
                if to_decimal(v) not in p.allowed:
                    self.diags.append(Diagnostic("parameter-value", f"parameter `{name}` is `{v}`, not one of: "
                                                 + ", ".join(str(a) for a in p.allowed), span))
        for v in values:
            for x in (v if isinstance(v, list) else [v]):
                if isinstance(x, (int, Decimal)) and not isinstance(x, bool):
                    problem = number_problem(Decimal(x))
                    if problem:
                        self.diags.append(Diagnostic("invalid-number", f"a value of parameter `{name}` {problem}", span))
                        p.type = NUMBER
                        return p
        inferred = {type_of_value(v) for v in values}
        if None in inferred or len(inferred) > 1:
            self.diags.append(Diagnostic("parameter-type", f"the values of parameter `{name}` do not share one type",
                                         span, help="use values of one type: numbers, strings, dates or true/false"))
            p.type = ERROR
        elif declared is not None:
            t = inferred.pop() if inferred else declared
            if t != declared and not (declared == NUMBER and t == NUMBER):
                self.diags.append(Diagnostic("parameter-type", f"parameter `{name}` is declared {d['type']} but holds {t}", span))
            p.type = declared
            if d.get("type") == "integer":
                for v in values:
                    if isinstance(v, Decimal) and v != v.to_integral_value():
                        self.diags.append(Diagnostic("parameter-type", f"parameter `{name}` is declared integer but holds {v}", span))
                        break
        elif inferred:
            p.type = inferred.pop()
        else:
            self.diags.append(Diagnostic("parameter-type", f"parameter `{name}` has no values to show its type",
                                         span, help="declare it, e.g. `type: number`"))
        return p

    def exception(self, d: dict, policy_id: str, path: tuple) -> ExceptionDecl:
        return ExceptionDecl(when=self.expr(d["when"], *path, "when"), value=self.expr(d["value"], *path, "value"),
                             label=_text(d.get("label")), cite=_text(d.get("cite")), policy_id=policy_id,
                             span=self.span(*path))

    def policy(self, doc: dict) -> Policy:
        pid = doc["id"]
        in_force = doc.get("in_force") or {}
        pol = Policy(id=pid, title=str(doc["title"]), file=self.file, span=self.span("id"),
                     source=dict(doc.get("source") or {}),
                     in_force_from=self.date(in_force.get("from"), "in_force", "from"),
                     in_force_until=self.date(in_force.get("until"), "in_force", "until"))
        for alias, target in (doc.get("uses") or {}).items():
            pol.uses[alias] = (target, self.span("uses", alias), self.loc.key_span(("uses", alias)) or self.span("uses", alias))
        pol.inputs = self.inputs(doc.get("inputs"), pid, ("inputs",))
        for name, d in (doc.get("parameters") or {}).items():
            pol.params[name] = self.param(name, d)
        for name, d in (doc.get("rules") or {}).items():
            path = ("rules", name)
            r = RuleDecl(name=name, label=str(d["label"]), cite=_text(d.get("cite")),
                         span=self.loc.key_span(path) or self.span(*path), note=_text(d.get("note")))
            r.nullable = bool(d.get("nullable", False))
            if "each" in d:
                r.each = self.template(str(d["each"]), *path, "each")
            if "expr" in d:
                r.expr = self.expr(d["expr"], *path, "expr")
            else:
                r.base = self.expr(d["value"], *path, "value")
                r.exceptions = [self.exception(e, pid, path + ("exceptions", i))
                                for i, e in enumerate(d.get("exceptions") or [])]
            pol.rules[name] = r
        for name, d in (doc.get("outcomes") or {}).items():
            path = ("outcomes", name)
            pol.outcomes[name] = OutcomeDecl(
                name=name, label=str(d["label"]), cite=_text(d.get("cite")),
                span=self.loc.key_span(path) or self.span(*path), note=_text(d.get("note")),
                when=self.expr(d["when"], *path, "when"),
                values={k: self.expr(v, *path, "values", k) for k, v in (d.get("values") or {}).items()},
            )
        for target, excs in (doc.get("amendments") or {}).items():
            path = ("amendments", target)
            pol.amendments[target] = (self.loc.key_span(path) or self.span(*path),
                                      [self.exception(e, pid, path + (i,)) for i, e in enumerate(excs)])
        return pol


def _with_yaml_help(d: Diagnostic, text: str) -> Diagnostic:
    """Advice for YAML's own messages, chosen by looking at the line that the message points to."""
    if d.code != "yaml-syntax" or d.help is not None or d.span is None:
        return d
    lines = text.splitlines()
    line = lines[d.span.line - 1] if 0 < d.span.line <= len(lines) else ""
    before = line[: d.span.column - 1]

    def helped(help: str) -> Diagnostic:
        return Diagnostic(d.code, d.message, d.span, d.severity, help)

    if "\t" in line[: len(line) - len(line.lstrip())] or "'\\t'" in d.message:
        return helped("indent with spaces: YAML does not allow tabs for indentation")
    if "mapping values are not allowed" in d.message:
        if re.fullmatch(r"\s*[A-Za-z_][A-Za-z0-9_]*", before):  # `key:` alone: a key indented too far
            return helped(f"`{before.strip()}:` is indented more than the key above it; "
                          "keys of one mapping line up in the same column")
        return helped("a value containing `: ` (such as `all(x in xs: ...)`) must be quoted "
                      "or written as a block scalar: `key: >-` with the text on the next lines")
    if "but found '<scalar>'" in d.message or "but found '<block mapping start>'" in d.message:
        if re.match(r"""\s*(- )?([^:#'"]*:\s+)?['"]""", before):  # `when: "retired" == status`
            return helped("a value that starts with a quote ends at the closing quote; to begin an expression "
                          "with a string, quote the whole value: `when: '\"retired\" == status'`")
        return helped("this line is indented differently from the lines above it: "
                      "keys of one mapping line up in the same column, and a key's contents are indented under it")
    return d


def load_file(path: str, text: str | None = None) -> tuple[Policy | SharedInputs | None, list[Diagnostic]]:
    """Load one policy file (or a set's inputs.yaml) into the model, with its diagnostics."""
    if text is None:
        text, diags = read_source(path)
        if text is None:
            return None, diags
    doc, loc, diags = load_yaml(text, path)
    diags = [_with_yaml_help(d, text) for d in diags]
    if any(d.is_error for d in diags):
        return None, diags
    too_deep = nesting_problem(doc, loc, path)
    if too_deep:
        return None, [too_deep]
    if doc is None:
        return None, [Diagnostic("empty-file", "file is empty; a policy needs at least `id` and `title`", Span.point(path, 1, 1))]
    is_inputs = Path(path).name in INPUTS_FILES
    diags += schema_check(doc, loc, path, "inputs.schema.json" if is_inputs else "policy.schema.json")
    if any(d.is_error for d in diags):
        return None, diags
    b = _Builder(path, loc)
    if is_inputs:
        result: Policy | SharedInputs = SharedInputs(path, b.inputs(doc.get("inputs"), None, ("inputs",)))
    else:
        result = b.policy(doc)
        diags += check_labels(result, doc, loc, path)
    return result, diags + b.diags


def load_files(files: list[str], implied: set[str] = frozenset()) -> tuple[list[Policy], list[SharedInputs], list[Diagnostic]]:
    policies, shared, diags = [], [], []
    for f in files:
        item, ds = load_file(f)
        diags += ds
        if isinstance(item, Policy):
            policies.append(item)
        elif isinstance(item, SharedInputs):
            item.implied = f in implied
            shared.append(item)
    return policies, shared, diags
