"""Load and check the hand-written seed file."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from augment.errors import InputError
from augment.records import INTENTS, Seed
from augment.text import bad_characters, code_point, nfc

REQUIRED_COLUMNS = ("id", "intent", "place", "question", "answer")
HOW_TO_FIX = "see README 'Adding seeds'"
# A seed cell becomes a chat turn on up to --n lines. 5,000 characters is about 5,000 tokens by the project's
# estimate (bytes / 3, Vietnamese letters taking up to 3 bytes), so a question and an answer at the limit, the
# system prompt and a context block still fit the 16,385-token context of the fine-tuning model; real seeds stay
# under 1,000.
MAX_CELL_CHARS = 5_000
# Byte-order marks a spreadsheet may write, longest first (UTF-32 LE starts with the UTF-16 LE mark).
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32", "UTF-32 LE with BOM"),
    (b"\x00\x00\xfe\xff", "utf-32", "UTF-32 BE with BOM"),
    (b"\xef\xbb\xbf", "utf-8-sig", "UTF-8 with BOM"),
    (b"\xff\xfe", "utf-16", "UTF-16 LE with BOM"),
    (b"\xfe\xff", "utf-16", "UTF-16 BE with BOM"),
)
_DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}


def load_seeds(path: Path) -> list[Seed]:
    """Read the seed CSV and return its seeds, or raise InputError naming file, row and column."""
    text, encoding = _read_text(path)
    delimiter = _sniff_delimiter(text)
    how = f"read as {encoding}, {_DELIMITERS[delimiter]}-separated"
    rows = _read_rows(path, text, delimiter, how)
    if not rows:
        raise InputError(f"{path}: the file is empty; it needs a header {','.join(REQUIRED_COLUMNS)}")
    header = [name.strip() for name in rows[0]]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)} ({how}, header: {', '.join(header)}); the header must "
            f"include {','.join(REQUIRED_COLUMNS)}, separated by commas, semicolons or tabs ({HOW_TO_FIX})"
        )
    where = {column: header.index(column) for column in REQUIRED_COLUMNS}
    seeds = [
        _seed_from_row(path, number, _cells(path, number, row, where, len(header), how))
        for number, row in enumerate(rows[1:], start=2)
        if row  # a blank line; it still counts as a spreadsheet row
    ]
    if not seeds:
        raise InputError(f"{path}: no seed rows under the header; add at least one ({HOW_TO_FIX})")
    _reject_duplicate_ids(path, seeds)
    return seeds


def _read_text(path: Path) -> tuple[str, str]:
    """Return the file's text and the encoding it was read in (from its byte-order mark, else UTF-8)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: seed file not found; pass --seeds PATH to a CSV ({HOW_TO_FIX})") from None
    except OSError as error:
        raise InputError(f"{path}: cannot read seed file ({error.strerror})") from None
    codec, encoding = next(((codec, name) for bom, codec, name in _BOMS if raw.startswith(bom)), ("utf-8", "UTF-8"))
    if codec == "utf-8" and b"\x00" in raw[:2]:
        # "Unicode text" saved without its mark: ASCII header letters alternate with zero bytes.
        codec, encoding = ("utf-16-be", "UTF-16 BE") if raw[:1] == b"\x00" else ("utf-16-le", "UTF-16 LE")
    try:
        return raw.decode(codec), encoding
    except UnicodeDecodeError as error:
        line = raw[: error.start].decode(codec, errors="replace").count("\n") + 1
        raise InputError(
            f"{path}: line {line} is not {encoding} (byte 0x{raw[error.start]:02x} at offset {error.start}); save the "
            "file as UTF-8 (a spreadsheet's 'CSV UTF-8') or as UTF-16 'Unicode text'"
        ) from None


def _sniff_delimiter(text: str) -> str:
    """Return the delimiter whose reading of the first line finds the most required columns (comma on a tie)."""
    first = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]

    def score(delimiter: str) -> tuple[int, int]:
        try:
            names = {name.strip() for name in next(csv.reader([first], delimiter=delimiter), [])}
        except csv.Error:  # a stray quote: the full read reports it with its line
            names = set()
        return len(names & set(REQUIRED_COLUMNS)), first.count(delimiter)

    return max(_DELIMITERS, key=score)  # max keeps the first of equals: comma


def _read_rows(path: Path, text: str, delimiter: str, how: str) -> list[list[str]]:
    # The csv module stops at 131,072 characters a cell; read any length, so an over-long cell is refused with it.
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        return list(reader)
    except csv.Error as error:
        raise InputError(
            f"{path}: malformed CSV at line {reader.line_num} ({error}; {how}); check the quoting of that line: a "
            'cell holding the delimiter, a quote or a line break must be in double quotes, with inner quotes doubled ("")'
        ) from None


def _cells(path: Path, row: int, values: list[str], where: dict[str, int], width: int, how: str) -> dict[str, str]:
    """Return the required cells of one row, line breaks as \\n, after refusing extra cells and bad characters."""
    if len(values) > width and any(cell.strip() for cell in values[width:]):
        raise InputError(
            f"{path}: row {row} has {len(values)} cells but the header has {width} ({how}); a cell that holds the "
            "delimiter must be in double quotes, or the file was saved with another delimiter than its header"
        )
    cells = {}
    for column, index in where.items():
        cell = values[index] if index < len(values) else ""
        cell = cell.replace("\r\n", "\n").replace("\r", "\n")  # a spreadsheet's line breaks inside a quoted cell
        if found := bad_characters(cell):
            position, char = found[0]
            raise InputError(
                f"{path}: row {row}, column '{column}' holds {code_point(char)} at character {position}; delete it "
                "(control, zero-width and bidi characters are invisible in an editor and must not reach training data)"
            )
        if len(cell) > MAX_CELL_CHARS:
            raise InputError(
                f"{path}: row {row}, column '{column}' is {len(cell):,} characters long, over the {MAX_CELL_CHARS:,} "
                "limit that keeps a training line within the model's 16,385-token context; shorten it"
            )
        cells[column] = cell
    return cells


def _seed_from_row(path: Path, row: int, values: dict[str, str]) -> Seed:
    cells = {column: nfc(values[column]).strip() for column in REQUIRED_COLUMNS}
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
