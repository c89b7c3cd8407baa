"""`python -m augment.evaluate`: send the probes to an OpenAI-compatible endpoint, score the answers, write the report."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from augment.dataset.export import write_atomically
from augment.errors import InputError, RunError
from augment.evaluate.client import Endpoint, ask_all
from augment.evaluate.report import build_report, compare, compare_text, render_compare_html, render_html, scores
from augment.generators.gemini.cache import ResponseCache
from augment.probes.probe import DEFAULT_PROBES, KINDS, read_probes
from augment.evaluate.score import CHECKS

log = logging.getLogger("augment.evaluate")
DEFAULT_OUT = Path("outputs/evaluation.json")
DEFAULT_CACHE = Path(".augment-cache/evaluate.sqlite")
_NAMES = ("all", *KINDS, *CHECKS)


def _share(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not a share between 0 and 1")
    return value


def _minimum(text: str) -> tuple[str, float]:
    name, _, value = text.partition("=")
    if name not in _NAMES or not value:
        raise argparse.ArgumentTypeError(f"{text!r}: use NAME=SHARE with NAME one of {', '.join(_NAMES)}")
    return name, _share(value)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a whole number of at least 1")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m augment.evaluate", description=__doc__.split(":", 1)[1].strip())
    p.add_argument("--probes", type=Path, default=DEFAULT_PROBES, help=f"probe file from `python -m augment.probes` (default {DEFAULT_PROBES})")
    p.add_argument("--base-url", help="OpenAI-compatible API root, e.g. http://localhost:8000/v1 (vLLM) or http://localhost:11434/v1 (Ollama)")
    p.add_argument("--model", help="model name the server knows")
    p.add_argument("--api-key-env", default=None, help="name of the environment variable holding the API key, e.g. OPENAI_API_KEY (default: send no key, as local servers need none)")
    p.add_argument("--concurrency", type=_positive, default=4, help="requests in flight at once (default 4)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds before one request is abandoned and retried (default 60)")
    p.add_argument("--retries", type=int, default=3, help="retries per probe after its first request: 429, 5xx, timeouts, dropped connections, malformed replies (default 3)")
    p.add_argument("--backoff", type=float, default=1.0, help="first retry wait in seconds, doubled per retry, with jitter; Retry-After wins (default 1)")
    p.add_argument("--temperature", type=float, default=0.0, help="sampling temperature (default 0)")
    p.add_argument("--max-tokens", type=_positive, default=512, help="longest answer in tokens (default 512)")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"answer cache: a rerun or an interrupted run asks no probe twice (default {DEFAULT_CACHE})")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON report; the HTML page goes beside it (default {DEFAULT_OUT})")
    p.add_argument("--reference", action="store_true", help="score the probes' own reference answers instead of asking a model (must reach 100%%)")
    p.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"), help="compare two JSON reports (base vs tuned model); thresholds apply to AFTER")
    p.add_argument("--min-score", type=_share, default=0.0, help="exit 1 if the share of passed probes is below this (default 0)")
    p.add_argument("--min", type=_minimum, action="append", default=[], metavar="NAME=SHARE", help=f"exit 1 if one score is below SHARE; NAME is one of {', '.join(_NAMES)}; repeatable")
    p.add_argument("--max-drop", type=_share, default=None, help="with --compare, exit 1 if any score falls by more than this")
    p.add_argument("--quiet", action="store_true", help="no progress bar, warnings and errors only")
    return p


def _api_key(name: str | None) -> str:
    """Return the key from the named environment variable; a named variable that is unset is an error."""
    if name is None:  # never a key the user did not name: it would go to whatever server --base-url points at
        return ""
    if not os.environ.get(name):
        raise InputError(f"--api-key-env {name}: the environment variable {name} is not set; export it or drop the flag")
    return os.environ[name]


def _failed_thresholds(named: dict[str, float], args) -> list[str]:
    limits = [("all", args.min_score), *args.min]
    return [f"{name} {named.get(name, 0.0):.1%} < {floor:.1%}" for name, floor in limits if named.get(name, 0.0) < floor]


def _evaluate(args) -> tuple[dict, list[str]]:
    """Ask (or take the references), score, and return the report and the problems that make the exit code 1."""
    system, probes = read_probes(args.probes)
    if args.reference:
        answers, errors, meta = {p.id: p.reference for p in probes}, {}, {"model": "reference", "base_url": ""}
    else:
        if not args.base_url or not args.model:
            raise InputError("--base-url and --model are required (or pass --reference or --compare)")
        endpoint = Endpoint(args.base_url, args.model, _api_key(args.api_key_env), args.timeout, args.retries,
                            args.backoff, args.temperature, args.max_tokens)
        items = [(p.id, [{"role": "system", "content": system}, {"role": "user", "content": p.user}]) for p in probes]
        cache = None if args.no_cache else ResponseCache(args.cache)
        try:
            outcome = ask_all(items, endpoint, cache, args.concurrency, args.quiet)
        finally:
            if cache is not None:
                cache.close()
        answers, errors = outcome.answers, outcome.errors
        meta = {"model": args.model, "base_url": args.base_url, "calls": outcome.calls, "cache_hits": outcome.cache_hits}
    report = build_report(probes, answers, errors, meta)
    problems = _failed_thresholds(scores(report), args)
    if args.reference and report["score"] < 1:
        problems.append(f"reference answers score {report['score']:.1%}, not 100%: a scorer refuses a good answer")
    if errors:
        problems.append(f"{len(errors)} probes got no answer ({', '.join(sorted(set(errors.values())))}); run again: answered probes come from the cache")
    return report, problems


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation or the comparison; return the exit code."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    log.setLevel(logging.INFO)  # only this tool's lines: the HTTP client logs every request at INFO
    args = _parser().parse_args(argv)
    if args.quiet:
        log.setLevel(logging.WARNING)
    try:
        if args.compare:
            reports = [_read_report(path) for path in args.compare]
            comparison = compare(*reports)
            print(compare_text(comparison))
            problems = _failed_thresholds(scores(reports[1]), args)
            if args.max_drop is not None:
                problems += [f"{name} fell {row['change']:+.1%}" for name, row in comparison["scores"].items()
                             if row["change"] is not None and row["change"] < -args.max_drop]
            out = args.out if args.out != DEFAULT_OUT else DEFAULT_OUT.with_name("comparison.json")
            files = {out: json.dumps(comparison, ensure_ascii=False, indent=2) + "\n", out.with_suffix(".html"): render_compare_html(comparison)}
        else:
            report, problems = _evaluate(args)
            log.info("score %.1f%% (%d/%d); %s", 100 * report["score"], report["passed"], report["answered"],
                     ", ".join(f"{k} {v['score']:.0%}" for k, v in report["by_kind"].items()))
            files = {args.out: json.dumps(report, ensure_ascii=False, indent=2) + "\n", args.out.with_suffix(".html"): render_html(report)}
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except RunError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    write_atomically(files)
    log.info("wrote %s", " and ".join(map(str, files)))
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _read_report(path: Path) -> dict:
    try:
        report = json.loads(Path(path).read_text("utf-8"))
        report["score"], report["by_kind"], report["by_check"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError(f"{path}: not an evaluation report ({error!r}); pass two JSON files written by `python -m augment.evaluate`") from None
    return report


if __name__ == "__main__":
    sys.exit(main())
