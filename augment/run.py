"""Command line entry point: python -m augment.run --n 10."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from augment.errors import InputError, LockedError, RunError
from augment.export import chat_record, jsonl, sibling, write_atomically
from augment.gates import check_seeds
from augment.generators.base import Generator
from augment.generators.offline import OfflineGenerator
from augment.lock import output_lock
from augment.logs import setup_logging
from augment.manifest import build_manifest
from augment.pipeline import Pipeline
from augment.prompting import system_prompt
from augment.report import build_report, summary_lines
from augment.seeds import load_seeds

log = logging.getLogger("augment")

EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, EXIT_DEGRADED, EXIT_LOCKED = 0, 1, 2, 3, 4


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit 2."""

    def error(self, message: str) -> None:
        self.exit(EXIT_USAGE, f"augment: {message}; see --help\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every flag documented."""
    parser = _Parser(
        prog="python -m augment.run",
        description="Turn hand-checked seed Q&A pairs into a Vietnamese chat fine-tuning dataset (JSONL).",
    )
    parser.add_argument("--n", type=_positive_int, default=10, help="samples per seed, the seed's own pair included (default 10)")
    parser.add_argument("--target", type=_positive_int, help="exact number of output lines (default: seeds x n)")
    parser.add_argument("--seeds", type=Path, default=Path("seeds/fine_tune.csv"), help="seed CSV (default seeds/fine_tune.csv)")
    parser.add_argument("--out", type=Path, default=Path("outputs/fine_tune.jsonl"), help="output JSONL; provenance, report and rejected files go beside it (default outputs/fine_tune.jsonl)")
    parser.add_argument("--seed", type=int, default=0, help="random seed; the same seed and inputs give byte-identical offline output (default 0)")
    parser.add_argument("--offline", action="store_true", help="never call Gemini: template shuffling only (the reproducible build)")
    parser.add_argument("--quiet", action="store_true", help="print only warnings and errors; no progress bar")
    parser.add_argument("--log-file", type=Path, help="also append structured JSON log lines to this file")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the whole pipeline and return the exit code."""
    args = build_parser().parse_args(argv)
    setup_logging(args.quiet, args.log_file)
    try:
        with output_lock(args.out):
            return _run(args, time.monotonic())
    except InputError as error:
        log.error("%s", error)
        return EXIT_USAGE
    except LockedError as error:
        log.error("%s", error)
        return EXIT_LOCKED
    except RunError as error:
        log.error("%s", error)
        return EXIT_RUNTIME


def _run(args: argparse.Namespace, started: float) -> int:
    seeds = load_seeds(args.seeds)
    check_seeds(seeds, str(args.seeds))
    target = args.target or len(seeds) * args.n
    offline = OfflineGenerator(random_seed=args.seed)
    primary = _choose_generator(args, offline)
    outcome = Pipeline(primary, offline, progress=not args.quiet).run(seeds, args.n, target)
    report = build_report(
        outcome.selected, outcome.dropped, outcome.fallbacks,
        target=target, seeds=len(seeds), n=args.n, random_seed=args.seed, primary=primary.name,
    )
    status = EXIT_OK if len(outcome.selected) == target else EXIT_DEGRADED
    manifest = build_manifest(args.seeds, _flags(args), report, time.monotonic() - started, status)
    _write_outputs(args.out, outcome, report, manifest)
    for line in summary_lines(report):
        log.info("%s", line)
    if status == EXIT_DEGRADED:
        log.warning("short of target: wrote %d of %d samples; add seeds or lower --target", len(outcome.selected), target)
    return status


def _flags(args: argparse.Namespace) -> dict:
    """Return the flags as plain JSON values, for the manifest."""
    return {name: str(value) if isinstance(value, Path) else value for name, value in sorted(vars(args).items())}


def _choose_generator(args: argparse.Namespace, offline: OfflineGenerator) -> Generator:
    """Return the primary generator and say in one line which mode the run is in."""
    log.info("offline mode (--offline): template shuffling, reproducible with --seed %d", args.seed)
    return offline


def _write_outputs(out: Path, outcome, report: dict, manifest: dict) -> None:
    system = system_prompt()
    rejected = ({"reason": reason, **sample.meta(), "user": sample.user, "assistant": sample.assistant} for sample, reason in outcome.rejected)
    write_atomically({
        out: jsonl(chat_record(sample, system) for sample in outcome.selected),
        sibling(out, "meta.jsonl"): jsonl(sample.meta() for sample in outcome.selected),
        sibling(out, "rejected.jsonl"): jsonl(rejected),
        sibling(out, "report.json"): json.dumps(report, ensure_ascii=False, indent=2) + "\n",
        sibling(out, "manifest.json"): json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
    })


if __name__ == "__main__":
    sys.exit(main())
