"""The long differential run: generated policy sets and facts through every path, against the reference.

    python tests/fuzz/differential.py --minutes 30 --seed 1000000

Seeds are taken in order from --seed; each gives one policy set and --facts facts documents. Every
disagreement is printed with its seed (tests/policygen.py regenerates the set from it) and the run
goes on; the last line gives the seeds, cases, evaluations and disagreements. Exit code 1 when there
was any disagreement.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import interpreter  # noqa: E402
import policygen  # noqa: E402
from differential import PATHS, disagreements  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--facts", type=int, default=20, help="facts documents per generated policy set")
    args = ap.parse_args()
    end = time.monotonic() + args.minutes * 60
    seed, cases, found = args.seed, 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        while time.monotonic() < end:
            folder = Path(tmp) / str(seed)
            folder.mkdir()
            for name, text in policygen.generate(seed).items():
                (folder / name).write_text(text)
            result = interpreter.load([str(folder)])
            if not result.ok:  # a generator fault, not a disagreement; still a failure of the run
                found += 1
                print(f"seed {seed}: the generated set does not load: {result.diagnostics[0]}", flush=True)
                seed += 1
                continue
            pset = result.policy_set
            for raw, as_of in policygen.facts(seed, args.facts):
                facts, _ = pset.check_facts(raw)
                for line in disagreements(pset, facts, as_of):
                    found += 1
                    print(f"seed {seed}, facts {raw}, as of {as_of}: {line}", flush=True)
                cases += 1
            seed += 1
    print(f"seeds {args.seed} to {seed - 1}: {seed - args.seed} policy sets, {cases} cases, "
          f"{cases * (len(PATHS) + 1)} evaluations ({len(PATHS)} paths and the reference), {found} disagreements")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
