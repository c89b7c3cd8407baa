"""Benchmark the Gemini path against the loopback fake server at 1 s latency per request.

Run: python bench/bench_gemini.py [--skip-rpm]
Scenarios (100 seeds from seeds/fine_tune.csv, --n 10, --concurrency 8):
  clean   every request answered; wall time against the floor ceil(100 / concurrency) x 1 s
  rerun   the same inputs again: every response comes from the cache
  faults  about a third of first requests fail (429 with Retry-After, 5xx, dropped connections, timeouts,
          blocked and empty replies, truncated, fenced or prose-wrapped JSON, too few items), two seeds always 500
  rpm     --rpm 60: wall time against calls / 60 minutes (about 100 s)
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fake_gemini import (  # noqa: E402 - the fake lives with the tests
    FakeGemini,
    blocked_prompt,
    default_variants,
    delay,
    drop_connection,
    empty_candidates,
    http_error,
    ok_response,
    prompt_text,
    raw_text,
    safety_finish,
    seed_from_request,
)

from augment.run import main  # noqa: E402

SEEDS = ROOT / "seeds" / "fine_tune.csv"
LATENCY = 1.0
CONCURRENCY = 8
TIMEOUT = 4.0
ALWAYS_FAILING = 2  # seeds whose every request gets a 500, so the offline fallback must cover them


def variants_for(body: dict) -> list[dict]:
    """Answer like a model that honours the prompt's list of questions already written."""
    seed = seed_from_request(body)
    have = {line[2:] for line in prompt_text(body).splitlines() if line.startswith("- ")}
    fresh = [v for v in default_variants(seed, seed["n"] + len(have)) if v["user"] not in have]
    return fresh[: seed["n"]]


def clean(body: dict) -> dict:
    """Answer every request well."""
    return ok_response(json.dumps({"variants": variants_for(body)}, ensure_ascii=False))


class Faulty:
    """Fail about a third of first requests with a random fault, fewer retries, and two seeds always."""

    def __init__(self, seed_ids: list[str]):
        self.doomed = set(random.Random(7).sample(seed_ids, ALWAYS_FAILING))
        self.attempts: Counter = Counter()
        self.faults: Counter = Counter()
        self.lock = threading.Lock()

    def __call__(self, body: dict):
        seed_id = seed_from_request(body)["id"]
        with self.lock:
            attempt = self.attempts[seed_id]
            self.attempts[seed_id] += 1
        if seed_id in self.doomed:
            return self._count("always-500", http_error(500))
        rng = random.Random(f"{seed_id}:{attempt}")
        if rng.random() >= (0.35 if attempt == 0 else 0.1):
            return clean(body)
        name, make = rng.choice(list(self._faults().items()))
        return self._count(name, make(body))

    def _count(self, name: str, fault):
        with self.lock:
            self.faults[name] += 1
        return fault

    def _faults(self) -> dict:
        text = lambda body: json.dumps({"variants": variants_for(body)}, ensure_ascii=False)  # noqa: E731
        return {
            "429+retry-after": lambda body: http_error(429, retry_after=2),
            "503": lambda body: http_error(503),
            "500": lambda body: http_error(500),
            "drop": lambda body: drop_connection(),
            "timeout": lambda body: delay(TIMEOUT + 1),
            "blocked": lambda body: blocked_prompt(),
            "safety": lambda body: safety_finish(),
            "empty": lambda body: empty_candidates(),
            "truncated": lambda body: raw_text(text(body)[: text(body).rindex('"assistant"')], "MAX_TOKENS"),
            "fenced": lambda body: raw_text(f"```json\n{text(body)}\n```"),
            "prose": lambda body: raw_text(f"Dưới đây là kết quả:\n{text(body)}\nChúc bạn vui."),
            "too-few": lambda body: raw_text(json.dumps({"variants": variants_for(body)[:3]}, ensure_ascii=False)),
        }


def run(responder, folder: Path, *flags: str) -> dict:
    """Run main() once against a fresh fake and return its figures."""
    out = folder / "out" / "fine_tune.jsonl"
    with FakeGemini(responder=responder, latency=LATENCY) as fake:
        os.environ.update(GEMINI_API_KEY="bench-key", GOOGLE_GEMINI_BASE_URL=fake.base_url, NO_PROXY="127.0.0.1,localhost")
        started = time.perf_counter()
        code = main(["--seeds", str(SEEDS), "--out", str(out), "--n", "10", "--quiet", "--timeout", str(TIMEOUT),
                     "--cache", str(folder / "cache.sqlite"), *flags])
        wall = time.perf_counter() - started
        calls = fake.calls()
    report = json.loads(out.with_name("fine_tune.report.json").read_text(encoding="utf-8"))
    return {"code": code, "wall": wall, "calls": calls, "report": report, "out": out}


def check_lines(out: Path) -> int:
    """Return the number of valid chat lines, failing loudly on any invalid one."""
    meta = [json.loads(line) for line in out.with_name("fine_tune.meta.jsonl").read_text(encoding="utf-8").splitlines()]
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    for record in records:
        assert [m["role"] for m in record["messages"]] == ["system", "user", "assistant"]
        assert all(m["content"].strip() for m in record["messages"])
    unexplained = [m for m in meta if m["generator"] == "offline" and not m.get("fallback")]
    assert not unexplained, f"{len(unexplained)} offline samples without a fallback reason"
    return len(records)


def describe(name: str, result: dict, seeds: int = 100) -> None:
    report = result["report"]
    print(f"{name}: exit {result['code']}, {report['written']} lines in {result['wall']:.1f} s, "
          f"{result['calls']} API calls ({result['calls'] / seeds:.2f} per seed), {report['cache_hits']} cache hits")
    print(f"  by generator: {report['by_generator']}")
    if report["fallbacks"] or report.get("failed_attempts"):
        print(f"  fallbacks (seeds): {report['fallbacks']}; failed attempts: {report.get('failed_attempts')}")


def main_bench() -> None:
    """Run the scenarios and print the figures for bench/README.md."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-rpm", action="store_true", help="skip the ~100 s --rpm 60 scenario")
    args = parser.parse_args()
    floor = math.ceil(100 / CONCURRENCY) * LATENCY
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        first = run(clean, folder / "clean")
        describe("clean", first)
        print(f"  floor {floor:.0f} s, wall / floor = {first['wall'] / floor:.2f}; {check_lines(first['out'])} valid lines")
        again = run(clean, folder / "clean")
        describe("rerun (same cache)", again)

        faulty = Faulty([row["id"] for row in _seed_rows()])
        broken = run(faulty, folder / "faults", "--retries", "3")
        describe("faults", broken)
        print(f"  injected: {dict(faulty.faults.most_common())}; {check_lines(broken['out'])} valid lines")

        if not args.skip_rpm:
            limited = run(clean, folder / "rpm", "--rpm", "60", "--no-cache")
            describe("rpm 60", limited)
            ideal = limited["calls"] / 60 * 60
            print(f"  calls / R = {ideal:.0f} s, wall / (calls / R) = {limited['wall'] / ideal:.2f}")


def _seed_rows() -> list[dict]:
    with SEEDS.open(encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


if __name__ == "__main__":
    main_bench()
