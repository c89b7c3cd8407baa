"""Assemble a run's dataset files in memory: every format and split, provenance, validation and the card."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from augment.dataset.card import CardInput, build_card
from augment.errors import RunError
from augment.dataset.export import jsonl, sibling
from augment.dataset.formats import format_path, render_files
from augment.records import Sample
from augment.dataset.report import BundleSummary, RunReport
from augment.dataset.split import split_by_seed, split_path
from augment.dataset.tokens import main_encodings
from augment.dataset.validate import FileReport, validate_bytes

log = logging.getLogger("augment")

# Problems logged before the rest are only counted, so one systematic bug does not flood the terminal.
_MAX_LOGGED = 20


@dataclass(frozen=True, slots=True)
class BundleOptions:
    """The run's choices that shape its files."""

    formats: Sequence[str]
    val_ratio: float
    random_seed: int
    seeds_path: Path


@dataclass
class Bundle:
    """A run's data and provenance files, validated, and what the report and card say about them."""

    out: Path
    samples: Sequence[Sample]
    files: dict[Path, str | bytes]
    splits: dict[str, Sequence[Sample]]
    formats: Sequence[str]
    data_files: dict[Path, tuple[str, int]]  # data file -> (format, lines)
    main: FileReport  # the validator's report on the first format's full file
    summary: BundleSummary


def build_bundle(out: Path, samples: Sequence[Sample], system: str, options: BundleOptions) -> Bundle:
    """Render and validate every data and provenance file of the run."""
    splits = split_by_seed(samples, options.val_ratio, options.random_seed) if options.val_ratio > 0 else {}
    parts = {out: samples} | {split_path(out, name): part for name, part in splits.items()}
    data: dict[Path, tuple[str, bytes]] = {}
    files: dict[Path, str | bytes] = {}
    for path, part in parts.items():
        data |= {file: (fmt, _utf8(text)) for file, (fmt, text) in render_files(path, part, system, options.formats).items()}
        files[sibling(path, "meta.jsonl")] = jsonl(sample.meta() for sample in part)
    main_path = format_path(out, options.formats[0])
    # The full file of the first format is counted in every encoding, for the card; the others in their own.
    main = check_data(data, {main_path: main_encodings(options.formats[0])})[main_path]
    lines = {path: encoded.count(b"\n") for path, (_, encoded) in data.items()}
    files |= {path: encoded for path, (_, encoded) in data.items()}  # the very bytes that were validated
    summary = BundleSummary(
        formats=list(options.formats),
        lines={path.name: count for path, count in lines.items()},
        split=_split_summary(splits, options.val_ratio),
        example_tokens=main.all_token_stats(),
    )
    data_files = {path: (fmt, lines[path]) for path, (fmt, _) in data.items()}
    return Bundle(out, samples, files, splits, options.formats, data_files, main, summary)


def card_files(bundle: Bundle, report: RunReport, seeds_path: Path) -> dict[Path, str | bytes]:
    """Return the dataset card and its plot for a bundle and the run's report."""
    card = CardInput(
        out=bundle.out, report=report.as_dict(), samples=bundle.samples, splits=bundle.splits, formats=bundle.formats,
        files=bundle.data_files, tokens=bundle.main.tokens, token_stats=bundle.summary.example_tokens, seeds_path=seeds_path,
    )
    return build_card(card)


def check_data(
    data: dict[Path, tuple[str, str | bytes]], encodings: dict[Path, tuple[str, ...]] | None = None
) -> dict[Path, FileReport]:
    """Validate each data file (text or UTF-8) as its own format; raise RunError, before anything is written, if any fails.

    encodings: the encodings to count a file's tokens in (default: the one its format is tuned with).
    """
    encodings = encodings or {}
    reports = {
        path: validate_bytes(_utf8(text), str(path), fmt, encodings=encodings.get(path, ())) for path, (fmt, text) in data.items()
    }
    errors = [problem.render(report.name) for report in reports.values() for problem in report.errors]
    warnings = [problem.render(report.name) for report in reports.values() for problem in report.warnings]
    _log_lines(logging.WARNING, warnings)
    _log_lines(logging.ERROR, errors)
    if errors:
        raise RunError(
            f"the data built by this run failed validation with {len(errors)} error(s); previous outputs were "
            "left as they were. This is a bug in augment: please report it with the lines above"
        )
    return reports


def _utf8(text: str | bytes) -> bytes:
    # surrogatepass lets a stray lone surrogate reach the validator as bad UTF-8 instead of crashing here.
    return text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")


def _log_lines(level: int, lines: list[str]) -> None:
    for line in lines[:_MAX_LOGGED]:
        log.log(level, "validation: %s", line)
    if len(lines) > _MAX_LOGGED:
        log.log(level, "validation: ... and %d more like these", len(lines) - _MAX_LOGGED)


def stale_files(out: Path, written: Sequence[Path]) -> list[Path]:
    """Return files beside out that share its stem but this run did not write, e.g. a split from an earlier run."""
    keep = {path.name for path in written if path.parent == out.parent}
    prefix = f"{out.stem}."
    try:
        entries = list(os.scandir(out.parent))
    except OSError:
        return []
    return sorted(
        out.parent / entry.name for entry in entries
        if entry.name.startswith(prefix) and entry.name not in keep
        and Path(entry.name).suffix in (".jsonl", ".json", ".png", ".html") and entry.is_file(follow_symlinks=False)
    )


def _split_summary(splits: dict[str, Sequence[Sample]], val_ratio: float) -> dict:
    """Return the split's ratio, lines and seeds per part, or {} without a split."""
    if not splits:
        return {}
    return {
        "val_ratio": val_ratio,
        **{name: len(part) for name, part in splits.items()},
        **{f"{name}_seeds": len({sample.seed.id for sample in part}) for name, part in splits.items()},
    }
