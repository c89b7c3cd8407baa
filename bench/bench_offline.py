"""Benchmark the offline pipeline: 100 seeds x 10 (the nightly job) and 10,000 seeds x 10.

Run: python bench/bench_offline.py [--large-seeds 10000]
The large set is synthesised from the real seeds: each clone appends four interests drawn at random, so clones of
one seed are not near-duplicates of each other and dedup does real work across 100,000 user turns.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import tempfile
import time
from pathlib import Path

from augment.run import main

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds" / "fine_tune.csv"
INTERESTS = [
    "chụp ảnh", "đi bộ", "cà phê", "ăn vặt", "săn mây", "cắm trại", "đạp xe", "ngắm hoa", "nghe nhạc", "leo núi",
    "đọc sách", "vẽ tranh", "bơi lội", "yoga", "câu cá", "trekking", "ăn chay", "đồ nướng", "trà sữa", "đồ cổ",
    "thủ công", "làm gốm", "hái dâu", "chợ phiên", "kiến trúc", "lịch sử", "thiên văn", "chim chóc", "thảo mộc", "rượu vang",
    "bánh ngọt", "ẩm thực chay", "xe đạp đôi", "dù lượn", "chèo thuyền", "xem phim", "đồ handmade", "sách cũ", "nến thơm", "nước ép",
    "cây cảnh", "hoa lan", "cà phê muối", "làm bánh", "nhảy múa", "ca hát", "thể thao", "bóng rổ", "cầu lông", "tennis",
    "ngủ nướng", "tắm nắng", "dạo phố", "mua sắm", "đồ len", "mứt", "sữa chua", "nấm", "rau sạch", "trà xanh",
]


def synthesise(count: int, path: Path) -> None:
    """Write count seeds: the real ones, each clone naming four interests drawn at random (seeded)."""
    with SEEDS.open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    rng = random.Random(0)
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=["id", "intent", "place", "question", "answer"])
        writer.writeheader()
        for index in range(count):
            row = rows[index % len(rows)]
            interests = ", ".join(rng.sample(INTERESTS, 4))
            question = f"{row['question'].rstrip(' ?')} (mình thích {interests})?"
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
