"""Turn a review page's exported verdicts (CSV) into pass rates per intent, register and grounding kind."""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from augment.errors import InputError

VERDICTS = ("pass", "minor", "fail")
COLUMNS = ("line", "seed_id", "verdict", "note", "intent", "register", "generator", "grounding")
REQUIRED = ("line", "seed_id", "verdict")
GROUPS = ("intent", "register", "grounding")  # what the summary breaks the pass rate down by


@dataclass(frozen=True, slots=True)
class Verdict:
    """One exported row: the output line judged, its seed, the verdict ("" if not judged yet) and its strata."""

    line: int
    seed_id: str
    verdict: str
    note: str
    strata: dict[str, str]


def read_verdicts(path: Path, metas: list[dict] | None = None) -> list[Verdict]:
    """Read an exported verdicts CSV; strata from the run's provenance lines (metas) if given, else its own columns."""
    rows, header = _rows(path)
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}; export the verdicts from the review page again")
    if metas is None and not all(group in header for group in GROUPS):
        raise InputError(f"{path}: no {'/'.join(GROUPS)} columns; pass the output it reviews too: --summary {path} OUT.jsonl")
    verdicts, seen = [], set()
    for number, row in enumerate(rows, 2):
        verdict = _verdict(path, number, row, metas)
        if verdict.line in seen:
            raise InputError(f"{path}: row {number}: line {verdict.line} is judged twice; keep one row per line")
        seen.add(verdict.line)
        verdicts.append(verdict)
    return verdicts


def _rows(path: Path) -> tuple[list[dict], list[str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:  # -sig: the page writes a BOM for spreadsheets
            reader = csv.DictReader(stream)
            return list(reader), list(reader.fieldnames or [])
    except FileNotFoundError:
        raise InputError(f"{path}: not found; export it with the review page's 'Export CSV' button") from None
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InputError(f"{path}: not a readable UTF-8 CSV ({error}); export it from the review page again") from None


def _verdict(path: Path, number: int, row: dict, metas: list[dict] | None) -> Verdict:
    """Check one row and return it, its strata joined from metas when the CSV lacks them."""
    text = (row.get("line") or "").strip()
    if not text.isdigit() or int(text) < 1:
        raise InputError(f"{path}: row {number}: line '{text}' is not a line number (1 or more)")
    line, seed_id = int(text), (row.get("seed_id") or "").strip()
    verdict = (row.get("verdict") or "").strip().lower()
    if verdict not in ("", *VERDICTS):
        raise InputError(f"{path}: row {number}: verdict '{verdict}' is not one of {', '.join(VERDICTS)} (or empty: not judged)")
    if metas is None:
        strata = {group: (row.get(group) or "").strip() or "none" for group in GROUPS}
    else:
        strata = _joined(path, number, line, seed_id, metas)
    return Verdict(line, seed_id, verdict, row.get("note") or "", strata)


def _joined(path: Path, number: int, line: int, seed_id: str, metas: list[dict]) -> dict[str, str]:
    if line > len(metas):
        raise InputError(f"{path}: row {number}: line {line} is past the output's {len(metas)} lines; these verdicts belong to another run")
    meta = metas[line - 1]
    if meta.get("seed_id") != seed_id:
        raise InputError(f"{path}: row {number}: line {line} is seed {meta.get('seed_id')} in the output, not {seed_id}; these verdicts belong to another run")
    return {"intent": meta.get("intent", ""), "register": meta.get("register", ""), "grounding": meta.get("grounding") or "none"}


def read_metas(path: Path) -> list[dict]:
    """Read a provenance file (meta.jsonl) for the join; InputError if it is missing or broken."""
    try:
        return [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    except FileNotFoundError:
        raise InputError(f"{path}: not found; the summary needs the provenance file written beside the output") from None
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: unreadable ({error}); rerun python -m augment.run") from None


def summarise(verdicts: list[Verdict]) -> dict:
    """Return the counts and pass rate overall and per value of each group, over judged lines only."""
    judged = [v for v in verdicts if v.verdict]
    summary = {"lines": len(verdicts), "judged": len(judged), "overall": _tally(judged)}
    for group in GROUPS:
        values = sorted({v.strata[group] for v in judged})
        summary[group] = {value: _tally([v for v in judged if v.strata[group] == value]) for value in values}
    return summary


def _tally(verdicts: list[Verdict]) -> dict:
    counts = Counter(v.verdict for v in verdicts)
    judged = len(verdicts)
    return {"judged": judged, **{name: counts[name] for name in VERDICTS}, "pass_rate": round(counts["pass"] / judged, 4) if judged else 0.0}


def summary_lines(path: Path, summary: dict) -> list[str]:
    """Render the summary as an aligned text table."""
    lines = [f"{path}: {summary['lines']} lines, {summary['judged']} judged, {summary['lines'] - summary['judged']} not judged yet"]
    if not summary["judged"]:
        return [*lines, "no verdicts yet: judge lines on the review page, then export the CSV again"]
    width = max([len(value) for group in GROUPS for value in summary[group]] + [len("overall")])
    lines.append(f"{'':{width + 12}}judged  pass rate   pass  minor   fail")
    lines.append(_row("", "overall", summary["overall"], width))
    for group in GROUPS:
        lines.extend(_row(group if index == 0 else "", value, tally, width) for index, (value, tally) in enumerate(summary[group].items()))
    return lines


def _row(group: str, value: str, tally: dict, width: int) -> str:
    return (
        f"{group:<10}  {value:<{width}}{tally['judged']:>6}  {tally['pass_rate']:>9.1%}"
        f"  {tally['pass']:>5}  {tally['minor']:>5}  {tally['fail']:>5}"
    )
