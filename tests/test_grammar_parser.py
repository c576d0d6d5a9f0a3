"""interpreter/_grammar_parser.py is what Lark's standalone generator makes of interpreter/grammar.lark.

Regenerate it after changing the grammar or upgrading Lark (the command is in interpreter/parser.py's
docstring). The generator numbers the parser's states and tokens differently from one run to the next,
so the comparison is of the code as written and of the parse table up to that numbering.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ROOT / "interpreter" / "_grammar_parser.py"
COMMAND = [sys.executable, "-m", "lark.tools.standalone", "--propagate_positions", "--maybe_placeholders",
           "interpreter/grammar.lark"]


def _module(path: Path):
    spec = importlib.util.spec_from_file_location(f"generated_{abs(hash(str(path)))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _canonical(path: Path) -> tuple:
    """The module's code, its data without the parse table, and the parse table with its states numbered
    in the order a walk from the start state meets them (tokens by name)."""
    text = path.read_text(encoding="utf-8")
    module = _module(path)
    data = module.DATA
    table = data["parser"]["parser"]
    tokens, states = table["tokens"], table["states"]
    start, end = table["start_states"]["start"], table["end_states"]["start"]
    order = {start: 0}
    queue = [start]
    while queue:
        state = queue.pop(0)
        for token, (action, arg) in sorted(states[state].items(), key=lambda item: tokens[item[0]]):
            if action == 0 and arg not in order:
                order[arg] = len(order)
                queue.append(arg)
    assert len(order) == len(states)  # every state is reachable: the numbering covers the table
    rows = [sorted((tokens[token], action, order[arg] if action == 0 else repr(arg))
                   for token, (action, arg) in states[state].items()) for state in sorted(order, key=order.get)]
    rest = {key: value for key, value in data["parser"].items() if key != "parser"}
    return text[:text.index("\nDATA = (")], repr(rest), repr(module.MEMO), rows, order[end]


def test_generated_parser_is_up_to_date(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.py"
    subprocess.run([*COMMAND, "-o", str(fresh)], cwd=ROOT, check=True)
    assert _canonical(GENERATED) == _canonical(fresh), (
        "interpreter/_grammar_parser.py is stale: regenerate it with the command in interpreter/parser.py")


def test_parsing_does_not_import_lark() -> None:
    code = ("import sys; from interpreter.parser import parse_expression; parse_expression('a and b(c)'); "
            "print('lark' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("text", ["all(y in ys: y.days >= 183) and x", "if a then [1, 2] else []", "-x.y[2024]"])
def test_same_trees_as_lark(text: str) -> None:
    from lark import Lark

    from interpreter.parser import _parser
    lark = Lark.open_from_package("interpreter", "grammar.lark", parser="lalr", propagate_positions=True,
                                  maybe_placeholders=True)
    assert repr(_parser().parse(text)) == repr(lark.parse(text))


def test_a_text_parsed_again_gets_the_positions_of_its_new_place() -> None:
    from interpreter.parser import parse_expression
    text = "a and b > 2"
    first = parse_expression(text, "f.yaml", lambda offset: (3, 5 + offset))
    second = parse_expression(text, "g.yaml", lambda offset: (10, 1 + offset))
    assert first == second  # spans take no part in equality
    assert (first.span.file, first.span.line, first.span.column, first.right.span.column) == ("f.yaml", 3, 5, 11)
    assert (second.span.file, second.span.line, second.span.column, second.right.span.column) == ("g.yaml", 10, 1, 7)
