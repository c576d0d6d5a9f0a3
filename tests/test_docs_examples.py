"""The examples in the docs are real: every ```console block's commands are run and their output compared.

A block looks like:

    ```console
    $ policy eval policies/example --facts examples/applicant.yaml --as-of 2026-03-01
    ...the exact output (stdout and stderr interleaved as a terminal shows them)...
    ```

Commands run from the repository root. Regenerate a page's outputs with
`python tests/test_docs_examples.py docs/PAGE.md`.
"""
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"```console\n(.*?)```", re.S)
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])


def run(command: str) -> tuple[str, int]:
    args = shlex.split(command)
    assert args[0] == "policy", f"docs examples run `policy`, not {args[0]}"
    proc = subprocess.run([sys.executable, "-m", "interpreter.cli", *args[1:]], cwd=ROOT, capture_output=True,
                          text=True, env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    return proc.stdout + proc.stderr, proc.returncode


def examples(page: Path):
    for m in BLOCK.finditer(page.read_text(encoding="utf-8")):
        lines = m.group(1).splitlines()
        current, expected = None, []
        for line in lines:
            if line.startswith("$ "):
                if current is not None:
                    yield current, "\n".join(expected)
                current, expected = line[2:], []
            else:
                expected.append(line)
        if current is not None:
            yield current, "\n".join(expected)


CASES = [(page, cmd, out) for page in PAGES for cmd, out in examples(page)]


@pytest.mark.parametrize("page,command,expected", CASES,
                         ids=[f"{p.name}:{c[:60]}" for p, c, _ in CASES])
def test_docs_example_output_is_real(page, command, expected):
    output, _ = run(command)
    got = "\n".join(line.rstrip() for line in output.rstrip("\n").splitlines())
    want = "\n".join(line.rstrip() for line in expected.rstrip("\n").splitlines())
    assert got == want, f"{page.name}: output of `{command}` changed; regenerate with python tests/test_docs_examples.py {page.relative_to(ROOT)}"


def regenerate(page: Path):
    text = page.read_text(encoding="utf-8")

    def fill(m):
        out = []
        for line in m.group(1).splitlines():
            if line.startswith("$ "):
                output, _ = run(line[2:])
                if out:
                    out.append("")
                out.append(line)
                out.extend(x.rstrip() for x in output.rstrip("\n").splitlines())
        return "```console\n" + "\n".join(out) + "\n```"

    page.write_text(BLOCK.sub(fill, text), encoding="utf-8")


if __name__ == "__main__":
    for name in sys.argv[1:]:
        regenerate(ROOT / name)
