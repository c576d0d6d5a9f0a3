"""Batch progress on a terminal (cases done, total, rate, time left, for any --jobs), nothing on a pipe;
after --resume the summary covers the whole file."""
from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from interpreter.cli import cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = str(ROOT / "policies" / "example")
ARGS = ["eval", EXAMPLE, "--as-of", "2026-03-01", "--outcome", "housing_allowance"]


def _caseload(tmp_path, n):
    p = tmp_path / "cases.jsonl"
    p.write_text("".join(json.dumps({"id": f"c{i}", "birth_date": "1970-05-01", "resident": True,
                                     "status": "employed", "incomes": [{"year": 2025, "amount": 60000 + i}],
                                     "spouse": None}) + "\n" for i in range(n)))
    return p


def _on_a_terminal(args, cwd) -> tuple[int, str]:
    """Run `policy ARGS` with standard error on a pseudo-terminal; standard output to a file."""
    master, slave = pty.openpty()
    with open(os.devnull, "w") as devnull:
        proc = subprocess.Popen([sys.executable, "-m", "interpreter", *args], stdout=devnull, stderr=slave, cwd=cwd,
                                env={**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)})
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the other end closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(), b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_terminal_sees_cases_total_rate_and_the_summary(tmp_path, jobs):
    p = _caseload(tmp_path, 3000)
    code, err = _on_a_terminal([*ARGS, "--facts", str(p), "--out", str(tmp_path / "out.jsonl"), "--jobs", jobs], tmp_path)
    assert code == 0, err
    assert "3,000/3,000 cases" in err and "100%" in err
    assert re.search(r"[\d,]+ cases/s", err)
    assert err.rstrip().endswith("3000 cases, 0 with errors\r\n  example.housing-allowance.housing_allowance: "
                                 "3000 applies, 0 does not apply, 0 undetermined")


def test_a_pipe_gets_only_the_summary(runner, tmp_path):
    p = _caseload(tmp_path, 50)
    r = runner.invoke(cli, [*ARGS, "--facts", str(p), "--jobs", "2"])
    assert r.stderr == ("50 cases, 0 with errors\n"
                        "  example.housing-allowance.housing_allowance: 50 applies, 0 does not apply, 0 undetermined\n")


def test_after_resume_the_summary_covers_the_whole_file(runner, tmp_path):
    p = _caseload(tmp_path, 40)
    lines = p.read_text().splitlines(keepends=True)
    lines[3] = '{"id": "broken"\n'
    p.write_text("".join(lines))
    out = tmp_path / "out.jsonl"
    runner.invoke(cli, [*ARGS, "--facts", str(p), "--out", str(out)])
    text = out.read_text()
    out.write_text("".join(text.splitlines(keepends=True)[:25]))
    r = runner.invoke(cli, [*ARGS, "--facts", str(p), "--out", str(out), "--resume"])
    assert out.read_text() == text
    assert r.stderr == (f"resumed after 25 cases already in {out}; 15 evaluated now\n"
                        "40 cases, 1 with errors\n"
                        "  example.housing-allowance.housing_allowance: 39 applies, 0 does not apply, 0 undetermined\n")
