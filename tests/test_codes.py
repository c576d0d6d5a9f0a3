"""One registry of diagnostic codes (interpreter/codes.py): docs/cli.md's table is it, and the code uses it."""
from __future__ import annotations

import re
from pathlib import Path

from interpreter.codes import CODES

ROOT = Path(__file__).resolve().parent.parent
# the first argument of a call that makes a diagnostic or an evaluation error: Diagnostic(...), self.error(...),
# fc.err(...), report(...), EvalError(...), ...
_MADE = re.compile(r'\b(?:Diagnostic|\w*[Ee]rr(?:or)?|warn|report|fail|EvalFailure)\(\s*"([a-z][a-z0-9]*(?:-[a-z0-9]+)*)"')


def _table(markdown: str, heading: str) -> list[tuple[str, str]]:
    section = markdown.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [tuple(cell.strip() for cell in row.strip("|").split(" | ", 1)) for row in rows]


def test_the_table_in_docs_cli_md_is_the_registry() -> None:
    table = _table((ROOT / "docs" / "cli.md").read_text(encoding="utf-8"), "Diagnostic codes")
    assert table == [(f"`{code}`", meaning) for code, meaning in CODES.items()]


def test_every_code_the_interpreter_makes_is_registered_and_every_registered_code_is_made() -> None:
    made = set()
    for path in (ROOT / "interpreter").rglob("*.py"):  # the evaluation package too
        if path.name not in ("codes.py", "_grammar_parser.py"):
            made |= set(_MADE.findall(path.read_text(encoding="utf-8")))
    assert made - set(CODES) == set()
    assert set(CODES) - made == set()


def test_meanings_are_one_line_in_the_house_style() -> None:
    for code, meaning in CODES.items():
        assert "\n" not in meaning and not meaning.endswith(".") and meaning[:1] == meaning[:1].lower(), code
