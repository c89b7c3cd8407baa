"""Every path a run writes, checked before any work: never over what is not a file of ours, never into a dead end."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from augment.dataset.card import card_path, plot_path
from augment.dataset.export import sibling
from augment.dataset.formats import format_path
from augment.dataset.llamafactory import info_path
from augment.dataset.lock import lock_path
from augment.dataset.review_view import review_path
from augment.dataset.split import SPLITS, split_path
from augment.errors import InputError

# Files beside --out that every run (or a pending --batch job) writes, whatever its formats and split.
RUN_SIBLINGS = ("rejected.jsonl", "report.json", "manifest.json", "batch.json")


def run_paths(out: Path, formats: Sequence[str], val_ratio: float) -> list[Path]:
    """Return every file a run with these flags may write, --out first (checked even when its format is not asked
    for): data, provenance, card, dataset_info.json, report, batch state, lock and review page."""
    parts = [out, *(split_path(out, name) for name in SPLITS)] if val_ratio > 0 else [out]
    paths = [out, *(format_path(part, fmt) for part in parts for fmt in formats)]
    paths += [sibling(part, "meta.jsonl") for part in parts]
    paths += [card_path(out), plot_path(out), info_path(out), *(sibling(out, suffix) for suffix in RUN_SIBLINGS), lock_path(out)]
    paths += [review_path(format_path(out, fmt)) for fmt in formats[:1]]  # named after the first format's file
    return list(dict.fromkeys(paths))


def batch_state_path(out: Path) -> Path:
    """Return where a pending --batch job is recorded (gemini/batch.py's state_path, without importing the client)."""
    return sibling(out, "batch.json")


def check_output_paths(paths: Iterable[Path], flag: str = "--out") -> None:
    """Raise InputError, writing nothing, unless every path may be replaced by a regular file we write.

    The first path is the flag's own; the others are the files written beside it.
    """
    probed: set[Path] = set()
    for index, path in enumerate(paths):
        if index == 0:
            role = Role(flag, f"point {flag} at a regular file")
        else:
            role = Role(f"this file (written beside {flag})", f"remove it or choose another {flag}")
        target = writable_target(path, role)
        folder = _existing_folder(target, role)
        if folder not in probed:
            _probe(folder, target, role)
            probed.add(folder)
        if os.path.exists(target) and not _may_replace(target.parent, target):
            raise InputError(f"{target}: {role.name} belongs to another user in a sticky folder and cannot be replaced; {role.fix}")


def check_not_inputs(paths: Iterable[Path], inputs: dict[str, Path]) -> None:
    """Raise InputError if an output path is one of the run's inputs (the seed file, the cache), by any name."""
    existing = {flag: path for flag, path in inputs.items() if path and path.is_file()}
    for path in paths:
        for flag, source in existing.items():
            if path.is_file() and os.path.samefile(path, source):
                raise InputError(f"{path}: is the {flag} file, which a run reads and never writes over; pick another --out")


@dataclass(frozen=True, slots=True)
class Role:
    """What a checked path is, for the message, and what to do when it cannot be written."""

    name: str  # "--out", or "this file (written beside --out)"
    fix: str


def writable_target(path: Path, role: Role) -> Path:
    """Return the file that writing path would replace (a symlink's target), or raise InputError naming the problem."""
    try:
        info = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):  # a parent that is a file is named by the folder check
        return path
    except OSError as error:  # ELOOP, ENAMETOOLONG, EACCES
        raise InputError(f"{path}: {role.name} cannot be used ({_errno(error)}); {role.fix}") from None
    if stat.S_ISLNK(info.st_mode) and _descriptor_link(path):
        raise InputError(f"{path}: {role.name} is a link to an open file descriptor (like /dev/stdout), which augment never writes over; {role.fix}")
    if stat.S_ISLNK(info.st_mode):
        try:
            info = os.stat(path)
        except OSError:
            raise InputError(f"{path}: {role.name} is a symlink that leads nowhere; remove it, or {role.fix}") from None
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{path}: {role.name} is a symlink to {_kind(info.st_mode)}, which augment never writes over; {role.fix}")
        return Path(os.path.realpath(path))
    if not stat.S_ISREG(info.st_mode):
        fix = role.fix
        if stat.S_ISDIR(info.st_mode) and role.fix.startswith("point"):
            fix = f"point {role.name} at a file in it, e.g. {path / 'fine_tune.jsonl'}"
        raise InputError(f"{path}: {role.name} is {_kind(info.st_mode)}, which augment never writes over; {fix}")
    return path


def _descriptor_link(path: Path) -> bool:
    """Return whether path is, or leads through, a link to an open file descriptor: /dev/stdout, /dev/fd/N,
    /proc/self/fd/N. Its target may be a regular file (stdout redirected), which must not be renamed over either."""
    if os.path.realpath(path.parent).startswith("/proc/"):
        return True
    current = str(path)
    for _ in range(40):  # the kernel's own limit on a chain of symlinks
        if not os.path.islink(current):
            return False
        current = os.path.join(os.path.dirname(current), os.readlink(current))
        if current.startswith(("/proc/", "/dev/fd/")):
            return True
    return False


def _existing_folder(target: Path, role: Role) -> Path:
    """Return the nearest folder of target that exists (the others will be created), or raise if it is not a folder."""
    folder = target.parent
    while not os.path.lexists(folder) and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise InputError(f"{target}: {role.name} cannot be created because {folder} is not a folder; pick another path")
    return folder


def _probe(folder: Path, target: Path, role: Role) -> None:
    """Create and remove a file in folder: the only sure test that files can be made there (root ignores modes)."""
    try:
        handle, name = tempfile.mkstemp(dir=folder, prefix=".augment-probe-", suffix=".tmp")
    except OSError as error:
        raise InputError(
            f"{target}: {role.name} cannot be written: creating a file in {folder} fails ({_errno(error)}); pick a "
            "folder you can write, or fix its permissions"
        ) from None
    os.close(handle)
    os.unlink(name)


def _may_replace(folder: Path, target: Path) -> bool:
    """Return False where the sticky bit forbids renaming over another user's file."""
    if os.geteuid() == 0 or not folder.stat().st_mode & stat.S_ISVTX:
        return True
    return target.stat().st_uid == os.geteuid() or folder.stat().st_uid == os.geteuid()


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def _errno(error: OSError) -> str:
    return f"{errno.errorcode.get(error.errno or 0, error.errno)}: {error.strerror}"
