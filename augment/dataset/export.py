"""Write outputs atomically: the chat JSONL, its provenance, the report and the rejected samples."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

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
        for stale in path.parent.glob(f".{path.name}.*.tmp"):
            stale.unlink(missing_ok=True)


def write_atomically(files: dict[Path, str | bytes]) -> None:
    """Write every file (text as UTF-8, bytes as they are) to a temporary sibling, then rename them all into place."""
    remove_stale_temporaries(files)
    staged = []
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            staged.append((temp, path))
            data = text if isinstance(text, bytes) else text.encode("utf-8")
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
        for temp, path in staged:
            os.replace(temp, path)
    finally:
        for temp, _ in staged:
            if os.path.exists(temp):
                os.unlink(temp)
