"""Scheduled runs: one writer at a time, kill -9 safe, manifest and structured logs."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from augment.dataset.lock import output_lock
from augment.run import main
from conftest import ROOT, SEEDS, write_csv

ROWS = [
    ["S1", "price", "Đà Lạt", "Giá vé thác Datanla bao nhiêu?", "Dạ, vé vào thác Datanla khoảng 50.000 đồng/người ạ."],
    ["S2", "address", "Đà Lạt", "Chợ Đà Lạt nằm ở đâu ạ?", "Dạ, chợ Đà Lạt nằm ở trung tâm, gần Hồ Xuân Hương ạ."],
]


def test_second_overlapping_run_refuses_with_exit_4(tmp_path, capsys):
    seeds = write_csv(tmp_path / "s.csv", ROWS)
    out = tmp_path / "o" / "fine_tune.jsonl"
    with output_lock(out):
        code = main(["--seeds", str(seeds), "--out", str(out), "--offline", "--quiet"])
    assert code == 4
    assert "another augment run is writing these outputs" in capsys.readouterr().err
    assert not out.exists()
    assert main(["--seeds", str(seeds), "--out", str(out), "--offline", "--quiet", "--n", "3"]) == 0


def test_kill_9_during_write_leaves_previous_output(tmp_path):
    seeds = write_csv(tmp_path / "s.csv", ROWS)
    out = tmp_path / "o" / "fine_tune.jsonl"
    assert main(["--seeds", str(seeds), "--out", str(out), "--offline", "--quiet", "--n", "3"]) == 0
    before = {p.name: p.read_bytes() for p in out.parent.iterdir() if not p.name.startswith(".")}
    # A child run that stalls right after writing its first temporary file, so the kill lands mid-write.
    script = (
        "import os, sys, time; import augment.dataset.export as e\n"
        "real = os.fsync\n"
        "def stall(fd):\n    real(fd); print('writing', flush=True); time.sleep(60)\n"
        "e.os.fsync = stall\n"
        "from augment.run import main\n"
        f"sys.exit(main(['--seeds', {str(seeds)!r}, '--out', {str(out)!r}, '--offline', '--quiet', '--n', '4']))\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert child.stdout.readline().strip() == "writing"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    after = {p.name: p.read_bytes() for p in out.parent.iterdir() if not p.name.startswith(".")}
    assert after == before
    assert list(out.parent.glob(".*.tmp"))  # the killed run's debris, cleaned by the next run
    assert main(["--seeds", str(seeds), "--out", str(out), "--offline", "--quiet", "--n", "4"]) == 0
    assert not list(out.parent.glob(".*.tmp"))
    assert len(out.read_text(encoding="utf-8").splitlines()) == 8


def test_manifest_records_inputs_flags_counts_and_status(tmp_path):
    seeds = write_csv(tmp_path / "s.csv", ROWS)
    out = tmp_path / "o" / "fine_tune.jsonl"
    assert main(["--seeds", str(seeds), "--out", str(out), "--offline", "--quiet", "--n", "3"]) == 0
    manifest = json.loads(out.with_name("fine_tune.manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["inputs"]) >= {"seeds", "prompts/system.txt", "data/facts.toml", "data/offline.toml"}
    assert manifest["flags"]["n"] == 3 and manifest["flags"]["offline"] is True
    assert manifest["counts"] == {"target": 6, "written": 6, "seeds": 2}
    assert manifest["exit_status"] == 0 and manifest["api_calls"] == 0
    assert manifest["duration_seconds"] >= 0


def test_log_file_gets_structured_lines(tmp_path):
    seeds = write_csv(tmp_path / "s.csv", ROWS)
    log_file = tmp_path / "logs" / "augment.jsonl"
    out = tmp_path / "o" / "fine_tune.jsonl"
    assert main(["--seeds", str(seeds), "--out", str(out), "--offline", "--quiet", "--log-file", str(log_file)]) == 0
    entries = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
    assert entries and all({"time", "level", "message"} <= set(e) for e in entries)
    assert any("wrote 20 of 20" in e["message"] for e in entries)


def test_kill_9_during_a_parallel_run_leaves_no_worker_behind(tmp_path):
    seeds = SEEDS  # four chunks of 25 seeds: both workers start
    out = tmp_path / "o" / "fine_tune.jsonl"
    # A child run that stalls once its worker processes are up, and says which they are.
    script = (
        "import sys, time; import augment.generators.prepare as p\n"
        "real = p.PreparedVariants._start\n"
        "def stall(self, *args):\n"
        "    real(self, *args); print(*self._executor._processes, flush=True); time.sleep(60)\n"
        "p.PreparedVariants._start = stall\n"
        "from augment.run import main\n"
        f"sys.exit(main(['--seeds', {str(seeds)!r}, '--out', {str(out)!r}, '--offline', '--quiet', '--workers', '2']))\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    workers = [int(pid) for pid in child.stdout.readline().split()]
    assert workers
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers)


def _alive(pid: int) -> bool:
    """Return True if the process exists and is not a zombie waiting for its parent."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(") ")[-1][:1] != "Z"
    except FileNotFoundError:
        return False
