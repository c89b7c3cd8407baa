"""Benchmark a dead endpoint: how long a run takes to give up on a server that accepts connections and never answers.

Run: python bench/bench_breaker.py [--timeout 5] [--retries 1]
The 100 seeds of seeds/fine_tune.csv, --n 10 (1000 lines), default concurrency 8, against tests/fake_gemini.py
answering nothing (every request sleeps until the fake is closed). Prints exit code, lines, wall time, calls.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # this tree's package, not an installed one

from fake_gemini import FakeGemini, delay  # noqa: E402 - the fake lives with the tests

from augment.run import main  # noqa: E402


def run(timeout: str, retries: str, folder: Path) -> None:
    """Run main() once against a hanging fake and print its figures."""
    out = folder / "out" / "fine_tune.jsonl"
    with FakeGemini(responder=lambda body: delay(3600)) as fake:
        os.environ.update(GEMINI_API_KEY="bench-key", GOOGLE_GEMINI_BASE_URL=fake.base_url, NO_PROXY="127.0.0.1,localhost")
        started = time.perf_counter()
        code = main(["--seeds", str(ROOT / "seeds" / "fine_tune.csv"), "--out", str(out), "--quiet", "--timeout", timeout,
                     "--retries", retries, "--cache", str(folder / "cache.sqlite")])
        wall = time.perf_counter() - started
        calls = fake.calls()
    report = json.loads(out.with_name("fine_tune.report.json").read_text(encoding="utf-8"))
    print(f"--timeout {timeout} --retries {retries}: exit {code}, {report['written']} lines in {wall:.1f} s, "
          f"{calls} API calls, breaker {report.get('breaker')}")


def main_bench() -> None:
    """Parse the flags and run the scenario."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timeout", default="5")
    parser.add_argument("--retries", default="1")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        run(args.timeout, args.retries, Path(folder))


if __name__ == "__main__":
    main_bench()
