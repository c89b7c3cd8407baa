"""Export: chat records and atomic writes."""

from __future__ import annotations

import errno
import json
import os
import stat

import pytest

from augment.dataset import export
from augment.errors import RunError
from augment.records import Sample, Seed


def test_chat_record_has_only_messages():
    seed = Seed("S1", "price", "Đà Lạt", "q", "a")
    record = export.chat_record(Sample(seed, "Giá vé?", "Dạ, 50.000 đồng ạ.", "offline", "m"), "SYS")
    assert record == {"messages": [
        {"role": "system", "content": "SYS"},
        {"role": "user", "content": "Giá vé?"},
        {"role": "assistant", "content": "Dạ, 50.000 đồng ạ."},
    ]}
    line = export.jsonl([record])
    assert line.count("\n") == 1 and json.loads(line) == record and "Dạ" in line


def test_sibling_shares_the_stem(tmp_path):
    assert export.sibling(tmp_path / "fine_tune.jsonl", "meta.jsonl").name == "fine_tune.meta.jsonl"


def _yesterday(folder):
    """Write yesterday's three outputs and return {path: bytes}."""
    files = {folder / name: f"old {name}\n".encode() for name in ("a.jsonl", "b.jsonl", "c.json")}
    for path, data in files.items():
        path.write_bytes(data)
    return files


def _assert_untouched(folder, old):
    assert {path: path.read_bytes() for path in old} == old
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in old)  # no temporaries, nothing new


def _new(old):
    folder = next(iter(old)).parent
    return {path: f"new {path.name}\n" for path in old} | {folder / "d.jsonl": "new d\n"}


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EIO])
@pytest.mark.parametrize("failing_call", [1, 2, 4])
def test_a_full_disk_mid_write_leaves_yesterdays_files(tmp_path, monkeypatch, code, failing_call):
    old = _yesterday(tmp_path)
    calls = []
    real_fsync = export.os.fsync

    def fsync(fd):
        calls.append(fd)
        if len(calls) == failing_call:
            raise OSError(code, os.strerror(code))
        real_fsync(fd)

    monkeypatch.setattr(export.os, "fsync", fsync)
    with pytest.raises(RunError) as error:
        export.write_atomically(_new(old))
    message = str(error.value)
    assert errno.errorcode[code] in message and "previous outputs were left as they were" in message
    assert message.startswith(str(list(_new(old))[failing_call - 1]) + ": ") and "\n" not in message
    _assert_untouched(tmp_path, old)


def test_a_refused_temporary_names_the_path_and_eacces(tmp_path, monkeypatch):
    old = _yesterday(tmp_path)
    real_mkstemp = export.tempfile.mkstemp

    def mkstemp(**kwargs):
        if kwargs["prefix"].startswith(".c.json"):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_mkstemp(**kwargs)

    monkeypatch.setattr(export.tempfile, "mkstemp", mkstemp)
    with pytest.raises(RunError, match=r"c\.json: cannot write \(EACCES: Permission denied; check the folder's permissions"):
        export.write_atomically(_new(old))
    _assert_untouched(tmp_path, old)


@pytest.mark.parametrize("failing", ["b.jsonl", "d.jsonl"])
def test_a_failed_rename_puts_back_the_files_already_replaced(tmp_path, monkeypatch, failing):
    old = _yesterday(tmp_path)
    real_replace = export.os.replace

    def replace(src, dst):
        if str(dst).endswith(failing) and ".tmp" in str(src) and "-old" not in str(src):
            raise OSError(errno.EIO, "Input/output error")
        real_replace(src, dst)

    monkeypatch.setattr(export.os, "replace", replace)
    with pytest.raises(RunError, match=f"{failing}: cannot write \\(EIO"):
        export.write_atomically(_new(old))
    _assert_untouched(tmp_path, old)


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664), (0o077, 0o600)])
def test_new_files_get_the_mode_open_would_give(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        export.write_atomically({tmp_path / "a.jsonl": "x\n", tmp_path / "sub" / "b.png": b"\x89PNG"})
        with open(tmp_path / "plain", "w"):
            pass
        assert export.current_umask() == umask
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "a.jsonl").stat().st_mode) == mode
    assert stat.S_IMODE((tmp_path / "sub" / "b.png").stat().st_mode) == mode
    assert stat.S_IMODE((tmp_path / "plain").stat().st_mode) == mode


def test_a_replaced_file_keeps_its_mode(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text("old\n")
    path.chmod(0o640)
    export.write_atomically({path: "new\n"})
    assert path.read_text() == "new\n" and stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_symlink_to_a_file_is_written_at_its_target(tmp_path):
    target = tmp_path / "real" / "data.jsonl"
    target.parent.mkdir()
    target.write_text("old\n")
    link = tmp_path / "fine_tune.jsonl"
    link.symlink_to(target)
    export.write_atomically({link: "new\n"})
    assert link.is_symlink() and target.read_text() == "new\n"


def test_a_fifo_that_appeared_since_the_check_is_never_replaced(tmp_path):
    old = _yesterday(tmp_path)
    fifo = tmp_path / "d.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(RunError, match="d.jsonl: is not a regular file"):
        export.write_atomically(_new(old))
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert {path: path.read_bytes() for path in old} == old


def test_interrupted_write_of_a_stale_temporary_is_cleaned(tmp_path):
    stale = tmp_path / ".a.jsonl.x1y2.tmp"
    stale.write_text("half")
    export.write_atomically({tmp_path / "a.jsonl": "x\n"})
    assert not stale.exists()


def test_write_atomically_creates_folders(tmp_path):
    target = tmp_path / "x" / "y" / "f.jsonl"
    export.write_atomically({target: "line\n"})
    assert target.read_text() == "line\n"


def test_without_hard_links_a_failed_rename_never_deletes_an_old_file(tmp_path, monkeypatch):
    old = _yesterday(tmp_path)
    real_replace = export.os.replace

    def replace(src, dst):
        if str(dst).endswith("c.json"):
            raise OSError(errno.EIO, "Input/output error")
        real_replace(src, dst)

    def no_links(src, dst):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(export.os, "replace", replace)
    monkeypatch.setattr(export.os, "link", no_links)
    with pytest.raises(RunError, match=r"c\.json: cannot write \(EIO"):
        export.write_atomically(_new(old))
    assert all(path.exists() for path in old)  # a.jsonl and b.jsonl are new (no link to restore them), none is gone
    assert (tmp_path / "c.json").read_bytes() == old[tmp_path / "c.json"]
    assert not (tmp_path / "d.jsonl").exists() and not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
