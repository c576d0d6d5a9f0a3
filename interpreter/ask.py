"""`policy ask`: an interview that asks only what can still change an outcome, most useful first."""
from __future__ import annotations

import datetime as _dt
import re
from decimal import Decimal
from typing import Any, Callable

from .facts import NUMBER_FORM, number_form_help
from .engine import Evaluation, PolicySet
from .safetext import printable
from .sources import parse_iso_date

__all__ = ["Interview", "STOP", "dump_facts"]


class _Stop(Exception):
    """The person stopped the interview (end of input)."""


class _Skip(Exception):
    """The person does not know the answer (an empty answer, `?` or `skip`): the fact stays unknown."""


_SKIP_WORDS = {"?", "skip", "don't know", "dont know", "unknown"}


STOP = _Stop

_YES = {"y", "yes", "true", "1"}
_NO = {"n", "no", "false", "0"}
_PATH = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\.([A-Za-z_][A-Za-z0-9_]*)")


def _full(spec: Any) -> dict:
    if isinstance(spec, str):
        return {"type": spec}
    if isinstance(spec, dict) and "type" not in spec:
        return {"type": "record", "fields": spec}
    return spec


def _parse_path(path: str) -> list:
    parts = []
    for name, index, field in _PATH.findall(path):
        parts.append(int(index) if index else (name or field))
    return parts


class Interview:
    """Asks for missing facts until every chosen outcome is decided or the person stops.

    `read(prompt)` returns the answer, or None at the end of input; `say(text)` shows a line.
    """

    def __init__(self, pset: PolicySet, raw: dict, as_of: _dt.date | None, selection,
                 read: Callable[[str], str | None], say: Callable[[str], None], describe: Callable[[Any], str]):
        self.pset, self.raw, self.as_of, self.selection = pset, dict(raw), as_of, selection
        self.read, self.say, self.describe = read, say, describe
        self.shown: set[tuple[str, str]] = set()
        self.skipped: set[str] = set()  # facts the person does not know: not asked again

    # ---- the loop
    def evaluate(self, trace: bool = False) -> Evaluation:
        facts, diags = self.pset.check_facts(self.raw)
        evaluation = self.pset.evaluate(facts, self.as_of, self.selection, trace=trace)
        return evaluation

    def run(self) -> Evaluation:
        while True:
            ev = self.evaluate()
            for r in ev.results:
                if r.status != "undetermined" and (r.policy, r.outcome) not in self.shown:
                    self.shown.add((r.policy, r.outcome))
                    self.say(self.describe(r))
            if not any(r.status == "undetermined" for r in ev.results):
                self.say("Every outcome is decided.")
                return ev
            facts_missing = [m for m in ev.missing if m.kind == "fact"]
            if facts_missing and all(m.name in self.skipped for m in facts_missing):
                self.say(printable("No more questions: the rest waits on facts not known yet ("
                                   + ", ".join(m.name for m in facts_missing) + ")."))
                return ev
            if not facts_missing:
                params = ", ".join(f"{m.policy}: {m.name}" for m in ev.missing if m.kind == "parameter")
                self.say(printable(f"No question can settle the rest: the policy maintainers must supply {params}."))
                return ev
            try:
                self.ask_missing(self.next_question(ev))
            except _Stop:
                self.say("Stopped; the answers so far are kept.")
                return self.evaluate()

    def next_question(self, ev: Evaluation):
        """The missing fact that most undetermined outcomes wait on; among equals, the quickest to answer."""
        ranked = [(m, n) for m, n in ev.missing_ranked() if m.kind == "fact" and m.name not in self.skipped]
        best = max(n for _, n in ranked)
        return min((m for m, n in ranked if n == best), key=lambda m: self.effort(m.name))

    def effort(self, path: str) -> int:
        parts = _parse_path(path)
        spec = _full(self.pset.inputs[parts[0]].spec)
        for p in parts[1:]:
            spec = _full(spec["items"] if isinstance(p, int) else spec["fields"][p])
        return {"boolean": 0, "string": 1, "integer": 1, "number": 1, "date": 1, "record": 2, "list": 3}[spec["type"]]

    def ask_missing(self, m):
        parts = _parse_path(m.name)
        decl = self.pset.inputs[parts[0]]
        spec = decl.spec
        for p in parts[1:]:
            spec = _full(spec)
            spec = spec["items"] if isinstance(p, int) else spec["fields"][p]
        question = m.question if len(parts) == 1 else f"{m.name}?"
        if len(parts) > 1 and decl.question:
            question = f"{decl.question}\n  ({m.name})"
        needs = self.list_needs(parts[0]) if len(parts) == 1 and _full(spec).get("type") == "list" else []
        if needs:
            question = f"{question or m.name}\n  " + " ".join(needs)
        try:
            value = self.ask_value(spec, question or f"{m.name}?", m.name)
        except _Skip:
            self.skipped.add(m.name)
            self.say("  (not known: skipped)")
            return
        target = self.raw
        for p in parts[:-1]:
            target = target[p]
        target[parts[-1]] = value

    def list_needs(self, name: str) -> list[str]:
        """What a list must hold, in the policies' words: the labelled items (`each:`) that fail when the list
        is empty, such as `a record for 2021`; none when the policies do not say."""
        probe = {**self.raw, name: []}
        facts, diags = self.pset.check_facts(probe)
        if diags:
            return []
        ev = self.pset.evaluate(facts, self.as_of, self.selection, trace=True)
        from .render import _plain_value
        found: list[str] = []
        todo = [e for r in ev.results for e in r.trace]
        while todo:
            e = todo.pop(0)
            children = list(e.children)
            failing = [c for c in children if c.index is not None and c.status == "false" and c.label]
            if e.kind == "binder" and failing:
                over = [c for c in children if c.index is None and isinstance(c.value, list) and c.label]
                # the list the binder goes through says it all (the 4 years tested); else the first item missing
                need = (f"The policies need an item for each of {over[0].label}: "
                        f"{_plain_value(over[0].value)}." if over
                        else f"The policies look for {failing[0].label}.")
                if need not in found:
                    found.append(need)
                continue
            todo[:0] = children
        return found

    # ---- one value of a declared type
    def answer(self, prompt: str) -> str:
        text = self.read(prompt)
        if text is None:
            raise _Stop()
        if not text.strip() or text.strip().lower() in _SKIP_WORDS:
            raise _Skip()
        return text.strip()

    def ask_value(self, spec: Any, question: str, name: str) -> Any:
        spec = _full(spec)
        kind = spec["type"]
        nullable = bool(spec.get("nullable"))
        self.say("\n".join(printable(line) for line in question.split("\n")))
        none_hint = ", or none" if nullable else ""
        while True:
            if kind == "record":
                if nullable:
                    text = self.answer("  Is there one? (yes/no) ")
                    if text.lower() in _NO or text.lower() in ("none", "null"):
                        return None
                    if text.lower() not in _YES:
                        self.say("  Please answer yes or no.")
                        continue
                record = {}
                for f, s in spec["fields"].items():
                    field = _full(s)
                    try:  # a field not known is left out: unknown
                        record[f] = self.ask_value(s, f"  {field.get('question') or field.get('label') or f + ':'}",
                                                   f"{name}.{f}")
                    except _Skip:
                        pass
                return record
            if kind == "list":
                text = self.answer(f"  How many? (a whole number{none_hint}; empty: don't know) ")
                if nullable and text.lower() in ("none", "null"):
                    return None
                if re.fullmatch("[0-9]{1,3}", text) and int(text) <= 100:
                    n = int(text)
                else:
                    self.say("  Please give a whole number from 0 to 100.")
                    continue
                return [self.ask_value(spec["items"], f"  item {i + 1} of {n}:", f"{name}[{i}]") for i in range(n)]
            hint = {"boolean": "yes/no", "number": "a number", "integer": "a whole number",
                    "date": "YYYY-MM-DD", "string": "text"}[kind]
            if spec.get("unit"):
                hint += f", in {printable(spec['unit'])}"
            values = spec.get("values")
            if values:
                hint = printable(", ".join(f"{i + 1}={v}" for i, v in enumerate(values)))
            text = self.answer(f"  ({hint}{none_hint}; empty: don't know) ")
            if nullable and text.lower() in ("none", "null"):
                return None
            value, problem = self.parse(kind, text, values)
            if problem is None:
                return value
            self.say(f"  {printable(problem)}")

    @staticmethod
    def parse(kind: str, text: str, values: list | None) -> tuple[Any, str | None]:
        low = text.lower()
        if kind == "boolean":
            if low in _YES:
                return True, None
            if low in _NO:
                return False, None
            return None, "Please answer yes or no."
        if kind in ("number", "integer"):  # written as in a facts file: NUMBER_FORM, no separators
            if not NUMBER_FORM.fullmatch(text):
                return None, f"`{text}` is not a number: " + (number_form_help(text) or "write it like 300000 or 300000.50") + "."
            d = Decimal(text)
            if not d.is_finite() or abs(d.adjusted()) > 100 or len(text) > 40:
                return None, f"`{text}` is not a usable number."
            if kind == "integer" and d != d.to_integral_value():
                return None, f"`{text}` is not a whole number."
            return d, None
        if kind == "date":
            parsed = parse_iso_date(text)
            if parsed is None:
                return None, f"`{text}` is not a date that exists; write it as YYYY-MM-DD, e.g. 2024-06-30."
            return parsed, None
        if values:
            if re.fullmatch("[0-9]{1,9}", text) and 1 <= int(text) <= len(values):  # ASCII digits only:
                return values[int(text) - 1], None                                # not `²`, not 5,000 of them
            for v in values:
                if v.lower() == low:
                    return v, None
            return None, "Please choose one of: " + ", ".join(values) + "."
        return text, None


def dump_facts(raw: dict) -> str:
    """Facts as a YAML document that `policy eval --facts` reads back exactly (decimals as written)."""
    import yaml

    class _Dumper(yaml.SafeDumper):
        pass

    def decimal(dumper, v: Decimal):
        if v == v.to_integral_value() and "E" not in str(v) and "." not in str(v):
            return dumper.represent_scalar("tag:yaml.org,2002:int", str(v))
        text = format(v, "f")
        if "." not in text:
            text += ".0"
        return dumper.represent_scalar("tag:yaml.org,2002:float", text)

    _Dumper.add_representer(Decimal, decimal)
    return yaml.dump(raw, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False)
