"""Batch evaluation: every record gives exactly one line, in order, with bad records reported by number."""
import io
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interpreter.cli import cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = str(ROOT / "policies" / "example")


def case(i, amount):
    return {"id": f"c{i}", "birth_date": "1970-05-01", "resident": True, "status": "employed",
            "incomes": [{"year": 2025, "amount": amount}], "spouse": None}


def caseload(tmp_path, n=40):
    lines = []
    for i in range(n):
        if i % 7 == 3:
            lines.append('{"id": "broken", ')                    # not JSON
        elif i % 11 == 5:
            lines.append(json.dumps({**case(i, 1), "resident": "perhaps"}))  # wrong type
        else:
            lines.append(json.dumps(case(i, 60000 + 1000 * i)))
    p = tmp_path / "cases.jsonl"
    p.write_text("\n".join(lines) + "\n")
    return p, lines


def run(runner, *args):
    return runner.invoke(cli, ["eval", EXAMPLE, "--as-of", "2026-03-01", "--outcome", "housing_allowance", *args])


def test_every_line_gives_one_result_in_order(runner, tmp_path):
    p, lines = caseload(tmp_path)
    r = run(runner, "--facts", str(p))
    assert r.exit_code == 1  # some records were bad
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert [o["record"] for o in out] == list(range(1, len(lines) + 1))
    bad = [o["record"] for o in out if o.get("status") == "error"]
    assert bad == [i + 1 for i in range(len(lines)) if i % 7 == 3 or (i % 11 == 5 and i % 7 != 3)]
    first_bad = next(o for o in out if o["record"] == 4)
    assert first_bad["diagnostics"][0]["code"] == "json-syntax"
    assert first_bad["diagnostics"][0]["line"] == 4
    typed = next(o for o in out if o["record"] == 6)
    assert typed["id"] == "c5" and typed["diagnostics"][0]["code"] == "fact-type"
    good = next(o for o in out if o["record"] == 1)
    assert good["id"] == "c0" and good["results"][0]["status"] == "applies"
    assert "40 cases, " in r.stderr and "with errors" in r.stderr


def test_jobs_keep_the_order(runner, tmp_path, monkeypatch):
    from interpreter import batch
    monkeypatch.setattr(batch, "CHUNK_BYTES", 1000)  # many blocks of lines, and a short last one
    p, _ = caseload(tmp_path, 300)
    one = tmp_path / "one.jsonl"
    two = tmp_path / "two.jsonl"
    assert run(runner, "--facts", str(p), "--out", str(one)).exit_code == 1
    assert run(runner, "--facts", str(p), "--out", str(two), "--jobs", "2").exit_code == 1
    assert one.read_text() == two.read_text()
    assert len(one.read_text().splitlines()) == 300


def test_resume_finishes_without_duplicates(runner, tmp_path):
    p, lines = caseload(tmp_path, 50)
    full = tmp_path / "full.jsonl"
    run(runner, "--facts", str(p), "--out", str(full))
    text = full.read_text()
    cut = tmp_path / "cut.jsonl"
    cut.write_text(text[: len(text) // 2])  # interrupted mid-line
    shutil.copy(f"{full}.fingerprint", f"{cut}.fingerprint")  # what the run was (docs/cli.md, Resuming)
    r = run(runner, "--facts", str(p), "--out", str(cut), "--resume")
    assert "resumed after" in r.stderr
    assert cut.read_text() == text


def test_csv_rows(runner, tmp_path):
    p = tmp_path / "cases.csv"
    p.write_text('id,birth_date,resident,status,incomes,spouse.resident\n'
                 'a1,1970-05-01,true,employed,"[{""year"": 2025, ""amount"": 60000}]",true\n'
                 'a2,1970-05-01,maybe,employed,[],false\n'
                 'a3,1970-05-01,true\n'
                 'a4,1970-05-01,true,employed,,\n')
    r = run(runner, "--facts", str(p))
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert [(o["id"], o.get("status"), [x["status"] for x in o.get("results", [])]) for o in out] == [
        ("a1", None, ["applies"]), ("a2", "error", []), ("a3", "error", []), ("a4", None, ["undetermined"])]
    assert out[3]["results"][0]["missing"] == [{"kind": "fact", "name": "incomes", "question":
                                                "What was the applicant's income in each recent calendar year?",
                                                "label": "income per calendar year"}]


def test_directory_of_facts_files(runner, tmp_path):
    (tmp_path / "b.yaml").write_text((ROOT / "examples" / "applicant.yaml").read_text())
    (tmp_path / "a.json").write_text('{"resident": false}')
    (tmp_path / "c.yaml").write_text("resident: [\n")
    r = run(runner, "--facts", str(tmp_path))
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert [(o["id"], o.get("status")) for o in out] == [("a.json", None), ("b.yaml", None), ("c.yaml", "error")]
    assert r.exit_code == 1


def test_batch_options_need_a_caseload(runner):
    r = run(runner, "--facts", str(ROOT / "examples" / "applicant.yaml"), "--jobs", "2")
    assert r.exit_code == 2


def _records_both_ways(path, skip=0):
    """(number, text) of every record after `skip`: read in one stream, and read block by block as workers do."""
    from interpreter import batch
    source = batch.read_records(str(path), "jsonl", {}, parse_lines=False)
    assert isinstance(source, batch.JsonlFile)
    streamed = [(r.number, r.text) for r in source][skip:]
    ranged = []
    for kind, payload in source.ranges(skip):
        assert kind == "range"
        ranged += [(r.number, r.text) for r in batch._range_records(*payload)]
    return streamed, ranged


PIECES = ['{"id": 1}', "\n", "\r", "\r\n", "\ufeff", "é", "\u2028", " ", "x"]


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(pieces=st.lists(st.sampled_from(PIECES) | st.binary(min_size=1, max_size=3), max_size=40),
       chunk=st.integers(min_value=1, max_value=40), skip=st.integers(min_value=0, max_value=12))
def test_workers_read_the_lines_the_stream_reads(tmp_path_factory, monkeypatch, pieces, chunk, skip):
    """Blocks of lines found by byte offsets give the records a text reader gives, numbered alike, whatever
    the line ends (\\n, \\r\\n, a lone \\r), a byte-order mark, bytes that are not UTF-8, or no final line end."""
    from interpreter import batch
    monkeypatch.setattr(batch, "CHUNK_BYTES", chunk)
    path = tmp_path_factory.mktemp("ranges") / "cases.jsonl"
    path.write_bytes(b"".join(p.encode("utf-8") if isinstance(p, str) else p for p in pieces))
    streamed, ranged = _records_both_ways(path, skip)
    assert ranged == streamed


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 19])
def test_jobs_give_the_same_lines_whatever_the_line_ends(runner, tmp_path, monkeypatch, chunk):
    from interpreter import batch
    monkeypatch.setattr(batch, "CHUNK_BYTES", chunk)
    good = json.dumps(case(1, 70000))
    data = ("\ufeff" + good + "\r\n" + good + "\r" + "\r\n" + '{"id": "x",\n' + good).encode() + b"\xff\n" + good.encode()
    p = tmp_path / "ends.jsonl"
    p.write_bytes(data)
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert run(runner, "--facts", str(p), "--out", str(one)).exit_code == 1
    assert run(runner, "--facts", str(p), "--out", str(two), "--jobs", "2").exit_code == 1
    assert one.read_text() == two.read_text()
    out = [json.loads(x) for x in one.read_text().splitlines()]
    assert [(o["record"], o.get("status") or o["results"][0]["status"]) for o in out] == [
        (1, "applies"), (2, "applies"), (3, "error"), (4, "error"), (5, "error"), (6, "applies")]
    assert [o["diagnostics"][0]["code"] for o in out if o.get("status") == "error"] == [
        "empty-record", "json-syntax", "not-utf8"]


def test_resume_with_jobs_skips_the_lines_already_written(runner, tmp_path, monkeypatch):
    from interpreter import batch
    monkeypatch.setattr(batch, "CHUNK_BYTES", 500)
    p, lines = caseload(tmp_path, 60)
    full = tmp_path / "full.jsonl"
    run(runner, "--facts", str(p), "--out", str(full))
    text = full.read_text()
    for cut_at in (0, 1, len(text) // 3, len(text) - 1):
        cut = tmp_path / "cut.jsonl"
        cut.write_text(text[:cut_at])
        shutil.copy(f"{full}.fingerprint", f"{cut}.fingerprint")
        r = run(runner, "--facts", str(p), "--out", str(cut), "--resume", "--jobs", "2")
        assert r.exit_code == 1
        assert cut.read_text() == text


def _broken_block(block):
    raise ValueError("a bug")


def _dying_block(block):
    import os
    os._exit(3)


@pytest.mark.parametrize("work, message", [
    (_broken_block, "a worker process failed: ValueError: a bug"),
    (_dying_block, "a worker process stopped before finishing its cases"),
])
def test_a_failing_worker_stops_the_batch_with_a_message(runner, tmp_path, monkeypatch, work, message):
    """A bug in a worker, or a worker killed, ends the run with the reason; it does not hang."""
    from interpreter import batch
    monkeypatch.setattr(batch, "_work_block", work)
    p, _ = caseload(tmp_path, 30)
    r = run(runner, "--facts", str(p), "--out", str(tmp_path / "out.jsonl"), "--jobs", "2")
    assert r.exit_code == 1
    assert r.stderr == f"policy: {message}; the result lines written are complete: --resume carries on from them\n"


def test_jobs_keep_the_order_of_csv_rows_and_files(runner, tmp_path, monkeypatch):
    from interpreter import batch
    monkeypatch.setattr(batch, "BLOCK", 3)
    rows = ["id,birth_date,resident,status,incomes"] + [
        f'r{i},1970-05-01,{"true" if i % 4 else "maybe"},employed,"[{{""year"": 2025, ""amount"": {50000 + 5000 * i}}}]"'
        for i in range(20)]
    csv_path = tmp_path / "cases.csv"
    csv_path.write_text("\n".join(rows) + "\n")
    folder = tmp_path / "cases"
    folder.mkdir()
    for i in range(8):
        (folder / f"{i:02}.json").write_text(json.dumps(case(i, 40000 + 10000 * i)) if i != 5 else "{")
    for facts in (csv_path, folder):
        one = run(runner, "--facts", str(facts))
        two = run(runner, "--facts", str(facts), "--jobs", "2")
        assert one.exit_code == two.exit_code == 1
        assert one.stdout == two.stdout
        assert len(one.stdout.splitlines()) == (20 if facts == csv_path else 8)
