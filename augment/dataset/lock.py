"""One writer per output: a lock file beside the outputs that a second overlapping run cannot take."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from augment.errors import LockedError, RunError


def lock_path(out: Path) -> Path:
    """Return the lock file of out's folder and stem, e.g. outputs/.fine_tune.lock."""
    return out.with_name(f".{out.stem}.lock")


@contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold the lock for out's folder and stem for the whole run, or raise LockedError at once."""
    path = lock_path(out)
    lock = FileLock(path, timeout=0)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except Timeout:
        raise LockedError(f"{out}: another augment run is writing these outputs (lock {path}); wait for it to finish") from None
    except OSError as error:
        name = errno.errorcode.get(error.errno or 0, error.errno)
        raise RunError(f"{path}: cannot create the lock file ({name}: {error.strerror}); nothing was written") from None
    try:
        yield
    finally:
        lock.release()
