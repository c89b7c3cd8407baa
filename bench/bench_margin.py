"""Benchmark the margin of extra variants: calls per seed and output tokens per kept sample, night after night.

Run: python bench/bench_margin.py [--nights 3] [--share 0.1]
The 100 seeds of seeds/fine_tune.csv, --n 10 (9 variants per seed), against tests/fake_gemini.py answering like a
model that honours the "already written" list, except that each variant is, with probability --share, a
near-duplicate of the seed question (the pool rejects it, so a short reply needs a follow-up). Night 1 starts with
an empty cache: no rejection history, so no margin (today's behaviour, the "before"); each later night runs with a
new --seed (so nothing is replayed) on the same cache, whose measured rejection rate sizes the margin.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # this tree's package, not an installed one

from fake_gemini import FakeGemini, default_variants, ok_response, prompt_text, seed_from_request  # noqa: E402

from augment.run import main  # noqa: E402


class NearDuplicates:
    """Answer the variants asked, each a near-duplicate of the seed question with probability share."""

    def __init__(self, share: float):
        self.share = share

    def __call__(self, body: dict) -> dict:
        seed = seed_from_request(body)
        have = {line[2:] for line in prompt_text(body).splitlines() if line.startswith("- ")}
        fresh = [v for v in default_variants(seed, seed["n"] + len(have)) if v["user"] not in have][: seed["n"]]
        sampling = body.get("generationConfig", {}).get("seed", 0)
        for index, variant in enumerate(fresh):
            # Decided by seed, sampling seed and position: the same request gets the same reply, whatever the order.
            if zlib.crc32(f"{seed['id']}|{sampling}|{index}|{len(have)}".encode()) % 1000 < self.share * 1000:
                variant["user"] = seed["question"].rstrip("?") + " vậy ạ?"
        return ok_response(json.dumps({"variants": fresh}, ensure_ascii=False))


def night(responder, folder: Path, number: int) -> dict:
    """Run one night on the shared cache and return its figures."""
    out = folder / f"night{number}" / "fine_tune.jsonl"
    with FakeGemini(responder=responder) as fake:
        os.environ.update(GEMINI_API_KEY="bench-key", GOOGLE_GEMINI_BASE_URL=fake.base_url, NO_PROXY="127.0.0.1,localhost")
        code = main(["--seeds", str(ROOT / "seeds" / "fine_tune.csv"), "--out", str(out), "--n", "10", "--quiet",
                     "--misconceptions", "0", "--seed", str(number), "--cache", str(folder / "cache.sqlite")])
        calls = fake.calls()
    report = json.loads(out.with_name("fine_tune.report.json").read_text(encoding="utf-8"))
    kept = report["by_generator"].get("gemini", 0)
    return {"code": code, "calls": calls, "output": report["tokens"]["output"], "kept": kept, "margin": report.get("margin")}


def main_bench() -> None:
    """Run the nights and print calls per seed and output tokens per kept sample."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nights", type=int, default=3)
    parser.add_argument("--share", type=float, default=0.1)
    args = parser.parse_args()
    responder = NearDuplicates(args.share)
    with tempfile.TemporaryDirectory() as folder:
        first = None
        for number in range(1, args.nights + 1):
            figures = night(responder, Path(folder), number)
            per_kept = figures["output"] / figures["kept"]
            first = first or per_kept
            print(f"night {number}: exit {figures['code']}, {figures['calls'] / 100:.2f} calls per seed, "
                  f"{per_kept:.1f} output tokens per kept Gemini sample ({per_kept / first:.2f} x night 1), "
                  f"{figures['kept']} kept, margin {figures['margin']}")


if __name__ == "__main__":
    main_bench()
