"""Command line entry point: python -m augment.run --n 10."""

from __future__ import annotations

import argparse
import errno
import json
import logging
import sys
import time
from pathlib import Path

from augment.dataset.bundle import Bundle, BundleOptions, build_bundle, card_files, stale_files
from augment.dataset.card import check_card_path
from augment.errors import BatchPending, InputError, LockedError, RunError
from augment.dataset.export import jsonl, sibling, write_atomically
from augment.dataset.formats import DEFAULT_FORMAT, FORMATS, format_path
from augment.generators.gemini.cache import DEFAULT_CACHE
from augment.quality.corrections import check_misconception
from augment.quality.gates import check_answer, check_seeds
from augment.generators.base import Generator
from augment.generators.gemini.settings import DEFAULT_MODEL, GeminiSettings, find_api_key
from augment.generators.offline import OfflineGenerator
from augment.generators.ground import ground
from augment.generators.misconceptions import add_misconceptions, misconception_requests, primary_misconceptions
from augment.dataset.llamafactory import info_path, read_registry, registry_text
from augment.dataset.lock import output_lock
from augment.dataset.outputs import batch_state_path, check_not_inputs, check_output_paths, run_paths
from augment.dataset.review import review_files
from augment.logs import setup_logging
from augment.dataset.manifest import build_manifest
from augment.pipeline import Pipeline, variants_wanted
from augment.generators.prepare import FORKED_PARALLEL_FROM, PARALLEL_FROM, collector_paused, default_workers
from augment.knowledge.prompting import system_prompt
from augment.dataset.report import RunReport, build_report, fallback_share, summary_lines
from augment.knowledge.seeds import load_seeds
from augment.dataset.split import check_splittable

log = logging.getLogger("augment")
# The Gemini client, Batch mode and the dry-run estimate are imported where they are used: an offline run never needs
# them, and their imports (asyncio, the HTTP retry and SDK helpers) cost about 0.06 s of a one-second run.

EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, EXIT_DEGRADED, EXIT_LOCKED, EXIT_PENDING = 0, 1, 2, 3, 4, 5
EXIT_INTERRUPTED = 130  # the shell's code for a process ended by SIGINT


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


def _share(text: str) -> float:
    value = _number(text, float, "a number")
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
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
    parser.add_argument("--misconceptions", type=_ratio, default=0.03, help="share of lines whose traveller holds a false foundational belief (Đà Lạt có biển, Hội An thuộc Quảng Nam) that the answer corrects first, then helps (default 0.03; 0 disables)")
    parser.add_argument("--grounded-ratio", type=_ratio, default=0.3, help="share of lines whose user turn carries a retrieved-context block (prompts/grounded_user.txt) and whose answer takes its prices, times and distances from it (default 0.3; 0 disables)")
    parser.add_argument("--workers", type=_positive_int, metavar="N", help=f"processes preparing offline variants and their checks; the output is the same for any N (default: one per CPU core from {FORKED_PARALLEL_FROM:,} seeds where workers can be forked, as on Linux, or from {PARALLEL_FROM:,} where they are spawned; else 1)")
    parser.add_argument("--log-file", type=Path, help="also append structured JSON log lines to this file")
    parser.add_argument("--dry-run", action="store_true", help="print how many Gemini calls, about how many tokens and about how many US dollars the run would spend (cache hits are free) and exit 0; calls nothing, writes nothing")
    parser.add_argument("--no-review", action="store_true", help="do not write <stem>.review.html, the page on which a person judges a sample of the lines (python -m augment.review writes it later)")
    parser.add_argument("--max-fallback", type=_share, default=0.2, metavar="SHARE", help="in a Gemini run, exit 3 (outputs still written) when more than this share (0-1) of the written samples were made offline because Gemini failed (default 0.2)")
    _add_gemini_arguments(parser)
    return parser


def _add_gemini_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Gemini", "used when GEMINI_API_KEY or GOOGLE_API_KEY is set (environment or ./.env) and --offline is not")
    group.add_argument("--model", default=DEFAULT_MODEL, help=f"Gemini model, any id; settings and prices come from the catalogue (knowledge/data/models.toml), generic settings for an id it lacks (default {DEFAULT_MODEL})")
    group.add_argument("--temperature", type=_temperature, help="send this sampling temperature (0-2); by default none for Gemini 3 models (Google advises their default 1.0) and 0.9 for 2.5 models")
    group.add_argument("--check-model", action="store_true", help="ask Gemini about --model with one models.get call (no tokens spent), print its status and prices, exit 0 if a run can use it, 1 if not, 2 without a key; reads no seeds, writes nothing")
    group.add_argument("--concurrency", type=_positive_int, default=8, help="requests in flight at once (default 8)")
    group.add_argument("--rpm", type=_positive_int, help="at most this many requests per minute, evenly spaced (default: no limit)")
    group.add_argument("--retries", type=_non_negative_int, default=4, help="retries per seed after its first request, on 429, 5xx, timeouts, dropped connections and unusable replies (default 4)")
    group.add_argument("--timeout", type=_positive_float, default=60.0, help="seconds before one request is abandoned and retried (default 60)")
    group.add_argument("--backoff", type=_non_negative_float, default=1.0, help="first retry wait in seconds, doubled per retry, plus jitter; a server's Retry-After wins (default 1)")
    group.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"sqlite cache of Gemini responses, so reruns make no repeated call (default {DEFAULT_CACHE})")
    group.add_argument("--no-cache", action="store_true", help="neither read nor write the response cache")
    group.add_argument("--refresh-cache", action="store_true", help="ask Gemini again instead of replaying a cached reply that gives no usable variant today (junk replies are never replayed in any case)")
    group.add_argument("--no-fallback", action="store_true", help="exit 1 instead of building offline when no key is found or Gemini rejects it")
    group.add_argument("--batch", action="store_true", help="Gemini Batch mode (half price, done within 24 h): submit the requests the cache lacks as one job, kept in <out stem>.batch.json; exit 5 while it runs; a later --batch run collects it into the cache, then builds as usual")
    group.add_argument("--batch-wait", type=_non_negative_float, default=0.0, metavar="S", help="with --batch, wait up to S seconds for the job in this run (default 0: submit or check once, exit 5 if unfinished)")
    group.add_argument("--batch-poll", type=_positive_float, default=30.0, metavar="S", help="with --batch-wait, seconds between checks of the job (default 30)")


def _temperature(text: str) -> float:
    value = _number(text, float, "a number")
    if not 0 <= value <= 2:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2, got {text}")
    return value


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


# How each way of stopping early ends the run: exit code and log level (one line on stderr).
_ENDINGS = {
    InputError: (EXIT_USAGE, logging.ERROR),
    LockedError: (EXIT_LOCKED, logging.ERROR),
    BatchPending: (EXIT_PENDING, logging.WARNING),
    RunError: (EXIT_RUNTIME, logging.ERROR),
}


def main(argv: list[str] | None = None) -> int:
    """Run the whole pipeline and return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_flags(parser, args)
    try:
        setup_logging(args.quiet, None)  # stderr first: a refused --log-file is reported there
        if args.check_model:
            return _check_model(args)
        _check_paths(args)
        setup_logging(args.quiet, args.log_file)
        return _run(args, time.monotonic())
    except (InputError, LockedError, BatchPending, RunError) as error:
        code, level = _ENDINGS[type(error)]
        log.log(level, "%s", error)
        return code
    except OSError as error:  # a disk or permission failure outside the atomic write: still one line, never a traceback
        where = f"{error.filename}: " if error.filename else ""
        log.error("%s%s: %s; previous outputs were left as they were", where, errno.errorcode.get(error.errno or 0, error.errno), error.strerror)
        return EXIT_RUNTIME
    except KeyboardInterrupt:
        # Outputs are renamed into place in one step at the very end, with Ctrl-C held off: nothing is half new.
        log.error("interrupted (Ctrl-C); stopped without writing: previous outputs were left as they were")
        return EXIT_INTERRUPTED


def _check_flags(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Reject flag combinations that cannot work, as usage errors."""
    if args.batch and args.offline:
        parser.error("--batch needs Gemini; drop --offline")
    if args.batch and args.no_cache:
        parser.error("--batch keeps the job's replies in the response cache; drop --no-cache")
    if args.refresh_cache and args.no_cache:
        parser.error("--refresh-cache renews the response cache; drop --no-cache")


def _check_paths(args: argparse.Namespace) -> None:
    """Refuse, before any work and with nothing written, outputs the run may not write or that are its inputs."""
    outputs = run_paths(args.out, _bundle_options(args).formats, args.val_ratio)
    check_output_paths(outputs)
    check_not_inputs([*outputs, *([args.log_file] if args.log_file else [])], {"--seeds": args.seeds, "--cache": args.cache})


def _run(args: argparse.Namespace, started: float) -> int:
    seeds = load_seeds(args.seeds)
    check_seeds(seeds, str(args.seeds))
    target = args.target or len(seeds) * args.n
    check_splittable(args.val_ratio, len(seeds), target)
    check_card_path(args.out)
    read_registry(args.out)  # a broken dataset_info.json stops the run before anything is written
    if not args.offline:
        find_api_key()  # a bad .env or key is an input error: refused before the lock, with nothing written
    if args.dry_run:
        return _dry_run(args, seeds, target)
    with output_lock(args.out):  # taken only once the input is known good, so bad input touches nothing
        return _build(args, seeds, target, started)


def _build(args: argparse.Namespace, seeds, target: int, started: float) -> int:
    offline = OfflineGenerator(random_seed=args.seed)
    primary = _choose_generator(args, offline)
    batch = _batch_step(args, primary, seeds, target)
    workers = args.workers or default_workers(len(seeds))
    # A Gemini run keeps the collector during the pipeline: its client's event loop makes reference cycles.
    with collector_paused(primary is offline):
        outcome = Pipeline(primary, offline, progress=not args.quiet, workers=workers).run(seeds, args.n, target)
        made = [] if primary is offline else primary_misconceptions(
            primary, args.misconceptions, len(outcome.selected), args.seed
        )
    with collector_paused():
        outcome.selected = ground(outcome.selected, args.grounded_ratio, args.seed, check=check_answer)
        outcome.selected, refused = add_misconceptions(
            outcome.selected, args.misconceptions, args.seed, check_misconception, made
        )
        outcome.note_rejected(refused)
    with collector_paused(), primary.token_counts(outcome.selected, system_prompt(), _bundle_options(args).formats):
        bundle = build_bundle(args.out, outcome.selected, system_prompt(), _bundle_options(args))  # validated, not written
        settings = {"target": target, "seeds": len(seeds), "n": args.n, "random_seed": args.seed, "primary": primary.name}
        report = build_report(outcome, settings, _api_usage(primary, outcome.selected, args), batch, bundle.summary)
        problems = _degraded(report, args.max_fallback)
        # A tripped breaker was said in one line when it tripped; the fallback line below counts its seeds.
        status = EXIT_DEGRADED if problems or report.api.get("breaker") else EXIT_OK
        manifest = build_manifest(args.seeds, _flags(args), report, time.monotonic() - started, status)
        main_file = format_path(args.out, bundle.formats[0])  # the page names, and numbers the lines of, this file
        review = {} if args.no_review else review_files(main_file, outcome.selected, outcome.rejected, args.seed)
        _write_outputs(args.out, outcome, bundle, report, manifest, args.seeds, review)
    for line in summary_lines(report):
        log.info("%s", line)
    # A fallback within --max-fallback is not a problem, but its reasons are still shown (warnings survive --quiet).
    for problem in problems + [note for note in _fallback_note(report, args.max_fallback) if note not in problems]:
        log.warning("%s", problem)
    return status


def _degraded(report: RunReport, max_fallback: float) -> list[str]:
    """Return one line per reason the run counts as degraded (exit 3): short of target, too much offline fallback."""
    problems = []
    if report.written < report.target:
        problems.append(f"short of target: wrote {report.written} of {report.target} samples; add seeds or lower --target")
    if report.api.get("fallback_share", 0.0) > max_fallback:
        problems += _fallback_note(report, max_fallback)
    return problems


def _fallback_note(report: RunReport, max_fallback: float) -> list[str]:
    """Return the line that says how much was made offline because Gemini failed, and why; [] if nothing was.

    It is a warning, which --quiet keeps, so it carries the reasons itself rather than pointing at the summary.
    """
    if not report.fallbacks:
        return []
    share = report.api.get("fallback_share", 0.0)
    why = ", ".join(f"{reason} {count}" for reason, count in report.fallbacks.items())
    failed = ", ".join(f"{reason} {count}" for reason, count in report.api.get("failed_attempts", {}).items())
    limit = f"{'over' if share > max_fallback else 'within'} --max-fallback {max_fallback:g}"
    cached = report.api.get("cached_fallbacks", 0)
    return [
        f"offline fallback {limit}: {share:.1%} of the written samples were made offline because Gemini failed "
        f"(seeds by reason: {why}" + (f"; failed attempts: {failed}" if failed else "") + ")"
        + (f"; cached replies that give no usable variant today made {cached} of these seeds fall back "
           "(--refresh-cache asks again)" if cached else "")
        + "; outputs were written"
    ]


def _batch_step(args: argparse.Namespace, primary: Generator, seeds, target: int) -> dict | None:
    """With --batch, get the batch job's replies into the cache first; return its summary for the report."""
    if args.batch and primary.name == "gemini":
        from augment.generators.gemini.batch import BatchOptions, prepare_batch

        options = BatchOptions(wait=args.batch_wait, poll=args.batch_poll)
        return prepare_batch(primary, seeds, variants_wanted(seeds, args.n, target), args.out, options)
    if not args.batch and batch_state_path(args.out).is_file():
        from augment.generators.gemini.batch import pending_job_note

        log.warning("%s", pending_job_note(args.out))
    return None


def _dry_run(args: argparse.Namespace, seeds, target: int) -> int:
    """Print what the run would spend on Gemini; call nothing, write nothing."""
    from augment.generators.gemini.estimate import offline_lines

    if args.offline:
        lines = offline_lines("--offline")
    elif find_api_key():
        from augment.generators.gemini.estimate import dry_run_lines

        _warn_unknown_model(args.model)
        extra = misconception_requests(args.misconceptions, target, args.seed)
        lines = dry_run_lines(_gemini_settings(args), seeds, variants_wanted(seeds, args.n, target), args.out, args.batch, extra)
    else:
        lines = offline_lines("no GEMINI_API_KEY or GOOGLE_API_KEY found in the environment or .env", stops=args.no_fallback)
    print("\n".join(lines))  # the answer the user asked for: stdout, shown even with --quiet
    return EXIT_OK


def _check_model(args: argparse.Namespace) -> int:
    """Print what Gemini and the catalogue say about --model; exit 0 if a run can use it, 1 if not."""
    key = find_api_key()
    if not key:
        raise InputError("--check-model: no GEMINI_API_KEY or GOOGLE_API_KEY found in the environment or .env; export GEMINI_API_KEY=... or put it in ./.env")
    from augment.generators.gemini.check import check_model

    lines, usable = check_model(key, args.model, args.timeout)
    print("\n".join(lines))  # the answer the user asked for: stdout, shown even with --quiet
    return EXIT_OK if usable else EXIT_RUNTIME


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
    _warn_unknown_model(args.model)
    from augment.generators.gemini.client import GeminiGenerator

    return GeminiGenerator(key, _gemini_settings(args))


def _warn_unknown_model(model: str) -> None:
    """Say in one line that a model the catalogue lacks runs with generic settings and no prices."""
    from augment.generators.gemini.models import unknown_model_note

    if note := unknown_model_note(model):
        log.warning("%s", note)


def _gemini_settings(args: argparse.Namespace) -> GeminiSettings:
    return GeminiSettings(
        model=args.model, concurrency=args.concurrency, rpm=args.rpm, retries=args.retries, timeout=args.timeout,
        backoff=args.backoff, temperature=args.temperature, random_seed=args.seed, cache=None if args.no_cache else args.cache,
        fallback=not args.no_fallback, refresh_cache=args.refresh_cache,
    )


def _api_usage(primary: Generator, selected, args: argparse.Namespace) -> dict:
    """Return the model, its API usage and the offline fallback share for the report; nothing for an offline run."""
    stats = getattr(primary, "stats", None)
    return {"model": args.model, **stats, "fallback_share": round(fallback_share(selected), 4)} if stats else {}


def _bundle_options(args: argparse.Namespace) -> BundleOptions:
    formats = tuple(fmt for fmt in FORMATS if fmt in (args.format or [DEFAULT_FORMAT]))  # fixed order: same files, same card
    return BundleOptions(formats, args.val_ratio, args.seed, args.seeds)


def _write_outputs(out: Path, outcome, bundle: Bundle, report: RunReport, manifest: dict, seeds_path: Path, review: dict) -> None:
    rejected = ({"reason": reason, **sample.meta(), "user": sample.user, "assistant": sample.assistant} for sample, reason in outcome.rejected)
    files = bundle.files | card_files(bundle, report, seeds_path) | review
    files |= {
        info_path(out): registry_text(out, ((path, fmt) for path, (fmt, _) in bundle.data_files.items())),
        sibling(out, "report.json"): json.dumps(report.as_dict(), ensure_ascii=False, indent=2) + "\n",
        sibling(out, "manifest.json"): json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
    }
    # No empty files: the rejected file only when something was rejected (datasets cannot load an empty JSON file).
    rejected_path = sibling(out, "rejected.jsonl")
    if outcome.rejected:
        files[rejected_path] = jsonl(rejected)
    write_atomically(files)
    if not outcome.rejected:
        rejected_path.unlink(missing_ok=True)  # an earlier run's rejects would now misdescribe this output
    for path in stale_files(out, [*files, batch_state_path(out)]):
        log.warning("%s is left from an earlier run with other --format/--val-ratio/--no-review flags; this run did not write it", path)


if __name__ == "__main__":
    sys.exit(main())
