#!/usr/bin/env python3
"""What the fast path's forms pay: the same cases decided by `evaluate` with the fast path as shipped,
with its fused binders replaced by the plain strict loop, and by the three-valued closures alone.

    python bench/fastpath.py

CPU microseconds a case, median of 5 rounds of 2000 cases, for scenario 1 (measure 1) and scenario 2
(bench/flat.py). See bench/README.md.
"""
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import caseload as C, flat as F
from interpreter import load, read_facts
from interpreter.evaluation import strict as S

def m1():
    r = load([os.path.join(os.path.dirname(HERE), 'policies', 'urumqi')]); raw, _ = read_facts("<p>", text=C.PARAMS_YAML)
    pset, _ = r.policy_set.with_params(raw)
    facts = [pset.check_facts(C.facts_of(c))[0] for c in C.generate(2000, 20250601)]
    return pset, facts, C.AS_OF, [(C.POLICY_ID, C.OUTCOME)]
def flat():
    d = tempfile.mkdtemp(); open(d + '/f.yaml', 'w').write(F.POLICY_YAML)
    pset = load([d]).policy_set
    return pset, [pset.check_facts(r)[0] for r in F.generate(2000, 1)], F.AS_OF, [(F.POLICY_ID, F.OUTCOME)]

def timeit(pset, facts, as_of, sel, fast):
    ev = pset.evaluate if fast else (lambda f, a, s: pset._evaluate(f, a, s, fast=False))
    for f in facts[:200]: ev(f, as_of, sel)
    t = time.process_time()
    for f in facts: ev(f, as_of, sel)
    return (time.process_time() - t) / len(facts) * 1e6

orig_binder, orig_apply2 = S.StrictCompiler.binder, S.apply2
def no_fusion(self, n, coll, body, depth):
    return S.binder(n.kind, coll, body)
variants = ["fast path (as shipped)", "fast path, no fused binders", "three-valued only"]
res = {}
for name, mk in [("measure 1", m1), ("scenario 2", flat)]:
    for r in range(5):
        for v in variants:
            S.StrictCompiler.binder = no_fusion if "no fused" in v else orig_binder
            pset, facts, as_of, sel = mk()
            res.setdefault((name, v), []).append(timeit(pset, facts, as_of, sel, v != "three-valued only"))
S.StrictCompiler.binder = orig_binder
for (name, v), xs in res.items():
    print(f"{name:12} {v:32} {statistics.median(xs):6.2f} us  (rounds: {', '.join(f'{x:.2f}' for x in xs)})")
