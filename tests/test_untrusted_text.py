"""Untrusted text (facts, answers, labels, test names) never acts on a terminal nor breaks an output.

Control characters and escape sequences are printed as visible escapes (`\\x1b`), terminal or not;
lone surrogates (valid in JSON text, not encodable as UTF-8) are escaped in JSON output, pages and
JUnit reports instead of stopping the run.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from interpreter.cli import cli
from interpreter.safetext import json_safe, printable, xml_safe

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = str(ROOT / "policies" / "example")
AS_OF = "2026-03-01"

# A clear screen, a window title (OSC, ended by BEL), and a fake decision on a new line.
ATTACK = "\x1b[2J\x1b]0;owned\x07\n✓ applies \x9b31m"

POLICY = """\
id: t.p
title: "a title \\e[2J"
inputs:
  a: boolean
  s: string
  c: {type: string, values: [red, green]}
outcomes:
  o:
    label: "the outcome \\udc80 \\e]0;x\\a"
    when: a
    values: {v: 's'}
  colour:
    label: the colour is green
    when: c == "green"
"""


def _set(tmp_path: Path) -> Path:
    d = tmp_path / "set"
    d.mkdir()
    (d / "p.yaml").write_text(POLICY, encoding="utf-8")
    return d


def _no_raw_controls(text: str):
    assert not any(ch in text for ch in "\x1b\x07\x9b"), repr(text)
    assert "\n✓ applies \\x9b" not in text  # the fake decision stays on the line of its value
    text.encode("utf-8")  # no lone surrogate


def test_printable_escapes_controls_and_keeps_letters():
    assert printable("café ✓ 中文") == "café ✓ 中文"
    assert printable(ATTACK) == "\\x1b[2J\\x1b]0;owned\\x07\\n✓ applies \\x9b31m"
    assert printable("a\udc80b\u202e") == "a\\udc80b\\u202e"


def test_json_safe_keeps_the_value():
    text = '{"a": "x\udc80\x9b\u202e"}'
    safe = json_safe(text)
    assert safe == '{"a": "x\\udc80\\u009b\\u202e"}'
    assert json.loads(safe) == json.loads(text)
    assert xml_safe("a\x01\udc80\tb") == "a\\x01\\udc80\tb"


def test_fact_strings_are_escaped_in_values_explain_and_errors(runner, tmp_path):
    d = _set(tmp_path)
    facts = tmp_path / "f.json"
    facts.write_text(json.dumps({"a": True, "s": ATTACK}), encoding="utf-8")
    r = runner.invoke(cli, ["eval", str(d), "--facts", str(facts), "--as-of", AS_OF, "--explain"])
    assert r.exit_code == 0, r.output
    _no_raw_controls(r.stdout)
    assert "    v = \\x1b[2J\\x1b]0;owned\\x07\\n✓ applies \\x9b31m" in r.stdout
    assert "the outcome \\udc80 \\x1b]0;x\\x07" in r.stdout
    facts.write_text(json.dumps({"c": ATTACK}), encoding="utf-8")
    r = runner.invoke(cli, ["eval", str(d), "--facts", str(facts), "--as-of", AS_OF])
    assert r.exit_code == 1
    _no_raw_controls(r.stderr)
    assert "error[fact-value]: fact `c` is `\\x1b[2J\\x1b]0;owned\\x07\\n✓ applies \\x9b31m`, not one of" in r.stderr


def test_fact_strings_are_escaped_in_the_default_text_in_words(runner, tmp_path):
    d = _set(tmp_path)
    (d / "q.yaml").write_text('''\
id: t.q
title: Q
inputs: {name: string}
outcomes:
  named:
    label: "the name \\e[2J"
    when: name == "x"
''', encoding="utf-8")
    facts = tmp_path / "f.json"
    facts.write_text(json.dumps({"a": True, "s": ATTACK, "name": ATTACK}), encoding="utf-8")
    r = runner.invoke(cli, ["eval", str(d), "--facts", str(facts), "--as-of", AS_OF])
    assert r.exit_code == 0, r.output
    _no_raw_controls(r.stdout)
    assert "    v: \\x1b[2J\\x1b]0;owned\\x07\\n✓ applies \\x9b31m" in r.stdout
    assert "t.q / named: the name \\x1b[2J" in r.stdout
    assert '    ✗ name: "\\x1b[2J\\x1b]0;owned\\x07\\n✓ applies \\x9b31m", not equal to "x"' in r.stdout


def test_a_lone_surrogate_in_json_output_is_escaped(runner, tmp_path):
    d = _set(tmp_path)
    facts = tmp_path / "f.json"
    facts.write_text('{"a": true, "s": "x\\udc80"}', encoding="utf-8")
    r = runner.invoke(cli, ["eval", str(d), "--facts", str(facts), "--as-of", AS_OF, "--format", "json"])
    assert r.exit_code == 0, r.output
    assert '"v": "x\\udc80"' in r.stdout
    assert json.loads(r.stdout)["results"][0]["values"]["v"] == "x\udc80"


def _surrogate_caseload(tmp_path: Path) -> Path:
    path = tmp_path / "cases.jsonl"
    path.write_text('{"id": "a", "resident": true}\n'
                    '{"id": "b\\udc80", "resident": true}\n'
                    '{"id": "c", "status": "\\udc80x"}\n'
                    '{"id": "d", "resident": true}\n', encoding="utf-8")
    return path


def test_a_lone_surrogate_never_stops_a_batch(tmp_path):
    cases = _surrogate_caseload(tmp_path)
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}.jsonl"
        r = subprocess.run([sys.executable, "-m", "interpreter.cli", "eval", EXAMPLE, "--facts", str(cases),
                            "--as-of", AS_OF, "--jobs", jobs, "--out", str(out)], capture_output=True)
        assert r.returncode == 1, r.stderr
        assert b"internal error" not in r.stderr
        lines = [json.loads(x) for x in out.read_bytes().decode("utf-8").splitlines()]
        assert [x["id"] for x in lines] == ["a", "b\udc80", "c", "d"]
        assert [x.get("status") for x in lines] == [None, None, "error", None]
        # on standard output too: valid UTF-8, one line per record
        r = subprocess.run([sys.executable, "-m", "interpreter.cli", "eval", EXAMPLE, "--facts", str(cases),
                            "--as-of", AS_OF, "--jobs", jobs], capture_output=True)
        assert len(r.stdout.decode("utf-8").splitlines()) == 4, r.stderr


def test_a_lone_surrogate_in_a_label_gives_a_page_and_a_junit_report(runner, tmp_path):
    d = _set(tmp_path)
    (d / "p.test.yaml").write_text('policies: p.yaml\ncases:\n  - name: "case \\udc80 \\e[31m \\x01"\n'
                                   '    as_of: 2026-01-01\n    facts: {a: true}\n    expect: {o: does_not_apply}\n',
                                   encoding="utf-8")
    pages = tmp_path / "pages"
    r = runner.invoke(cli, ["docs", str(d), "--out", str(pages)])
    assert r.exit_code == 0, r.output
    page = (pages / "t-p.md").read_text(encoding="utf-8")
    assert "the outcome \\udc80 \\x1b]0;x\\x07" in page
    junit = tmp_path / "junit.xml"
    r = runner.invoke(cli, ["test", str(d), "--junit", str(junit)])
    assert r.exit_code == 1
    _no_raw_controls(r.stdout)
    case = next(ET.parse(junit).getroot().iter("testcase"))
    assert case.get("name") == "case \\udc80 \\x1b[31m \\x01"


def test_docs_does_not_follow_a_symlink_planted_in_the_output_folder(runner, tmp_path):
    d = _set(tmp_path)
    pages = tmp_path / "pages"
    pages.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    os.symlink(victim, pages / "t-p.md")
    r = runner.invoke(cli, ["docs", str(d), "--out", str(pages)])
    assert r.exit_code == 1
    assert "is a symbolic link; pages are not written through links" in r.stderr
    assert victim.read_text() == "precious\n"


def test_ask_escapes_answers_and_re_prompts_on_odd_numbers(runner, tmp_path):
    d = _set(tmp_path)
    facts = tmp_path / "f.yaml"
    facts.write_text("a: true\ns: x\n")
    answers = "\n".join(["²", "9" * 5000, "\x1b]0;owned\x07", "2"]) + "\n"
    r = runner.invoke(cli, ["ask", str(d), "--facts", str(facts), "--as-of", AS_OF], input=answers)
    assert r.exit_code == 0, r.output
    assert "internal error" not in r.output
    _no_raw_controls(r.stdout)
    assert r.stdout.count("Please choose one of: red, green.") == 3
    assert "✓ applies" in r.stdout


def test_case_ids_are_escaped_in_the_diff_report(runner, tmp_path):
    case = json.loads((ROOT / "docs" / "examples" / "cases.jsonl").read_text(encoding="utf-8").splitlines()[0])
    case["id"] = ATTACK
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps(case) + "\n", encoding="utf-8")
    args = ["diff", EXAMPLE, str(ROOT / "docs" / "examples" / "example-lower-ceiling"), "--facts", str(cases),
            "--as-of", AS_OF]
    for fmt, shown in (("text", "    e.g. \\x1b[2J\\x1b]0;owned\\x07\\n✓ applies \\x9b31m: income_below_ceiling"),
                       ("markdown", "`\\x1b[2J\\x1b]0;owned\\x07 ✓ applies \\x9b31m` (income_below_ceiling")):  # a cell: one line
        r = runner.invoke(cli, [*args, "--format", fmt])
        assert r.exit_code == 1, r.output
        _no_raw_controls(r.stdout)
        assert shown in r.stdout
