"""The expression parser runs Lark's own LALR tables without importing Lark; this checks that it is Lark.

interpreter/parser.py takes the parse table, the contextual lexer's terminals and the tree shaping of
every rule from the Lark parser once, keeps them as JSON in the user's cache folder
(grammar.tables.json, beside Lark's own grammar.lark.cache) and parses with them. Lark itself parses
whenever the tables find an error, so errors are always Lark's.

(a) the same trees: for every expression in policies/ and tests/cases, for generated expressions and
    for mutated ones, the table-driven parse gives exactly Lark's tree (rule names, tokens, positions,
    container positions), and it gives up exactly where Lark raises;
(b) the same results: parse_expression gives the same AST, spans included, or the same diagnostic,
    with the tables as with Lark alone;
(c) the cache: the files are private (folder 0700, tables 0600), tied to the grammar text, Lark's and
    Python's versions and a checksum; a damaged, truncated, foreign or unusable file is rebuilt or
    ignored, never trusted; a folder that is not the user's is not read at all; POLICY_NO_PARSER_CACHE
    turns the cache off.

Every test runs in a temporary XDG_CACHE_HOME, with the parser module's state reset and restored, so the
user's own cache is never read or written here.
"""
from __future__ import annotations

import dataclasses
import json
import os
import pickle
import random
import stat
import sys
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lark.exceptions import LarkError

from interpreter import loader
from interpreter import parser as P
from interpreter.diagnostics import Diagnostic, Span

ROOT = Path(__file__).resolve().parent.parent
GRAMMAR = ROOT / "interpreter" / "grammar.lark"
TABLES = "grammar.tables.json"
LARK_CACHE = "grammar.lark.cache"


# ------------------------------------------------------------------ fixtures

@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    """An empty cache home, and the parser module as in a new process (restored after the test).

    Returns the parser's cache folder (not created yet)."""
    home = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.delenv("POLICY_NO_PARSER_CACHE", raising=False)
    monkeypatch.setattr(P, "_tables", None)
    monkeypatch.setattr(P, "_retaken", False)
    monkeypatch.setattr(P, "_parser", None)
    return home / "policy-interpreter"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Tables taken from a Lark parser built in a temporary cache home, and that Lark parser."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        mp.delenv("POLICY_NO_PARSER_CACHE", raising=False)
        mp.setattr(P, "_parser", None)
        mp.setattr(P, "_tables", None)
        tables = P._load_tables()
        lark = P._get_parser()
    assert isinstance(tables, P._Tables)
    return tables, lark


@pytest.fixture
def both(built, cache_home, monkeypatch):
    """parse(text, tables=True|False): parse_expression with the tables, or with Lark alone."""
    tables, lark = built
    monkeypatch.setattr(P, "_parser", lark)

    def parse(text: str, tables_on: bool):
        monkeypatch.setattr(P, "_tables", tables if tables_on else False)
        result = outcome(text)
        if tables_on:  # the tables stayed in use: they never failed where Lark parses
            assert P._tables is tables and not P._retaken, text
        return result

    return parse


def dump(x):
    """An AST as nested tuples, with every field: spans, name spans and literal texts too."""
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return (type(x).__name__,) + tuple((f.name, dump(getattr(x, f.name))) for f in dataclasses.fields(x))
    if isinstance(x, tuple):
        return tuple(dump(y) for y in x)
    return type(x).__name__, repr(x)


def outcome(text: str):
    try:
        return "ast", dump(P.parse_expression(text))
    except P.ParseFailure as e:
        d = e.diagnostic
        return "diagnostic", (d.code, d.message, d.span, d.severity, d.help)


def canon(t) -> list | None:
    """What the AST builder reads of a Lark tree (or of the tables' tree): a flat pre-order list of
    trees (rule name, positions, container positions, number of children), tokens and Nones.
    Flat, so that trees thousands of levels deep compare without recursion."""
    if t is None:
        return None
    out: list = []
    stack = [t]
    while stack:
        x = stack.pop()
        if x is None:
            out.append(None)
        elif isinstance(x, str):  # a token
            out.append(("token", x.type, str(x), x.start_pos, x.end_pos))
        else:
            m = x.meta
            out.append(("tree", x.data, m.empty, getattr(m, "start_pos", None), getattr(m, "end_pos", None),
                        getattr(m, "container_start_pos", None), getattr(m, "container_end_pos", None),
                        len(x.children)))
            stack.extend(reversed(x.children))
    return out


def lark_tree(lark, text: str):
    try:
        return canon(lark.parse(text))
    except LarkError:
        return None


def same_tree(built, text: str) -> None:
    tables, lark = built
    expected = lark_tree(lark, text)
    got = P._run_tables(tables, text)
    assert canon(got) == expected, text


# ------------------------------------------------------------------ expressions

def _shipped_expressions() -> list[str]:
    """Every text the loader parses as an expression in policies/ and tests/cases (recorded, not parsed;
    tests/cases/bad-facts holds facts, not policies)."""
    seen: list[str] = []

    def record(text, file="<expr>", mapper=None):
        seen.append(text)
        raise P.ParseFailure(Diagnostic("recorded", "recorded", None))

    files = sorted(p for d in ("policies", "tests/cases/good", "tests/cases/bad")
                   for p in (ROOT / d).rglob("*") if p.suffix in (".yaml", ".yml"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(loader, "parse_expression", record)
        for f in files:
            loader.load_file(str(f))
    return sorted(set(seen))


@pytest.fixture(scope="module")
def shipped() -> list[str]:
    texts = _shipped_expressions()
    assert len(texts) > 150  # the shipped policies hold a couple of hundred distinct expressions
    return texts


ATOMS = ["x", "a.b", "f(x)", "1", "2.5", "10%", "2024-01-01", "3 years", '"s"', '"a\\"b\\n"', "true", "false", "null",
         "[1, 2]", "[]", "xs[0]", "(a)", "-1", "all(x in xs: x > 1)", "count(y in ys: y)", "max(a, b)", "min()",
         "sum(x in xs: x.v)", "if a then b else c", "not a", "a not in b", "a in [1]", "x # note\n", "5 days",
         "1 week", "(if a then 1 else 2) + 3", "x.y.z", "f(a)(b)", "a[b][c]", "today", "nota", "ifx", "in_",
         "truex", "[1,]", "f(a,)", "0.50%", "2024-13-45", "1.2.3", "x\t", "\n y"]
OPS = [" + ", " - ", " * ", " / ", " and ", " or ", " == ", " != ", " <= ", " >= ", " < ", " > ", " in ", " not in ",
       "+", "-", "*", "/", "==", "<"]
CHARS = list("()[]{},.:;+-*/<>=!%#\"'\\ \t\n\r0123456789abxyzIFifandornotinthenelseé_") + [
    "if", "then", "else", "and", "or", "not", "in", "true", "null", " ", "  ", ":", "x in xs:", "\u00a0", "\f"]


def generate(rnd: random.Random, depth: int = 0) -> str:
    r = rnd.random()
    if depth > 4 or r < 0.3:
        return rnd.choice(ATOMS)
    if r < 0.6:
        return generate(rnd, depth + 1) + rnd.choice(OPS) + generate(rnd, depth + 1)
    if r < 0.7:
        return "(" + generate(rnd, depth + 1) + ")"
    if r < 0.75:
        return "not " + generate(rnd, depth + 1)
    if r < 0.8:
        return "-" + generate(rnd, depth + 1)
    if r < 0.85:
        return "if " + generate(rnd, depth + 1) + " then " + generate(rnd, depth + 1) + " else " + generate(rnd, depth + 1)
    if r < 0.9:
        args = ", ".join(generate(rnd, depth + 1) for _ in range(rnd.randint(0, 3)))
        return rnd.choice(["f", "all", "max", "g", "count", "date"]) + "(" + args + ")"
    if r < 0.95:
        return "[" + ", ".join(generate(rnd, depth + 1) for _ in range(rnd.randint(0, 3))) + "]"
    return generate(rnd, depth + 1) + rnd.choice([".f", "[0]", "[x]", " years", "%", " days", ".1"])


def mutate(rnd: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rnd.randint(1, 3)):
        i = rnd.randrange(len(chars) + 1)
        r = rnd.random()
        if r < 0.5 or i == len(chars):
            chars.insert(i, rnd.choice(CHARS))
        elif r < 0.8:
            del chars[i]
        else:
            chars[i] = rnd.choice(CHARS)
    return "".join(chars)


def corpus(shipped: list[str], n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        r = rnd.random()
        out.append(generate(rnd) if r < 0.4 else mutate(rnd, rnd.choice(shipped) if r < 0.7 else generate(rnd)))
    return out


EDGES = [
    "1", "x", " x ", "x # comment", "# only a comment", "a\n  and\n  b", "a\r\nor b", "\tnot\tx", "x\f", "é",
    "1 year", "1 years", "12 fortnights", "1.5 days", "1234567 days", "100%", "1.5%", "% 1", "1 %", "2024-02-30",
    "20240-01-01", "2024-01-011", "1.", ".5", "01", "00.10", '"unterminated', '"bad \\q escape"', '"a\nb"', "'single'",
    "a = b", "a == = b", "a <> b", "a =< b", "not not not x", "- - x", "-(1)", "--1", "x.1", "x.", "x[]", "x[1,2]",
    "f(", "f)", "f(x in xs: y)", "all(x in xs: y, z)", "all(x: y)", "all(1 in xs: y)", "g(x in xs: y)", "a: b",
    "if a then b", "if a then b else", "1 + if a then b else c", "if if a then b else c then d else e",
    "a not b", "a in", "in a", "true.x", "null[0]", "[1, 2][0].x", "f(a)(b)", "x not  in y", "x not\nin y",
    "notx in y", "a andb", "a and b or c and d or e", "(((((x)))))", "[[[[[]]]]]", "a.b.c.d.e.f",
    "a" * 300, "9" * 300, "(" * 250 + "x" + ")" * 250, "-" * 199 + "x", "-" * 250 + "x", "f(" * 210 + ")" * 210,
    "not " * 250 + "x", "x" + " + x" * 2000, "[" * 120 + "]" * 120, "f(" * 150 + ")" * 150, "(" * 300,
    "x" + " or x" * 3000, "x" * P.MAX_EXPRESSION_LENGTH, "x" * (P.MAX_EXPRESSION_LENGTH + 1), "", "   ", "\n",
]


# ------------------------------------------------------------------ (a) the same trees as Lark

def test_tables_are_lark_on_the_shipped_expressions(built, shipped):
    parsed = 0
    for text in shipped:
        same_tree(built, text)
        parsed += P._run_tables(built[0], text) is not None
    assert parsed > 0.9 * len(shipped)  # a few are the deliberate mistakes of tests/cases/bad


@pytest.mark.parametrize("text", EDGES, ids=[repr(t[:30]) + f"[{len(t)}]" for t in EDGES])
def test_tables_are_lark_on_edge_cases(built, text):
    same_tree(built, text)


def test_tables_are_lark_on_generated_and_mutated_expressions(built, shipped):
    texts = corpus(shipped, 2500, seed=20240601)
    parsed = 0
    for text in texts:
        same_tree(built, text)
        parsed += P._run_tables(built[0], text) is not None
    assert 700 < parsed < 2000, parsed  # both parses and errors are well represented


expression_texts = st.recursive(
    st.sampled_from(ATOMS),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(OPS), inner).map("".join),
        inner.map(lambda e: f"({e})"), inner.map(lambda e: f"not {e}"), inner.map(lambda e: f"-{e}"),
        st.tuples(inner, inner, inner).map(lambda t: f"if {t[0]} then {t[1]} else {t[2]}"),
        st.lists(inner, max_size=3).map(lambda xs: "f(" + ", ".join(xs) + ")"),
        st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.tuples(inner, st.sampled_from([".f", "[0]", " years", "%"])).map("".join),
    ),
    max_leaves=12,
)
token_soup = st.lists(st.sampled_from(CHARS + ATOMS + OPS), max_size=12).map("".join)


@settings(max_examples=250, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(text=st.one_of(expression_texts, token_soup))
def test_tables_are_lark_hypothesis(built, text):
    same_tree(built, text)


# ------------------------------------------------------------------ (b) the same ASTs and diagnostics

def test_same_ast_with_and_without_tables_shipped(both, shipped):
    for text in shipped:
        assert both(text, True) == both(text, False), text


@pytest.mark.parametrize("text", EDGES, ids=[repr(t[:30]) + f"[{len(t)}]" for t in EDGES])
def test_same_result_with_and_without_tables_edge_cases(both, text):
    assert both(text, True) == both(text, False)


def test_same_result_with_and_without_tables_generated(both, shipped):
    kinds = {"ast": 0, "diagnostic": 0}
    for text in corpus(shipped, 1000, seed=7):
        with_tables = both(text, True)
        assert with_tables == both(text, False), text
        kinds[with_tables[0]] += 1
    assert kinds["ast"] > 200 and kinds["diagnostic"] > 200, kinds


def test_errors_are_lark_errors(both, monkeypatch):
    """The tables decide no error: whatever they cannot parse, Lark parses again, and Lark's exception
    gives the diagnostic. Nothing they parse goes to Lark."""
    asked = []
    real = P._parse_with_lark
    monkeypatch.setattr(P, "_parse_with_lark", lambda builder, text: asked.append(text) or real(builder, text))
    assert both("a and", True) == ("diagnostic", (
        "parse-error", "unexpected end of expression", Span("<expr>", 1, 5, 1, 6), "error", None))
    assert both("f(x", True)[1][:2] == ("parse-error", "`(` is never closed")
    assert both("a = b", True)[1][1:] == ("unexpected character `=`", Span("<expr>", 1, 3, 1, 4), "error",
                                          "use `==` to compare")
    assert both("a b", True)[1][:2] == ("parse-error", "unexpected `b`")
    assert asked == ["a and", "f(x", "a = b", "a b"]
    for text in ["a and b", "f(x)", "a == b", "all(x in xs: x > 1)", "-1", "\"s\" # c"]:
        assert both(text, True)[0] == "ast"
    assert asked == ["a and", "f(x", "a = b", "a b"]


# ------------------------------------------------------------------ (c) the cache files

def read_tables_file(path: Path) -> tuple[str, dict]:
    crc, _, body = path.read_text(encoding="utf-8").partition("\n")
    return crc, json.loads(body)


def expected_key() -> dict:
    import lark
    return {"format": P._TABLES_FORMAT, "grammar": GRAMMAR.read_text(encoding="utf-8"),
            "options": [["maybe_placeholders", True], ["parser", "lalr"], ["propagate_positions", True]],
            "lark": lark.__version__, "python": list(sys.version_info[:2])}


def fresh_process() -> None:
    """Forget the tables and the Lark parser, as a new run of `policy` would start."""
    P._tables, P._retaken, P._parser = None, False, None


def poisoned(data: dict) -> dict:
    """The tables with `true` and `false` swapped in every lexer: trusted, `true` would parse as false."""
    data = json.loads(json.dumps(data))
    for _terms, unless, _ignore in data["lexers"]:
        words = unless.get("NAME", {})
        if "true" in words:
            words["true"], words["false"] = words["false"], words["true"]
    return data


def is_false_literal(text: str = "true") -> bool:
    node = P.parse_expression(text)
    return node.value is False


def test_cache_files_are_private_and_keyed(cache_home):
    old = os.umask(0)  # the modes must not depend on the umask
    try:
        assert P.parse_expression("a + 1") is not None
    finally:
        os.umask(old)
    assert isinstance(P._tables, P._Tables)
    assert stat.S_IMODE(cache_home.stat().st_mode) == 0o700
    tables = cache_home / TABLES
    assert stat.S_IMODE(tables.stat().st_mode) == 0o600
    assert (cache_home / LARK_CACHE).is_file()
    assert sorted(p.name for p in cache_home.iterdir()) == [LARK_CACHE, TABLES]  # no temporary file left behind
    crc, data = read_tables_file(tables)
    body = tables.read_text(encoding="utf-8").partition("\n")[2]
    assert crc == format(zlib.crc32(body.encode("utf-8")), "08x")
    assert data["key"] == expected_key()
    assert (cache_home / LARK_CACHE).read_bytes().split(b"\n", 1)[0].isalnum()  # Lark's sha256 line


def test_a_later_run_uses_the_tables_without_lark(cache_home, monkeypatch):
    P.parse_expression("a + 1")
    fresh_process()

    def no_lark():
        raise AssertionError("Lark was needed")

    monkeypatch.setattr(P, "_get_parser", no_lark)
    assert P.parse_expression("all(x in xs: x.a > 1) and b") is not None
    assert isinstance(P._tables, P._Tables) and P._parser is None


DAMAGE = {
    "a changed character": lambda raw, data: raw[: len(raw) // 2] + chr(ord(raw[len(raw) // 2]) ^ 1) + raw[len(raw) // 2 + 1:],
    "truncated": lambda raw, data: raw[: len(raw) // 2],
    "only the checksum": lambda raw, data: raw.partition("\n")[0] + "\n",
    "empty": lambda raw, data: "",
    "not a checksum": lambda raw, data: "zz" + raw[2:],
    "poisoned, old checksum": lambda raw, data: raw.partition("\n")[0] + "\n" + json.dumps(poisoned(data), separators=(",", ":")),
}


def checksummed(data: dict) -> str:
    body = json.dumps(data, separators=(",", ":"))
    return f"{zlib.crc32(body.encode('utf-8')):08x}\n{body}"


FOREIGN = {
    "another Lark": lambda key: {**key, "lark": "0.0.1"},
    "another Python": lambda key: {**key, "python": [2, 7]},
    "another grammar": lambda key: {**key, "grammar": key["grammar"].replace("->", "-> ", 1)},
    "another format": lambda key: {**key, "format": key["format"] + 1},
    "other options": lambda key: {**key, "options": []},
    "no key": lambda key: None,
}


def rebuilt_file_is_good(cache_home: Path, reference: dict) -> None:
    crc, data = read_tables_file(cache_home / TABLES)
    assert crc == format(zlib.crc32((cache_home / TABLES).read_text(encoding="utf-8").partition("\n")[2].encode()), "08x")
    assert data == reference
    assert stat.S_IMODE((cache_home / TABLES).stat().st_mode) == 0o600


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_tables_file_is_rebuilt(cache_home, damage):
    P.parse_expression("true")
    path = cache_home / TABLES
    reference = read_tables_file(path)[1]
    path.write_text(DAMAGE[damage](path.read_text(encoding="utf-8"), reference), encoding="utf-8")
    fresh_process()
    assert not is_false_literal("true")
    assert isinstance(P._tables, P._Tables) and P._parser is not None  # taken from Lark again
    rebuilt_file_is_good(cache_home, reference)


def test_a_tables_file_that_is_not_text_is_rebuilt(cache_home):
    P.parse_expression("true")
    reference = read_tables_file(cache_home / TABLES)[1]
    (cache_home / TABLES).write_bytes(b"\xff\xfe\x00garbage")
    fresh_process()
    assert not is_false_literal("true")
    rebuilt_file_is_good(cache_home, reference)


def test_tables_that_cannot_be_written_are_used_from_memory(cache_home):
    """grammar.tables.json cannot be replaced (here: it is a directory): the tables are taken from Lark
    for this run, and nothing is left behind."""
    cache_home.mkdir(parents=True, mode=0o700)
    (cache_home / TABLES).mkdir()
    assert outcome("a and b") == outcome_with_lark("a and b")
    assert isinstance(P._tables, P._Tables)
    assert sorted(p.name for p in cache_home.iterdir()) == [LARK_CACHE, TABLES]
    assert (cache_home / TABLES).is_dir()


@pytest.mark.parametrize("foreign", list(FOREIGN))
def test_a_foreign_tables_file_is_rebuilt(cache_home, foreign):
    """A whole, checksummed file made for another grammar, Lark, Python or format is not used."""
    P.parse_expression("true")
    reference = read_tables_file(cache_home / TABLES)[1]
    data = poisoned(reference)
    key = FOREIGN[foreign](reference["key"])
    if key is None:
        del data["key"]
    else:
        data["key"] = key
    (cache_home / TABLES).write_text(checksummed(data), encoding="utf-8")
    fresh_process()
    assert not is_false_literal("true")
    rebuilt_file_is_good(cache_home, reference)


def test_the_poison_works_when_the_file_is_whole(cache_home):
    """The control for the tests above: a whole file with our key is used as it is (the checksum finds
    damage, not tampering: only the owner can write the folder, see the folder tests below)."""
    P.parse_expression("true")
    reference = read_tables_file(cache_home / TABLES)[1]
    (cache_home / TABLES).write_text(checksummed(poisoned(reference)), encoding="utf-8")
    fresh_process()
    assert is_false_literal("true")
    assert P._parser is None


UNUSABLE = {
    "states empty": lambda d: {**d, "states": []},
    "start out of range": lambda d: {**d, "start": 10_000},
    "rules missing": lambda d: {k: v for k, v in d.items() if k != "rules"},
    "rules not rows": lambda d: {**d, "rules": [1, 2, 3]},
    "state_lexer short": lambda d: {**d, "state_lexer": d["state_lexer"][:-1]},
    "a list": lambda d: [d],
}


@pytest.mark.parametrize("unusable", list(UNUSABLE))
def test_an_unusable_tables_file_is_rebuilt(cache_home, unusable):
    P.parse_expression("true")
    reference = read_tables_file(cache_home / TABLES)[1]
    (cache_home / TABLES).write_text(checksummed(UNUSABLE[unusable](reference)), encoding="utf-8")
    fresh_process()
    assert outcome("if a then [1, 2][0] else 3 years") == outcome_with_lark("if a then [1, 2][0] else 3 years")
    assert isinstance(P._tables, P._Tables) and P._parser is not None
    rebuilt_file_is_good(cache_home, reference)


def outcome_with_lark(text: str):
    saved = P._tables
    P._tables = False
    try:
        return outcome(text)
    finally:
        P._tables = saved


def test_tables_that_fail_where_lark_parses_are_taken_again(cache_home):
    """Damage the checksum cannot see (a whole file, our key, a lexer without numbers): the first
    expression the tables cannot parse but Lark can makes them be taken from Lark again, once a run."""
    P.parse_expression("true")
    reference = read_tables_file(cache_home / TABLES)[1]
    broken = json.loads(json.dumps(reference))
    for terms, _unless, _ignore in broken["lexers"]:
        terms[:] = [t for t in terms if t[0] != "NUMBER"]
    (cache_home / TABLES).write_text(checksummed(broken), encoding="utf-8")
    fresh_process()
    first = outcome("x")
    assert P._parser is None  # the file's tables, Lark not needed
    assert first == outcome_with_lark("x")
    assert outcome("x + 12") == outcome_with_lark("x + 12")
    assert P._retaken and isinstance(P._tables, P._Tables)
    assert P._run_tables(P._tables, "x + 12") is not None
    rebuilt_file_is_good(cache_home, reference)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_a_damaged_lark_cache_is_rebuilt(cache_home, damage):
    P.parse_expression("true")
    lark_file = cache_home / LARK_CACHE
    good = lark_file.read_bytes()
    lark_file.write_bytes({"garbage": b"not a cache\n\x00\x01", "truncated": good[: len(good) // 2], "empty": b""}[damage])
    (cache_home / TABLES).unlink()  # so that Lark is needed
    fresh_process()
    assert outcome("a.b[1] + f(x) * 10%") == outcome_with_lark("a.b[1] + f(x) * 10%")
    rewritten = lark_file.read_bytes()
    assert rewritten.split(b"\n", 1)[0] == good.split(b"\n", 1)[0] and len(rewritten) > 1000  # written again by Lark
    assert (cache_home / TABLES).is_file()


@pytest.mark.parametrize("value", ["1", "yes", "0"])
def test_no_parser_cache(cache_home, monkeypatch, value):
    """POLICY_NO_PARSER_CACHE (any non-empty value): no folder, no file, Lark parses everything."""
    monkeypatch.setenv("POLICY_NO_PARSER_CACHE", value)
    texts = ["a + 1", "all(x in xs: x > 1)", "a and", "if a then b else c"]
    results = [outcome(t) for t in texts]
    assert P._tables is False and P._cache_file() is False and P._cache_folder() is None
    assert not cache_home.parent.exists()
    monkeypatch.setenv("POLICY_NO_PARSER_CACHE", "")  # empty: the cache is used
    fresh_process()
    assert [outcome(t) for t in texts] == results
    assert isinstance(P._tables, P._Tables) and (cache_home / TABLES).is_file()


# -- whose folder

LOADED: list[bool] = []


def _record_unpickling():
    """Called when a planted grammar.lark.cache is unpickled (Lark reads its cache with pickle)."""
    LOADED.append(True)
    return []


class _Planted:
    def __reduce__(self):
        return _record_unpickling, ()


def plant(folder: Path) -> None:
    """A Lark cache that reports being unpickled, and poisoned tables that would be used if read."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    (folder / LARK_CACHE).write_bytes(b"0" * 64 + b"\n" + pickle.dumps(_Planted()))
    LOADED.clear()


def give_away(folder: Path, how: str, monkeypatch) -> None:
    """Make the cache folder not the user's own: for real where this user can (root can give a folder
    away; only others than root are refused writing by a folder's mode), else by faking what the
    interpreter asks the system."""
    if how == "owned by another user":
        if os.geteuid() == 0:
            os.chown(folder, 4242, 4242)
        else:
            real_stat = os.stat

            def stat(path, *args, **kwargs):
                st = real_stat(path, *args, **kwargs)
                if os.path.abspath(path) != str(folder):
                    return st
                fields = list(st)
                fields[4] = st.st_uid + 4242  # st_uid
                return os.stat_result(fields)
            monkeypatch.setattr(os, "stat", stat)
    elif how == "another user runs policy":
        real = os.getuid()
        monkeypatch.setattr(os, "getuid", lambda: real + 4242)
    elif how == "not writable":
        folder.chmod(0o500)
        if os.geteuid() == 0:  # root may write it anyway: ask as another user would be answered
            real_access = os.access
            monkeypatch.setattr(os, "access", lambda path, mode, *a, **k: False if os.path.abspath(path) == str(folder)
                                and mode & os.W_OK else real_access(path, mode, *a, **k))


WHOSE = ["another user runs policy", "owned by another user", "not writable"]


@pytest.mark.parametrize("how", WHOSE)
def test_a_folder_that_is_not_the_users_is_not_read(cache_home, monkeypatch, how):
    P.parse_expression("true")  # good tables, written by a normal run
    reference = read_tables_file(cache_home / TABLES)[1]
    plant(cache_home)
    (cache_home / TABLES).write_text(checksummed(poisoned(reference)), encoding="utf-8")
    before = {p.name: p.read_bytes() for p in cache_home.iterdir()}
    give_away(cache_home, how, monkeypatch)
    fresh_process()
    try:
        assert not is_false_literal("true")  # the poisoned tables are not read
        assert not LOADED  # nor is Lark's cache
        assert P._tables is False and P._cache_file() is False
        assert outcome("a and b or c") == outcome_with_lark("a and b or c")
    finally:
        cache_home.chmod(0o700)
    assert {p.name: p.read_bytes() for p in cache_home.iterdir()} == before  # nor written


def test_the_planted_lark_cache_is_read_from_the_users_own_folder(cache_home):
    """The control for the test above: from the user's own folder, Lark unpickles its cache whenever
    it is needed (here the tables file is missing)."""
    plant(cache_home)
    assert not is_false_literal("true")
    assert LOADED == [True]
    assert isinstance(P._tables, P._Tables)


@pytest.mark.parametrize("mode", [0o770, 0o777, 0o720, 0o702])
def test_a_folder_others_can_write_is_not_read(cache_home, mode):
    plant(cache_home)
    cache_home.chmod(mode)
    P.parse_expression("true")
    assert not LOADED
    assert P._tables is False
