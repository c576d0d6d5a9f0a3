"""Limits that hold while reading: standard input has the file size limit, diagnostics are capped per
document (with "and N more") and rendered in one pass over the source, and checking a long `and` chain
is linear. Times are measured by bench/limits.py (docs/security.md), not here: these tests count work."""
from __future__ import annotations

import io
from pathlib import Path

from interpreter import checker, load
from interpreter.cli import cli
from interpreter.diagnostics import Diagnostic, Span
from interpreter.limits import LIMITS
from interpreter.render import SourceCache, render_diagnostics_text

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = str(ROOT / "policies" / "example")


def test_standard_input_over_the_size_limit_is_refused_without_reading_it_all(runner):
    from interpreter.facts import read_stdin
    class Endless(io.RawIOBase):
        read_bytes = 0

        def readable(self):
            return True

        def read(self, n=-1):
            n = 1 << 20 if n is None or n < 0 else n
            self.read_bytes += n
            return b"x" * n

    stream = Endless()
    text, diags = read_stdin(stream)
    assert text is None
    assert [(d.code, str(d.span)) for d in diags] == [("file-too-large", "<stdin>:1:1")]
    assert stream.read_bytes == LIMITS.file_bytes + 1  # read no further than one byte past the limit
    big = b'status: "' + b"x" * (LIMITS.file_bytes + 10) + b'"\n'
    r = runner.invoke(cli, ["eval", EXAMPLE, "--facts", "-"], input=big)
    assert r.exit_code == 1
    assert r.stderr.startswith("<stdin>:1:1: error[file-too-large]: standard input is larger than the limit of")


def test_diagnostics_of_a_facts_document_are_capped(runner, tmp_path):
    facts = tmp_path / "unknown.yaml"
    facts.write_text("".join(f"u{i}: 1\n" for i in range(20_000)))
    r = runner.invoke(cli, ["eval", EXAMPLE, "--facts", str(facts)])
    assert r.exit_code == 1
    assert r.stderr.count("error[unknown-fact]") == 100
    assert (f"{facts}:101:1: error[too-many-diagnostics]: and 19900 more diagnostics from here on, "
            "not shown (the first 100 are)") in r.stderr


def test_diagnostics_expanded_by_aliases_are_capped(runner, tmp_path):
    facts = tmp_path / "alias.yaml"
    facts.write_text("x: &a {year: x, amount: y, extra: 1}\nincomes: [" + ", ".join(["*a"] * 50_000) + "]\n")
    r = runner.invoke(cli, ["eval", EXAMPLE, "--facts", str(facts), "--format", "json"])
    assert r.exit_code == 1
    import json
    doc = json.loads(r.stdout)
    assert len(doc["diagnostics"]) == 101
    assert doc["diagnostics"][-1]["code"] == "too-many-diagnostics"
    assert doc["diagnostics"][-1]["message"].startswith("and 149901 more diagnostics")


def test_cap_per_file_counts_per_file():
    from interpreter.diagnostics import cap_per_file
    diags = [Diagnostic("x", "m", Span.point(f, i, 1)) for f in ("a", "b") for i in range(1, 6)]
    capped = cap_per_file(diags, 3)
    assert [(d.code, str(d.span)) for d in capped] == [
        ("x", "a:1:1"), ("x", "a:2:1"), ("x", "a:3:1"), ("x", "b:1:1"), ("x", "b:2:1"), ("x", "b:3:1"),
        ("too-many-diagnostics", "a:4:1"), ("too-many-diagnostics", "b:4:1")]
    assert capped[-1].message == "and 2 more diagnostics from here on, not shown (the first 3 are)"


class _CountingText(str):
    splits = 0

    def splitlines(self, *args):
        type(self).splits += 1
        return super().splitlines(*args)


def test_rendering_splits_a_source_once():
    text = _CountingText("".join(f"line {i}\n" for i in range(1, 2001)))
    sources = SourceCache({"f.yaml": text})
    diags = [Diagnostic("x", "m", Span.point("f.yaml", i, 1)) for i in range(1, 2001)]
    out = render_diagnostics_text(diags, sources)
    assert out.count("error[x]") == 2000 and " 2000 | line 2000" in out
    assert _CountingText.splits == 1


def test_a_long_and_chain_is_checked_in_linear_work(tmp_path, monkeypatch):
    calls = 0
    original = checker._Checker._narrowed

    def counting(self, cond, positive):
        nonlocal calls
        calls += 1
        return original(self, cond, positive)

    monkeypatch.setattr(checker._Checker, "_narrowed", counting)
    n = 150  # deep enough to tell n from n * n, shallow enough for the default recursion limit
    policy = tmp_path / "chain.yaml"
    policy.write_text("id: t.chain\ntitle: chain\ninputs: {a: boolean}\nrules:\n  r:\n    label: r\n"
                      "    expr: >-\n      " + " and ".join(["a"] * n) + "\noutcomes:\n  o: {label: o, when: r}\n")
    assert load([str(policy)]).ok
    assert calls <= 4 * n, calls


def test_range_is_bounded(evaluate):
    """docs/security.md: `range()` makes at most 10,000 items; more is a located `invalid-argument`."""
    ok = evaluate({"n": "number"}, "len(range(0, n)) == 10000", {"n": 10_000})
    assert ok.status == "applies"
    r = evaluate({"n": "number"}, "len(range(0, n)) > 0", {"n": 10_001})
    assert r.status == "error"
    assert [(d.code, d.span.line, d.span.column) for d in r.diagnostics] == [("invalid-argument", 9, 11)]


def test_the_node_limit_holds_while_reading_a_facts_file_and_a_policy_file(runner, tmp_path, monkeypatch):
    """A list too long for the node limit is refused at the item that passes it (the whole document
    before: the limit was checked on the tree built)."""
    import dataclasses
    from interpreter import limits
    monkeypatch.setattr(limits, "LIMITS", dataclasses.replace(limits.LIMITS, yaml_nodes=1_000))
    facts = tmp_path / "items.json"
    facts.write_text('{"incomes": [' + ",".join(["1"] * 1_000) + "]}")
    r = runner.invoke(cli, ["eval", EXAMPLE, "--facts", str(facts), "--as-of", "2026-03-01"])
    assert r.exit_code == 1
    assert r.stderr.startswith(f"{facts}:1:{14 + 2 * 997}: error[yaml-too-large]: the document has more than 1000 nodes")
    policy = tmp_path / "items.yaml"
    policy.write_text("id: t.p\ntitle: t\nx:\n" + "".join(f"- {i}\n" for i in range(1_000)))
    r = runner.invoke(cli, ["validate", str(policy)])
    assert r.exit_code == 1
    assert r.stderr.startswith(f"{policy}:{4 + 993}:3: error[yaml-too-large]:")  # node 1,001: item 993


def test_an_unquoted_yaml_string_of_4_9_mb_is_one_fact_too_large(runner, tmp_path):
    facts = tmp_path / "plain.yaml"
    facts.write_text("status: " + "x" * 4_900_000 + "\n")
    r = runner.invoke(cli, ["eval", EXAMPLE, "--facts", str(facts), "--as-of", "2026-03-01", "--format", "json"])
    assert r.exit_code == 1
    import json
    assert [(d["code"], d["line"], d["column"]) for d in json.loads(r.stdout)["diagnostics"]] == [("fact-too-large", 1, 9)]
