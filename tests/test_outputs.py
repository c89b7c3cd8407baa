"""Output safety: bad paths refused before any work, all-or-nothing writes, modes, disk failures and Ctrl-C."""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from augment.dataset import export, outputs
from augment.dataset.outputs import run_paths
from augment.run import main
from conftest import ROOT, seed_file

FLAGS = ("--offline", "--quiet", "--n", "3")


@pytest.fixture
def small_seeds(tmp_path, ten_seeds):
    return seed_file(tmp_path / "seeds.csv", ten_seeds)


def run(seeds: Path, out: Path, *flags: str) -> int:
    return main(["--seeds", str(seeds), "--out", str(out), *FLAGS, *flags])


def snapshot(folder: Path) -> dict[str, bytes | str]:
    """Return every entry under folder: file bytes, or the kind of a non-file."""
    found: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        name = str(path.relative_to(folder))
        if stat.S_ISLNK(info.st_mode):
            found[name] = f"link -> {os.readlink(path)}"
        elif stat.S_ISREG(info.st_mode):
            found[name] = path.read_bytes()
        else:
            found[name] = stat.filemode(info.st_mode)[0]
    return found


def one_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0]
    return lines[0]


def _folder(base: Path) -> Path:
    (base / "fine_tune.jsonl").mkdir()
    return base / "fine_tune.jsonl"


def _fifo(base: Path) -> Path:
    os.mkfifo(base / "fine_tune.jsonl")
    return base / "fine_tune.jsonl"


def _link_to_fifo(base: Path) -> Path:
    os.mkfifo(base / "pipe")
    (base / "fine_tune.jsonl").symlink_to(base / "pipe")
    return base / "fine_tune.jsonl"


def _link_to_folder(base: Path) -> Path:
    (base / "real").mkdir()
    (base / "fine_tune.jsonl").symlink_to(base / "real")
    return base / "fine_tune.jsonl"


def _dangling_link(base: Path) -> Path:
    (base / "fine_tune.jsonl").symlink_to(base / "nowhere.jsonl")
    return base / "fine_tune.jsonl"


def _file_as_parent(base: Path) -> Path:
    (base / "plain.txt").write_text("not a folder\n")
    return base / "plain.txt" / "deeper" / "fine_tune.jsonl"


def _sibling_is_folder(base: Path) -> Path:
    (base / "fine_tune.meta.jsonl").mkdir()
    return base / "fine_tune.jsonl"


def _card_is_fifo(base: Path) -> Path:
    os.mkfifo(base / "README.md")  # reading it to check the card's mark would block forever
    return base / "fine_tune.jsonl"


def _plot_links_to_fifo(base: Path) -> Path:
    os.mkfifo(base / "pipe")
    (base / "fine_tune.lengths.png").symlink_to(base / "pipe")
    return base / "fine_tune.jsonl"


def _link_to_a_descriptor(base: Path) -> Path:
    # As /dev/stdout is: only the link's text is read (fd 999999 is not open), so nothing under /proc is touched.
    (base / "fine_tune.jsonl").symlink_to("/proc/self/fd/999999")
    return base / "fine_tune.jsonl"


def _chain_to_a_descriptor(base: Path) -> Path:
    (base / "stdout").symlink_to("/dev/fd/999999")
    (base / "fine_tune.jsonl").symlink_to(base / "stdout")
    return base / "fine_tune.jsonl"


def _lock_is_fifo(base: Path) -> Path:
    os.mkfifo(base / ".fine_tune.lock")
    return base / "fine_tune.jsonl"


@pytest.mark.parametrize(
    "make, expected",
    [
        (_folder, "--out is a folder, which augment never writes over; point --out at a file in it"),
        (_fifo, "--out is a FIFO, which augment never writes over"),
        (_link_to_fifo, "--out is a symlink to a FIFO"),
        (_link_to_folder, "--out is a symlink to a folder"),
        (_dangling_link, "--out is a symlink that leads nowhere"),
        (_file_as_parent, "plain.txt is not a folder"),
        (_sibling_is_folder, "fine_tune.meta.jsonl: this file (written beside --out) is a folder, which augment never writes over; remove it or choose another --out"),
        (_card_is_fifo, "README.md: this file (written beside --out) is a FIFO"),
        (_plot_links_to_fifo, "fine_tune.lengths.png: this file (written beside --out) is a symlink to a FIFO"),
        (_lock_is_fifo, ".fine_tune.lock: this file (written beside --out) is a FIFO"),
        (_link_to_a_descriptor, "--out is a link to an open file descriptor (like /dev/stdout)"),
        (_chain_to_a_descriptor, "--out is a link to an open file descriptor"),
    ],
)
def test_bad_out_is_refused_before_any_work_and_nothing_is_written(tmp_path, small_seeds, capsys, monkeypatch, make, expected):
    base = tmp_path / "outputs"
    base.mkdir()
    out = make(base)
    before = snapshot(tmp_path)
    monkeypatch.setattr("augment.run.load_seeds", lambda path: pytest.fail("work started before the paths were checked"))
    assert run(small_seeds, out) == 2
    assert expected in one_line(capsys)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("code", [errno.EACCES, errno.EROFS, errno.ENOENT])
def test_a_folder_that_refuses_new_files_is_refused_up_front(tmp_path, small_seeds, capsys, monkeypatch, code):
    # Tests run as root, for whom permission bits do not stop a write: the refusal is simulated where it happens.
    def mkstemp(**kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(outputs.tempfile, "mkstemp", mkstemp)
    out = tmp_path / "not" / "yet" / "fine_tune.jsonl"
    assert run(small_seeds, out) == 2
    line = one_line(capsys)
    assert str(out) in line and f"creating a file in {tmp_path} fails ({errno.errorcode[code]}" in line
    assert not (tmp_path / "not").exists()


@pytest.mark.parametrize("make, expected", [(_folder, "--log-file is a folder"), (_fifo, "--log-file is a FIFO"), (_file_as_parent, "is not a folder")])
def test_bad_log_file_is_refused_in_one_line(tmp_path, small_seeds, capsys, make, expected):
    base = tmp_path / "logs"
    base.mkdir()
    log_file = make(base)
    before = snapshot(tmp_path)
    assert run(small_seeds, tmp_path / "out" / "fine_tune.jsonl", "--log-file", str(log_file)) == 2
    assert expected in one_line(capsys)
    assert snapshot(tmp_path) == before


def test_log_file_that_cannot_be_opened_is_refused(tmp_path, small_seeds, capsys, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr("augment.logs.logging.FileHandler", refuse)
    assert run(small_seeds, tmp_path / "out" / "f.jsonl", "--log-file", str(tmp_path / "run.log")) == 2
    assert "--log-file cannot be opened for appending (Permission denied)" in one_line(capsys)
    assert not (tmp_path / "out").exists()


def test_run_paths_names_every_file_a_run_writes(tmp_path, small_seeds):
    out = tmp_path / "o" / "fine_tune.jsonl"
    flags = ("--format", "openai,gemini,sharegpt", "--val-ratio", "0.2")
    assert run(small_seeds, out, *flags) == 0
    written = {path.name for path in out.parent.iterdir()}
    predicted = {path.name for path in run_paths(out, ("openai", "gemini", "sharegpt"), 0.2)}
    assert written <= predicted and len(written) >= 14
    assert predicted - written <= {"fine_tune.batch.json", "fine_tune.rejected.jsonl"}  # no job pending; rejected only when something was
    assert run_paths(out, ("gemini",), 0)[0] == out  # --out is checked even when only another format is written


def test_outputs_get_the_umask_mode_and_a_symlinked_out_is_written_through(tmp_path, small_seeds):
    real = tmp_path / "real.jsonl"
    real.write_text("yesterday\n")
    out = tmp_path / "o" / "fine_tune.jsonl"
    out.parent.mkdir()
    out.symlink_to(real)
    previous = os.umask(0o022)
    try:
        assert run(small_seeds, out) == 0
    finally:
        os.umask(previous)
    assert out.is_symlink() and len(real.read_text().splitlines()) == 30
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in out.parent.iterdir() if not path.is_symlink()}
    assert modes and set(modes.values()) == {0o644}, modes


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES, errno.EFBIG])
def test_a_disk_failure_while_writing_keeps_yesterdays_files(tmp_path, small_seeds, capsys, monkeypatch, code):
    out = tmp_path / "o" / "fine_tune.jsonl"
    assert run(small_seeds, out) == 0
    yesterday = snapshot(out.parent)
    real_write = export.os.fsync
    calls = []

    def fsync(fd):
        calls.append(fd)
        if len(calls) == 5:  # mid-run: some files of the new run are already written to temporaries
            raise OSError(code, os.strerror(code))
        real_write(fd)

    monkeypatch.setattr(export.os, "fsync", fsync)
    capsys.readouterr()
    assert run(small_seeds, out, "--seed", "7") == 1
    line = one_line(capsys)
    assert f"cannot write ({errno.errorcode[code]}: {os.strerror(code)}" in line and line.startswith(f"augment: {out.parent}")
    assert snapshot(out.parent) == yesterday


def test_ctrl_c_mid_run_exits_130_in_one_line_and_leaves_outputs(tmp_path, small_seeds, capsys, monkeypatch):
    out = tmp_path / "o" / "fine_tune.jsonl"
    assert run(small_seeds, out) == 0
    yesterday = snapshot(out.parent)

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("augment.run.ground", interrupt)
    capsys.readouterr()
    assert run(small_seeds, out, "--seed", "7") == 130
    assert "interrupted (Ctrl-C)" in one_line(capsys)
    assert snapshot(out.parent) == yesterday


def test_sigint_to_a_real_run_with_workers_ends_in_one_line(tmp_path, seeds):
    """A terminal's Ctrl-C reaches the whole process group, worker processes included."""
    path = seed_file(tmp_path / "seeds.csv", [replace(seed, id=f"{seed.id}-{copy}") for copy in range(3) for seed in seeds])
    out = tmp_path / "o" / "fine_tune.jsonl"
    command = [sys.executable, "-m", "augment.run", "--offline", "--workers", "2", "--seeds", str(path), "--out", str(out)]
    process = subprocess.Popen(command, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.PIPE, text=True, start_new_session=True)
    first = process.stderr.readline()  # the mode line: the pipeline is starting
    assert "offline mode" in first
    time.sleep(0.3)
    os.killpg(process.pid, signal.SIGINT)
    rest = process.stderr.read()
    assert process.wait(timeout=30) == 130
    lines = [line for line in rest.splitlines() if "augment:" in line or "Traceback" in line or "Error" in line]
    assert lines == ["augment: interrupted (Ctrl-C); stopped without writing: previous outputs were left as they were"]
    assert not out.exists()


def test_an_unexpected_os_error_is_one_line_and_exit_1(tmp_path, small_seeds, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError(errno.EIO, "Input/output error", str(tmp_path / "somewhere"))

    monkeypatch.setattr("augment.run.build_manifest", broken)
    assert run(small_seeds, tmp_path / "o" / "fine_tune.jsonl") == 1
    assert "somewhere: EIO: Input/output error" in one_line(capsys)
    assert not (tmp_path / "o" / "fine_tune.jsonl").exists()


def test_another_users_file_in_a_sticky_folder_is_refused(tmp_path, small_seeds, capsys, monkeypatch):
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o1777)
    (folder / "fine_tune.jsonl").write_text("theirs\n")
    monkeypatch.setattr(outputs.os, "geteuid", lambda: 4242)  # we are not root, and own neither file nor folder
    before = snapshot(tmp_path)
    assert run(small_seeds, folder / "fine_tune.jsonl") == 2
    assert "belongs to another user in a sticky folder" in one_line(capsys)
    assert snapshot(tmp_path) == before


def test_a_lock_file_that_cannot_be_created_is_one_line_and_exit_1(tmp_path, small_seeds, capsys, monkeypatch):
    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("augment.dataset.lock.FileLock.acquire", full)
    assert run(small_seeds, tmp_path / "o" / "fine_tune.jsonl") == 1
    assert ".fine_tune.lock: cannot create the lock file (ENOSPC" in one_line(capsys)


def test_sigint_to_a_gemini_run_ends_in_one_line(tmp_path):
    """The client's event loop runs on its own thread: Ctrl-C still stops the run at once, in one line."""
    from fake_gemini import FakeGemini

    out = tmp_path / "o" / "fine_tune.jsonl"
    with FakeGemini(latency=1.0) as server:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "GEMINI_API_KEY": "test-key", "GOOGLE_GEMINI_BASE_URL": server.base_url}
        command = [sys.executable, "-m", "augment.run", "--seeds", str(ROOT / "seeds" / "fine_tune.csv"), "--out", str(out), "--cache", str(tmp_path / "c.sqlite")]
        process = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True)
        assert "gemini mode" in process.stderr.readline()
        time.sleep(1.5)  # requests in flight
        os.killpg(process.pid, signal.SIGINT)
        rest = process.stderr.read()
        assert process.wait(timeout=30) == 130
    lines = [line for line in rest.splitlines() if "augment:" in line or "Traceback" in line or "Error" in line]
    assert lines == ["augment: interrupted (Ctrl-C); stopped without writing: previous outputs were left as they were"]
    assert not out.exists()


def test_each_file_in_a_sticky_folder_is_checked_not_only_the_first(tmp_path, small_seeds, capsys, monkeypatch):
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o1777)
    (folder / "fine_tune.report.json").write_text("{}\n")
    os.chown(folder / "fine_tune.report.json", 4343, 4343)
    monkeypatch.setattr(outputs.os, "geteuid", lambda: 4242)
    assert run(small_seeds, folder / "fine_tune.jsonl") == 2
    assert "fine_tune.report.json: this file (written beside --out) belongs to another user" in one_line(capsys)


@pytest.mark.parametrize("where", ["out", "sibling", "log", "cache"])
def test_an_output_that_is_an_input_is_refused(tmp_path, small_seeds, capsys, where):
    cache = tmp_path / "cache.sqlite"
    cache.write_bytes(b"SQLite format 3\x00")
    before = snapshot(tmp_path)
    out, extra = tmp_path / "o" / "fine_tune.jsonl", []
    if where == "out":
        out = small_seeds
    elif where == "sibling":
        out = small_seeds.with_name("seeds.jsonl")  # its report would be seeds.report.json; its card README.md
        (tmp_path / "seeds.meta.jsonl").symlink_to(small_seeds)
        before = snapshot(tmp_path)
    elif where == "log":
        extra = ["--log-file", str(small_seeds)]
    else:
        out = cache
    assert run(small_seeds, out, "--cache", str(cache), *extra) == 2
    line = one_line(capsys)
    assert "which a run reads and never writes over" in line and ("--seeds" in line or "--cache" in line)
    assert snapshot(tmp_path) == before
