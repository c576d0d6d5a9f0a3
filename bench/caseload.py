"""The benchmark's caseload for measure 1 and the hand-written reference decision.

Everything here is independent of the interpreter: the cases are generated
from a seed, and `reference` decides `urumqi.permanent-residence` /
`permanent_residence` by hand, with exact decimals, as the policy file states it.
"""
from __future__ import annotations

import datetime as _dt
import json
import random
from decimal import Decimal

POLICY_ID = "urumqi.permanent-residence"
OUTCOME = "permanent_residence"
AS_OF = _dt.date(2025, 6, 1)
AVERAGE_SALARY = {2024: Decimal(98000)}         # supplied with with_params / --params
PARAMS_YAML = f"{POLICY_ID}:\n  average_salary:\n    2024: 98000\n"

# The policy's parameter values (policies/urumqi/measure-1-permanent-residence.yaml).
MIN_YEARS_WORKED = 4
YEARS_TESTED = 4
MIN_DAYS = 183
SALARY_MULTIPLE = Decimal(6)
TAX_RATE = Decimal("0.20")

THRESHOLD_CENTS = 58_800_000                      # 6 x 98,000 = 588,000.00 CNY
FOUR_YEARS_CUTOFF = _dt.date(2021, 6, 1)          # the latest start with 4 full years on AS_OF


# ---------------------------------------------------------------- reference

def _add_years(d: _dt.date, n: int) -> _dt.date:
    try:
        return d.replace(year=d.year + n)
    except ValueError:                            # 29 February in a common year: the 28th
        return d.replace(year=d.year + n, day=28)


def _whole_years(a: _dt.date, b: _dt.date) -> int:
    if b < a:
        return -_whole_years(b, a)
    n = b.year - a.year
    if n and _add_years(a, n) > b:
        n -= 1
    return n


def reference(facts: dict, as_of: _dt.date = AS_OF, average_salary: dict = AVERAGE_SALARY) -> bool:
    """Measure 1 by hand, exact: does `permanent_residence` apply? (all facts known)

    Takes the checked facts (numbers as Decimal, dates as date), the same object the
    interpreter evaluates, and follows the policy's defaults: the 4 calendar years
    before the application year are tested, each must have a record, and in each
    tested record days >= 183, salary >= 6 x the previous year's average salary,
    tax >= 20% of the salary.
    """
    if facts["works_in_urumqi"] is not True:
        return False
    if _whole_years(facts["urumqi_employment_start"], as_of) < MIN_YEARS_WORKED:
        return False
    last = as_of.year
    first = last - YEARS_TESTED
    tested = [y for y in facts["years"] if first <= y["year"] < last]
    if len({int(y["year"]) for y in tested}) != YEARS_TESTED:
        return False
    for y in tested:
        if y["days_in_china"] < MIN_DAYS:
            return False
    threshold = SALARY_MULTIPLE * average_salary[last - 1]
    for y in tested:
        if y["salary"] < threshold:
            return False
    for y in tested:
        if y["income_tax"] < TAX_RATE * y["salary"]:
            return False
    return True


# ---------------------------------------------------------------- generator

def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _tax_floor_cents(salary_cents: int) -> int:
    """The smallest tax in cents that is at least 20% of the salary."""
    return -(-salary_cents // 5)


def _record(rng: random.Random, year: int) -> dict:
    salary = rng.randint(THRESHOLD_CENTS, 250_000_000)
    tax = _tax_floor_cents(salary) + rng.randint(0, 30_000_000)
    return {"year": year, "days_in_china": rng.randint(MIN_DAYS, 365), "salary": _money(salary), "income_tax": _money(tax)}


def _qualifying(rng: random.Random, i: int) -> dict:
    start = _dt.date(2005, 1, 1) + _dt.timedelta(days=rng.randint(0, (FOUR_YEARS_CUTOFF - _dt.date(2005, 1, 1)).days))
    years = [_record(rng, y) for y in range(AS_OF.year - YEARS_TESTED, AS_OF.year)]
    if rng.random() < 0.3:   # an older year outside the window, which must not count (here, failing values)
        years.append({"year": AS_OF.year - YEARS_TESTED - 1, "days_in_china": rng.randint(0, 182),
                      "salary": _money(rng.randint(1_000_000, 50_000_000)), "income_tax": Decimal(0)})
    rng.shuffle(years)
    return {"id": i, "works_in_urumqi": True, "urumqi_employment_start": start, "years": years}


def _tested(case: dict, rng: random.Random) -> dict:
    return rng.choice([y for y in case["years"] if y["year"] >= AS_OF.year - YEARS_TESTED])


def _set_salary(rec: dict, salary_cents: int, tax_cents: int | None = None):
    rec["salary"] = _money(salary_cents)
    rec["income_tax"] = _money(_tax_floor_cents(salary_cents) if tax_cents is None else tax_cents)


def _fail(case: dict, rng: random.Random) -> str:
    """Break one condition of a qualifying case; returns which."""
    kind = rng.choice(["works", "start", "missing_year", "days", "salary", "tax"])
    if kind == "works":
        case["works_in_urumqi"] = False
    elif kind == "start":
        case["urumqi_employment_start"] = FOUR_YEARS_CUTOFF + _dt.timedelta(days=rng.randint(1, 1400))
    elif kind == "missing_year":
        case["years"].remove(_tested(case, rng))
    elif kind == "days":
        _tested(case, rng)["days_in_china"] = rng.randint(0, MIN_DAYS - 1)
    elif kind == "salary":
        _set_salary(_tested(case, rng), rng.randint(10_000_000, THRESHOLD_CENTS - 1))
    else:
        rec = _tested(case, rng)
        salary = int(rec["salary"].scaleb(2))
        rec["income_tax"] = _money(rng.randint(0, _tax_floor_cents(salary) - 1))
    return kind


# Boundary cases: (name, expected, mutation). Each is applied to a fresh qualifying case.
def _boundary(name: str, case: dict, rng: random.Random):
    rec = _tested(case, rng)
    if name == "salary_exactly_threshold":
        _set_salary(rec, THRESHOLD_CENTS)
    elif name == "salary_one_cent_below":
        _set_salary(rec, THRESHOLD_CENTS - 1)
    elif name == "tax_exactly_20pct_1591107.85":
        _set_salary(rec, 159_110_785, 31_822_157)
    elif name == "tax_one_cent_below_1591107.85":
        _set_salary(rec, 159_110_785, 31_822_156)
    elif name == "tax_exactly_20pct_random":     # salary in cents a multiple of 5, so 20% is whole cents
        s = 5 * rng.randint(THRESHOLD_CENTS // 5, 500_000_000 // 5)
        _set_salary(rec, s, s // 5)
    elif name == "tax_one_cent_below_random":
        s = 5 * rng.randint(THRESHOLD_CENTS // 5, 500_000_000 // 5)
        _set_salary(rec, s, s // 5 - 1)
    elif name == "days_exactly_183":
        rec["days_in_china"] = 183
    elif name == "days_182":
        rec["days_in_china"] = 182
    elif name == "exactly_4_years":
        case["urumqi_employment_start"] = FOUR_YEARS_CUTOFF
    elif name == "one_day_short_of_4_years":
        case["urumqi_employment_start"] = FOUR_YEARS_CUTOFF + _dt.timedelta(days=1)
    else:
        raise ValueError(name)


BOUNDARIES = [
    "salary_exactly_threshold", "salary_one_cent_below",
    "tax_exactly_20pct_1591107.85", "tax_one_cent_below_1591107.85",
    "tax_exactly_20pct_random", "tax_one_cent_below_random",
    "tax_exactly_20pct_random", "tax_one_cent_below_random",
    "days_exactly_183", "days_182",
    "exactly_4_years", "one_day_short_of_4_years",
]
BOUNDARY_SHARE = 0.2


def generate(n: int, seed: int = 20250601) -> list[dict]:
    """n cases: ~20% boundary cases (half qualifying), the rest half qualifying, half failing one condition.

    Each case is a dict of facts in Python values (Decimal money, date dates), with
    an `id` and a `kind` (why it was made) that are not facts.
    """
    rng = random.Random(seed)
    cases = []
    for i in range(n):
        case = _qualifying(rng, i)
        r = rng.random()
        if r < BOUNDARY_SHARE:
            kind = BOUNDARIES[i % len(BOUNDARIES)]
            _boundary(kind, case, rng)
        elif r < BOUNDARY_SHARE + (1 - BOUNDARY_SHARE) / 2:
            kind = "qualifying"
        else:
            kind = "fails_" + _fail(case, rng)
        case["kind"] = kind
        cases.append(case)
    return cases


def facts_of(case: dict) -> dict:
    """The raw facts of a case (what a facts file or a JSONL line holds), without `id` and `kind`."""
    return {k: v for k, v in case.items() if k not in ("id", "kind")}


def _json(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Decimal):
        return str(v)                            # written as a JSON number, exactly
    if isinstance(v, int):
        return str(v)
    if isinstance(v, _dt.date):
        return f'"{v.isoformat()}"'
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ",".join(_json(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_json(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def jsonl_line(case: dict) -> str:
    """One JSON Lines record: the case's `id` and its facts (numbers written exactly)."""
    return _json({"id": case["id"], **facts_of(case)})


def write_jsonl(path: str, cases) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for c in cases:
            fh.write(jsonl_line(c) + "\n")
