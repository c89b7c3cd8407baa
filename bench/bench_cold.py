"""Benchmark a cold start: `python -m augment.run --offline --quiet`, 100 seeds x 10, as a scheduler runs it.

Run: python bench/bench_cold.py [--repeat 7] [--tree PATH ...]
Each run is a new interpreter (imports included), wall time from the parent; with several --tree (checkouts of the
package, e.g. one exported with `git archive`), the runs are interleaved so a busy neighbour slows each tree alike.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cold_run(tree: Path, out: Path) -> tuple[float, float]:
    """Return the wall and CPU seconds (children included) of one cold offline run from tree."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "augment.run", "--offline", "--quiet", "--seeds", str(ROOT / "seeds" / "fine_tune.csv"), "--out", str(out)],
        cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)}, check=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per tree (default 7)")
    parser.add_argument("--tree", type=Path, action="append", help="package checkout to time (default: this one); repeatable")
    args = parser.parse_args()
    trees = args.tree or [ROOT]
    walls: dict[Path, list[float]] = {tree: [] for tree in trees}
    cpus: dict[Path, list[float]] = {tree: [] for tree in trees}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.repeat):
            for number, tree in enumerate(trees):
                wall, cpu = cold_run(tree, Path(folder) / str(number) / "fine_tune.jsonl")
                walls[tree].append(wall)
                cpus[tree].append(cpu)
    print(f"load average before the last run: {os.getloadavg()[0]:.2f}")
    for tree in trees:
        print(
            f"{tree}: wall best {min(walls[tree]):.2f} s, median {statistics.median(walls[tree]):.2f} s; "
            f"CPU median {statistics.median(cpus[tree]):.2f} s ({args.repeat} runs)"
        )


if __name__ == "__main__":
    main()
