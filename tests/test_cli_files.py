"""A file the command line is asked to write and cannot: `policy: cannot write ...` and exit code 1."""
from __future__ import annotations

from pathlib import Path

import pytest

from interpreter.cli import cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = str(ROOT / "policies" / "example")
FACTS = str(ROOT / "examples" / "applicant.yaml")


@pytest.mark.parametrize("args, shown", [
    (["test", EXAMPLE, "--junit", "{missing}/report.xml"], "cannot write `{missing}/report.xml`: no such file or directory"),
    (["docs", EXAMPLE, "--out", "{file}"], "cannot write to `{file}`: file exists"),
    (["eval", EXAMPLE, "--facts", "{cases}", "--out", "{missing}/out.jsonl"],
     "cannot write `{missing}/out.jsonl`: no such file or directory"),
])
def test_a_file_that_cannot_be_written(runner, tmp_path, args, shown):
    names = {"missing": str(tmp_path / "missing"), "file": str(tmp_path / "file"), "cases": str(tmp_path / "cases.jsonl")}
    (tmp_path / "file").write_text("x")
    (tmp_path / "cases.jsonl").write_text('{"resident": true}\n')
    r = runner.invoke(cli, [a.format(**names) for a in args])
    assert r.exit_code == 1
    assert r.stderr.splitlines()[-1] == "policy: " + shown.format(**names)

