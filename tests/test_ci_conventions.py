"""The conventions CI relies on: `python -m interpreter`, the pre-commit hooks, shell completion, --strict."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from interpreter.cli import cli

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}


def test_python_m_interpreter_runs_the_command():
    r = subprocess.run([sys.executable, "-m", "interpreter", "validate", "policies/example"], cwd=ROOT, env=ENV,
                       capture_output=True, text=True)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "checked 4 files: 0 errors, 0 warnings\n")


def test_pre_commit_hooks_run_validate_and_test_and_are_documented():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    by_id = {h["id"]: h for h in hooks}
    assert by_id["policy-validate"]["entry"] == "policy validate --strict"
    assert by_id["policy-test"]["entry"] == "policy test"
    assert all(h["language"] == "python" and h["pass_filenames"] is False for h in hooks)
    readme = (ROOT / "README.md").read_text()
    assert "- id: policy-validate" in readme and "- id: policy-test" in readme


def test_hook_commands_pass_on_the_shipped_policies(runner):
    for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text()):
        args = hook["entry"].split()[1:] + [str(ROOT / a) for a in hook["args"]]
        assert runner.invoke(cli, args).exit_code == 0, hook["id"]


def test_shell_completion_completes_commands_and_options():
    def complete(words, cword):
        r = subprocess.run([sys.executable, "-m", "interpreter"], cwd=ROOT, capture_output=True, text=True,
                           env={**ENV, "COMP_WORDS": words, "COMP_CWORD": cword, "_POLICY_COMPLETE": "bash_complete"})
        return r.stdout.split()
    assert complete("policy ev", "1") == ["plain,eval"]
    assert complete("policy validate --st", "2") == ["plain,--strict"]
    assert "_POLICY_COMPLETE=bash_source policy" in (ROOT / "README.md").read_text()


def test_strict_names_the_warnings_that_failed_the_run(runner, tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text("id: t.p\ntitle: T\ninputs: {a: boolean, b: number}\nparameters:\n  n: {value: 6}\n"
                 "outcomes:\n  o: {label: at least 6, when: a}\n")
    r = runner.invoke(cli, ["validate", str(p), "--strict"])
    assert r.exit_code == 1
    assert r.stderr.splitlines()[-2:] == ["checked 1 file: 0 errors, 3 warnings",
                                          "--strict: these 3 warnings fail the run: unused-input, unused-parameter, "
                                          "label-number"]
    r = runner.invoke(cli, ["validate", str(p), "--strict", "--format", "json"])
    assert r.stdout.endswith('"ok": false, "failed_by": ["unused-input", "unused-parameter", "label-number"]}\n')
    assert runner.invoke(cli, ["validate", str(p)]).exit_code == 0


def test_every_package_of_the_interpreter_is_installed():
    """`pip install .` ships the packages pyproject.toml lists: each folder of modules must be one of them."""
    import re
    line = re.search(r"^packages = \[(.*)\]$", (ROOT / "pyproject.toml").read_text(), re.M)[1]
    listed = set(re.findall(r'"([\w.]+)"', line))
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "interpreter").rglob("__init__.py")}
    assert found <= listed
