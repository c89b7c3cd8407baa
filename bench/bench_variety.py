"""Variety per seed of the kept Gemini samples, with the 2.5-era settings and with the catalogue's, against the fake.

Run: python bench/bench_variety.py
Three runs over the 100 real seeds, --n 10 (1000 lines), through the real SDK against the loopback fake:
  old       --model gemini-2.5-flash-lite: thinking_budget 0 and temperature 0.9 on every request (the 2.5 era)
  new       the default (gemini-3.5-flash-lite): thinking_level minimal, no temperature
  new+temp  the default with --temperature 0.9
The fake answers like a sampling model: each reply draws the variants it was asked for from a larger pool of
rewrites, with a random generator keyed by the request's sampling seed and prompt, and leaves out questions the
prompt lists as already written. It does not model temperature (no fake can): the figures show that the sources of
variety the pipeline controls (registers, personas and the already-written list in the prompt, the per-retry
sampling seed) give the same variety whatever the thinking and temperature settings.
Prints, per run: requests, the thinking/temperature fields they carried, Gemini lines kept, distinct-2 over their
user turns, and the mean and highest pairwise similarity of user turns that share a seed (dedup's Jaccard).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # this checkout first, not an installed copy

from fake_gemini import FakeGemini, default_variants, ok_response, prompt_text, seed_from_request, thinking_config  # noqa: E402

from augment.quality.diversity import distinct_n, similarity_within_seed  # noqa: E402
from augment.run import main  # noqa: E402
from augment.text import shingles  # noqa: E402

SEEDS = ROOT / "seeds" / "fine_tune.csv"
RUNS = {
    "old": ["--model", "gemini-2.5-flash-lite"],
    "new": [],
    "new+temp": ["--temperature", "0.9"],
}


def sampler(body: dict) -> dict:
    """Answer with n variants drawn from a pool three times larger, keyed by the sampling seed and the prompt."""
    seed = seed_from_request(body)
    have = {line[2:] for line in prompt_text(body).splitlines() if line.startswith("- ")}
    pool = [v for v in default_variants(seed, 3 * seed["n"] + len(have)) if v["user"] not in have]
    key = f"{body.get('generationConfig', {}).get('seed')}|{prompt_text(body)}"
    rng = random.Random(hashlib.sha256(key.encode("utf-8")).digest())
    text = json.dumps({"variants": rng.sample(pool, min(seed["n"], len(pool)))}, ensure_ascii=False)
    return ok_response(text, prompt_tokens=len(prompt_text(body)) // 4)


def measure(name: str, flags: list[str], work: Path) -> None:
    """Run once against a fresh fake and print the figures of the kept Gemini lines."""
    out = work / name / "fine_tune.jsonl"
    with FakeGemini(responder=sampler) as server:
        os.environ.update(GEMINI_API_KEY="bench-key", GOOGLE_GEMINI_BASE_URL=server.base_url, NO_PROXY="127.0.0.1,localhost")
        code = main(["--seeds", str(SEEDS), "--out", str(out), "--n", "10", "--quiet", "--no-review",
                     "--cache", str(work / name / "cache.sqlite"), *flags])
        bodies = [r.body for r in server.requests if r.kind == "generate"]
    sent = {json.dumps({"thinking": thinking_config(b), "temperature": b["generationConfig"].get("temperature")}, sort_keys=True) for b in bodies}
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    meta = [json.loads(line) for line in out.with_name("fine_tune.meta.jsonl").read_text(encoding="utf-8").splitlines()]
    turns = [(m["seed_id"], _user(r)) for r, m in zip(records, meta) if m["generator"] == "gemini"]
    mean, highest = similarity_within_seed((seed_id, shingles(user)) for seed_id, user in turns)
    print(f"{name:9} exit {code}, {len(bodies)} requests, sent {' | '.join(sorted(sent))}")
    print(f"{'':9} {len(records)} lines, {len(turns)} Gemini: distinct-2 {distinct_n([u for _, u in turns], 2):.4f}, "
          f"within-seed similarity mean {mean:.4f} max {highest:.4f}")


def _user(record: dict) -> str:
    """Return the traveller's question as typed (a grounded line's context block left out)."""
    user = next(m["content"] for m in record["messages"] if m["role"] == "user")
    return user.split("Câu hỏi:", 1)[-1].strip()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        for run_name, run_flags in RUNS.items():
            measure(run_name, run_flags, Path(folder))
