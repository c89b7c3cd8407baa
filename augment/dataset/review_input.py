"""Read a written run back for the review page: its lines as samples, with their seeds and dropped siblings."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from augment.dataset.export import sibling
from augment.dataset.formats import DEFAULT_FORMAT, FORMATS, detect_format, read_turns
from augment.dataset.manifest import file_hash
from augment.dataset.review_view import dropped_by_seed
from augment.errors import InputError
from augment.knowledge.prompting import read_prompt
from augment.knowledge.seeds import load_seeds
from augment.knowledge.misconceptions import misconceptions
from augment.generators.misconceptions import misconception_seed
from augment.records import Sample, Seed

DEFAULT_SEEDS = Path("seeds/fine_tune.csv")
_SPLITS = ("train", "val")


@dataclass
class WrittenRun:
    """A run's lines as samples, its dropped candidates per seed (None without a rejected file), and warnings."""

    samples: list[Sample]
    dropped: dict[str, Counter] | None
    warnings: list[str] = field(default_factory=list)


def read_run(out: Path, seeds_path: Path | None = None) -> WrittenRun:
    """Read out (any format, a split too), its provenance, the seeds and the rejected file; InputError if unusable."""
    turns = _read_turns(out)
    metas = _read_jsonl(meta_path(out), f"the provenance file of {out}, written beside it by python -m augment.run")
    if len(metas) != len(turns):
        raise InputError(f"{out} has {len(turns)} lines but {meta_path(out)} has {len(metas)}; they come from different runs: rerun python -m augment.run")
    main = _strip(_strip(out, FORMATS), _SPLITS)
    warnings: list[str] = []
    seeds = _seeds(main, seeds_path, warnings)
    seeds = _own_seed_lines(turns, metas) | seeds  # the seed file wins; a seed's own line stands in without one
    samples = [_sample(out, number, turn, meta, seeds) for number, (turn, meta) in enumerate(zip(turns, metas), 1)]
    return WrittenRun(samples, _dropped(sibling(main, "rejected.jsonl"), warnings), warnings)


def meta_path(out: Path) -> Path:
    """Return the provenance file of a training file: fine_tune.gemini.jsonl and fine_tune.jsonl share one."""
    return sibling(_strip(out, FORMATS), "meta.jsonl")


def _strip(path: Path, suffixes) -> Path:
    """Drop a format or split suffix from a file name: fine_tune.gemini.jsonl -> fine_tune.jsonl."""
    stem, _, last = path.stem.rpartition(".")
    return path.with_name(f"{stem}{path.suffix}") if stem and last in suffixes and last != DEFAULT_FORMAT else path


def _read_jsonl(path: Path, what: str) -> list[dict]:
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: not found; it should be {what}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: unreadable ({error}); check it with python -m augment.validate") from None
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            record = None
        if not isinstance(record, dict):
            raise InputError(f"{path}:{number}: not a JSON object; check the file with python -m augment.validate")
        records.append(record)
    return records


def _read_turns(out: Path) -> list[tuple[str, str]]:
    """Return (user, answer) of every line of a training file in any of our formats."""
    pairs = []
    for number, record in enumerate(_read_jsonl(out, "a training file written by python -m augment.run"), 1):
        fmt = detect_format(record)
        try:
            turns = read_turns(record, fmt) if fmt else []
        except (KeyError, TypeError):
            turns = []
        texts = {role: text for role, text in turns if role in ("user", "assistant") and isinstance(text, str)}
        if len(texts) < 2:
            raise InputError(f"{out}:{number}: no user turn and answer in a known format; check it with python -m augment.validate {out}")
        pairs.append((texts["user"], texts["assistant"]))
    return pairs


def _seeds(main: Path, seeds_path: Path | None, warnings: list[str]) -> dict[str, Seed]:
    """Load the run's seed file (--seeds, else the manifest's, else seeds/fine_tune.csv); {} if there is none."""
    manifest = _manifest(main)
    path = seeds_path or Path(manifest.get("flags", {}).get("seeds") or DEFAULT_SEEDS)
    if not path.is_file():
        if seeds_path:
            raise InputError(f"{path}: seed file not found; pass --seeds PATH to the seed CSV the run used")
        warnings.append(f"seed file {path} not found; seed pairs are taken from the output's own seed lines (pass --seeds PATH)")
        return {}
    recorded = manifest.get("inputs", {}).get("seeds")
    if recorded and recorded != file_hash(path.read_bytes()):
        warnings.append(f"{path} changed since the run (its hash differs from the manifest's); seed pairs show today's file")
    return {seed.id: seed for seed in load_seeds(path)}


def _manifest(main: Path) -> dict:
    try:
        manifest = json.loads(sibling(main, "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _sample(out: Path, number: int, turn: tuple[str, str], meta: dict, seeds: dict[str, Seed]) -> Sample:
    user, answer = turn
    seed_id = str(meta.get("seed_id", ""))
    generator = str(meta.get("generator", ""))
    grounding = str(meta.get("grounding", ""))
    context, question = _split_grounded(user) if grounding else ("", user)
    misconception = str(meta.get("misconception", ""))
    seed = seeds.get(seed_id) or _misconception_seed(misconception)
    if seed is None:
        raise InputError(f"{out}:{number}: seed '{seed_id}' is not in the seed file; pass --seeds PATH to the seed CSV the run used")
    return Sample(
        seed, question, answer, generator, str(meta.get("method", "")), str(meta.get("register", "")),
        str(meta.get("fallback", "")), context, grounding, misconception,
    )


def _misconception_seed(key: str) -> Seed | None:
    """Return the synthetic seed of a misconception line (it is in no seed file), or None."""
    row = next((row for row in misconceptions() if row.key == key), None) if key else None
    return misconception_seed(row) if row else None


def _own_seed_lines(turns: list[tuple[str, str]], metas: list[dict]) -> dict[str, Seed]:
    """Return the seeds whose own pair is a line of the output (generator "seed"), read from those lines."""
    return {
        str(meta.get("seed_id", "")): Seed(str(meta.get("seed_id", "")), str(meta.get("intent", "")), str(meta.get("place", "")), user, answer)
        for (user, answer), meta in zip(turns, metas)
        if meta.get("generator") == "seed" and not meta.get("grounding")
    }


@cache
def _grounded_re() -> re.Pattern:
    """Return a pattern that takes a grounded user turn (prompts/grounded_user.txt) apart into context and question."""
    pieces = re.split(r"(\$context|\$question)", read_prompt("grounded_user"))
    parts = [f"(?P<{piece[1:]}>.*)" if piece in ("$context", "$question") else re.escape(piece) for piece in pieces]
    return re.compile("".join(parts), re.DOTALL)


def _split_grounded(user: str) -> tuple[str, str]:
    match = _grounded_re().fullmatch(user)
    return (match.group("context"), match.group("question")) if match else ("", user)


def _dropped(path: Path, warnings: list[str]) -> dict[str, Counter] | None:
    """Count the rejected file's candidates per seed and reason; None, with a warning, when it is missing."""
    if not path.is_file() and _nothing_dropped(path):
        return {}  # a run that rejects nothing writes no rejected file
    if not path.is_file():
        warnings.append(f"{path} not found; the page cannot say how many siblings of each seed were dropped")
        return None
    records = _read_jsonl(path, "the rejected candidates of the run")
    return dropped_by_seed((str(r.get("seed_id", "")), str(r.get("reason", ""))) for r in records)


def _nothing_dropped(rejected: Path) -> bool:
    """Tell whether the run's report (beside the rejected file's path) says that nothing was dropped."""
    report = rejected.with_name(rejected.name.replace(".rejected.jsonl", ".report.json"))
    try:
        return json.loads(report.read_text("utf-8")).get("dropped") == {}
    except (OSError, ValueError, AttributeError):
        return False
