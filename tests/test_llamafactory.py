"""dataset_info.json: LLaMA-Factory reads the messages and ShareGPT files through it, relative to its folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from datasets import load_dataset

from augment.dataset.llamafactory import DATASET_INFO
from augment.run import main
from seed_rows import small_seeds

# LLaMA-Factory's defaults for a dataset_info entry (its data/README.md, DatasetAttr): what an entry leaves out.
_DEFAULTS = {
    "formatting": "alpaca", "messages": "conversations", "system": None, "role_tag": "from", "content_tag": "value",
    "user_tag": "human", "assistant_tag": "gpt", "system_tag": "system",
}


def _run(folder: Path, *flags: str) -> Path:
    out = folder / "out" / "fine_tune.jsonl"
    seeds = small_seeds(folder / "seeds.csv")
    assert main(["--seeds", str(seeds), "--out", str(out), "--offline", "--quiet", "--n", "3", *flags]) == 0
    return out


def _read_as_llamafactory(folder: Path, name: str, cache: Path) -> list[tuple[str, str, str]]:
    """Read one registered dataset the way LLaMA-Factory's sharegpt reader does; return (system, user, answer) rows."""
    entry = json.loads((folder / DATASET_INFO).read_text(encoding="utf-8"))[name]
    attr = _DEFAULTS | {"formatting": entry.get("formatting", "alpaca")} | entry.get("columns", {}) | entry.get("tags", {})
    assert attr["formatting"] == "sharegpt"
    rows = load_dataset("json", data_files=str(folder / entry["file_name"]), split="train", cache_dir=str(cache))
    read = []
    for example in rows:
        messages = example[attr["messages"]]
        if messages and messages[0][attr["role_tag"]] == attr["system_tag"]:
            system, messages = messages[0][attr["content_tag"]], messages[1:]
        else:
            system = example[attr["system"]] if attr["system"] else ""
        roles = [message[attr["role_tag"]] for message in messages]
        assert roles == [attr["user_tag"], attr["assistant_tag"]], roles  # odd turns user, even turns assistant
        read.append((system, *(message[attr["content_tag"]] for message in messages)))
    return read


def _chats(path: Path) -> list[tuple[str, str, str]]:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [tuple(message["content"] for message in record["messages"]) for record in records]


@pytest.fixture(scope="module")
def split_out(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("lf"), "--format", "openai,gemini,sharegpt", "--val-ratio", "0.2")


def test_registry_names_every_readable_file_relative_to_its_folder(split_out):
    info = json.loads((split_out.parent / DATASET_INFO).read_text(encoding="utf-8"))
    assert set(info) == {
        "fine_tune", "fine_tune.sharegpt", "fine_tune.train", "fine_tune.train.sharegpt", "fine_tune.val", "fine_tune.val.sharegpt",
    }  # no Gemini entry: LLaMA-Factory has no reader for it
    for name, entry in info.items():
        assert entry["file_name"] == f"{name}.jsonl" and (split_out.parent / entry["file_name"]).is_file()
    assert info["fine_tune.sharegpt"]["columns"] == {"messages": "conversations", "system": "system"}
    assert info["fine_tune"]["tags"]["role_tag"] == "role" and info["fine_tune"]["columns"] == {"messages": "messages"}


@pytest.mark.parametrize("suffix", ["", ".train", ".val"])
def test_both_files_read_through_the_registry_give_the_written_chats(split_out, suffix, tmp_path):
    folder = split_out.parent
    expected = _chats(folder / f"fine_tune{suffix}.jsonl")
    assert _read_as_llamafactory(folder, f"fine_tune{suffix}", tmp_path / "a") == expected
    assert _read_as_llamafactory(folder, f"fine_tune{suffix}.sharegpt", tmp_path / "b") == expected


def test_other_datasets_in_the_registry_are_kept_and_old_entries_of_ours_dropped(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    mine = {"file_name": "my_data.json", "formatting": "alpaca"}
    (folder / DATASET_INFO).write_text(json.dumps({"my_data": mine}), encoding="utf-8")
    _run(tmp_path, "--val-ratio", "0.2")
    assert set(json.loads((folder / DATASET_INFO).read_text(encoding="utf-8"))) == {"my_data", "fine_tune", "fine_tune.train", "fine_tune.val"}
    _run(tmp_path)  # no split now: the split's entries go, the user's stays
    info = json.loads((folder / DATASET_INFO).read_text(encoding="utf-8"))
    assert info == {"my_data": mine, "fine_tune": info["fine_tune"]}


def test_a_broken_registry_stops_the_run_before_anything_is_written(tmp_path, capsys):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / DATASET_INFO).write_text("{not json", encoding="utf-8")
    seeds = small_seeds(tmp_path / "seeds.csv")
    assert main(["--seeds", str(seeds), "--out", str(folder / "fine_tune.jsonl"), "--offline", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and DATASET_INFO in err[0] and "not valid JSON" in err[0]
    assert sorted(path.name for path in folder.iterdir() if not path.name.startswith(".")) == [DATASET_INFO]
