"""One writer per output: a lock file beside the outputs that a second overlapping run cannot take."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from augment.errors import LockedError


@contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold the lock for out's folder and stem for the whole run, or raise LockedError at once."""
    out.parent.mkdir(parents=True, exist_ok=True)
    path = out.with_name(f".{out.stem}.lock")
    lock = FileLock(path, timeout=0)
    try:
        with lock:
            yield
    except Timeout:
        raise LockedError(
            f"{out}: another augment run is writing these outputs (lock {path}); wait for it to finish"
        ) from None
