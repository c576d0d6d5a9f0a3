"""Files out of the tree being checked are not read: a symbolic link out of a directory given, and a test
file's `policies:` that leads out of the current folder and the paths given, unless --follow-outside."""
from __future__ import annotations

import os
from pathlib import Path

from interpreter.cli import cli

SECRET = "id: t.secret\ntitle: secret-line-never-printed\ninputs: {a: boolean}\noutcomes:\n  o: {label: o, when: a}\n"
POLICY = "id: t.q\ntitle: q\ninputs: {a: boolean}\noutcomes:\n  o: {label: o, when: a}\n"


def _trees(tmp_path: Path) -> tuple[Path, Path]:
    tree, outside = tmp_path / "tree", tmp_path / "outside"
    tree.mkdir()
    outside.mkdir()
    (outside / "secret.yaml").write_text(SECRET)
    (tree / "q.yaml").write_text(POLICY)
    return tree, outside


def test_a_symlink_out_of_the_tree_is_refused_unless_asked(runner, tmp_path):
    tree, outside = _trees(tmp_path)
    os.symlink(outside / "secret.yaml", tree / "link.yaml")
    r = runner.invoke(cli, ["validate", str(tree)])
    assert r.exit_code == 1
    assert f"{tree / 'link.yaml'}:1:1: error[outside-tree]: `{tree / 'link.yaml'}` leads to " \
           f"`{outside / 'secret.yaml'}`, outside `{tree}`; it is not read" in r.stderr
    assert "secret-line-never-printed" not in r.output
    assert runner.invoke(cli, ["validate", str(tree), "--follow-outside"]).exit_code == 0
    # a link that stays inside the tree is followed as before
    (tree / "link.yaml").unlink()
    (tree / "sub").mkdir()
    (tree / "sub" / "r.yaml").write_text(POLICY.replace("t.q", "t.r"))
    os.symlink(tree / "sub" / "r.yaml", tree / "inner.yaml")
    r = runner.invoke(cli, ["validate", str(tree)])
    assert r.exit_code == 1 and "duplicate-id" in r.stderr  # read twice, through the link: inside the tree


def test_a_test_files_policies_path_out_of_the_tree_is_refused(runner, tmp_path, monkeypatch):
    tree, outside = _trees(tmp_path)
    monkeypatch.chdir(tree)
    (tree / "x.test.yaml").write_text(f"policies: {outside}\ncases:\n  - name: x\n    as_of: 2026-01-01\n"
                                      "    facts: {a: true}\n    expect: {o: applies}\n")
    r = runner.invoke(cli, ["test", str(tree)])
    assert r.exit_code == 1
    assert f"x.test.yaml:1:11: error[outside-tree]: `{outside}` leads to `{outside}`, outside the current folder " \
           "and the paths given; it is not read" in r.stderr
    r = runner.invoke(cli, ["test", str(tree), "--follow-outside"])
    assert r.exit_code == 0, r.output
    # policy validate checks test files too, and refuses the same path
    r = runner.invoke(cli, ["validate", str(tree)])
    assert r.exit_code == 1
    assert f"x.test.yaml:1:11: error[outside-tree]: `{outside}` leads to `{outside}`, outside the current folder " \
           "and the paths given; it is not read" in r.stderr
    assert "secret-line-never-printed" not in r.output
    r = runner.invoke(cli, ["validate", str(tree), "--follow-outside"])
    assert r.exit_code == 0, r.output


def test_a_test_files_policies_path_is_relative_to_the_test_file(runner, tmp_path, monkeypatch):
    tree, _ = _trees(tmp_path)
    sub = tree / "tests"
    sub.mkdir()
    (sub / "q.test.yaml").write_text("policies: ../q.yaml\ncases:\n  - name: x\n    as_of: 2026-01-01\n"
                                     "    facts: {a: true}\n    expect: {o: applies}\n")
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(cli, ["test", str(sub / "q.test.yaml")])
    assert r.exit_code == 0, r.output
    assert "1 passed, 0 failed" in r.stdout


def test_eval_and_docs_refuse_a_link_out_of_the_tree_unless_asked(runner, tmp_path):
    tree, outside = _trees(tmp_path)
    (outside / "secret.yaml").write_text(SECRET.replace("t.secret", "t.other"))
    os.symlink(outside / "secret.yaml", tree / "link.yaml")
    facts = tmp_path / "f.yaml"
    facts.write_text("a: true\n")
    r = runner.invoke(cli, ["eval", str(tree), "--facts", str(facts), "--as-of", "2026-03-01"])
    assert r.exit_code == 1 and "error[outside-tree]" in r.stderr
    r = runner.invoke(cli, ["eval", str(tree), "--facts", str(facts), "--as-of", "2026-03-01", "--follow-outside"])
    assert r.exit_code == 0, r.output
    assert "t.other / o" in r.stdout
    pages = tmp_path / "pages"
    assert runner.invoke(cli, ["docs", str(tree), "--out", str(pages)]).exit_code == 1
    assert runner.invoke(cli, ["docs", str(tree), "--out", str(pages), "--follow-outside"]).exit_code == 0
    assert (pages / "t-other.md").is_file()
