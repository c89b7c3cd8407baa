"""Response cache: every successful model response in sqlite, so reruns and resumed runs make no repeated call."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path

from augment.errors import RunError

DEFAULT_CACHE = Path(".augment-cache/gemini.sqlite")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    text TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS notes (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
)
"""


def request_key(**parts: object) -> str:
    """Return the sha256 of the request parts as canonical JSON (never pass the API key here)."""
    canonical = json.dumps(parts, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ResponseCache:
    """A sqlite table of response texts keyed by request hash, committed after every write."""

    def __init__(self, path: Path, read_only: bool = False):
        self.path = Path(path)
        try:
            self._db = self._open_read_only() if read_only else self._open()
        except (OSError, sqlite3.Error) as error:
            raise RunError(f"{self.path}: cannot open the response cache ({error}); pass another --cache PATH or --no-cache") from None

    @classmethod
    def existing(cls, path: Path) -> ResponseCache | None:
        """Open an existing cache for lookups only (a dry run writes nothing); None if there is none yet."""
        return cls(path, read_only=True) if Path(path).is_file() else None

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # WAL keeps every committed row even if the process is killed mid-run; the timeout lets two runs share it.
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(_SCHEMA)
        db.commit()
        return db

    def _open_read_only(self) -> sqlite3.Connection:
        db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        db.execute("SELECT COUNT(*) FROM responses")  # not a cache at all: one clear error now, not at the first get
        return db

    def get(self, key: str) -> str | None:
        """Return the stored response text for key, or None."""
        row = self._db.execute("SELECT text FROM responses WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def put(self, key: str, model: str, text: str) -> None:
        """Store one response and commit at once."""
        self._db.execute(
            "INSERT OR REPLACE INTO responses (key, model, text, created) VALUES (?, ?, ?, ?)",
            (key, model, text, time.time()),
        )
        self._db.commit()

    def note(self, name: str) -> str | None:
        """Return a value the runs keep beside the replies (e.g. the measured rejection rate), or None."""
        try:
            row = self._db.execute("SELECT value FROM notes WHERE name = ?", (name,)).fetchone()
        except sqlite3.OperationalError:  # a cache written before notes were kept, opened read-only
            return None
        return row[0] if row else None

    def put_note(self, name: str, value: str) -> None:
        """Keep a value beside the replies and commit at once."""
        self._db.execute("INSERT OR REPLACE INTO notes (name, value) VALUES (?, ?)", (name, value))
        self._db.commit()

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
