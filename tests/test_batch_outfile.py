"""The --out file of a batch: never the input, one writer at a time, write errors named as such, and
--resume only into a file made by the same run (docs/cli.md, "Resuming a caseload")."""
from __future__ import annotations

import fcntl
import json
import os
import shutil
from pathlib import Path

import pytest

from interpreter.cli import cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "policies" / "example"
AS_OF = "2026-03-01"


def _cases(path: Path, n: int = 6, bad: tuple = ()) -> Path:
    lines = []
    for i in range(1, n + 1):
        resident = '"perhaps"' if i in bad else "true"
        lines.append(f'{{"id": "c{i}", "resident": {resident}, "status": "employed"}}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _eval(runner, *args):
    return runner.invoke(cli, ["eval", str(EXAMPLE), *map(str, args)])


def test_out_naming_the_input_or_a_link_to_it_is_refused(runner, tmp_path):
    cases = _cases(tmp_path / "cases.jsonl")
    before = cases.read_bytes()
    link = tmp_path / "link.jsonl"
    link.symlink_to(cases)
    for out, extra in ((cases, ()), (link, ()), (link, ("--resume",))):
        r = _eval(runner, "--facts", cases, "--as-of", AS_OF, "--out", out, *extra)
        assert r.exit_code == 2, r.output
        assert "is the input file" in r.stderr
        assert cases.read_bytes() == before


def test_out_inside_a_caseload_folder_is_refused(runner, tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    (folder / "a.yaml").write_text("resident: true\n")
    r = _eval(runner, "--facts", folder, "--as-of", AS_OF, "--out", folder / "results.json")
    assert r.exit_code == 2
    assert "would be read as a case" in r.stderr


def test_the_run_writes_a_fingerprint_beside_the_out_file(runner, tmp_path):
    cases = _cases(tmp_path / "cases.jsonl")
    out = tmp_path / "out.jsonl"
    r = _eval(runner, "--facts", cases, "--as-of", AS_OF, "--out", out)
    assert r.exit_code == 0, r.output
    fp = json.loads((tmp_path / "out.jsonl.fingerprint").read_text())
    assert fp["as_of"] == AS_OF and fp["explain"] is False and fp["outcomes"] == [] and fp["params"] is None
    assert fp["input"]["path"] == str(cases.resolve()) and len(fp["input"]["sha256"]) == 64
    assert len(fp["policies"]) == 64


def _interrupted(runner, tmp_path, keep: int, bad: tuple = ()) -> tuple[Path, Path]:
    """A finished run cut back to `keep` complete lines and half a line, as a killed run leaves it."""
    cases = _cases(tmp_path / "cases.jsonl", bad=bad)
    out = tmp_path / "out.jsonl"
    r = _eval(runner, "--facts", cases, "--as-of", AS_OF, "--out", out)
    assert r.exit_code == (1 if bad else 0), r.output
    lines = out.read_text().splitlines(keepends=True)
    out.write_text("".join(lines[:keep]) + lines[keep][:20])
    return cases, out


def test_resume_with_the_same_run_carries_on(runner, tmp_path):
    cases, out = _interrupted(runner, tmp_path, 2)
    r = _eval(runner, "--facts", cases, "--as-of", AS_OF, "--out", out, "--resume")
    assert r.exit_code == 0, r.output
    assert "resumed after 2 cases" in r.stderr
    assert "6 cases, 0 with errors" in r.stderr
    assert [json.loads(x)["record"] for x in out.read_text().splitlines()] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("change,message", [
    ("as_of", "another --as-of date; it was evaluated as of 2026-03-01"),
    ("params", "other parameters (--params)"),
    ("outcome", "other --outcome options"),
    ("explain", "another --explain setting"),
    ("policies", "another policy set (the policy files differ)"),
    ("input", "another input (--facts names other cases)"),
    ("input-content", "another input (--facts names other cases)"),
])
def test_resume_refuses_a_file_made_differently(runner, tmp_path, change, message):
    cases, out = _interrupted(runner, tmp_path, 2)
    before = out.read_bytes()
    policies = EXAMPLE
    args = ["--as-of", AS_OF]
    if change == "as_of":
        args = ["--as-of", "2026-03-02"]
    elif change == "params":
        params = tmp_path / "params.yaml"
        params.write_text("example.housing-allowance: {allowance_rate: 0.25}\n")
        args += ["--params", params]
    elif change == "outcome":
        args += ["--outcome", "housing_allowance"]
    elif change == "explain":
        args += ["--explain"]
    elif change == "policies":
        policies = tmp_path / "set"
        shutil.copytree(EXAMPLE, policies)
        page = policies / "housing-allowance.yaml"
        page.write_text(page.read_text().replace("value: 1200", "value: 1300"))
    elif change == "input":
        cases = _cases(tmp_path / "other.jsonl")
    elif change == "input-content":
        cases.write_text(cases.read_text().replace('"c3"', '"x3"'))
    r = runner.invoke(cli, ["eval", str(policies), "--facts", str(cases), "--out", str(out), "--resume", *map(str, args)])
    assert r.exit_code == 2, r.output
    assert f"cannot resume `{out}`: it was made with {message}" in r.stderr
    assert out.read_bytes() == before


def test_resume_refuses_without_a_fingerprint(runner, tmp_path):
    cases, out = _interrupted(runner, tmp_path, 2)
    (tmp_path / "out.jsonl.fingerprint").unlink()
    r = _eval(runner, "--facts", cases, "--as-of", AS_OF, "--out", out, "--resume")
    assert r.exit_code == 2
    assert "out.jsonl.fingerprint` is missing" in r.stderr


def test_resume_refuses_garbage_in_the_kept_part(runner, tmp_path):
    cases, out = _interrupted(runner, tmp_path, 3)
    lines = out.read_text().splitlines(keepends=True)
    out.write_text(lines[0] + "not a result\n" + "".join(lines[2:]))
    r = _eval(runner, "--facts", cases, "--as-of", AS_OF, "--out", out, "--resume")
    assert r.exit_code == 2
    assert "line 2 is not the result line of record 2" in r.stderr
    # a line of another record is not taken either
    out.write_text(lines[0] + lines[0] + "".join(lines[2:]))
    r = _eval(runner, "--facts", cases, "--as-of", AS_OF, "--out", out, "--resume")
    assert r.exit_code == 2
    assert "line 2 is not the result line of record 2" in r.stderr


def test_the_exit_code_counts_errors_in_the_kept_part(runner, tmp_path):
    cases, out = _interrupted(runner, tmp_path, 3, bad=(2,))
    r = _eval(runner, "--facts", cases, "--as-of", AS_OF, "--out", out, "--resume")
    assert r.exit_code == 1, r.output
    assert "6 cases, 1 with errors" in r.stderr


def test_two_runs_cannot_write_the_same_out(runner, tmp_path):
    cases = _cases(tmp_path / "cases.jsonl")
    out = tmp_path / "out.jsonl"
    out.write_text("")
    with open(out, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        r = _eval(runner, "--facts", cases, "--as-of", AS_OF, "--out", out)
    assert r.exit_code == 2
    assert f"another run is writing `{out}`" in r.stderr
    assert out.read_text() == ""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk_is_a_write_error(runner, tmp_path):
    cases = _cases(tmp_path / "cases.jsonl")
    r = _eval(runner, "--facts", cases, "--as-of", AS_OF, "--out", "/dev/full")
    assert r.exit_code == 1
    assert "policy: cannot write `/dev/full`: no space left on device" in r.stderr
    assert "cannot read" not in r.stderr


def test_a_csv_cell_over_the_field_limit_is_one_bad_record(runner, tmp_path):
    cases = tmp_path / "big.csv"
    cases.write_text('id,status,resident\na,"' + "x" * 140_000 + '",true\nb,employed,true\n', encoding="utf-8")
    r = _eval(runner, "--facts", cases, "--as-of", AS_OF)
    assert r.exit_code == 1, r.output
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["record"] for x in lines] == [1, 2]
    d = lines[0]["diagnostics"][0]
    assert (d["code"], d["line"], d["column"]) == ("fact-too-large", 2, 1)
    assert "results" in lines[1]


def test_ids_that_are_not_strings_are_json_text(runner, tmp_path):
    cases = tmp_path / "ids.jsonl"
    cases.write_text('{"id": [1, 2.5], "resident": true}\n{"id": null}\n{"id": {"a": true}}\n{"id": 7}\n')
    r = _eval(runner, "--facts", cases, "--as-of", AS_OF)
    assert r.exit_code == 0, r.output
    assert [json.loads(x)["id"] for x in r.stdout.splitlines()] == ["[1, 2.5]", "null", '{"a": true}', 7]


@pytest.mark.parametrize("resume_after", [0, 3])
def test_a_line_over_the_record_limit_is_one_bad_record_and_the_batch_goes_on(runner, tmp_path, monkeypatch, resume_after):
    """A line longer than the record limit is never read whole: it gives `record-too-large` at its line,
    the same with one process and with workers (a line past 512 KiB goes to a worker as a block of its
    own), and a line of `\\r` line ends inside it counts as the text reader counts it."""
    import dataclasses
    from interpreter import limits
    monkeypatch.setattr(limits, "LIMITS", dataclasses.replace(limits.LIMITS, record_chars=1_000))
    good = json.dumps({"id": "g", "birth_date": "1970-05-01", "resident": True, "status": "employed"})
    lines = [good, json.dumps({"status": "x" * 2_000}), good, json.dumps({"status": "y" * 600_000}) + "\r" + good,
             "z" * 700_000, good]
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(lines) + "\n")
    results = []
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}.jsonl"
        if resume_after:
            r = _eval(runner, "--facts", cases, "--as-of", AS_OF, "--out", out, "--jobs", jobs)
            kept = out.read_text().splitlines(keepends=True)[:resume_after]
            out.write_text("".join(kept))
            r = _eval(runner, "--facts", cases, "--as-of", AS_OF, "--out", out, "--jobs", jobs, "--resume")
        else:
            r = _eval(runner, "--facts", cases, "--as-of", AS_OF, "--out", out, "--jobs", jobs)
        assert r.exit_code == 1
        results.append(out.read_text())
    assert results[0] == results[1]
    got = [json.loads(line) for line in results[0].splitlines()]
    assert [(g["record"], g.get("status"), [(d["code"], d["line"], d["column"]) for d in g.get("diagnostics", [])])
            for g in got] == [
        (1, None, []), (2, "error", [("record-too-large", 2, 1)]), (3, None, []),
        (4, "error", [("record-too-large", 4, 1)]), (5, None, []), (6, "error", [("record-too-large", 6, 1)]),
        (7, None, [])]
