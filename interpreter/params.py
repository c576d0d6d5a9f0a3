"""Parameter values at run time, and overrides supplied for a run (`--params FILE`)."""
from __future__ import annotations

import datetime as _dt
import difflib
from decimal import Decimal
from typing import Any

from .evaluation.errors import EvalFailure
from .diagnostics import Diagnostic, Span
from .loader import type_of_value
from .sources import parse_iso_date
from .model import ParamDecl, Policy
from .units import unit_problem
from .typesys import NUMBER, ListT, describe
from .values import Unknown, number_problem

__all__ = ["ParamValues", "default_tables", "apply_overrides"]


class ParamValues:
    """One parameter's values: a single value, a table by year, or dated steps; and where overrides came from."""
    __slots__ = ("decl", "value", "by_year", "steps", "supplied_by", "supplied_keys")

    def __init__(self, decl: ParamDecl):
        self.decl = decl
        self.value = decl.value
        self.by_year = dict(decl.by_year)
        self.steps = list(decl.steps)
        self.supplied_by: str | None = None
        self.supplied_keys: set = set()

    def _missing(self, pid: str, key) -> Unknown:
        return Unknown(frozenset(), frozenset([(pid, f"{self.decl.name}[{key}]")]))

    def current_key(self, as_of: _dt.date):
        kind = self.decl.kind
        if kind == "value":
            return None
        if kind == "by_year":
            return Decimal(as_of.year)
        return as_of

    def current(self, as_of: _dt.date, pid: str):
        if self.decl.kind == "value":
            return self.value
        return self.at(self.current_key(as_of), pid, None)

    def at(self, key, pid: str, span: Span | None):
        if self.decl.kind == "by_year":
            if key != key.to_integral_value():
                raise EvalFailure("invalid-index", f"`{self.decl.name}` is indexed by whole years, not {key}", span)
            v = self.by_year.get(int(key))
            return self._missing(pid, int(key)) if v is None else v
        current = None
        for start, v in self.steps:
            if start <= key:
                current = v
            else:
                break
        return self._missing(pid, key.isoformat()) if current is None else current

    def source(self, key) -> str | None:
        """The file that supplied the value read at `key` (None: the policy's own value)."""
        if self.supplied_by is None:
            return None
        if self.decl.kind == "value":
            return self.supplied_by
        if self.decl.kind == "by_year":
            return self.supplied_by if int(key) in self.supplied_keys else None
        return self.supplied_by

    def copy(self) -> "ParamValues":
        c = ParamValues(self.decl)
        c.value, c.by_year, c.steps = self.value, dict(self.by_year), list(self.steps)
        c.supplied_by, c.supplied_keys = self.supplied_by, set(self.supplied_keys)
        return c


def default_tables(policies: dict[str, Policy]) -> dict[str, dict[str, ParamValues]]:
    return {pid: {n: ParamValues(d) for n, d in p.params.items()} for pid, p in policies.items()}


def _number(v):
    return Decimal(v) if isinstance(v, int) and not isinstance(v, bool) else v


def apply_overrides(tables: dict[str, dict[str, ParamValues]], policies: dict[str, Policy], raw: Any,
                    locator, file: str) -> tuple[dict[str, dict[str, ParamValues]], list[Diagnostic]]:
    """Check `{policy id: {parameter: value or table}}` and return new tables with it applied."""
    diags: list[Diagnostic] = []

    def where(*path) -> Span:
        return locator.nearest_span(tuple(path)) if locator is not None else Span.point(file, 1, 1)

    def key_where(*path) -> Span:
        if locator is None:
            return Span.point(file, 1, 1)
        return locator.key_span(tuple(path)) or locator.nearest_span(tuple(path))

    def err(code, msg, span, help=None):
        diags.append(Diagnostic(code, msg, span, help=help))

    new = {pid: {n: pv.copy() for n, pv in t.items()} for pid, t in tables.items()}
    if raw is None:
        return new, diags
    if not isinstance(raw, dict):
        err("params-shape", "a parameters file maps policy ids to {parameter: value}", where())
        return new, diags
    for pid, params in raw.items():
        if pid not in policies:
            hint = difflib.get_close_matches(str(pid), list(policies), n=1)
            err("unknown-policy", f"no policy with id `{pid}` is loaded", key_where(pid),
                f"did you mean `{hint[0]}`?" if hint else None)
            continue
        if not isinstance(params, dict):
            err("params-shape", f"`{pid}` must map parameter names to values", where(pid))
            continue
        for name, value in params.items():
            pv = new[pid].get(name)
            if pv is None:
                hint = difflib.get_close_matches(str(name), list(new[pid]), n=1)
                err("unknown-parameter", f"policy `{pid}` has no parameter `{name}`", key_where(pid, name),
                    f"did you mean `{hint[0]}`?" if hint else None)
                continue
            decl = pv.decl

            def check_scalar(v, *path) -> bool:
                t = None if isinstance(v, list) else type_of_value(v)
                want = decl.type.item if isinstance(decl.type, ListT) else decl.type
                if isinstance(v, list) and isinstance(decl.type, ListT):
                    return all(check_scalar(x, *path, i) for i, x in enumerate(v))
                if t == NUMBER and number_problem(Decimal(v)):
                    err("invalid-number", f"`{name}`: the number {number_problem(Decimal(v))}", where(pid, name, *path))
                    return False
                if t != want:
                    err("parameter-type", f"`{name}` takes {describe(decl.type)}, not {describe(t) if t else 'this value'}",
                        where(pid, name, *path))
                    return False
                problem = unit_problem(name, decl.measure, decl.range, _number(v))
                if problem:
                    err("parameter-unit", problem[0], where(pid, name, *path), problem[1])
                    return False
                if decl.allowed is not None and _number(v) not in decl.allowed:
                    err("parameter-value", f"`{name}` is `{v}`, not one of: " + ", ".join(str(a) for a in decl.allowed),
                        where(pid, name, *path))
                    return False
                return True

            if decl.kind == "value":
                if check_scalar(value):
                    pv.value = [_number(x) for x in value] if isinstance(value, list) else _number(value)
                    pv.supplied_by = file
            elif decl.kind == "by_year":
                if not isinstance(value, dict):
                    err("params-shape", f"`{name}` is a table by year: give {{year: value}}", where(pid, name))
                    continue
                for year, v in value.items():
                    if not (str(year).isdigit() and len(str(year)) == 4):
                        err("params-shape", f"`{year}` is not a year", key_where(pid, name, year))
                        continue
                    if v is None or check_scalar(v, year):
                        pv.by_year[int(year)] = _number(v)
                        pv.supplied_keys.add(int(year))
                        pv.supplied_by = file
            else:
                if not isinstance(value, list) or not all(isinstance(s, dict) and set(s) == {"from", "value"} for s in value):
                    err("params-shape", f"`{name}` changes on dated steps: give a list of {{from: date, value: ...}}",
                        where(pid, name))
                    continue
                ok = True
                for i, step in enumerate(value):
                    start = step["from"] if isinstance(step["from"], _dt.date) else parse_iso_date(str(step["from"]))
                    if start is None:
                        err("invalid-date", f"`from` must be a date that exists, written YYYY-MM-DD, not `{step['from']}`",
                            where(pid, name, i, "from"))
                        ok = False
                    step["from"] = start
                    ok = check_scalar(step["value"], i, "value") and ok
                if ok:
                    pv.steps = sorted(((s["from"], _number(s["value"])) for s in value), key=lambda x: x[0])
                    pv.supplied_by = file
    return new, diags
