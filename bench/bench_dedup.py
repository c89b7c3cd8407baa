"""Benchmark near-duplicate removal: 100,000 user turns through one Deduper, as Gemini and offline variants share it.

Run: python bench/bench_dedup.py [--turns 100000] [--clones clauses|interests] [--check 2000]
The turns are synthesised deterministically: the real seeds are cloned and the offline generator rewrites each
clone. --clones clauses (the hard case, default) appends a party, month and budget clause, so clones of one seed
differ in a word or two and three turns in four are near-duplicates; --clones interests appends four interests
drawn at random (as bench_offline.py does), so clones are mostly distinct. Only Deduper.admit is timed.
--check compares the LSH result on the first N turns with an exhaustive all-pairs Jaccard, as a recall figure.
"""

from __future__ import annotations

import argparse
import itertools
import platform
import random
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from augment.quality.dedup import NEAR_THRESHOLD, Deduper
from augment.generators.offline import OfflineGenerator
from augment.generators.prepare import collector_paused
from augment.records import Sample
from augment.knowledge.seeds import load_seeds
from augment.text import exact_key, jaccard, shingles

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds" / "fine_tune.csv"
WHO = ["đi một mình", "đi cùng người yêu", "đi cùng bố mẹ", "nhóm bạn thân", "gia đình có bé", "đi công tác",
       "nhóm đồng nghiệp", "cặp đôi mới cưới", "hai mẹ con", "hội sinh viên"]
WHEN = [f"tháng {m}" for m in range(1, 13)]
BUDGET = [f"ngân sách {b} triệu" for b in range(2, 12)]
INTERESTS = [
    "chụp ảnh", "đi bộ", "cà phê", "ăn vặt", "săn mây", "cắm trại", "đạp xe", "ngắm hoa", "nghe nhạc", "leo núi",
    "đọc sách", "vẽ tranh", "bơi lội", "yoga", "câu cá", "trekking", "ăn chay", "đồ nướng", "trà sữa", "đồ cổ",
    "thủ công", "làm gốm", "hái dâu", "chợ phiên", "kiến trúc", "lịch sử", "thiên văn", "chim chóc", "thảo mộc",
    "bánh ngọt", "xe đạp đôi", "dù lượn", "chèo thuyền", "xem phim", "sách cũ", "nến thơm", "nước ép", "cây cảnh",
]
VARIANTS_PER_SEED = 10


def _clause(kind: str, index: int, rng: random.Random) -> str:
    if kind == "interests":
        return "mình thích " + ", ".join(rng.sample(INTERESTS, 4))
    who, when, budget = CLAUSES[index % len(CLAUSES)]
    return f"{who}, {when}, {budget}"


CLAUSES = list(itertools.product(WHO, WHEN, BUDGET))


def synthesise(turns: int, kind: str = "clauses") -> list[Sample]:
    """Return `turns` offline variants of cloned seeds, in a fixed order."""
    seeds = load_seeds(SEEDS)
    rng = random.Random(0)
    generator = OfflineGenerator(random_seed=0)
    samples: list[Sample] = []
    for index in itertools.count():
        base = seeds[index % len(seeds)]
        clause = _clause(kind, index // len(seeds), rng)  # every clone of a seed differs
        question = f"{base.question.rstrip(' ?')} ({clause})?"
        clone = replace(base, id=f"B{index:06d}", question=question)
        samples.extend(generator.variants(clone, VARIANTS_PER_SEED))
        if len(samples) >= turns:
            return samples[:turns]
    raise AssertionError("unreachable")


def timed_dedup(samples: list[Sample]) -> tuple[float, Counter]:
    """Admit every sample into one Deduper and return the wall time and the count per outcome."""
    deduper = Deduper()
    with collector_paused():  # as the pipeline runs dedup in an offline run
        started = time.perf_counter()
        outcomes = Counter(deduper.admit(sample) or "kept" for sample in samples)
        return time.perf_counter() - started, outcomes


def exhaustive_near_duplicates(samples: list[Sample]) -> int:
    """Count the samples an all-pairs Jaccard would refuse, admitting in order as Deduper does."""
    kept: list[set[str]] = []
    users: set[str] = set()
    refused = 0
    for sample in samples:
        user, grams = exact_key(sample.user), shingles(sample.user)
        if user in users or any(jaccard(grams, other) >= NEAR_THRESHOLD for other in kept):
            refused += 1
            continue
        users.add(user)
        kept.append(grams)
    return refused


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=100_000, help="user turns to deduplicate (default 100000)")
    parser.add_argument(
        "--clones", choices=("clauses", "interests"), default="clauses", help="how seeds are cloned (default clauses)"
    )
    parser.add_argument(
        "--check", type=int, default=2_000, help="turns to compare with all-pairs Jaccard (default 2000)"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    samples = synthesise(args.turns, args.clones)
    print(f"synthesised {len(samples)} turns in {time.perf_counter() - started:.1f} s ({platform.python_version()})")
    elapsed, outcomes = timed_dedup(samples)
    print(f"dedup: {elapsed:.2f} s for {len(samples)} turns ({len(samples) / elapsed:,.0f} turns/s); {dict(outcomes)}")
    if args.check:
        subset = samples[: args.check]
        _, lsh = timed_dedup(subset)
        lsh_refused = sum(count for outcome, count in lsh.items() if outcome != "kept")
        exact = exhaustive_near_duplicates(subset)
        print(f"check on {len(subset)} turns: LSH refused {lsh_refused}, all-pairs Jaccard refused {exact}")


if __name__ == "__main__":
    main()
