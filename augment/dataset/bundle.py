"""Assemble a run's dataset files in memory: every format and split, provenance, validation and the card."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from augment.dataset.card import CardInput, build_card
from augment.errors import RunError
from augment.dataset.export import jsonl, sibling
from augment.dataset.formats import format_path, render_files
from augment.records import Sample
from augment.dataset.split import split_by_seed, split_path
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


def build_bundle(out: Path, samples: Sequence[Sample], system: str, report: dict, options: BundleOptions) -> dict[Path, str | bytes]:
    """Return every data, provenance and card file; add formats, files, split and token_estimate to report."""
    splits = split_by_seed(samples, options.val_ratio, options.random_seed) if options.val_ratio > 0 else {}
    parts = {out: samples} | {split_path(out, name): part for name, part in splits.items()}
    data: dict[Path, tuple[str, bytes]] = {}
    files: dict[Path, str | bytes] = {}
    for path, part in parts.items():
        data |= {file: (fmt, _utf8(text)) for file, (fmt, text) in render_files(path, part, system, options.formats).items()}
        files[sibling(path, "meta.jsonl")] = jsonl(sample.meta() for sample in part)
    main = check_data(data)[format_path(out, options.formats[0])]
    lines = {path: encoded.count(b"\n") for path, (_, encoded) in data.items()}
    _extend_report(report, options, lines, splits, main)
    files |= {path: encoded for path, (_, encoded) in data.items()}  # the very bytes that were validated
    card = CardInput(
        out=out, report=report, samples=samples, splits=splits, formats=options.formats,
        files={path: (fmt, lines[path]) for path, (fmt, _) in data.items()},
        tokens=main.tokens, token_stats=main.token_stats(), seeds_path=options.seeds_path,
    )
    return files | build_card(card)


def check_data(data: dict[Path, tuple[str, str | bytes]]) -> dict[Path, FileReport]:
    """Validate each data file (text or UTF-8) as its own format; raise RunError, before anything is written, if any fails."""
    reports = {path: validate_bytes(_utf8(text), str(path), fmt) for path, (fmt, text) in data.items()}
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
    keep = {path.resolve() for path in written}
    return sorted(
        path for path in out.parent.glob(f"{out.stem}.*")
        if path.suffix in (".jsonl", ".json", ".png") and path.resolve() not in keep
    )


def _extend_report(report: dict, options: BundleOptions, lines: dict[Path, int], splits: dict, main: FileReport) -> None:
    report["formats"] = list(options.formats)
    report["files"] = {path.name: count for path, count in lines.items()}
    if splits:
        report["split"] = {
            "val_ratio": options.val_ratio,
            **{name: len(part) for name, part in splits.items()},
            **{f"{name}_seeds": len({sample.seed.id for sample in part}) for name, part in splits.items()},
        }
    report["token_estimate"] = main.token_stats()
