"""The worst input of each limit in docs/security.md: how long `policy` takes to refuse it, and its peak memory.

    python bench/limits.py            # every case
    python bench/limits.py chain      # the cases whose name contains "chain"

Each case is generated in a temporary folder and run as its own process (`python -m interpreter.cli`);
the wall time and the peak resident memory (ru_maxrss of that process, from os.wait4) are printed as a
Markdown table, with the exit code and the first diagnostic code seen.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = str(ROOT / "policies" / "example")
MB = 1_000_000


def _policy(expr: str, extra_rules: str = "") -> str:
    return ("id: t.p\ntitle: t\ninputs:\n  a: boolean\n  n: number\nrules:\n" + extra_rules +
            "  r:\n    label: r\n    expr: >-\n      " + expr + "\noutcomes:\n  o: {label: o, when: r}\n")


def cases(d: Path) -> list[tuple[str, list[str], bytes | None]]:
    """(name, arguments of `policy`, standard input) for each worst input, written under `d`."""
    out = []

    def write(name: str, data: str | bytes) -> str:
        p = d / name
        p.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        return str(p)

    out.append(("facts file of 6 MB", ["eval", EXAMPLE, "--facts", write("big.yaml", 'status: "' + "x" * 6 * MB + '"\n')], None))
    out.append(("policy file of 6 MB", ["validate", write("big-policy.yaml", "# " + "x" * 6 * MB + "\n")], None))
    out.append(("10 MB scalar on standard input", ["eval", EXAMPLE, "--facts", "-"], b'status: "' + b"x" * 10 * MB + b'"\n'))
    out.append(("string fact of 4.9 MB", ["eval", EXAMPLE, "--facts", write("long-string.json", '{"status": "' + "x" * 4_900_000 + '"}')], None))
    out.append(("number of 4.9 MB digits", ["eval", EXAMPLE, "--facts", write("long-number.json", '{"incomes": [{"year": 2025, "amount": ' + "9" * 4_900_000 + "}]}")], None))
    out.append(("alias bomb (9 levels of 9)", ["eval", EXAMPLE, "--facts", write("alias-bomb.yaml", _alias_bomb())], None))
    out.append(("JSON list of 2.4 million items (4.8 MB)", ["eval", EXAMPLE, "--facts", write("items.json", '{"incomes": [' + ",".join(["1"] * 2_400_000) + "]}")], None))
    out.append(("policy file with a list of 2.4 million items (4.8 MB)", ["validate", write("items-policy.yaml", '{"id": "t.p", "title": "t", "x": [' + ",".join(["1"] * 2_400_000) + "]}")], None))
    out.append(("unquoted YAML string of 4.9 MB", ["eval", EXAMPLE, "--facts", write("plain.yaml", "status: " + "x" * 4_900_000 + "\n")], None))
    out.append(("YAML number of 4.9 million digits", ["eval", EXAMPLE, "--facts", write("long-number.yaml", "incomes:\n- year: 2025\n  amount: " + "9" * 4_900_000 + "\n")], None))
    out.append(("JSON list with a syntax error after 900,000 items (1.8 MB)", ["eval", EXAMPLE, "--facts", write("mid-error.json", '{"incomes": [' + ",".join(["1"] * 900_000) + ", : ]}")], None))
    out.append(("150,000 flow mappings with an empty value (1.2 MB)", ["eval", EXAMPLE, "--facts", write("flow-empty.yaml", "incomes: [" + ", ".join(["{a: }"] * 150_000) + "]\n")], None))
    out.append(("list of 400,000 items and a byte order mark in a comment (0.8 MB)", ["eval", EXAMPLE, "--facts", write("bom-inside.yaml", "incomes: [" + ",".join(["1"] * 400_000) + "]\n# \ufeff\n")], None))
    out.append(("JSON nested 1,000,000 deep (2 MB)", ["eval", EXAMPLE, "--facts", write("deep.json", "[" * MB + "]" * MB)], None))
    out.append(("20,000 unknown facts", ["eval", EXAMPLE, "--facts", write("unknown.yaml", "".join(f"u{i}: 1\n" for i in range(20_000)))], None))
    out.append(("aliases expanding to 150,000 diagnostics (200 KB)", ["eval", EXAMPLE, "--facts", write("alias-diags.yaml", "x: &a {year: x, amount: y, extra: 1}\nincomes: [" + ", ".join(["*a"] * 50_000) + "]\n")], None))
    out.append(("expression of 20,001 characters", ["validate", write("expr-long.yaml", _policy("a" + " or a" * 4000))], None))
    out.append(("expression 4,990 `not` deep", ["validate", write("expr-deep.yaml", _policy("not " * 4_990 + "a"))], None))
    chains = "".join(f"  c{i}:\n    label: c\n    expr: >-\n      " + " and ".join(["a"] * 3300) + "\n" for i in range(10))
    out.append(("ten `and` chains of 3,300 operands", ["validate", write("chains.yaml", _policy("c0", chains))], None))
    rules = "".join(f"  x{i}:\n    label: x\n    expr: x{i + 1}\n" for i in range(399)) + "  x399:\n    label: x\n    expr: a\n"
    out.append(("chain of 400 rules", ["validate", write("rule-chain.yaml", _policy("x0", rules))], None))
    out.append(("CSV cell of 4.9 MB", ["eval", EXAMPLE, "--facts", write("cell.csv", 'id,status\na,"' + "x" * 4_900_000 + '"\n')], None))
    out.append(("JSON Lines: 10,000 lines with lone surrogates, --jobs 2", ["eval", EXAMPLE, "--jobs", "2", "--facts", write("surrogates.jsonl", '{"id": "\\udc80", "status": "\\udc80"}\n' * 10_000), "--out", str(d / "out.jsonl")], None))
    with open(d / "big-record.jsonl", "w") as fh:  # written in pieces: a forked child's peak counts this process's
        fh.write('{"id": "big", "status": "')
        for _ in range(128):
            fh.write("x" * MB)
        fh.write('"}\n{"id": "next", "status": "employed"}\n')
    out.append(("JSON Lines record of 128 MB, --jobs 2", ["eval", EXAMPLE, "--jobs", "2", "--facts", str(d / "big-record.jsonl"), "--out", str(d / "out.jsonl")], None))
    out.append(("JSON Lines record of 128 MB, --jobs 1", ["eval", EXAMPLE, "--facts", str(d / "big-record.jsonl"), "--out", str(d / "out.jsonl")], None))
    return out


def _alias_bomb() -> str:
    lines = ['a0: &a0 ["lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    lines.append("incomes: *a9")
    return "\n".join(lines) + "\n"


_CODE = re.compile(rb"error\[([a-z0-9-]+)\]|\"code\": \"([a-z0-9-]+)\"")


def run(args: list[str], stdin: bytes | None, d: Path) -> tuple[float, int, int, str]:
    """Wall seconds, peak RSS in MB, exit code, and the first diagnostic code of one run."""
    err_path, out_path = d / "stderr", d / "stdout"
    with open(err_path, "wb") as err, open(out_path, "wb") as out, tempfile.TemporaryFile() as inp:
        if stdin is not None:
            inp.write(stdin)
            inp.seek(0)
        (d / "out.jsonl").unlink(missing_ok=True)
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "interpreter.cli", *args], stdin=inp, stdout=out, stderr=err,
                                cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        took = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    written = d / "out.jsonl"  # a batch's --out file
    found = (_CODE.search(err_path.read_bytes()) or _CODE.search(out_path.read_bytes()[:100_000])
             or (written.exists() and _CODE.search(written.read_bytes()[:100_000])))
    code = (found.group(1) or found.group(2)).decode() if found else "-"
    return took, usage.ru_maxrss // 1024, proc.returncode, code


def main(argv: list[str]) -> None:
    only = argv[1] if len(argv) > 1 else ""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        print("| worst input | seconds | peak MB | exit | first code |")
        print("| --- | --- | --- | --- | --- |")
        for name, args, stdin in cases(d):
            if only not in name:
                continue
            took, mb, code, first = run(args, stdin, d)
            print(f"| {name} | {took:.2f} | {mb} | {code} | `{first}` |", flush=True)


if __name__ == "__main__":
    main(sys.argv)
