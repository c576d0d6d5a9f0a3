#!/usr/bin/env python3
"""Benchmark of `policy diff` over a caseload, against one `policy eval --out` over the same cases.

    python bench/diff.py                 # 100,000 cases, 3 interleaved rounds (several minutes)
    python bench/diff.py --cases 20000 --rounds 1

The change measured is measure 1's `salary_multiple` 6 -> 5 (a copy of policies/urumqi in a temporary
directory). Targets: the diff takes at most 2.2x the wall time of the eval, and its peak memory on the
large caseload is within 50 MB of a 100-case diff (it streams). Each command runs in a fresh process,
measured as bench/run.py measures its batches. Nothing is written into the repository.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import caseload as C  # noqa: E402
import run as R  # noqa: E402  (its measuring wrapper and machine description)

TARGET_RATIO = 2.2
TARGET_MB = 50


def measure(argv) -> tuple[float, int, int, float]:
    """As bench/run.py's run_child (wall seconds, peak RSS in KiB, exit status, CPU seconds), for a command whose
    exit code 1 is expected: `policy diff` exits with 1 when decisions differ."""
    p = subprocess.run([sys.executable, "-S", "-c", R.WRAPPER, *argv], cwd=R.ROOT, stdin=subprocess.DEVNULL,
                       capture_output=True, env=R.CHILD_ENV)
    try:
        wall, rss, rc, cpu = p.stdout.split()
    except ValueError:
        sys.exit(f"measurement wrapper failed: {p.stderr.decode(errors='replace')[-600:]}")
    return float(wall), int(rss), int(rc), float(cpu)


def new_version(tmp: str) -> str:
    """policies/urumqi with salary_multiple 5 instead of 6."""
    new = os.path.join(tmp, "urumqi-new")
    shutil.copytree(os.path.join(R.ROOT, "policies", "urumqi"), new)
    m1 = os.path.join(new, "measure-1-permanent-residence.yaml")
    with open(m1, encoding="utf-8") as fh:
        text = fh.read()
    old = "multiple of the average salary that the annual salary must reach\n    unit: times\n    value: 6\n"
    if old not in text:
        sys.exit("cannot find salary_multiple: 6 in measure 1")
    with open(m1, "w", encoding="utf-8") as fh:
        fh.write(text.replace(old, old.replace("value: 6", "value: 5")))
    return new


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="policy-bench-diff-") as tmp:
        R.use_private_bytecode_cache(tmp)
        params = os.path.join(tmp, "average-salary.yaml")
        with open(params, "w") as fh:
            fh.write(C.PARAMS_YAML)
        cases = C.generate(args.cases, seed=7)
        big = os.path.join(tmp, f"cases-{args.cases}.jsonl")
        C.write_jsonl(big, cases)
        small = os.path.join(tmp, "cases-100.jsonl")
        C.write_jsonl(small, cases[:100])
        new = new_version(tmp)
        common = ["--params", params, "--as-of", C.AS_OF.isoformat()]
        out = os.path.join(tmp, "out")

        def eval_argv(facts):
            return [py, "-c", R.POLICY_MAIN, "eval", "policies/urumqi", "--facts", facts, "--out", out, *common]

        def diff_argv(facts):
            return [py, "-c", R.POLICY_MAIN, "diff", "policies/urumqi", new, "--facts", facts, "--format", "json",
                    "--out", out, *common]

        runs = [("eval", eval_argv(big), 0), ("diff", diff_argv(big), 1), ("diff, 100 cases", diff_argv(small), 1)]
        measure(diff_argv(small))  # fills the bytecode cache; not measured
        samples = {name: {"wall": [], "rss": [], "cpu": []} for name, _, _ in runs}
        for r in range(args.rounds):
            for name, cmd, want_rc in runs[r % len(runs):] + runs[:r % len(runs)]:
                wall, rss, rc, cpu = measure(cmd)
                if rc != want_rc:
                    sys.exit(f"{name}: exit code {rc}, expected {want_rc}")
                samples[name]["wall"].append(wall)
                samples[name]["rss"].append(rss / 1024)
                samples[name]["cpu"].append(cpu)
            print(f"round {r + 1}/{args.rounds}: " + ", ".join(
                f"{name} {samples[name]['wall'][-1]:.2f} s {samples[name]['rss'][-1]:.1f} MB" for name, _, _ in runs),
                file=sys.stderr)
    m = R.machine()
    print(f"machine: {m['cpu']}, {m['nproc']} CPUs, Python {m['python']}, load average {m['loadavg']}; {m['code']}")
    print(f"caseload: {args.cases} generated cases (bench/caseload.py, seed 7); change: salary_multiple 6 -> 5; "
          f"median of {args.rounds} interleaved rounds")
    med = {name: {k: statistics.median(v) for k, v in s.items()} for name, s in samples.items()}
    for name, _, _ in runs:
        s = med[name]
        print(f"  {name:<16} wall {s['wall']:7.2f} s   CPU {s['cpu']:7.2f} s   peak RSS {s['rss']:6.1f} MB")
    ratio = med["diff"]["wall"] / med["eval"]["wall"]
    grown = max(samples["diff"]["rss"]) - med["diff, 100 cases"]["rss"]
    print(f"  [{'HOLDS' if ratio <= TARGET_RATIO else 'FAILS'}] diff <= {TARGET_RATIO}x eval --out: {ratio:.2f}x "
          f"(CPU {med['diff']['cpu'] / med['eval']['cpu']:.2f}x)")
    print(f"  [{'HOLDS' if grown <= TARGET_MB else 'FAILS'}] diff peak memory within {TARGET_MB} MB of the 100-case diff: "
          f"{max(samples['diff']['rss']):.1f} MB vs {med['diff, 100 cases']['rss']:.1f} MB: {grown:+.1f} MB")


if __name__ == "__main__":
    main()
