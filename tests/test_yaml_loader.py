"""Tests for interpreter._yaml: values, diagnostics, spans and offset mapping."""
from __future__ import annotations

import datetime
import random
import time
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interpreter import _yaml
from interpreter._yaml import load_yaml
from interpreter.diagnostics import Span

FILE = "policy.yaml"
ROOT = Path(__file__).resolve().parent.parent


def load(text: str, **kwargs):
    return load_yaml(text, FILE, **kwargs)


def token_position(text: str, token: str) -> tuple[int, int]:
    """1-based (line, column) of the unique occurrence of token in text."""
    assert text.count(token) == 1, f"{token!r} must occur exactly once"
    index = text.index(token)
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


def same(actual: object, expected: object) -> bool:
    """Equal, with the same types all the way down (True != 1, Decimal != int)."""
    if type(actual) is not type(expected):
        return False
    if isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(same(actual[k], expected[k]) for k in expected)
    if isinstance(expected, list):
        return len(actual) == len(expected) and all(same(a, e) for a, e in zip(actual, expected))
    if isinstance(expected, Decimal):
        return str(actual) == str(expected)
    return actual == expected


# --------------------------------------------------------------------- values

@pytest.mark.parametrize(
    "source, expected",
    [
        ("0.1", Decimal("0.1")),
        ("3", 3),
        ("-17", -17),
        ("0x1F", 31),
        ("1_000", 1000),
        ("2024-02-29", datetime.date(2024, 2, 29)),
        ("2024-01-01T10:00:00Z", "2024-01-01T10:00:00Z"),
        ("1e5", Decimal("1e5")),
        ("-2.5E-3", Decimal("-2.5E-3")),
        ("1.0e+5", Decimal("1.0e+5")),
        ("1_000.5", Decimal("1000.5")),
        ("0.30000000000000004", Decimal("0.30000000000000004")),
        ("'1e5'", "1e5"),
        ('"0.1"', "0.1"),
        ("!!str 1e5", "1e5"),
        ("!!str 3", "3"),
        ("!!float 2", Decimal("2")),
        ("!!int '7'", 7),
        ("true", True),
        ("no", False),
        ("~", None),
        ("null", None),
        ("", None),
        ("hello world", "hello world"),
        ("[1, 'a', {b: 2.50}]", [1, "a", {"b": Decimal("2.50")}]),
    ],
)
def test_scalar_values(source: str, expected: object) -> None:
    value, _, diagnostics = load(f"v: {source}\n")
    assert diagnostics == []
    assert same(value["v"], expected), repr(value["v"])


def test_keys_are_raw_strings() -> None:
    value, _, diagnostics = load("3: a\nnull: b\ntrue: c\n1.5: d\n'q': e\n")
    assert diagnostics == []
    assert same(value, {"3": "a", "null": "b", "true": "c", "1.5": "d", "q": "e"})


def test_aliases_expand_to_independent_copies() -> None:
    value, _, diagnostics = load("base: &b {x: 1}\nother: *b\n")
    assert diagnostics == []
    assert value == {"base": {"x": 1}, "other": {"x": 1}}
    assert value["base"] is not value["other"]


@pytest.mark.parametrize("text", ["", "# only a comment\n", "\n\n   \n"])
def test_empty_document(text: str) -> None:
    value, locator, diagnostics = load(text)
    assert value is None and diagnostics == []
    assert locator.span(()) is None
    assert locator.nearest_span(("a",)) == Span(FILE, 1, 1, 1, 2)


# --------------------------------------------------------------- diagnostics

@pytest.mark.parametrize(
    "text, code, line, column, message, value",
    [
        ("name: a\nother: b\nname: c\n", "duplicate-key", 3, 1, "duplicate key `name`",
         {"name": "a", "other": "b"}),
        ("rules:\n  x:\n    a: 1\n    a: 2\n", "duplicate-key", 4, 5, "duplicate key `a`",
         {"rules": {"x": {"a": 1}}}),
        ("d: 2024-02-30\n", "invalid-date", 1, 4, "invalid date `2024-02-30`", {"d": None}),
        ("xs:\n  - 2023-13-01\n", "invalid-date", 2, 5, "invalid date `2023-13-01`", {"xs": [None]}),
        ("n: .inf\n", "invalid-number", 1, 4, "number `.inf` is not a finite decimal", {"n": None}),
        ("n: -.inf\n", "invalid-number", 1, 4, "number `-.inf` is not a finite decimal", {"n": None}),
        ("n: .nan\n", "invalid-number", 1, 4, "number `.nan` is not a finite decimal", {"n": None}),
        ("a: 1\n---\nb: 2\n", "yaml-multiple-documents", 2, 1,
         "found a second yaml document; only one is allowed", {"a": 1}),
        ("a: !foo x\n", "yaml-unsupported-tag", 1, 4, "unsupported tag `!foo`", {"a": None}),
        ("a: !!python/object:os.system {}\n", "yaml-unsupported-tag", 1, 4,
         "unsupported tag `!!python/object:os.system`", {"a": None}),
        ("a: !!python/name:os.system ''\n", "yaml-unsupported-tag", 1, 4,
         "unsupported tag `!!python/name:os.system`", {"a": None}),
        ("a: !!binary aGk=\n", "yaml-unsupported-tag", 1, 4, "unsupported tag `!!binary`", {"a": None}),
        ("? [a]\n: 1\nb: 2\n", "yaml-key", 1, 3, "a mapping key must be a string, not a collection", {"b": 2}),
        ("a: b: c\n", "yaml-syntax", 1, 5, "mapping values are not allowed here", None),
        ("a: 1\nb\nc: 2\n", "yaml-syntax", 3, 1, "could not find expected ':'", None),
        ("a: *nope\n", "yaml-syntax", 1, 4, "found undefined alias 'nope'", None),
        ("a:\n\t- b\n", "yaml-syntax", 2, 1, "found character '\\t' that cannot start any token", None),
        ("a: 'open\n", "yaml-syntax", 1, 4, "this quoted string is never closed", None),
        ('a: "\\U00110000"\n', "yaml-syntax", 1, 7, "invalid character or escape sequence", None),
        ("a: &x [*x]\n", "yaml-too-deep", 1, 4, "an alias refers to a node that contains it", {"a": [None]}),
    ],
)
def test_diagnostics(text: str, code: str, line: int, column: int, message: str, value: object) -> None:
    result, _, diagnostics = load(text)
    assert [(d.code, d.span.line, d.span.column, d.message) for d in diagnostics] == [
        (code, line, column, message)
    ]
    assert all(d.span.file == FILE and d.severity == "error" for d in diagnostics)
    assert same(result, value)


@pytest.mark.parametrize(
    "text, line, column, message",
    [
        ("rules:\n  r1:\n    expr: a and b\n   when: x\n", 4, 4,
         "expected <block end>, but found '<block mapping start>'"),
        ("rules:\n  r1:\n    expr: a and b\n  - r2\n", 4, 3, "expected <block end>, but found '-'"),
        ("rules:\n  r1: {expr: a, when: b\n  r2: c\n", 3, 5, "expected ',' or '}', but got ':'"),
    ],
)
def test_syntax_error_position_in_broken_policy(text: str, line: int, column: int, message: str) -> None:
    value, locator, diagnostics = load(text)
    assert value is None
    assert [(d.code, d.span.line, d.span.column, d.message) for d in diagnostics] == [
        ("yaml-syntax", line, column, message)
    ]
    assert locator.nearest_span(("rules",)) == Span(FILE, 1, 1, 1, 2)


def test_nesting_too_deep_for_the_parser() -> None:
    value, _, diagnostics = load("[" * 5000 + "]" * 5000)
    assert value is None
    assert [(d.code, d.span.line, d.span.column) for d in diagnostics] == [("yaml-too-deep", 1, 1)]


def billion_laughs(levels: int = 9) -> str:
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("max_nodes", [1000, 1_000_000])
def test_billion_laughs_is_refused_quickly(max_nodes: int) -> None:
    started = time.perf_counter()
    value, _, diagnostics = load(billion_laughs(), max_nodes=max_nodes)
    elapsed = time.perf_counter() - started
    assert value is None
    assert [(d.code, d.span.line, d.span.column) for d in diagnostics] == [("yaml-too-large", 1, 1)]
    assert elapsed < (0.5 if max_nodes == 1000 else 20)


def test_max_nodes_counts_every_node() -> None:
    text = "a: [1, 2]\n"  # mapping, key, sequence, two items
    assert load(text, max_nodes=5)[2] == []
    assert [d.code for d in load(text, max_nodes=4)[2]] == ["yaml-too-large"]


def test_a_document_over_the_node_limit_is_refused_before_any_node_is_built(monkeypatch) -> None:
    """The nodes are counted from the parser's events: neither loader composes a tree, and the
    diagnostic points at the node that passes the limit."""
    from interpreter import _yaml

    def no_tree(*args):
        raise AssertionError("a node tree was built")
    monkeypatch.setattr(_yaml, "_compose", no_tree)
    monkeypatch.setattr(_yaml, "_compose_pure", no_tree)
    text = '{"incomes": [' + ",".join(["1"] * 1_000) + "]}"  # mapping, key, list: item 998 is node 1,001
    value, _, diagnostics = load(text, max_nodes=1_000)
    assert value is None
    assert [(d.code, d.span.line, d.span.column, d.span.end_column) for d in diagnostics] == \
        [("yaml-too-large", 1, 14 + 2 * 997, 15 + 2 * 997)]
    block = "x:\n" + "".join(f"- {i}\n" for i in range(1_000))  # mapping, key, list: item 998 on line 999
    assert [(d.code, d.span.line, d.span.column) for d in load(block, max_nodes=1_000)[2]] == \
        [("yaml-too-large", 999, 3)]


def test_an_error_late_in_a_long_document_is_found_without_building_it(monkeypatch) -> None:
    """PyYAML's own loader would compose the 60,000 items before the error, at some 20 us each (an error
    after 900,000 items took 20 s and 570 MB): libyaml's events find it, and its message is shown."""
    from interpreter import _yaml

    def no_tree(*args):
        raise AssertionError("a node tree was built")
    monkeypatch.setattr(_yaml, "_compose", no_tree)
    monkeypatch.setattr(_yaml, "_compose_pure", no_tree)
    text = "x: [" + ", ".join(["1"] * 60_000) + ", : ]\n"
    value, _, diagnostics = load(text)
    assert value is None
    assert [(d.code, d.message, d.span.line, d.span.column) for d in diagnostics] == \
        [("yaml-syntax", "did not find expected node content", 1, len(text) - 3)]  # at the `:`
    short = "x: [1, : ]\n"  # a short document still gets PyYAML's own message
    monkeypatch.undo()
    assert [d.message for d in load(short)[2]] == ["expected the node content, but found ':'"]


def test_a_long_document_is_read_by_libyaml_alone(monkeypatch) -> None:
    """Past 100,000 possible nodes, PyYAML's own loader (some 20 us a node) is not used even where its
    marks or reading would differ: empty values in a flow collection, a byte order mark inside."""
    from interpreter import _yaml

    def no_pure(*args):
        raise AssertionError("PyYAML's own loader was used")
    monkeypatch.setattr(_yaml, "_compose_pure", no_pure)
    text = "x: [" + ", ".join(["{a: }"] * 40_000) + "]\n# \ufeff\n"
    value, _, diagnostics = load(text)
    assert (value, diagnostics) == ({"x": [{"a": None}] * 40_000}, [])


def test_a_long_document_nested_past_libyamls_depth_limit_is_too_deep() -> None:
    text = "[" * 200_000 + "]" * 200_000
    assert [(d.code, d.span.line, d.span.column) for d in load(text)[2]] == [("yaml-too-deep", 1, 1001)]


def _nodes(text: str) -> int | None:
    """The node events of the first document as libyaml reads them, or None when it cannot."""
    count = 0
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, yaml.DocumentEndEvent):
                break
            count += isinstance(event, (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent,
                                        yaml.AliasEvent))
    except (yaml.YAMLError, ValueError):
        return None
    return count


def test_the_cheap_node_bound_holds() -> None:
    """The count of events is spared when twice one more than the characters a node can follow is within
    the limit: that bound must never be below the real count."""
    from interpreter._yaml import _BEFORE_A_NODE
    rnd = random.Random(7)
    texts = FILES + SNIPPETS + mutated_corpus(400, seed=13) + [generated_document(rnd) for _ in range(300)]
    texts += ["- - - - x\n", "[:,:,:]", "{a, b, ? , ?}", "- a: b\n  c: [d: e]\n", "-\n-\n-\n", "a:\n  ? b\n  : c\n"]
    checked = 0
    for text in texts:
        nodes = _nodes(text)
        if nodes is not None:
            checked += 1
            assert nodes <= 2 * (1 + sum(text.count(c) for c in _BEFORE_A_NODE)), text
    assert checked > 500


@pytest.mark.parametrize(
    "text",
    [
        "\x00", "a: \x07", "\ufffe", "'", '"\\q"', "a: [", "{", "- - - -", "!!", "&", "*", "? ? ?",
        "a: |0\n x", "a: >9\n x", "%YAML 1.1\n%YAML 1.1\n---\n", "--- !<tag:x> a", "a: b\n\tc: d",
        "x: '\n---\n'", "a: \"\\u12\"", "\r\r\r:", "\u2028a: b", "a: 1e99999999999999999999999",
        "a: !!int 99999999999999999999999999999999999999999", "a: !!timestamp 2024-1-1", "a: !!bool maybe",
    ],
)
def test_never_raises_on_bad_input(text: str) -> None:
    value, locator, diagnostics = load(text)
    for d in diagnostics:
        assert d.span is not None and d.span.line >= 1 and d.span.column >= 1
        assert "Error" not in d.message and "\n" not in d.message
        assert d.message[:1] == d.message[:1].lower()
    locator.nearest_span(("a", 0, "b"))


def test_never_raises_on_random_mutations() -> None:
    rng = random.Random(7)
    seed = "rules:\n  r: {expr: 'a and b', x: [1, 2.5, \"q\\n\"]}\n  s: |\n    text\n  t: >-\n    more\n"
    alphabet = " \t\n:-?[]{},'\"|>#&*!%@`\\\x85\u2028x"
    for _ in range(2000):
        chars = list(seed)
        for _ in range(rng.randint(1, 4)):
            chars.insert(rng.randrange(len(chars) + 1), rng.choice(alphabet))
        text = "".join(chars)
        value, locator, diagnostics = load(text)
        for path in [(), ("rules",), ("rules", "r", "expr"), ("rules", "s"), ("rules", "t")]:
            mapper = locator.offset_mapper(path)
            line, column = mapper(3)
            assert line >= 1 and column >= 1


# ------------------------------------------------------------------- locator

LOCATED = """\
rules:
  first:
    expr: a and b
    tags: [x, y]
  second: 42
"""


def test_locator_spans() -> None:
    value, locator, diagnostics = load(LOCATED)
    assert diagnostics == []
    assert locator.span(()) == Span(FILE, 1, 1, 6, 1)
    assert locator.span(("rules", "first", "expr")) == Span(FILE, 3, 11, 3, 18)
    assert locator.key_span(("rules", "first", "expr")) == Span(FILE, 3, 5, 3, 9)
    assert locator.span(("rules", "first", "tags", 1)) == Span(FILE, 4, 15, 4, 16)
    assert locator.key_span(("rules", "first", "tags", 1)) == Span(FILE, 4, 15, 4, 16)
    assert locator.key_span(("rules", "second")) == Span(FILE, 5, 3, 5, 9)
    assert locator.span(("rules", "missing")) is None
    assert locator.key_span(("rules", "first", "tags", 9)) is None
    assert locator.span(("rules", "first", "tags", "x")) is None
    assert locator.nearest_span(("rules", "first", "nope", 3)) == locator.span(("rules", "first"))
    assert locator.nearest_span(("zzz",)) == locator.span(())


def test_locator_points_at_first_of_duplicate_keys() -> None:
    _, locator, _ = load("a: 1\na: 2\n")
    assert locator.span(("a",)) == Span(FILE, 1, 4, 1, 5)


def test_locator_ignores_byte_order_mark_in_columns() -> None:
    value, locator, diagnostics = load("\ufeffa: x\n")
    assert value == {"a": "x"} and diagnostics == []
    assert locator.key_span(("a",)) == Span(FILE, 1, 1, 1, 2)
    assert locator.offset_mapper(("a",))(0) == (1, 4)


# ------------------------------------------------------------- offset mapper

# (yaml text, path to the string, token whose first character is checked)
OFFSET_CASES = [
    ("plain single line", "expr: a and bogus_name\n", ("expr",), "bogus_name"),
    ("plain multi-line", "expr: a and\n  bogus_name\n", ("expr",), "bogus_name"),
    ("plain blank line", "expr: a and\n\n     b or\n     bogus_name\n", ("expr",), "bogus_name"),
    ("plain extra spaces", "expr: a   and    bogus_name   \n", ("expr",), "bogus_name"),
    ("plain after tag and anchor", "expr: &e !!str  a and\n  bogus_name\n", ("expr",), "bogus_name"),
    ("plain crlf", "expr: a and\r\n  bogus_name\r\n", ("expr",), "bogus_name"),
    ("plain in flow", "xs: [a and b, c or\n   bogus_name]\n", ("xs", 1), "bogus_name"),
    ("single quoted", "expr: 'a and\n  bogus_name'\n", ("expr",), "bogus_name"),
    ("single quoted escape", "expr: 'it''s and ''q'' and\n\n    bogus_name'\n", ("expr",), "bogus_name"),
    ("double quoted", 'expr: "a and\n  bogus_name"\n', ("expr",), "bogus_name"),
    ("double quoted escapes",
     'expr: "\\"x\\" \\\\ \\n\\t \\u00e9 \\x41 and\n   bogus_name"\n', ("expr",), "bogus_name"),
    ("double quoted escaped break", 'expr: "a and \\\n     bogus_name"\n', ("expr",), "bogus_name"),
    ("double quoted escaped break, blank", 'expr: "a and\\\n\n     bogus_name"\n', ("expr",), "bogus_name"),
    ("literal", "expr: |\n  a and\n  bogus_name\n", ("expr",), "bogus_name"),
    ("literal strip", "expr: |-\n  a and\n      bogus_name\n", ("expr",), "bogus_name"),
    ("literal keep", "expr: |+\n  a and\n\n  bogus_name\n\n\n", ("expr",), "bogus_name"),
    ("literal indicator", "expr: |2\n     a and\n    bogus_name\n", ("expr",), "bogus_name"),
    ("literal indicator strip", "expr: |-1\n  a and\n   bogus_name\n", ("expr",), "bogus_name"),
    ("literal comment", "expr: |  # why\n  a and\n  bogus_name\n", ("expr",), "bogus_name"),
    ("literal crlf", "expr: |\r\n  a and\r\n  bogus_name\r\n", ("expr",), "bogus_name"),
    ("folded", "expr: >\n  a and\n  bogus_name\n", ("expr",), "bogus_name"),
    ("folded strip", "expr: >-\n  a and\n\n  b or\n    c\n  bogus_name\n", ("expr",), "bogus_name"),
    ("folded leading blank", "expr: >\n\n  a and\n  bogus_name\n", ("expr",), "bogus_name"),
    ("nested folded", "rules:\n  x:\n    expr: >-\n      a and\n      bogus_name\n",
     ("rules", "x", "expr"), "bogus_name"),
    ("nested literal in list", "rules:\n  - name: r\n    expr: |\n      a and\n        bogus_name\n",
     ("rules", 0, "expr"), "bogus_name"),
    ("nested literal indicator in list", "rules:\n- |2\n    a and\n   bogus_name\n", ("rules", 0), "bogus_name"),
    ("nested plain", "rules:\n  x:\n    expr: a and\n      b or\n\n      bogus_name\nz: 1\n",
     ("rules", "x", "expr"), "bogus_name"),
    ("nested double quoted", 'a:\n  b:\n    - c:\n        expr: "a and\n          bogus_name"\n',
     ("a", "b", 0, "c", "expr"), "bogus_name"),
    ("via alias", "base: &x a and\n  bogus_name\ncopy: *x\n", ("copy",), "bogus_name"),
    ("non-ascii", "expr: \"été\n  😀 bogus_name\"\n", ("expr",), "bogus_name"),
]


@pytest.mark.parametrize("text, path, token", [c[1:] for c in OFFSET_CASES], ids=[c[0] for c in OFFSET_CASES])
def test_offset_mapper_points_at_token(text: str, path: tuple, token: str) -> None:
    value, locator, diagnostics = load(text)
    assert diagnostics == []
    string = value
    for element in path:
        string = string[element]
    assert string.count(token) == 1
    assert locator.offset_mapping_exact(path)
    assert locator.offset_mapper(path)(string.index(token)) == token_position(text, token)


@pytest.mark.parametrize("text, path, token", [c[1:] for c in OFFSET_CASES], ids=[c[0] for c in OFFSET_CASES])
def test_offset_mapper_every_literal_character(text: str, path: tuple, token: str) -> None:
    """Each visible character of the value maps to that same character in the file."""
    value, locator, _ = load(text)
    string = value
    for element in path:
        string = string[element]
    lines = text.replace("\r\n", "\n").split("\n")
    mapper = locator.offset_mapper(path)
    escapes = {"\\", "\n", "\t", "é", "A", '"'} if '"\\' in text else set()
    for offset, char in enumerate(string):
        if char.isspace() or char in escapes or (char == "'" and "''" in text):
            continue
        line, column = mapper(offset)
        assert lines[line - 1][column - 1] == char, (offset, char)


def test_offset_mapper_hand_computed_positions() -> None:
    text = "rules:\n  x:\n    expr: >-\n      a and\n      bogus_name\n"
    value, locator, _ = load(text)
    expr = value["rules"]["x"]["expr"]
    assert expr == "a and bogus_name"
    mapper = locator.offset_mapper(("rules", "x", "expr"))
    assert mapper(0) == (4, 7)
    assert mapper(5) == (4, 12)  # the folded space stands where the line break was
    assert mapper(6) == (5, 7)
    assert mapper(len(expr)) == (5, 17)
    assert mapper(10_000) == (5, 17)
    assert mapper(-3) == (4, 7)


def test_offset_mapper_escape_maps_to_backslash() -> None:
    text = 'e: "x\\ty\\u00e9z"\n'
    value, locator, _ = load(text)
    assert value["e"] == "x\tyéz"
    mapper = locator.offset_mapper(("e",))
    assert [mapper(i) for i in range(5)] == [(1, 5), (1, 6), (1, 8), (1, 9), (1, 15)]
    assert mapper(5) == (1, 16)


def test_offset_mapper_for_non_strings_and_unknown_paths() -> None:
    _, locator, _ = load("n: 42\nm: {a: 1}\ne: 1e5\nd: 2024-02-29\nt: 2024-02-29 10:00:00\n")
    for path in [("n",), ("e",), ("d",)]:
        assert locator.offset_mapper(path)(1) == locator.offset_mapper(path)(0)
        assert not locator.offset_mapping_exact(path)
    assert locator.offset_mapper(("n",))(1) == (1, 4)
    assert locator.offset_mapping_exact(("t",))
    assert locator.offset_mapper(("t",))(11) == (5, 15)
    assert locator.offset_mapper(("m",))(3) == (2, 4)
    assert locator.offset_mapper(("m", "zz"))(3) == (2, 4)
    assert not locator.offset_mapping_exact(("nope",))


def test_offset_mapper_falls_back_to_scalar_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_yaml, "_rebuild_flow", lambda *args: [])
    _, locator, _ = load("x: 1\nexpr: a and\n  bogus_name\n")
    assert not locator.offset_mapping_exact(("expr",))
    mapper = locator.offset_mapper(("expr",))
    assert {mapper(i) for i in (0, 6, 50)} == {(2, 7)}


# ------------------------------------------- libyaml and PyYAML's own loader agree
#
# load_yaml composes with libyaml (yaml.CSafeLoader) and goes to PyYAML's pure-Python loader only for a
# document libyaml refuses. Whatever the text, the result must be what PyYAML's loader alone gives: the same
# values, diagnostics, spans and offset mappings. The offset mapping needs each scalar token's start, the
# block indentation around it and whether its tag was explicit; the Locator works these out from the node
# tree (or the token stream, when anchors or tags are about), and _Recorder below records them as PyYAML's
# scanner reads them.

class _Recorder(yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.scalar_tokens: dict[int, tuple[int, int]] = {}
        self.explicit: dict[int, bool] = {}

    def _remember(self, token, indent: int):
        self.scalar_tokens[token.end_mark.index] = (token.start_mark.index, indent)
        return token

    def scan_plain(self):
        return self._remember(super().scan_plain(), self.indent)

    def scan_flow_scalar(self, style):
        return self._remember(super().scan_flow_scalar(style), self.indent)

    def scan_block_scalar(self, style):
        indent = self.indent
        return self._remember(super().scan_block_scalar(style), indent)

    def compose_scalar_node(self, anchor):
        explicit = self.peek_event().tag not in (None, "!")
        node = super().compose_scalar_node(anchor)
        self.explicit[node.end_mark.index] = explicit
        return node


class _NoLibyaml:
    def __init__(self, stream: str) -> None:
        raise yaml.YAMLError("libyaml switched off")


def _string_paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _string_paths(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _string_paths(v, path + (i,))


def loaded(text: str) -> tuple:
    """What load_yaml gives: the value, the diagnostics, and the locator's answers for every path."""
    value, locator, diagnostics = load(text)
    where = []
    for path in list(_string_paths(value)) + [("zz",), (0, "zz")]:
        mapper = locator.offset_mapper(path)
        where.append((path, locator.span(path), locator.key_span(path), locator.nearest_span(path),
                      locator.offset_mapping_exact(path), [mapper(i) for i in range(0, 40, 3)]))
    return repr(value), [repr(d) for d in diagnostics], where


def _files() -> list[str]:
    out = []
    for p in sorted(ROOT.rglob("*")):
        if p.suffix in (".yaml", ".yml") and ".git" not in p.parts and p.is_file() and p.stat().st_size < 16_000:
            try:
                out.append(p.read_text(encoding="utf-8"))
            except UnicodeDecodeError:
                pass
    return out


FILES = _files()
SNIPPETS = [
    "a: |\n  x\n\n  y\n", "a: >-\n   x\n  y\n", "- 'it''s'\n- \"a\\tb\\x41\\u263A\\\n  c\"\n", "{a: b, c: [d, e:f, 'g']}\n",
    "a: b # c\n#d\n  # e\n", "\ufeffa: 1\n", "a:\r\n  b: c\r\n", "a: b\x85c: d\n", "a: x\u2028y\n", "k: |2-\n    x\n   y\n",
    "? a\n: b\n", "--- x\n...\n--- y\n", "a: &x 1\nb: *x\n", "a: !!str 1e5\n", "!", "a: !\nb: !!str\n", "a: 'x\n\n  y'\n", "a: \"x\\\n  y\"\n",
    "- a\n -b\n", "a:\tb\n", "a: [1,\n 2]\n", "a: b  #c\n", "a: b #c d\n", "a: b#c\n", "k: a\n b\n  c\n", "- a\n  b\n c\n",
    "k:\n  a\n b\n", "  k: a\n b\n", "[a #b\n]", "{a: b #c\n}", "a: b\n---\n", "a: b\n...\n", "a: b\n--- \n",
    "a: 'x\n---\n'", "a: |\n  x\n---\n", "x: >\n\n  a\n\n\n  b\n\n", "a:    \n  b\n", "a: b   \n   c  # d\n",
    "a: \"\\q\"\n", "a: \"\\x4\"\n", "a: '\n", "a: [b, c\n", "\ta: b\n", "a: b\n\tc: d\n", "a: é漢😀\n  b\n",
    "a" * 300 + ": " + "b " * 200 + "\n", "- " + "x " * 500, " " * 100 + "a: b\n", "# " + "c" * 1000 + "\na: b\n",
    "a: b\r\n\r\n  c\r\n", "a: b # c\x85d: e\n", "# c\u2028a: b\n", "a: |\n  x # y\u2029  z\n", "a: b\x85 c\n", "a: b\u2029 c\n", "a: \ufeffb\n", "\x00", "a: \x07", "",
]
SPECIAL = list(" \t\n\r\x85\u2028\u2029\ufeff:#-?|>'\"\\[]{},&*!%@`0123456789abcXYZé漢😀\x00\x07") + ["\r\n", "  ", "    "]


def mutate_yaml(rnd: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rnd.randint(1, 4)):
        if not chars:
            chars = ["a"]
        i = rnd.randrange(len(chars) + 1)
        r = rnd.random()
        if r < 0.5:
            chars.insert(i, rnd.choice(SPECIAL))
        elif r < 0.8 and i < len(chars):
            del chars[i]
        elif i < len(chars):
            chars[i] = rnd.choice(SPECIAL)
    return "".join(chars)


def mutated_corpus(n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    texts = FILES + SNIPPETS
    out = []
    for _ in range(n):
        text = mutate_yaml(rnd, rnd.choice(texts))
        if len(text) > 400:  # a window, so that the corpus stays fast and the start falls anywhere
            start = rnd.randrange(len(text) - 200)
            text = text[start:start + rnd.randint(50, 400)]
        out.append(text)
    return out


PLAIN_WORDS = ["a", "bb", "word", "c:d", "e#f", "x1", "é", "1.5", "-x", "?y", "a'b"]
ODD_WORDS = ["c:d", "e#f", "#g", ":h", "i:", "-", "?", "x,y", "[z]", "{w}", "'q'", "\"r\"", "1e5", "2024-01-01",
             "yes", "~", "&anc", "*anc", "!!str", "|", ">", "\ufeff"]


def generated_document(rnd: random.Random) -> str:
    """Block documents with multi-line plain scalars at every indentation, the scanner's hardest part."""

    def plain(indent: int) -> str:
        out = rnd.choice(PLAIN_WORDS)
        for _ in range(rnd.randint(0, 4)):
            r = rnd.random()
            word = rnd.choice(PLAIN_WORDS)
            if r < 0.5:
                out += rnd.choice([" ", " ", "  ", "   "]) + word
            elif r < 0.75:
                out += "\n" + " " * max(0, indent + rnd.choice([-1, 0, 1, 2, 3])) + word
            elif r < 0.82:
                out += "\n\n" + " " * (indent + 2) + word
            elif r < 0.9:
                out += rnd.choice([" # c", " #", ": ", " :", ":", "\r\n   ", "\t", " \t "]) + word
            else:
                out += " " + rnd.choice(ODD_WORDS)
        return out

    def block(indent: int, depth: int) -> str:
        lines = []
        sequence = rnd.random() < 0.3
        for _ in range(rnd.randint(1, 4)):
            lead = " " * indent + ("- " if sequence else rnd.choice(["k", "key", "a b", "k:x", "k#"]) + ":" +
                                   rnd.choice([" ", " ", "  ", " "]))
            r = rnd.random()
            if r < 0.25 and depth < 3:
                lines.append(lead.rstrip() + "\n" + block(indent + rnd.choice([2, 2, 4, 0, 1]), depth + 1))
            elif r < 0.35:
                lines.append(lead + "[" + ", ".join(plain(indent + 2) for _ in range(rnd.randint(0, 3))) + "]")
            elif r < 0.4:
                lines.append(lead + "{" + ", ".join(f"k{i}: {plain(indent + 2)}" for i in range(rnd.randint(0, 3))) + "}")
            elif r < 0.47:
                lines.append(lead + rnd.choice([">-", "|", ">", "|2", "|+", ">1 # c"]) + "\n" + "\n".join(
                    " " * (indent + rnd.choice([1, 2, 2, 3])) + plain(indent + 2) for _ in range(rnd.randint(1, 3))))
            elif r < 0.52:
                q = rnd.choice(["'", '"'])
                lines.append(lead + q + plain(indent + 1).replace(q, "") + rnd.choice([q, q, ""]))
            else:
                lines.append(lead + plain(indent + (2 if sequence else 1)))
            if rnd.random() < 0.1:
                lines.append(" " * indent + "# comment")
        return "\n".join(lines)

    return block(rnd.choice([0, 0, 1, 2]), 0) + rnd.choice(["", "\n", "\n\n", " \n"])


def loaded_without_libyaml(text: str) -> tuple:
    real = yaml.CSafeLoader
    yaml.CSafeLoader = _NoLibyaml
    try:
        return loaded(text)
    finally:
        yaml.CSafeLoader = real


def assert_tokens_as_scanned(text: str) -> None:
    """For every string the document holds, the Locator's idea of its scalar token is PyYAML's scanner's."""
    value, locator, _ = load(text)
    try:
        recorder = _Recorder(text)
        recorder.get_node()
    except Exception:  # PyYAML refuses the document: nothing to map
        return
    for path in _string_paths(value):
        depth, _, node, indent = locator._walk_indented(path)
        if not isinstance(node, yaml.ScalarNode) or node.end_mark.index not in recorder.scalar_tokens:
            continue
        start, indent, explicit = locator._scalar_token(node, indent)
        expected = recorder.scalar_tokens[node.end_mark.index]
        if node.style not in ("|", ">"):  # the indentation is read for block scalars only
            expected = (expected[0], indent)
        assert (start, indent, explicit) == (*expected, recorder.explicit[node.end_mark.index]), (repr(text), path)


def assert_same_as_pyyaml(text: str) -> None:
    """The same as PyYAML's loader alone; except that libyaml, like YAML itself, takes a tab between tokens
    and a `?` inside a flow collection's plain scalar, which PyYAML refuses."""
    with_libyaml, without = loaded(text), loaded_without_libyaml(text)
    if without[0] == "None" and "yaml-syntax" in "".join(without[1]) and ("\t" in text or "?" in text):
        if "yaml-syntax" not in "".join(with_libyaml[1]):
            return
    assert with_libyaml == without, repr(text)
    assert_tokens_as_scanned(text)


@pytest.mark.parametrize("text, value", [
    ("a:\tb\n", {"a": "b"}),
    ("a: b \t c\n", {"a": "b \t c"}),
    ("inputs: {resident?: boolean}\n", {"inputs": {"resident?": "boolean"}}),
])
def test_libyaml_reads_what_pyyaml_refused(text: str, value: object) -> None:
    assert load(text)[0] == value and load(text)[2] == []
    assert loaded_without_libyaml(text)[0] == "None"


def test_same_as_pyyaml_on_the_repository_files() -> None:
    assert len(FILES) > 150
    for text in FILES:
        assert_same_as_pyyaml(text)


@pytest.mark.parametrize("text", SNIPPETS, ids=[repr(s[:20]) for s in SNIPPETS])
def test_same_as_pyyaml_on_snippets(text: str) -> None:
    assert_same_as_pyyaml(text)


def test_same_as_pyyaml_on_mutated_files() -> None:
    for text in mutated_corpus(700, seed=11):
        assert_same_as_pyyaml(text)


def test_same_as_pyyaml_on_generated_documents() -> None:
    rnd = random.Random(5)
    for _ in range(500):
        assert_same_as_pyyaml(generated_document(rnd))


def test_anchors_and_tags_read_from_the_token_stream() -> None:
    text = "a: &x >-\n  p and\n  q\nb: !!str 1e5\nc: 1e5\nd: *x\ne:\n  - !!str |\n    r or\n    s\n"
    value, locator, _ = load(text)
    assert value == {"a": "p and q", "b": "1e5", "c": Decimal("1E+5"), "d": "p and q", "e": ["r or\ns\n"]}
    assert locator.offset_mapper(("d",))(6) == (3, 3)
    assert locator.offset_mapper(("e", 0))(5) == (10, 5)
    assert_same_as_pyyaml(text)


@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(text=st.one_of(
    st.lists(st.sampled_from(SPECIAL + PLAIN_WORDS + ODD_WORDS + ["\n  ", "\n    ", ": ", "- "]), max_size=30).map("".join),
    st.randoms(use_true_random=False).map(generated_document),
))
def test_same_as_pyyaml_hypothesis(text: str) -> None:
    assert_same_as_pyyaml(text)
