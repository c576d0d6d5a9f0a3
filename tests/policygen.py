"""A seeded generator of random, well-typed policy sets and facts, for the differential tests.

`generate(seed)` gives the files of a policy set (two policies: `g.main`, and `g.local`, which reads
and amends `g.main`) and `facts(seed, n)` gives facts for it. Every construct of the language is
produced: numbers, percentages, dates and durations, strings, booleans, a nullable record, lists of
scalars and of records, every binder (nested, item field against item field, item against an outer
value), `in` on strings and on lists, `if`, every builtin, rules that read rules, parameters
(single values, tables by year, dated steps), exceptions and an amendment from the other file.
Facts leave inputs and record fields out at random.
"""
from __future__ import annotations

import datetime
import random
from decimal import Decimal

NUM, STR, BOOL, DATE, DUR, LNUM, LREC, LSTR = "num", "str", "bool", "date", "dur", "lnum", "lrec", "lstr"

STRINGS = ["A", "B", "C-D", "ABC-DEF", "", "b"]
INPUTS = {  # name: (type, declaration)
    "n1": (NUM, "{type: number}"), "n2": (NUM, "{type: number}"), "i1": (NUM, "{type: integer}"),
    "s1": (STR, "{type: string}"), "b1": (BOOL, "{type: boolean}"), "b2": (BOOL, "{type: boolean}"),
    "d1": (DATE, "{type: date}"), "d2": (DATE, "{type: date}"),
    "xs": (LNUM, "{type: list, items: number}"), "ss": (LSTR, "{type: list, items: string}"),
    "recs": (LREC, "{type: list, items: {a: number, b: number, code: string, when: date, flag: boolean}}"),
}
REC_FIELDS = {"a": NUM, "b": NUM, "code": STR, "when": DATE, "flag": BOOL}
SP_FIELDS = {"a": NUM, "flag": BOOL}  # `sp`: a nullable record
PARAMS = {  # name: (type, declaration)
    "k": (NUM, "{value: 3}"), "rate": (NUM, "{value: 0.20}"), "label": (STR, '{value: "C-D"}'),
    "tbl": (NUM, "{by_year: {2020: 10, 2021: 12.5, 2023: 0}}"),
    "st": (NUM, "{steps: [{from: 2020-01-01, value: 5}, {from: 2022-07-01, value: 7}]}"),
}
COMPARABLE = (NUM, DATE, STR)
STRING_COLLECTIONS = ['"ABC-DEF"', "ss", '["A", "C-D"]', "label", "s1"]


class Gen:
    def __init__(self, rng: random.Random, rules: dict[str, str], locals_: tuple = (), depth: int = 0):
        self.rng, self.rules, self.locals, self.depth = rng, rules, locals_, depth

    def pick(self, xs):
        return self.rng.choice(xs)

    def sub(self, **kw) -> "Gen":
        g = Gen(self.rng, self.rules, kw.get("locals_", self.locals), kw.get("depth", self.depth + 1))
        return g

    def local_names(self, t: str) -> list[str]:
        out = []
        for name, lt in self.locals:
            if lt == t:
                out.append(name)
            if lt == "rec":
                out += [f"{name}.{f}" for f, ft in REC_FIELDS.items() if ft == t]
        return out

    def leaf(self, t: str) -> str:
        r = self.rng.random()
        names = self.local_names(t)
        if names and r < 0.45:
            return self.pick(names)
        rules = [n for n, rt in self.rules.items() if rt == t]
        if rules and r < 0.6:
            return self.pick(rules)
        inputs = [n for n, (it, _) in INPUTS.items() if it == t]
        params = [n for n, (pt, _) in PARAMS.items() if pt == t]
        if (inputs or params) and r < 0.85:
            return self.pick(inputs + params)
        return self.literal(t)

    def literal(self, t: str) -> str:
        rng = self.rng
        if t == NUM:
            return self.pick(["0", "1", "2", "3", "-1", "0.5", "1.25", "20%", "100", "7"])
        if t == STR:
            return '"' + self.pick(STRINGS) + '"'
        if t == BOOL:
            return self.pick(["true", "false"])
        if t == DATE:
            return self.pick(["2020-02-29", "2021-06-30", "2022-01-31", "2023-12-31", "1990-05-01"])
        if t == DUR:
            return self.pick(["1 year", "2 months", "10 days", "2 weeks", "0 days"])
        if t == LNUM:
            return self.pick(["range(0, 0)", "[1, 2]", "[0, 3, 3]", "[1.5]"])  # `[]` has no item type
        if t == LSTR:
            return self.pick(['["A", "C-D"]', '["b"]'])
        if t == LREC:
            return "recs"
        raise AssertionError(t)

    def expr(self, t: str) -> str:
        if self.depth >= 4 or self.rng.random() < 0.25:
            return self.leaf(t)
        g = self.sub()
        forms = getattr(self, "e_" + t)(g)
        return "(" + self.pick(forms)() + ")"  # brackets change no tree, and keep precedence out of the way

    def e_num(self, g):
        return [
            lambda: f"{g.expr(NUM)} {self.pick(['+', '-', '*', '/'])} {g.expr(NUM)}",
            lambda: f"-({g.expr(NUM)})",
            lambda: f"if {g.expr(BOOL)} then {g.expr(NUM)} else {g.expr(NUM)}",
            lambda: f"{self.pick(['abs', 'round'])}({g.expr(NUM)})",
            lambda: f"round({g.expr(NUM)}, {self.pick(['0', '1', '2', '-1'])})",
            lambda: f"len({g.expr(self.pick([LNUM, STR, LREC]))})",
            lambda: f"{self.pick(['year', 'month', 'day', 'age'])}({g.expr(DATE)})",
            lambda: f"{self.pick(['years_between', 'months_between', 'days_between'])}({g.expr(DATE)}, {g.expr(DATE)})",
            lambda: f"{self.pick(['min', 'max'])}({g.expr(NUM)}, {g.expr(NUM)})",
            lambda: f"{self.pick(['min', 'max'])}({g.expr(LNUM)})",
            lambda: self.binder(self.pick(["count"]), BOOL),
            lambda: self.binder(self.pick(["sum", "min", "max"]), NUM),
            lambda: f"tbl[{self.pick(['2020', '2021', '2022', 'year(today) - 1', 'i1', '2020.5'])}]",
            lambda: f"st[{g.expr(DATE)}]",
            lambda: f"if sp != null then sp.a else {g.expr(NUM)}",
        ]

    def e_str(self, g):
        return [
            lambda: f"{g.expr(STR)} + {g.expr(STR)}",
            lambda: f"if {g.expr(BOOL)} then {g.expr(STR)} else {g.expr(STR)}",
        ]

    def e_date(self, g):
        return [
            lambda: f"{g.expr(DATE)} {self.pick(['+', '-'])} {g.expr(DUR)}",
            lambda: f"{g.expr(DUR)} + {g.expr(DATE)}",
            lambda: "today",
            lambda: f"date({self.pick(['2021', '2024', 'i1'])}, {self.pick(['2', '6', '13'])}, {self.pick(['29', '30', '1'])})",
            lambda: f"{self.pick(['min', 'max'])}({g.expr(DATE)}, {g.expr(DATE)})",
            lambda: self.binder(self.pick(["min", "max"]), DATE),
        ]

    def e_dur(self, g):
        return [
            lambda: f"{self.pick(['years', 'months', 'weeks', 'days'])}({self.pick(['1', '2', 'i1', '0.5'])})",
            lambda: f"{g.expr(DUR)} {self.pick(['+', '-'])} {g.expr(DUR)}",
            lambda: f"-({g.expr(DUR)})",
        ]

    def e_lnum(self, g):
        return [
            lambda: f"[{g.expr(NUM)}, {g.expr(NUM)}]",
            lambda: self.pick(["range(0, 3)", "range(1, 0)", "range(i1, i1 + 2)", "range(i1, 3)"]),  # short lists
            lambda: self.binder("map", NUM, over=self.pick([LNUM, LREC])),
            lambda: self.binder("filter", BOOL, over=LNUM),
        ]

    def e_lstr(self, g):
        return [lambda: self.binder("map", STR, over=LREC), lambda: f"[{g.expr(STR)}]"]

    def e_lrec(self, g):
        return [lambda: self.binder("filter", BOOL, over=LREC)]

    def e_bool(self, g):
        def compare():
            t = self.pick(COMPARABLE + (BOOL, DUR))
            ops = ["==", "!="] if t in (BOOL, DUR) else ["==", "!=", "<", "<=", ">", ">="]
            return f"{g.expr(t)} {self.pick(ops)} {g.expr(t)}"
        return [
            compare, compare,
            lambda: f"{g.expr(BOOL)} {self.pick(['and', 'or'])} {g.expr(BOOL)}",
            lambda: f"{g.expr(BOOL)} and {g.expr(BOOL)} and {g.expr(BOOL)}",
            lambda: f"{g.expr(BOOL)} or {g.expr(BOOL)} or {g.expr(BOOL)}",
            lambda: f"not ({g.expr(BOOL)})",
            lambda: f"{g.expr(NUM)} {self.pick(['in', 'not in'])} {g.expr(LNUM)}",
            lambda: f"{g.expr(STR)} {self.pick(['in', 'not in'])} {self.pick([g.expr(STR), g.expr(LSTR)])}",
            lambda: f"if {g.expr(BOOL)} then {g.expr(BOOL)} else {g.expr(BOOL)}",
            lambda: self.binder(self.pick(["all", "any"]), BOOL),
            lambda: "sp != null and " + self.pick(["sp.flag", f"sp.a > {g.expr(NUM)}"]),
            lambda: "sp == null or " + self.pick(["sp.flag", f"sp.a <= {g.expr(NUM)}"]),
            lambda: self.item_shapes(),
        ]

    def binder(self, kind: str, body_t: str, over: str | None = None) -> str:
        over = over or self.pick([LNUM, LREC, LREC, LSTR])
        var = f"v{len(self.locals)}"
        coll = self.sub().expr(over)
        item_t = {LNUM: NUM, LREC: "rec", LSTR: STR}[over]
        body = self.sub(locals_=self.locals + ((var, item_t),)).expr(body_t)
        return f"{kind}({var} in {coll}: {body})"

    def item_shapes(self) -> str:
        """The shapes the fast path fuses: item fields against an invariant, against each other, scaled."""
        var = f"v{len(self.locals)}"
        kind = self.pick(["all", "any", "filter", "count"])
        op = self.pick(["==", "!=", "<", "<=", ">", ">="])
        outer = self.sub().expr(NUM)
        body = self.pick([
            f"{var}.a {op} {outer}", f"{outer} {op} {var}.a", f"{var}.a {op} {var}.b",
            f"{var}.a {op} {var}.a", f"{var}.b {op} {self.pick(['rate', '2', '0.5'])} * {var}.a",
            f"{var}.a * {self.pick(['k', '3'])} {op} {var}.b", f"{var}.a {op} {var}.b + 1",
            f"{var}.code in {self.pick(STRING_COLLECTIONS)}",
            f"{var}.flag and {var}.a {op} {var}.b",
            f"{var}.a > 0 and {var}.a {op} {var}.b",
            f"any(w in recs: w.a == {var}.a)",
        ])
        e = f"{kind}({var} in recs: {body})"
        if kind == "filter":
            return f"len({e}) > 0"
        if kind == "count":
            return f"{e} {op} {self.pick(['0', '1', '2'])}"
        if self.rng.random() < 0.2:
            return f"all(z in xs: any({var} in recs: {var}.a == z))"
        return e


def generate(seed: int) -> dict[str, str]:
    """The files of a random policy set: {file name: YAML text}."""
    rng = random.Random(seed)
    rules: dict[str, str] = {}
    rule_lines = []
    exception_rules = []
    for i in range(rng.randint(2, 6)):
        t = rng.choice([BOOL, BOOL, BOOL, NUM, NUM, STR, DATE, LNUM])
        g = Gen(rng, dict(rules))
        name = f"r{i}"
        if t in (BOOL, NUM, STR) and rng.random() < 0.3:
            excs = []
            for j in range(rng.randint(1, 3)):
                excs.append((g.expr(BOOL), g.expr(t)))
            rule_lines += [f"  {name}:", "    label: a rule with exceptions", f"    value: {_q(g.expr(t))}",
                           "    exceptions:"]
            for w, v in excs:
                rule_lines += [f"      - when: {_q(w)}", f"        value: {_q(v)}"]
            exception_rules.append((name, t))
        else:
            rule_lines += [f"  {name}:", "    label: a rule", f"    expr: {_q(g.expr(t))}"]
        rules[name] = t
    outcome_lines = []
    g = Gen(rng, dict(rules))
    for i in range(rng.randint(1, 3)):
        outcome_lines += [f"  o{i}:", "    label: an outcome", f"    when: {_q(g.expr(BOOL))}"]
        if rng.random() < 0.6:
            outcome_lines.append("    values:")
            for j in range(rng.randint(1, 2)):
                outcome_lines.append(f"      v{j}: {_q(g.expr(rng.choice([NUM, STR, DATE, LNUM, BOOL, DUR])))}")
    inputs = [f"  {n}: {d}" for n, (_, d) in INPUTS.items()]
    inputs.append("  sp: {type: record, nullable: true, fields: {a: number, flag: boolean}}")
    params = [f"  {n}: {d}" for n, (_, d) in PARAMS.items()]
    main = "\n".join(["id: g.main", "title: generated", "inputs:", *inputs, "parameters:", *params,
                      "rules:", *rule_lines, "outcomes:", *outcome_lines]) + "\n"
    files = {"main.yaml": main}
    # the other policy reads the first one's rules and amends one of its rules with exceptions; it declares
    # the same inputs and parameters (one facts file serves both)
    local = ["id: g.local", "title: generated too", "uses:", "  main: g.main", "inputs:", *inputs,
             "parameters:", *params]
    if rng.random() < 0.3:  # its amendment counts only while it is in force
        local += ["in_force:", f"  from: {rng.choice(['2021-01-01', '2022-08-15'])}"]
    if exception_rules and rng.random() < 0.7:
        name, t = rng.choice(exception_rules)
        before = {f"main.{n}": rt for n, rt in rules.items() if int(n[1:]) < int(name[1:])}
        ag = Gen(rng, before)
        local += ["amendments:", f"  main.{name}:", f"    - when: {_q(ag.expr(BOOL))}",
                  f"      value: {_q(ag.expr(t))}", "      cite: local clause"]
    lg = Gen(rng, {f"main.{n}": t for n, t in rules.items()})
    local += ["outcomes:", "  l0:", "    label: a local outcome", f"    when: {_q(lg.expr(BOOL))}"]
    files["local.yaml"] = "\n".join(local) + "\n"
    return files


def facts(seed: int, n: int) -> list[tuple[dict, datetime.date]]:
    """`n` random facts documents (plain data, as a facts file gives them) with an as-of date each."""
    rng = random.Random(seed * 7919 + 1)
    out = []

    def num():
        return rng.choice([0, 1, 2, 3, -1, Decimal("0.5"), Decimal("2.25"), 10, 100, 7])

    def date():
        return rng.choice(["2020-02-29", "2021-06-30", "2022-01-31", "2000-03-01", "2024-02-29", "1990-05-01"])

    def maybe(d, key, value, p=0.15):
        if rng.random() >= p:
            d[key] = value

    for _ in range(n):
        f: dict = {}
        maybe(f, "n1", num())
        maybe(f, "n2", num())
        maybe(f, "i1", rng.choice([0, 1, 2, 2021, 2022]))
        maybe(f, "s1", rng.choice(STRINGS))
        maybe(f, "b1", rng.random() < 0.5)
        maybe(f, "b2", rng.random() < 0.5)
        maybe(f, "d1", date())
        maybe(f, "d2", date())
        maybe(f, "xs", [num() for _ in range(rng.randint(0, 4))])
        maybe(f, "ss", [rng.choice(STRINGS) for _ in range(rng.randint(0, 3))])
        recs = []
        for _ in range(rng.randint(0, 4)):
            r: dict = {}
            maybe(r, "a", num(), 0.1)
            maybe(r, "b", num(), 0.1)
            maybe(r, "code", rng.choice(STRINGS), 0.1)
            maybe(r, "when", date(), 0.1)
            maybe(r, "flag", rng.random() < 0.5, 0.1)
            recs.append(r)
        maybe(f, "recs", recs)
        sp = rng.choice([None, {"a": num(), "flag": True}, {"flag": False}, {"a": num()}])
        maybe(f, "sp", sp)
        as_of = rng.choice([datetime.date(2021, 3, 1), datetime.date(2022, 8, 15), datetime.date(2024, 2, 29),
                            datetime.date(2019, 1, 1)])
        out.append((f, as_of))
    return out


def _q(expr: str) -> str:
    """An expression as a YAML scalar: single-quoted, so `: ` and `#` are safe."""
    return "'" + expr.replace("'", "''") + "'"
