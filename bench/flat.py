"""The second scenario: one outcome whose condition is one flat rule of five comparisons over scalar
facts and a test over one list of numbers. Evaluating it is cheap, so the fixed cost of an `evaluate`
call (the case, the result objects) dominates, where measure 1's loops over records dominate the first.
"""
from __future__ import annotations

import datetime as _dt
import random
from decimal import Decimal

AS_OF = _dt.date(2025, 6, 1)
POLICY_ID, OUTCOME = "bench.flat", "eligible"

POLICY_YAML = """\
id: bench.flat
title: A flat eligibility rule (benchmark)
inputs:
  age: {type: integer}
  income: {type: number}
  household: {type: integer}
  savings: {type: number}
  region: {type: string}
  monthly: {type: list, items: number}
rules:
  qualifies:
    label: qualifies
    expr: >-
      age >= 18 and income < 60000 and household >= 2 and savings <= 20000 and region == "north"
      and all(m in monthly: m < 6000)
outcomes:
  eligible:
    label: is eligible
    when: qualifies
"""

ZEN_EXPR = ('age >= 18 and income < 60000 and household >= 2 and savings <= 20000 and region == "north"'
            " and all(monthly, # < 6000)")


def generate(n: int, seed: int) -> list[dict]:
    """Raw facts: about half qualify; the others fail one condition (boundaries included)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        f = {"age": rng.randint(18, 70), "income": Decimal(rng.randint(10000, 5999999)) / 100,
             "household": rng.randint(2, 6), "savings": Decimal(rng.randint(0, 2000000)) / 100, "region": "north",
             "monthly": [Decimal(rng.randint(0, 599999)) / 100 for _ in range(rng.randint(0, 12))]}
        fail = rng.randrange(12)
        if fail == 0:
            f["age"] = 17
        elif fail == 1:
            f["income"] = Decimal("60000")
        elif fail == 2:
            f["household"] = 1
        elif fail == 3:
            f["savings"] = Decimal("20000.01")
        elif fail == 4:
            f["region"] = "south"
        elif fail == 5:
            f["monthly"] = f["monthly"] + [Decimal("6000")]
        out.append(f)
    return out


def reference(f) -> bool:
    """The rule written by hand, with Decimal."""
    if not (f["age"] >= 18 and f["income"] < 60000 and f["household"] >= 2 and f["savings"] <= 20000
            and f["region"] == "north"):
        return False
    for m in f["monthly"]:
        if not m < 6000:
            return False
    return True


def zen_decide():
    """zen-engine's compiled expression and the conversion of facts to what it takes; None if not installed."""
    try:
        import zen
    except ImportError:
        return None
    evaluate = zen.compile_expression(ZEN_EXPR).evaluate

    def prepare(f):
        return {k: ([float(x) for x in v] if isinstance(v, list) else float(v) if isinstance(v, Decimal) else v)
                for k, v in f.items()}
    return prepare, (lambda x: evaluate(x) is True)
