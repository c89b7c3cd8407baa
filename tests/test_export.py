"""Export: chat records and atomic writes."""

from __future__ import annotations

import json

import pytest

from augment.dataset import export
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


def test_write_atomically_leaves_old_files_when_a_write_fails(tmp_path, monkeypatch):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text("old a\n")
    second.write_text("old b\n")
    real_replace = export.os.replace

    def fail_on_second(src, dst):
        if str(dst).endswith("b.jsonl"):
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(export.os, "replace", fail_on_second)
    with pytest.raises(OSError):
        export.write_atomically({second: "new b\n", first: "new a\n"})
    assert second.read_text() == "old b\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_write_atomically_creates_folders(tmp_path):
    target = tmp_path / "x" / "y" / "f.jsonl"
    export.write_atomically({target: "line\n"})
    assert target.read_text() == "line\n"
