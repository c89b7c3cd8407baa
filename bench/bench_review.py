"""Benchmark what the review page adds to a run: the page's build inside the run, and whole runs with and without it.

Run: python bench/bench_review.py [--repeats 5]
Each measurement is a fresh `python -m augment.run --offline --quiet` process (the nightly job, 1,000 lines), so the
page is built with the caches a real run has. `inside` wraps augment.run.review_files (sample, diffs, gates on the
sampled lines, JSON, template) and write_atomically; `wall` times whole runs, with and without --no-review, alternated.
Last, the page is built in-process for 100,000 lines (the run's lines read back and repeated 100 times).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Runs in the child: time the page's build and the atomic write inside one real run, print them as JSON.
_INSIDE = """
import json, sys, time
import augment.run as run
spent = {}
def timed(name, function):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - started
    return wrapper
run.review_files = timed("build", run.review_files)
run.write_atomically = timed("write_all", run.write_atomically)
code = run.main(sys.argv[1:])
print(json.dumps({"code": code, **spent}))
"""


def _inside(out: Path, no_review: bool) -> dict:
    flags = ["--offline", "--quiet", "--out", str(out)] + (["--no-review"] if no_review else [])
    result = subprocess.run([sys.executable, "-c", _INSIDE, *flags], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def _wall(out: Path, no_review: bool) -> float:
    flags = ["--offline", "--quiet", "--out", str(out)] + (["--no-review"] if no_review else [])
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "augment.run", *flags], cwd=ROOT, check=True)
    return time.perf_counter() - started


def main() -> None:
    """Print the page's build time, the write with and without it, and whole-run wall times."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5, help="runs of each kind (default 5)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        out, bare = Path(folder) / "page" / "fine_tune.jsonl", Path(folder) / "bare" / "fine_tune.jsonl"
        builds, writes, writes_without, with_page, without_page = [], [], [], [], []
        for _ in range(args.repeats):
            spent = _inside(out, no_review=False)
            builds.append(spent["build"])
            writes.append(spent["write_all"])
            writes_without.append(_inside(bare, no_review=True)["write_all"])
            with_page.append(_wall(out, no_review=False))
            without_page.append(_wall(bare, no_review=True))
        size = out.with_name("fine_tune.review.html").stat().st_size
        large = _large(out)
    median = statistics.median
    print(f"page build inside the run: median {median(builds):.3f} s, max {max(builds):.3f} s ({args.repeats} runs)")
    print(f"atomic write of every file: {median(writes):.3f} s with the page, {median(writes_without):.3f} s without")
    print(f"page size: {size / 1024:.0f} KiB")
    print(f"whole run, fresh process: {median(with_page):.2f} s with the page, {median(without_page):.2f} s with --no-review")
    print(f"page build for 100,000 lines, in-process: median {median(large):.3f} s of {len(large)}")


def _large(out: Path) -> list[float]:
    """Time the page's build for 100,000 lines: the run's 1,000 read back, repeated."""
    from augment.dataset.review import review_files
    from augment.dataset.review_input import read_run

    samples = read_run(out).samples * 100
    review_files(out, samples[:1000], [], 0)  # the gates' patterns compiled, as in a run
    times = []
    for seed in range(3):
        started = time.perf_counter()
        review_files(out, samples, [], seed)
        times.append(time.perf_counter() - started)
    return times


if __name__ == "__main__":
    main()
