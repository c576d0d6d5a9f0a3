"""Nothing is lost in a batch: kill it midway, and `--resume` finishes it with every case exactly once."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = str(ROOT / "policies" / "example")
N = 20_000


@pytest.fixture(scope="module")
def caseload(tmp_path_factory):
    d = tmp_path_factory.mktemp("load")
    p = d / "cases.jsonl"
    with p.open("w") as fh:
        for i in range(N):
            fh.write(json.dumps({"id": i, "birth_date": "1970-05-01", "resident": True, "status": "employed",
                                 "incomes": [{"year": 2025, "amount": 50000 + i}], "spouse": None}) + "\n")
    full = d / "full.jsonl"
    subprocess.run(_cmd(p, full), check=False, capture_output=True, env=_env())
    return p, full.read_text()


def _env():
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _cmd(facts, out, *extra):
    return [sys.executable, "-m", "interpreter.cli", "eval", EXAMPLE, "--facts", str(facts), "--as-of", "2026-03-01",
            "--outcome", "housing_allowance", "--out", str(out), *extra]


def _ctrl_c_on():
    """In the child: Ctrl-C as a terminal gives it, even when these tests run where SIGINT is ignored (a
    background job of a shell ignores it, and a process keeps an ignored SIGINT ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("sig,jobs", [(signal.SIGKILL, "1"), (signal.SIGINT, "1"), (signal.SIGKILL, "2")])
def test_killed_batch_resumes_without_loss_or_duplicates(caseload, tmp_path, sig, jobs):
    facts, full = caseload
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen(_cmd(facts, out, "--jobs", jobs), env=_env(), stdout=subprocess.DEVNULL,
                            preexec_fn=_ctrl_c_on,
                            stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline and (not out.exists() or out.stat().st_size < 200_000):
        time.sleep(0.01)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if sig == signal.SIGINT:  # Ctrl-C: exit code 130, as docs/cli.md says
        assert proc.returncode == 130
        assert err.decode().splitlines()[-1] == "interrupted"
    partial = out.read_bytes()
    lines = partial.split(b"\n")
    complete, last = lines[:-1], lines[-1]
    assert 0 < len(complete) < N, "the run was not interrupted midway"
    for line in complete:
        json.loads(line)  # every complete line is a whole result
    assert last == b"" or not last.endswith(b"}") or sig == signal.SIGKILL
    r = subprocess.run(_cmd(facts, out, "--resume", "--jobs", jobs), env=_env(), capture_output=True, text=True)
    assert "resumed after" in r.stderr
    assert out.read_text() == full
    ids = [json.loads(x)["id"] for x in full.splitlines()]
    assert ids == list(range(N))


def test_workers_end_when_the_batch_is_killed(caseload, tmp_path):
    """Worker processes hold the batch's stderr: that it closes shows none of them is left running."""
    facts, _ = caseload
    proc = subprocess.Popen(_cmd(facts, tmp_path / "out.jsonl", "--jobs", "3"), env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not (tmp_path / "out.jsonl").exists():
            time.sleep(0.01)
        time.sleep(0.2)
        proc.kill()
        proc.communicate(timeout=30)  # raises TimeoutExpired while a worker is left
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of the group, were the test to fail
        except ProcessLookupError:
            pass


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def test_a_killed_worker_stops_the_batch_with_its_reason_and_resume_finishes_it(caseload, tmp_path):
    facts, full = caseload
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen(_cmd(facts, out, "--jobs", "2"), env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        # killed as soon as both workers run, while most blocks are still to do: waiting for output, the
        # workers of a starved reading process could finish every block first (the run then ends well)
        deadline = time.time() + 60
        while time.time() < deadline and len(_children(proc.pid)) < 2:
            time.sleep(0.01)
        workers = _children(proc.pid)
        assert workers, "no worker process found"
        os.kill(workers[0], signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert proc.returncode == 1
    assert err.decode() == ("policy: a worker process stopped before finishing its cases; "
                            "the result lines written are complete: --resume carries on from them\n")
    kept = out.read_text().count("\n")
    r = subprocess.run(_cmd(facts, out, "--resume", "--jobs", "2"), env=_env(), capture_output=True, text=True)
    assert r.returncode == 0 and ("resumed after" in r.stderr) == (kept > 0)
    assert out.read_text() == full
