#!/usr/bin/env python3
"""Scale: cold `policy validate` of a policy repository that grows to hundreds of files.

    python bench/scale.py                 # 1, 10, 50 and 200 copies of policies/urumqi
    python bench/scale.py --copies 1 10 50 200 1000 --rounds 5

Each copy is policies/urumqi (four measures, the national work permit rules and
inputs.yaml, 6 files) in its own folder, its ids renamed (`urumqi.` becomes
`urumqi7.`, `national.work-permit` becomes `national7.work-permit`), so that the
set is one valid policy set of 6 x copies files. For each size the command runs
cold (a new process, bytecode cached as an installed package has it) `rounds`
times; the figures are the medians: wall and CPU milliseconds, milliseconds per
file, and the peak memory of the process. Everything is written to a temporary
directory, which is removed at the end.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SOURCE = ROOT / "policies" / "urumqi"
POLICY_MAIN = "import sys; from interpreter.cli import main; sys.exit(main())"   # what the `policy` script runs

# A fresh, small process per measurement spawns the command and reports its wall time, its peak RSS and its
# CPU time (a child's max RSS would otherwise start from the RSS of the process that forked it).
WRAPPER = """
import os, sys, time, resource
argv = sys.argv[1:]
null = os.open(os.devnull, os.O_RDWR)
t0 = time.perf_counter()
pid = os.posix_spawn(argv[0], argv, os.environ,
                     file_actions=[(os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, null, 1)])
_, status = os.waitpid(pid, 0)
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(repr(wall), ru.ru_maxrss, os.waitstatus_to_exitcode(status), repr(ru.ru_utime + ru.ru_stime))
"""


def make_set(folder: Path, copies: int) -> int:
    """`copies` renamed copies of policies/urumqi under folder; returns the number of policy files."""
    files = sorted(p for p in SOURCE.iterdir() if p.suffix == ".yaml" and not p.name.endswith(".test.yaml"))
    for i in range(copies):
        target = folder / f"copy-{i}"
        target.mkdir(parents=True)
        for p in files:
            text = p.read_text(encoding="utf-8")
            text = text.replace("urumqi.", f"urumqi{i}.").replace("national.work-permit", f"national{i}.work-permit")
            (target / p.name).write_text(text, encoding="utf-8")
    return copies * len(files)


def run(argv: list[str], env: dict) -> tuple[float, int, int, float]:
    p = subprocess.run([sys.executable, "-S", "-c", WRAPPER, *argv], cwd=ROOT, stdin=subprocess.DEVNULL,
                       capture_output=True, env=env, check=True)
    wall, rss, rc, cpu = p.stdout.split()
    return float(wall), int(rss), int(rc), float(cpu)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, nargs="+", default=[1, 10, 50, 200])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="policy-bench-scale-"))
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    try:
        print(f"cold `policy validate` of N copies of policies/urumqi, median of {args.rounds} runs")
        print(f"{'copies':>6} {'files':>6} {'wall ms':>9} {'CPU ms':>8} {'ms/file':>8} {'CPU ms/file':>11} "
              f"{'peak MB':>8}")
        for copies in args.copies:
            folder = tmp / f"set-{copies}"
            files = make_set(folder, copies)
            command = [sys.executable, "-c", POLICY_MAIN, "validate", str(folder)]
            run(command, env)  # fills the bytecode cache and the page cache, not measured
            walls, cpus, rsss = [], [], []
            for _ in range(args.rounds):
                wall, rss, rc, cpu = run(command, env)
                if rc != 0:
                    print(f"  ! exit {rc} for {copies} copies", file=sys.stderr)
                    return 1
                walls.append(wall * 1000)
                cpus.append(cpu * 1000)
                rsss.append(rss / 1024)
            wall, cpu = statistics.median(walls), statistics.median(cpus)
            print(f"{copies:>6} {files:>6} {wall:>9.0f} {cpu:>8.0f} {wall / files:>8.2f} {cpu / files:>11.2f} "
                  f"{max(rsss):>8.1f}", flush=True)
            shutil.rmtree(folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
