"""python -m augment.review: write a run's review page, or sum up the verdicts a reviewer exported from one."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from augment.dataset.export import write_atomically
from augment.dataset.review_input import meta_path, read_run
from augment.dataset.review_view import DEFAULT_SIZE, ReviewOptions, dropped_by_seed, review_page, review_path
from augment.dataset.verdicts import read_metas, read_verdicts, summarise, summary_lines
from augment.errors import InputError
from augment.records import Sample

EXIT_OK, EXIT_RUNTIME, EXIT_USAGE = 0, 1, 2


def review_files(out: Path, samples: Sequence[Sample], rejected: Iterable[tuple[Sample, str]], random_seed: int) -> dict[Path, str]:
    """Return the run's review page keyed by its path, for the run's one atomic write."""
    dropped = dropped_by_seed((sample.seed.id, reason) for sample, reason in rejected)
    return {review_path(out): review_page(samples, dropped, ReviewOptions(out.name, DEFAULT_SIZE, random_seed))}


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit 2."""

    def error(self, message: str) -> None:
        self.exit(EXIT_USAGE, f"augment.review: {message}; see --help\n")


def _positive_int(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got '{text}'")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every flag documented."""
    parser = _Parser(
        prog="python -m augment.review",
        description="Write one self-contained HTML page (no network, no server) on which a person judges a stratified "
        "sample of a run's lines; or, with --summary, turn the verdicts exported from it into pass rates.",
    )
    parser.add_argument("out", nargs="?", type=Path, metavar="OUT.jsonl", help="a training file written by python -m augment.run (any format, a split too); its meta, rejected and manifest files are read from beside it")
    parser.add_argument("--sample", type=_positive_int, default=DEFAULT_SIZE, metavar="N", help=f"lines on the page, spread over intent, register, generator and grounding kind (default {DEFAULT_SIZE}; all lines if the file has fewer)")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed of the draw: the same file and seed give the same page, and the page a run writes uses the run's --seed (default 0)")
    parser.add_argument("--html", type=Path, metavar="PATH", help="where to write the page (default: <stem>.review.html beside OUT.jsonl)")
    parser.add_argument("--seeds", type=Path, metavar="PATH", help="the seed CSV the run used (default: the one named in the run's manifest, else seeds/fine_tune.csv)")
    parser.add_argument("--summary", type=Path, metavar="VERDICTS.csv", help="print the pass rate per intent, register and grounding kind of a CSV exported by the page, instead of writing a page (with OUT.jsonl, the strata come from its provenance file)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Write the review page or print the verdicts' summary; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.out is None and args.summary is None:
        parser.error("give the output to review (e.g. outputs/fine_tune.jsonl) or --summary VERDICTS.csv")
    try:
        lines = _summary(args) if args.summary else _page(args)
    except InputError as error:
        print(f"augment.review: {error}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:
        print(f"augment.review: cannot write {error.filename or args.html}: {error.strerror or error}; nothing was written", file=sys.stderr)
        return EXIT_RUNTIME
    print("\n".join(lines))
    return EXIT_OK


def _page(args: argparse.Namespace) -> list[str]:
    """Write the page and return what to print: where it is, and any warning about the inputs."""
    run = read_run(args.out, args.seeds)
    if not run.samples:
        raise InputError(f"{args.out}: no lines to review; run python -m augment.run first")
    path = args.html or review_path(args.out)
    write_atomically({path: review_page(run.samples, run.dropped, ReviewOptions(args.out.name, args.sample, args.seed))})
    shown = min(args.sample, len(run.samples))
    for warning in run.warnings:
        print(f"augment.review: warning: {warning}", file=sys.stderr)
    return [f"wrote {path}: {shown} of {len(run.samples)} lines (--seed {args.seed}); open it in a browser"]


def _summary(args: argparse.Namespace) -> list[str]:
    metas = read_metas(meta_path(args.out)) if args.out else None
    return summary_lines(args.summary, summarise(read_verdicts(args.summary, metas)))
