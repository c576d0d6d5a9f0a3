"""Other expression engines given the same rule (measure 1, permanent residence) as one expression.

Each peer is imported lazily; an absent one is reported "not installed" and skipped.
Every peer gets the same facts, converted once (outside the timed loop) to what
its API takes, plus the application date `as_of` and the previous year's average
salary `average_salary` (98,000, so the threshold is 6 x 98,000 = 588,000).
The rule is written in each language in the interpreter's order:
works in Urumqi, 4 full years of work, a record for each of the 4 tested years,
and in each tested record days >= 183, salary >= 6 x average, tax >= 0.2 x salary.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any, Callable

from caseload import AS_OF, AVERAGE_SALARY

INSTALL = "pip install zen-engine cel-python rule-engine common-expression-language"

AVG_PREV = AVERAGE_SALARY[AS_OF.year - 1]


@dataclass
class Peer:
    name: str            # row label
    package: str         # PyPI name
    numerics: str        # how it computes the 20% test
    prepare: Callable[[dict], Any]      # checked facts -> the engine's input (not timed)
    decide: Callable[[Any], bool]       # the engine's input -> does the outcome apply (timed)
    expression: str


def _plain(facts: dict, money, date) -> dict:
    return {
        "works_in_urumqi": facts["works_in_urumqi"],
        "urumqi_employment_start": date(facts["urumqi_employment_start"]),
        "years": [{"year": int(y["year"]), "days_in_china": int(y["days_in_china"]),
                   "salary": money(y["salary"]), "income_tax": money(y["income_tax"])} for y in facts["years"]],
        "as_of": date(AS_OF),
        "average_salary": money(AVG_PREV),
    }


def _utc(d: _dt.date) -> _dt.datetime:
    return _dt.datetime(d.year, d.month, d.day, tzinfo=_dt.timezone.utc)


# ---------------------------------------------------------------- ZEN (GoRules zen-engine)

ZEN_EXPR = (
    "works_in_urumqi"
    " and d(as_of).diff(d(urumqi_employment_start), 'year') >= 4"
    " and all([1..4], contains(map(years, #.year), d(as_of).year() - #))"
    " and all(filter(years, #.year >= d(as_of).year() - 4 and #.year < d(as_of).year()),"
    " #.days_in_china >= 183 and #.salary >= 6 * average_salary and #.income_tax >= 0.2 * #.salary)"
)


def _zen() -> Peer:
    import zen
    compiled = zen.compile_expression(ZEN_EXPR)
    evaluate = compiled.evaluate
    return Peer("zen-engine (compiled expression)", "zen-engine",
                "decimal inside (Python floats in, converted by the engine)",
                lambda f: _plain(f, float, _dt.date.isoformat),
                lambda x: evaluate(x) is True, ZEN_EXPR)


# ---------------------------------------------------------------- CEL (two implementations)

CEL_EXPR = (
    "works_in_urumqi"
    " && (as_of.getFullYear() - urumqi_employment_start.getFullYear()"
    " - ((as_of.getMonth() < urumqi_employment_start.getMonth()"
    " || (as_of.getMonth() == urumqi_employment_start.getMonth()"
    " && as_of.getDate() < urumqi_employment_start.getDate())) ? 1 : 0)) >= 4"
    " && [1, 2, 3, 4].all(i, years.exists(y, y.year == as_of.getFullYear() - i))"
    " && years.all(y, y.year < as_of.getFullYear() - 4 || y.year >= as_of.getFullYear()"
    " || (y.days_in_china >= 183 && y.salary >= 6.0 * average_salary && y.income_tax >= 0.2 * y.salary))"
)


def _celpy() -> Peer:
    import celpy
    runner = getattr(celpy, "CompiledRunner", None)
    env = celpy.Environment(runner_class=runner) if runner else celpy.Environment()
    program = env.program(env.compile(CEL_EXPR))
    evaluate = program.evaluate
    return Peer("cel-python (celpy%s)" % (", CompiledRunner" if runner else ""), "cel-python", "float (double)",
                lambda f: celpy.json_to_cel(_plain(f, float, _utc)),
                lambda x: bool(evaluate(x)), CEL_EXPR)


def _cel_rust() -> Peer:
    import cel
    program = cel.compile(CEL_EXPR)
    execute = program.execute
    return Peer("common-expression-language (cel, Rust)", "common-expression-language", "float (double)",
                lambda f: _plain(f, float, _utc),
                lambda x: execute(x) is True, CEL_EXPR)


# ---------------------------------------------------------------- rule-engine

RULE_ENGINE_EXPR = (
    "works_in_urumqi"
    " and (as_of.year - urumqi_employment_start.year"
    " - ((as_of.month < urumqi_employment_start.month"
    " or (as_of.month == urumqi_employment_start.month"
    " and as_of.day < urumqi_employment_start.day)) ? 1 : 0)) >= 4"
    " and $all([$any([y.year == as_of.year - i for y in years]) for i in [1, 2, 3, 4]])"
    " and $all([y.days_in_china >= 183 and y.salary >= 6 * average_salary and y.income_tax >= 0.2 * y.salary"
    " for y in years if y.year >= as_of.year - 4 and y.year < as_of.year])"
)


def _rule_engine() -> Peer:
    import rule_engine
    rule = rule_engine.Rule(RULE_ENGINE_EXPR)
    matches = rule.matches
    return Peer("rule-engine", "rule-engine", "Decimal (its FLOAT type is decimal.Decimal)",
                lambda f: _plain(f, lambda d: d, lambda d: d),
                matches, RULE_ENGINE_EXPR)


FACTORIES = [("zen-engine", "zen", _zen), ("cel-python", "celpy", _celpy),
             ("rule-engine", "rule_engine", _rule_engine), ("common-expression-language", "cel", _cel_rust)]


def load_peers() -> tuple[list[Peer], list[tuple[str, str]]]:
    """The installed peers, and (package, why not) for the others."""
    peers, missing = [], []
    for package, module, factory in FACTORIES:
        try:
            __import__(module)
        except ImportError as e:
            missing.append((package, f"not installed ({e.name or module} cannot be imported)"))
            continue
        try:
            peers.append(factory())
        except Exception as e:   # an incompatible version: say so, do not stop the benchmark
            missing.append((package, f"installed but unusable here: {type(e).__name__}: {e}"))
    return peers, missing
