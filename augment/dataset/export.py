"""Write outputs atomically: the chat JSONL, its provenance, the report and the rejected samples."""

from __future__ import annotations

import contextlib
import errno
import glob
import json
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from augment.errors import RunError
from augment.knowledge.prompting import render_prompt
from augment.records import Sample


def user_content(sample: Sample) -> str:
    """Return the user turn as the bot sees it: with the retrieved-context block when the sample has one."""
    if not sample.context:
        return sample.user
    return render_prompt("grounded_user", context=sample.context, question=sample.user)


def chat_record(sample: Sample, system: str) -> dict:
    """Return the OpenAI-style chat record of one sample."""
    return {
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": user_content(sample)},
            {"role": "assistant", "content": sample.assistant},
        ]
    }


# One encoder for every line: json.dumps with a non-default option builds a new encoder on each call.
_ENCODER = json.JSONEncoder(ensure_ascii=False)


def jsonl(records: Iterable[dict]) -> str:
    """Serialise records one per line, keeping Vietnamese characters as they are."""
    encode = _ENCODER.encode
    return "".join(encode(record) + "\n" for record in records)


def json_string(text: str) -> str:
    """Return text as a JSON string literal, quotes included, exactly as jsonl writes it inside a record."""
    return _ENCODER.encode(text)


def sibling(out: Path, suffix: str) -> Path:
    """Return the path beside out that shares its stem, e.g. fine_tune.meta.jsonl."""
    return out.with_name(f"{out.stem}.{suffix}")


def remove_stale_temporaries(paths: Iterable[Path]) -> None:
    """Delete temporary siblings left by a run that was killed mid-write (call while holding the lock)."""
    for path in paths:
        for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
            stale.unlink(missing_ok=True)


def write_atomically(files: dict[Path, str | bytes]) -> None:
    """Write every file (text as UTF-8, bytes as they are) to a temporary sibling, then rename them all into place.

    A symlink is written at its target. Any failure raises RunError naming the path and the errno, with every file
    as it was before.
    """
    targets = {path: Path(os.path.realpath(path)) if os.path.islink(path) else path for path in files}
    remove_stale_temporaries(targets.values())
    staged: list[tuple[str, Path]] = []
    attempted: list[Path] = []  # the file being written or renamed, to name it in the error
    try:
        for path, content in files.items():
            attempted.append(targets[path])
            _stage(targets[path], content if isinstance(content, bytes) else content.encode("utf-8"), staged)
        with _interrupts_held():
            _commit(staged, attempted)
    except OSError as error:
        raise RunError(f"{attempted[-1]}: cannot write ({_describe(error)}); previous outputs were left as they were") from None
    finally:
        for temp, _ in staged:
            if os.path.exists(temp):
                os.unlink(temp)


def _stage(target: Path, data: bytes, staged: list[tuple[str, Path]]) -> None:
    """Write data to a new temporary beside target, with the mode open() would give, and flush it to disk."""
    _refuse_special(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    staged.append((temp, target))
    with os.fdopen(handle, "wb") as stream:
        os.fchmod(stream.fileno(), _mode_for(target))  # mkstemp makes 0600; a plain open() honours the umask
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())


def _refuse_special(path: Path) -> None:
    """Never rename over a folder, FIFO or device, even one that appeared since the up-front check."""
    if os.path.lexists(path) and not path.is_file():
        raise RunError(f"{path}: is not a regular file, and augment never writes over one; previous outputs were left as they were")


def _commit(staged: list[tuple[str, Path]], attempted: list[Path]) -> None:
    """Rename every temporary into place; if one rename fails, put back the files already replaced, then raise."""
    replaced: list[tuple[bool, str | None, Path]] = []  # (target existed, hard link to its old file, target)
    try:
        for temp, target in staged:
            attempted.append(target)
            replaced.append((target.exists(), _keep_old(target), target))
            os.replace(temp, target)
    except OSError:
        for existed, old, target in replaced:
            if old:
                os.replace(old, target)
            elif not existed:
                target.unlink(missing_ok=True)  # new in this run: the folder goes back to how it was
        raise
    finally:
        for _, old, _ in replaced:
            if old and os.path.exists(old):
                os.unlink(old)


def _keep_old(target: Path) -> str | None:
    """Return a hard link to target's current file, to restore it if a later rename fails; None if there is none."""
    if not target.exists():
        return None
    old = f"{target.parent}/.{target.name}.{os.getpid()}-old.tmp"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(old)
    try:
        os.link(target, old)
    except OSError:
        return None  # a file system without hard links: this file alone cannot be put back, and is left as it is
    return old


def _mode_for(target: Path) -> int:
    """Return the mode open() would give: the existing file's, else 0666 less the umask."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        return 0o666 & ~current_umask()


def current_umask() -> int:
    """Return the process umask without changing it (read from /proc where it can be, since setting it races threads)."""
    with contextlib.suppress(OSError, ValueError, StopIteration):
        status = Path("/proc/self/status").read_text()
        return int(next(line for line in status.splitlines() if line.startswith("Umask:")).split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """Ignore Ctrl-C for the milliseconds the renames take, so an interrupt never leaves half the outputs new."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


# What to do about the errors a disk gives; the rest get the errno alone.
_FIXES = {
    errno.ENOSPC: "free disk space",
    errno.EDQUOT: "raise the disk quota or free space",
    errno.EFBIG: "raise the file-size limit (ulimit -f)",
    errno.EACCES: "check the folder's permissions and the files' owner",
    errno.EPERM: "check the folder's permissions and the files' owner",
    errno.EROFS: "the file system is read-only: pick another --out",
}


def _describe(error: OSError) -> str:
    name = errno.errorcode.get(error.errno or 0, str(error.errno))
    fix = _FIXES.get(error.errno or 0)
    return f"{name}: {error.strerror}" + (f"; {fix}" if fix else "")
