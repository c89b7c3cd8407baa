"""Benchmark the offline pipeline: 100 seeds x 10 (the nightly job) and 10,000 seeds x 10.

Run: python bench/bench_offline.py [--large-seeds 10000] [--interests 4] [--workers N]
The large set is synthesised from the real seeds: each clone appends interests to its question ("(mình thích ...)"),
so clones of one seed are not near-duplicates of each other and dedup does real work across 100,000 user turns.
With --interests 4 (the default) each clone names four drawn at random: a long shared clause that makes most
rewrites of a clone near-duplicates of each other (about 4 candidates per kept variant, against 1.5 for the real
seeds). With --interests 1 each clone of a seed names a different one of 100 (about 2.2 candidates per variant).
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
# With one interest per clone, each of a seed's 100 clones needs its own.
MORE_INTERESTS = [
    "bánh mì", "phở", "bún bò", "lẩu gà", "kem bơ", "bánh căn", "bánh tráng", "hoa dã quỳ", "rừng thông", "thác nước",
    "hồ nước", "đồi chè", "vườn hoa", "nhà thờ", "chùa cổ", "bảo tàng", "chợ đêm", "quán nhỏ", "nhạc sống", "đàn guitar",
    "ảnh phim", "vlog", "ngắm sao", "bình minh", "hoàng hôn", "mưa phùn", "sương mù", "gió lạnh", "lò sưởi", "áo khoác",
    "xe jeep", "cáp treo", "du thuyền", "homestay", "resort", "glamping", "spa", "tắm khoáng", "cưỡi ngựa", "bắn cung",
]


def _interests(index: int, seeds: int, count: int, rng: random.Random) -> str:
    """Return the interests clone index names: one of 100 per clone of a seed, or count drawn at random."""
    if count == 1:
        pool = INTERESTS + MORE_INTERESTS
        return pool[index // seeds % len(pool)]
    return ", ".join(rng.sample(INTERESTS, count))


def synthesise(count: int, path: Path, interests: int = 4) -> None:
    """Write count seeds: the real ones, each clone naming interests (seeded)."""
    with SEEDS.open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    rng = random.Random(0)
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=["id", "intent", "place", "question", "answer"])
        writer.writeheader()
        for index in range(count):
            row = rows[index % len(rows)]
            named = _interests(index, len(rows), interests, rng)
            question = f"{row['question'].rstrip(' ?')} (mình thích {named})?"
            writer.writerow({**{k: row[k] for k in ("intent", "place", "answer")}, "id": f"B{index:06d}", "question": question})


def timed_run(seeds: Path, out: Path, *flags: str) -> float:
    """Run the offline job once and return its wall time."""
    started = time.perf_counter()
    code = main(["--seeds", str(seeds), "--out", str(out), "--offline", "--quiet", "--n", "10", *flags])
    elapsed = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"run failed with exit {code}")
    return elapsed


def main_bench() -> None:
    """Print wall times and peak memory for both sizes."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--large-seeds", type=int, default=10_000)
    parser.add_argument("--interests", type=int, default=4, help="interests each clone names (1 or more; default 4)")
    parser.add_argument("--workers", help="passed to augment's --workers (default: its own)")
    args = parser.parse_args()
    workers = ["--workers", args.workers] if args.workers else []
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        small = min(timed_run(SEEDS, folder / f"small{i}" / "f.jsonl") for i in range(3))
        print(f"100 seeds x 10 = 1000 samples: {small:.2f} s wall (best of 3, in-process, imports excluded)")
        synthesise(args.large_seeds, folder / "large.csv", args.interests)
        large = timed_run(folder / "large.csv", folder / "large" / "f.jsonl", *workers)
        lines = sum(1 for _ in (folder / "large" / "f.jsonl").open(encoding="utf-8"))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        workers_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            f"{args.large_seeds} seeds x 10 ({args.interests} interests) = {lines} samples: {large:.1f} s wall, "
            f"peak RSS {peak:.0f} MiB (largest worker {workers_peak:.0f} MiB)"
        )


if __name__ == "__main__":
    main_bench()
