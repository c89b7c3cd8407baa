"""Register the data files with LLaMA-Factory: dataset_info.json beside them, with file names relative to it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from augment.errors import InputError

DATASET_INFO = "dataset_info.json"

# How LLaMA-Factory reads each format (its data/README.md): both are its "sharegpt" formatting; the OpenAI file under
# its own column and tag names. The Gemini file has no LLaMA-Factory reading, so it gets no entry.
_ENTRIES = {
    "openai": {
        "formatting": "sharegpt",
        "columns": {"messages": "messages"},
        "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant", "system_tag": "system"},
    },
    "sharegpt": {
        "formatting": "sharegpt",
        "columns": {"messages": "conversations", "system": "system"},
    },
}


def info_path(out: Path) -> Path:
    """Return where the registry goes: dataset_info.json in the output folder (LLaMA-Factory's dataset_dir)."""
    return out.parent / DATASET_INFO


def entry_name(path: Path) -> str:
    """Return a data file's dataset name in the registry: its file name without .jsonl, e.g. fine_tune.sharegpt."""
    return path.name.removesuffix(".jsonl")


def entries(files: Iterable[tuple[Path, str]]) -> dict[str, dict]:
    """Return the registry entries of the (data file, format) pairs LLaMA-Factory can read, in the order given."""
    return {
        entry_name(path): {"file_name": path.name, **_ENTRIES[fmt]}
        for path, fmt in files if fmt in _ENTRIES
    }


def read_registry(out: Path) -> dict:
    """Return the dataset_info.json already in the output folder ({} if none); refuse one that is not a JSON object."""
    path = info_path(out)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path} cannot be read ({error}); fix or remove it, or pick another --out folder") from None
    try:
        registry = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{path} is not valid JSON ({error.msg} at line {error.lineno}); fix or remove it, or pick another --out folder") from None
    if not isinstance(registry, dict):
        raise InputError(f"{path} is not a JSON object of dataset entries; fix or remove it, or pick another --out folder")
    return registry


def registry_text(out: Path, files: Iterable[tuple[Path, str]]) -> str:
    """Return dataset_info.json: other datasets' entries kept, this output's replaced by this run's files."""
    ours = entries(files)
    kept = {name: entry for name, entry in read_registry(out).items() if not _is_ours(out, entry) and name not in ours}
    return json.dumps(kept | ours, ensure_ascii=False, indent=2) + "\n"


def _is_ours(out: Path, entry: object) -> bool:
    """Return whether an entry points at a file of this output (same stem), e.g. a split an earlier run wrote."""
    name = entry.get("file_name") if isinstance(entry, dict) else None
    return isinstance(name, str) and (name == out.name or name.startswith(f"{out.stem}."))
