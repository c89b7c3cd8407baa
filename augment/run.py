"""Command line entry point: python -m augment.run --n 10."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from augment.bundle import BundleOptions, build_bundle, stale_files
from augment.card import check_card_path
from augment.errors import InputError, LockedError, RunError
from augment.export import jsonl, sibling, write_atomically
from augment.formats import DEFAULT_FORMAT, FORMATS
from augment.cache import DEFAULT_CACHE
from augment.gates import check_sample, check_seeds
from augment.generators.base import Generator
from augment.generators.gemini import DEFAULT_MODEL, GeminiGenerator, GeminiSettings, find_api_key
from augment.generators.offline import OfflineGenerator
from augment.ground import ground
from augment.lock import output_lock
from augment.logs import setup_logging
from augment.manifest import build_manifest
from augment.pipeline import Pipeline
from augment.prompting import system_prompt
from augment.report import build_report, summary_lines
from augment.seeds import load_seeds
from augment.split import check_splittable

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


def _format_list(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in FORMATS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown format '{','.join(unknown) or text}'; choose from {', '.join(FORMATS)}")
    return names


def _ratio(text: str) -> float:
    value = _number(text, float, "a number")
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 0 and below 1, got {value}")
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
    parser.add_argument("--format", action="extend", type=_format_list, metavar="FORMAT", help=f"output format(s), repeatable or comma-separated: {', '.join(FORMATS)} (default openai, written to --out; others go beside it, e.g. fine_tune.gemini.jsonl)")
    parser.add_argument("--val-ratio", type=_ratio, default=0.0, help="also write a train/validation split with this share of the seeds in validation, every variant of a seed on one side (e.g. 0.1 writes fine_tune.train.jsonl and fine_tune.val.jsonl; default 0: no split)")
    parser.add_argument("--grounded-ratio", type=_ratio, default=0.3, help="share of lines whose user turn carries a retrieved-context block (prompts/grounded_user.txt) and whose answer takes its prices, times and distances from it (default 0.3; 0 disables)")
    parser.add_argument("--log-file", type=Path, help="also append structured JSON log lines to this file")
    _add_gemini_arguments(parser)
    return parser


def _add_gemini_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Gemini", "used when GEMINI_API_KEY or GOOGLE_API_KEY is set (environment or ./.env) and --offline is not")
    group.add_argument("--model", default=DEFAULT_MODEL, help=f"Gemini model (default {DEFAULT_MODEL})")
    group.add_argument("--concurrency", type=_positive_int, default=8, help="requests in flight at once (default 8)")
    group.add_argument("--rpm", type=_positive_int, help="at most this many requests per minute, evenly spaced (default: no limit)")
    group.add_argument("--retries", type=_non_negative_int, default=4, help="retries per seed after its first request, on 429, 5xx, timeouts, dropped connections and unusable replies (default 4)")
    group.add_argument("--timeout", type=_positive_float, default=60.0, help="seconds before one request is abandoned and retried (default 60)")
    group.add_argument("--backoff", type=_non_negative_float, default=1.0, help="first retry wait in seconds, doubled per retry, plus jitter; a server's Retry-After wins (default 1)")
    group.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"sqlite cache of Gemini responses, so reruns make no repeated call (default {DEFAULT_CACHE})")
    group.add_argument("--no-cache", action="store_true", help="neither read nor write the response cache")
    group.add_argument("--no-fallback", action="store_true", help="exit 1 instead of building offline when no key is found or Gemini rejects it")


def _non_negative_int(text: str) -> int:
    value = _number(text, int, "a whole number")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = _number(text, float, "a number")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    value = _number(text, float, "a number")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _number(text: str, kind: type, name: str):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {name}, got '{text}'") from None


def main(argv: list[str] | None = None) -> int:
    """Run the whole pipeline and return the exit code."""
    args = build_parser().parse_args(argv)
    setup_logging(args.quiet, args.log_file)
    try:
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
    check_splittable(args.val_ratio, len(seeds), target)
    check_card_path(args.out)
    with output_lock(args.out):  # taken only once the input is known good, so bad input touches nothing
        return _build(args, seeds, target, started)


def _build(args: argparse.Namespace, seeds, target: int, started: float) -> int:
    offline = OfflineGenerator(random_seed=args.seed)
    primary = _choose_generator(args, offline)
    outcome = Pipeline(primary, offline, progress=not args.quiet).run(seeds, args.n, target)
    outcome.selected = ground(outcome.selected, args.grounded_ratio, args.seed, check=check_sample)
    report = build_report(
        outcome.selected, outcome.dropped, outcome.fallbacks,
        target=target, seeds=len(seeds), n=args.n, random_seed=args.seed, primary=primary.name,
        **_api_usage(primary, args),
    )
    status = EXIT_OK if len(outcome.selected) == target else EXIT_DEGRADED
    manifest = build_manifest(args.seeds, _flags(args), report, time.monotonic() - started, status)
    _write_outputs(args, outcome, report, manifest)
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
    if args.offline:
        log.info("offline mode (--offline): template shuffling, reproducible with --seed %d", args.seed)
        return offline
    key = find_api_key()
    if not key:
        how = "export GEMINI_API_KEY=... or put it in ./.env"
        if args.no_fallback:
            raise RunError(f"no GEMINI_API_KEY or GOOGLE_API_KEY found in the environment or .env; {how} (--no-fallback)")
        log.warning("offline mode: no GEMINI_API_KEY or GOOGLE_API_KEY found in the environment or .env; %s to use Gemini", how)
        return offline
    log.info("gemini mode: model %s, concurrency %d", args.model, args.concurrency)
    return GeminiGenerator(key, _gemini_settings(args))


def _gemini_settings(args: argparse.Namespace) -> GeminiSettings:
    return GeminiSettings(
        model=args.model, concurrency=args.concurrency, rpm=args.rpm, retries=args.retries, timeout=args.timeout,
        backoff=args.backoff, random_seed=args.seed, cache=None if args.no_cache else args.cache,
        fallback=not args.no_fallback,
    )


def _api_usage(primary: Generator, args: argparse.Namespace) -> dict:
    """Return the model and its API usage for the report; nothing for an offline run."""
    stats = getattr(primary, "stats", None)
    return {"model": args.model, **stats} if stats else {}


def _write_outputs(args: argparse.Namespace, outcome, report: dict, manifest: dict) -> None:
    out = args.out
    rejected = ({"reason": reason, **sample.meta(), "user": sample.user, "assistant": sample.assistant} for sample, reason in outcome.rejected)
    formats = tuple(fmt for fmt in FORMATS if fmt in (args.format or [DEFAULT_FORMAT]))  # fixed order: same files, same card
    options = BundleOptions(formats, args.val_ratio, args.seed, args.seeds)
    files = build_bundle(out, outcome.selected, system_prompt(), report, options)  # validated before anything is written
    files |= {
        sibling(out, "rejected.jsonl"): jsonl(rejected),
        sibling(out, "report.json"): json.dumps(report, ensure_ascii=False, indent=2) + "\n",
        sibling(out, "manifest.json"): json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
    }
    write_atomically(files)
    for path in stale_files(out, list(files)):
        log.warning("%s is left from an earlier run with other --format/--val-ratio flags; this run did not write it", path)


if __name__ == "__main__":
    sys.exit(main())
