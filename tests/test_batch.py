"""Batch evaluation: every record gives exactly one line, in order, with bad records reported by number."""
import json
from pathlib import Path


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
    monkeypatch.setattr(batch, "BLOCK", 7)  # many blocks, and a short last one
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
