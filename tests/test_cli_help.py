"""`--help` of every command shows its exit codes and the date format, and docs/cli.md shows the same help.

The output of each `policy ... --help` block in docs/cli.md is compared with the real output by
tests/test_docs_examples.py; this file makes sure every command has such a block, and that every
option of a command is described in the docs.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from interpreter.cli import cli

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
COMMANDS = sorted(cli.commands)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_its_help_in_the_docs(name):
    assert f"```console\n$ policy {name} --help\n" in DOC


@pytest.mark.parametrize("name", COMMANDS)
def test_help_shows_exit_codes_and_the_date_format(runner, name):
    r = runner.invoke(cli, [name, "--help"], terminal_width=80)
    assert r.exit_code == 0
    text = " ".join(r.output.split())
    assert "Exit codes: 0 " in text and " 1 " in text and " 2 usage error" in text
    assert "Dates are written YYYY-MM-DD, e.g. 2024-06-01" in text


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_is_described_in_the_docs(name):
    for param in cli.commands[name].params:
        for opt in getattr(param, "opts", []):
            if opt.startswith("--") and opt != "--help":
                assert f"`{opt}" in DOC, f"{opt} of `policy {name}` is not described in docs/cli.md"


def test_exit_codes_in_help_match_the_table_of_the_docs():
    table = DOC.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    for code in ("0", "1", "2"):
        assert re.search(rf"^\| {code} \|", table, re.M)
    assert "Ctrl-C exits with 130" in DOC
