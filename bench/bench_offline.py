"""Benchmark the offline pipeline: 100 seeds x 10 (the nightly job) and 10,000 seeds x 10.

Run: python bench/bench_offline.py [--large-seeds 10000]
The large set is synthesised from the real seeds: each clone appends a distinct travel-party clause, so the
questions differ as real seeds would and dedup does real work.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import resource
import tempfile
import time
from pathlib import Path

from augment.run import main

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds" / "fine_tune.csv"
WHO = ["đi một mình", "đi cùng người yêu", "đi cùng bố mẹ", "nhóm bạn thân", "gia đình có bé", "đi công tác",
       "nhóm đồng nghiệp", "cặp đôi mới cưới", "hai mẹ con", "hội sinh viên"]
WHEN = [f"tháng {m}" for m in range(1, 13)]
BUDGET = [f"ngân sách {b} triệu" for b in range(2, 12)]


def synthesise(count: int, path: Path) -> None:
    """Write count seeds: the real ones cloned with distinct party, month and budget clauses."""
    with SEEDS.open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    clauses = itertools.cycle(itertools.product(WHO, WHEN, BUDGET))
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=["id", "intent", "place", "question", "answer"])
        writer.writeheader()
        for index in range(count):
            row = rows[index % len(rows)]
            who, when, budget = next(clauses)
            question = f"{row['question'].rstrip(' ?')} ({who}, {when}, {budget})?"
            writer.writerow({**{k: row[k] for k in ("intent", "place", "answer")}, "id": f"B{index:06d}", "question": question})


def timed_run(seeds: Path, out: Path) -> float:
    """Run the offline job once and return its wall time."""
    started = time.perf_counter()
    code = main(["--seeds", str(seeds), "--out", str(out), "--offline", "--quiet", "--n", "10"])
    elapsed = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"run failed with exit {code}")
    return elapsed


def main_bench() -> None:
    """Print wall times and peak memory for both sizes."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--large-seeds", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        small = min(timed_run(SEEDS, folder / f"small{i}" / "f.jsonl") for i in range(3))
        print(f"100 seeds x 10 = 1000 samples: {small:.2f} s wall (best of 3, in-process, imports excluded)")
        synthesise(args.large_seeds, folder / "large.csv")
        large = timed_run(folder / "large.csv", folder / "large" / "f.jsonl")
        lines = sum(1 for _ in (folder / "large" / "f.jsonl").open(encoding="utf-8"))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{args.large_seeds} seeds x 10 = {lines} samples: {large:.1f} s wall, peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main_bench()
