"""Labels with `{parameter}` placeholders: checked when a policy loads, filled with the values in force."""
from __future__ import annotations

import difflib
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from .diagnostics import Diagnostic, Span
from .model import Policy

__all__ = ["check_labels", "fill_label", "filler", "fixed_values", "label_values", "labelled_decls", "placeholders_of"]

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\}")  # {name} or {alias.name}
_NUMBER = re.compile(r"(?<![\w.{])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(%?)(?![\w}])")


def _labels(doc: dict):
    """(path, text) of every label that a decision shows: rules, outcomes, exceptions, amendments."""
    for section in ("rules", "outcomes"):
        for name, d in (doc.get(section) or {}).items():
            if isinstance(d, dict) and isinstance(d.get("label"), str):
                yield (section, name, "label"), d["label"]
            for i, exc in enumerate(d.get("exceptions") or [] if isinstance(d, dict) else []):
                if isinstance(exc, dict) and isinstance(exc.get("label"), str):
                    yield (section, name, "exceptions", i, "label"), exc["label"]
    for target, excs in (doc.get("amendments") or {}).items():
        for i, exc in enumerate(excs or []):
            if isinstance(exc, dict) and isinstance(exc.get("label"), str):
                yield ("amendments", target, i, "label"), exc["label"]


def placeholders_of(policy: Policy) -> set[str]:
    """The names in the `{placeholders}` of a policy's labels."""
    labels = [label for label, _ in labelled_decls(policy)]
    return {m.group(1) for text in labels if text and "{" in text for m in PLACEHOLDER.finditer(text)}


def labelled_decls(policy: Policy):
    """(label, span) of the rules, outcomes and exceptions of a policy."""
    for r in policy.rules.values():
        yield r.label, r.span
        yield from ((e.label, e.span) for e in r.exceptions)
    yield from ((o.label, o.span) for o in policy.outcomes.values())
    yield from ((e.label, e.span) for _, excs in policy.amendments.values() for e in excs)


def _stated_numbers(text: str):
    """(text, value, offset) of the numbers a label states in so many words (`6`, `183`, `20%`, `300,000`)."""
    for m in _NUMBER.finditer(PLACEHOLDER.sub(lambda x: " " * len(x.group(0)), text)):
        try:
            n = Decimal(m.group(1).replace(",", "") + (m.group(2) or ""))
        except InvalidOperation:
            continue
        yield m.group(0), (n.scaleb(-2) if m.group(3) else n), m.start()


def _within(span: Span, text: str, offset: int, length: int) -> Span:
    """The span of text[offset:offset+length] when the label is written on one line, else the label's span."""
    if span is None or span.line != span.end_line:
        return span
    quote = span.end_column - span.column - len(text)
    if quote not in (0, 2):
        return span
    start = span.column + quote // 2 + offset
    return Span(span.file, span.line, start, span.line, start + length)


def check_labels(policy: Policy, doc: dict, loc, file: str) -> list[Diagnostic]:
    """Placeholders must name a parameter of the policy (error `template`); a number written into a label
    that is the value of one of its parameters is a warning `label-number`: the label would go stale."""
    diags = []
    numbers: dict[Decimal, list[str]] = {}
    for name, p in policy.params.items():
        if p.kind == "value" and isinstance(p.value, (int, Decimal)) and not isinstance(p.value, bool):
            numbers.setdefault(Decimal(p.value), []).append(name)
    for path, text in _labels(doc):
        span = loc.nearest_span(path)
        for m in PLACEHOLDER.finditer(text):
            alias, dot, _ = m.group(1).partition(".")
            if dot and alias in policy.uses:
                continue  # a parameter of a policy this one uses: the checker sees that policy
            if m.group(1) not in policy.params:
                hint = difflib.get_close_matches(m.group(1), list(policy.params), n=1)
                diags.append(Diagnostic("template", f"`{{{m.group(1)}}}` in a label is not a parameter of this policy",
                                        span, help=f"did you mean `{{{hint[0]}}}`?" if hint else
                                        "a label's placeholders name parameters, such as `{min_days}`"))
        for written, n, offset in _stated_numbers(text):
            names = numbers.get(n)
            if names:
                which = " or ".join(f"`{x}`" for x in names)
                diags.append(Diagnostic(
                    "label-number", f"the label states {written}, which is the value of parameter{'s' if len(names) > 1 else ''} "
                    + ", ".join(f"`{x}`" for x in names), _within(span, text, offset, len(written)), "warning",
                    f"if it means {which}, write " + " or ".join(f"`{{{x}}}`" for x in names)
                    + ": the label then follows the parameter when its value changes"))
    return diags


def _shown(v: Any, measure: str | None) -> str:
    from .render import _num  # the numbers of labels read as those of explanations
    if isinstance(v, Decimal) and measure == "share":
        return _num(v.scaleb(2).normalize()) + "%"
    return _num(v) if not isinstance(v, str) else v


def label_values(params: dict, pid: str, as_of) -> dict[str, str]:
    """The parameters of policy `pid` as a label shows them, with the values in force on `as_of`."""
    from .values import Unknown
    out = {}
    for name, pv in (params.get(pid) or {}).items():
        v = pv.current(as_of, pid)
        out[name] = "?" if type(v) is Unknown else _shown(v, pv.decl.measure)
    return out


def fixed_values(pset, pid: str) -> dict[str, str]:
    """The parameters of `pid` and of the policies it uses that have one value whatever the date, as labels show them."""
    out = {}
    for prefix, target in [("", pid)] + [(f"{a}.", t) for a, (t, *_) in pset.policies[pid].uses.items()]:
        for name, pv in (pset.params.get(target) or {}).items():
            if pv.decl.kind == "value" and pv.value is not None:
                out[prefix + name] = _shown(pv.value, pv.decl.measure)
    return out


def fill_label(text: str | None, values: dict[str, str]) -> str | None:
    if not text or "{" not in text:
        return text
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def filler(params: dict, policies: dict, pid: str, text: str | None):
    """For a label with `{parameter}` placeholders, a function of the as-of date giving it filled with the
    values in force (each date's text made once); None for a label without placeholders."""
    if not text or "{" not in text:
        return None
    made: dict = {}

    def filled(as_of) -> str:
        got = made.get(as_of)
        if got is None:
            values = label_values(params, pid, as_of)
            for alias, (target, *_) in policies[pid].uses.items():
                values.update((f"{alias}.{k}", v) for k, v in label_values(params, target, as_of).items())
            got = fill_label(text, values)
            if len(made) < 64:
                made[as_of] = got
        return got
    return filled


