"""`policy docs`: Markdown pages for people who never read YAML, one per policy, and an index."""
from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from pathlib import Path

from .labels import fill_label, fixed_values
from .engine import PolicySet
from .model import ParamDecl, Policy, RuleDecl
from . import syntax as A
from .printer import format_value, to_text
from .safetext import printable

__all__ = ["render_pages"]


def _slug(pid: str) -> str:
    return pid.replace(".", "-")


def _value(v) -> str:
    if isinstance(v, Decimal):
        s = format_value(v)
        whole, _, frac = s.lstrip("-").partition(".")
        if len(whole) > 4:
            whole = f"{int(whole):,}"
        return ("-" if s.startswith("-") else "") + whole + ("." + frac if frac else "")
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, list):
        return ", ".join(_value(x) for x in v) or "(none)"
    if v is None:
        return "not set"
    if isinstance(v, bool):
        return "yes" if v else "no"
    return str(v)


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def _param_values(p: ParamDecl) -> str:
    unit = f" {p.unit}" if p.unit else ""
    if p.kind == "value":
        return f"{_value(p.value)}{unit}"
    if p.kind == "by_year":
        if not p.by_year:
            return "no figure yet: evaluation reports it as missing"
        return "; ".join(f"{y}: {_value(v)}{unit}" for y, v in sorted(p.by_year.items()))
    return "; ".join(f"from {d.isoformat()}: {_value(v)}{unit}" for d, v in p.steps)


def _anchor(cite: str) -> str:
    """The anchor of a phrase on its policy's page: `measure 1, phrase 3` -> `measure-1-phrase-3`."""
    return "-".join("".join(ch if ch.isalnum() else " " for ch in cite.lower()).split())


class _Phrases:
    """Which policy's `source.phrases` holds each citation, and what cites each phrase."""

    def __init__(self, pset: PolicySet):
        self.owner: dict[str, str] = {}
        for pid in sorted(pset.policies):
            for cite in (pset.policies[pid].source or {}).get("phrases") or {}:
                self.owner.setdefault(str(cite), pid)
        self.users: dict[str, list[str]] = {}
        for pid in sorted(pset.policies):
            p = pset.policies[pid]
            for name, r in p.rules.items():
                self._add(r.cite, f"rule `{name}`", pid)
                for e in r.exceptions:
                    self._add(e.cite, f"an exception to rule `{name}`", pid)
            for name, o in p.outcomes.items():
                self._add(o.cite, f"outcome `{name}`", pid)
            for target, (_, excs) in p.amendments.items():
                for e in excs:
                    self._add(e.cite, f"an exception added to `{target}`", pid)

    def _add(self, cite, what: str, pid: str):
        if cite is not None and str(cite) in self.owner:
            where = what if self.owner[str(cite)] == pid else f"{what} of [`{pid}`]({_slug(pid)}.md)"
            self.users.setdefault(str(cite), []).append(where)

    def cite(self, cite, here: str) -> str:
        """` (cite)`, linked to its phrase when a policy of the set quotes it."""
        if cite is None:
            return ""
        pid = self.owner.get(str(cite))
        if pid is None:
            return f" ({cite})"
        page = "" if pid == here else f"{_slug(pid)}.md"
        return f" ([{cite}]({page}#{_anchor(str(cite))}))"


def _expr(text: str) -> str:
    return "`" + " ".join(text.split()) + "`"


def _rule_lines(r: RuleDecl, amendments, phrases: _Phrases, here: str, pset: PolicySet) -> list[str]:
    cite = phrases.cite(r.cite, here)
    out = [f"- **{r.label}**{cite} — `{r.name}`"]
    if r.expr is not None:
        out.append(f"  - {_expr(r.expr.text)}")
    else:
        out.append(f"  - base value: {_expr(r.base.text)}")
        for e in list(r.exceptions) + amendments:
            ecite = phrases.cite(e.cite, here)
            src = f", added by `{e.policy_id}`" if e.policy_id else ""
            label = fill_label(e.label, fixed_values(pset, e.policy_id)) if e.policy_id else e.label
            out.append(f"  - exception{src}: {label or ''}{ecite} — when {_expr(e.when.text)}, the value is {_expr(e.value.text)}")
    if r.note:
        out.append(f"  - note: {' '.join(r.note.split())}")
    return out


def _conjuncts(node) -> list:
    if isinstance(node, A.BoolOp) and node.op == "and":
        return _conjuncts(node.left) + _conjuncts(node.right)
    return [node]


def _describe(pset: PolicySet, p: Policy, node, phrases: _Phrases) -> str:
    """A condition in the policy's own words: a rule's label, an input's question, or the expression."""
    ref = pset.checked.refs.get(id(node))
    if ref is not None and ref.kind in ("rule", "outcome"):
        owner = pset.policies[ref.policy]
        decl = owner.rules.get(ref.name) if ref.kind == "rule" else owner.outcomes.get(ref.name)
        return f"{decl.label}{phrases.cite(decl.cite, p.id)} — `{to_text(node)}`"
    if ref is not None and ref.kind == "input":
        decl = pset.inputs[ref.name]
        words = decl.label or decl.question
        return f"{words} — `{to_text(node)}`" if words else f"`{to_text(node)}`"
    return f"`{to_text(node)}`"


def _phrase_table(p: Policy, phrases: _Phrases) -> list[str]:
    out = ["The text, phrase by phrase, with what encodes each phrase:", "",
           "| citation | phrase | encoded by |", "| --- | --- | --- |"]
    for cite, words in p.source["phrases"].items():
        cite = str(cite)
        users = "; ".join(phrases.users.get(cite, [])) or "nothing: not encoded"
        anchor = f'<a id="{_anchor(cite)}"></a>' if phrases.owner.get(cite) == p.id else ""
        out.append(f"| {anchor}{_cell(cite)} | {_cell(' '.join(str(words).split()))} | {_cell(users)} |")
    return out + [""]


def render_policy(pset: PolicySet, p: Policy, phrases: _Phrases | None = None) -> str:
    phrases = phrases or _Phrases(pset)
    out = [f"# {p.title}", "", f"Policy id: `{p.id}` · file: `{Path(p.file).name}`", ""]
    src = p.source or {}
    if src:
        doc = src.get("document", "")
        clause = f", clause {src['clause']}" if src.get("clause") is not None else ""
        out += [f"**Source:** {doc}{clause}", ""]
        if src.get("text"):
            out += ["> " + " ".join(str(src["text"]).split()), ""]
        if src.get("phrases"):
            out += _phrase_table(p, phrases)
        if src.get("note"):
            out += [" ".join(str(src["note"]).split()), ""]
    if p.in_force_from or p.in_force_until:
        out += [f"**In force:** from {p.in_force_from or 'an unknown date'} until {p.in_force_until or 'further notice'}", ""]
    if p.uses:
        out += ["**Refers to:** " + ", ".join(f"`{alias}` = [`{pid}`]({_slug(pid)}.md)" for alias, (pid, *_rest) in p.uses.items()), ""]

    if p.outcomes:
        out += ["## Outcomes", ""]
        for name, o in p.outcomes.items():
            cite = phrases.cite(o.cite, p.id)
            out += [f"### {o.label}{cite}", "", f"Outcome `{name}` applies when:", "", f"    {' '.join(o.when.text.split())}", ""]
            conds = _conjuncts(o.when.node) if o.when.node is not None else []
            if len(conds) > 1:
                out += ["that is, all of:", ""]
                out += [f"- {_describe(pset, p, c, phrases)}" for c in conds]
                out.append("")
            if o.values:
                out += ["It gives:", ""]
                out += [f"- `{k}` = {_expr(e.text)}" for k, e in o.values.items()]
                out.append("")
            if o.note:
                out += ["Note: " + " ".join(o.note.split()), ""]
    if p.rules:
        out += ["## Rules", "", "The named conditions and values the outcomes are built from.", ""]
        for name, r in p.rules.items():
            out += _rule_lines(r, pset.checked.amendments.get((p.id, name), []), phrases, p.id, pset)
        out.append("")
    if p.amendments:
        out += ["## Exceptions added to other policies", ""]
        for target, (_, excs) in p.amendments.items():
            for e in excs:
                cite = phrases.cite(e.cite, p.id)
                out.append(f"- to `{target}`: {e.label or ''}{cite} — when {_expr(e.when.text)}, the value is {_expr(e.value.text)}")
        out.append("")
    if p.params:
        out += ["## Parameters", "", "| parameter | value | label | source |", "| --- | --- | --- | --- |"]
        for name, prm in p.params.items():
            out.append(f"| `{name}` | {_cell(_param_values(prm))} | {_cell(prm.label)} | {_cell(prm.source)} |")
        out.append("")
        readings = [(n, prm) for n, prm in p.params.items() if prm.note or prm.allowed]
        if readings:
            out += ["## Readings chosen", "",
                    "Where the text leaves a choice open, the policy makes it with a parameter; "
                    "change the parameter (or override it with `--params`) to take another reading.", ""]
            for name, prm in readings:
                alt = ""
                if prm.allowed:
                    alt = " Possible values: " + ", ".join(f"`{_value(a)}`" for a in prm.allowed) + "."
                note = " ".join((prm.note or "").split())
                out.append(f"- `{name}` = {_cell(_param_values(prm))}. {note}{alt}".rstrip())
            out.append("")
    inputs = sorted(pset.checked.readers.get(p.id, set()))
    if inputs:
        out += ["## Facts it reads", "", "| fact | question |", "| --- | --- |"]
        for name in inputs:
            decl = pset.inputs[name]
            out.append(f"| `{name}` | {_cell(decl.question or decl.label)} |")
        out.append("")
    if p.in_force_from is None and p.in_force_until is None:
        pass
    return "\n".join(out).rstrip() + "\n"


def render_pages(pset: PolicySet) -> dict[str, str]:
    """File name -> Markdown text: one page per policy and `index.md`."""
    pages = {}
    index = ["# Policies", "", "Generated by `policy docs` from the policy files; do not edit by hand.", "",
             "| policy | title | outcomes |", "| --- | --- | --- |"]
    phrases = _Phrases(pset)
    for pid in sorted(pset.policies):
        p = pset.policies[pid]
        # labels name their parameters; a page shows the values that do not change with the date
        pages[f"{_slug(pid)}.md"] = fill_label(render_policy(pset, p, phrases), fixed_values(pset, pid))
        outcomes = ", ".join(f"`{o}`" for o in p.outcomes) or "(none: rules only)"
        index.append(f"| [`{pid}`]({_slug(pid)}.md) | {_cell(p.title)} | {outcomes} |")
    pages["index.md"] = "\n".join(index) + "\n"
    return {name: _safe(text) for name, text in pages.items()}


def _safe(page: str) -> str:
    """A page whose lines hold no character that acts on a terminal or cannot be written as UTF-8."""
    return "\n".join(printable(line) for line in page.split("\n"))
