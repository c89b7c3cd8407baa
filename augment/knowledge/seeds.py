"""Load and check the hand-written seed file."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from augment.errors import InputError
from augment.records import INTENTS, Seed
from augment.text import nfc

REQUIRED_COLUMNS = ("id", "intent", "place", "question", "answer")
HOW_TO_FIX = "see README 'Adding seeds'"


def load_seeds(path: Path) -> list[Seed]:
    """Read the seed CSV and return its seeds, or raise InputError naming file, row and column."""
    frame = _read_frame(path)
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)}; the header must include "
            f"{','.join(REQUIRED_COLUMNS)} ({HOW_TO_FIX})"
        )
    if frame.empty:
        raise InputError(f"{path}: no seed rows under the header; add at least one ({HOW_TO_FIX})")
    seeds = [_seed_from_row(path, index + 2, row) for index, row in enumerate(frame.to_dict("records"))]
    _reject_duplicate_ids(path, seeds)
    return seeds


def _read_frame(path: Path) -> pd.DataFrame:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: seed file not found; pass --seeds PATH to a CSV ({HOW_TO_FIX})") from None
    except OSError as error:
        raise InputError(f"{path}: cannot read seed file ({error.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise InputError(
            f"{path}: line {line} is not UTF-8 (byte 0x{raw[error.start]:02x}); save the file as UTF-8"
        ) from None
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, quoting=csv.QUOTE_MINIMAL)
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: the file is empty; it needs a header {','.join(REQUIRED_COLUMNS)}") from None
    except pd.errors.ParserError as error:
        raise InputError(f"{path}: malformed CSV ({str(error).strip()}); check quoting of that line") from None


def _seed_from_row(path: Path, row: int, values: dict[str, str]) -> Seed:
    cells = {column: nfc(str(values[column])).strip() for column in REQUIRED_COLUMNS}
    for column, value in cells.items():
        if not value:
            raise InputError(f"{path}: row {row}, column '{column}' is empty; fill it in or delete the row")
    if cells["intent"] not in INTENTS:
        raise InputError(
            f"{path}: row {row}, column 'intent' has unknown intent '{cells['intent']}'; "
            f"use one of {', '.join(INTENTS)}"
        )
    return Seed(row=row, **cells)


def _reject_duplicate_ids(path: Path, seeds: list[Seed]) -> None:
    first_row: dict[str, int] = {}
    for seed in seeds:
        if seed.id in first_row:
            raise InputError(
                f"{path}: row {seed.row}, column 'id' repeats id '{seed.id}' from row {first_row[seed.id]}; "
                "ids must be unique"
            )
        first_row[seed.id] = seed.row
