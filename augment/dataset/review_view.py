"""The review page's content: a stratified sample of a run's lines, their marked texts, and the page around them."""

from __future__ import annotations

import difflib
import hashlib
import html
import itertools
import json
import random
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from augment.dataset.export import sibling
from augment.quality.corrections import MISCONCEPTION_CHECKS
from augment.quality.gates import CHECKS
from augment.records import Sample
from augment.text import amount_spans

DEFAULT_SIZE = 50
# What the sample is spread over: each line's value of every one of these is covered before any is repeated.
STRATA = ("intent", "register", "generator", "grounding")

# Flags of a run of characters in the page's texts (bits, so a changed figure is both).
CHANGED, FIGURE, LOOSE_FIGURE = 1, 2, 4

# A whole number ("1.045.000", "7:30"), a syllable (Vietnamese writes one per space-separated word) or one mark.
_TOKEN_RE = re.compile(r"\d+(?:[.,:]\d+)*|\w+|[^\w\s]")


@dataclass(frozen=True, slots=True)
class ReviewOptions:
    """What the page shows: its title, how many lines and which draw of them."""

    title: str
    size: int = DEFAULT_SIZE
    random_seed: int = 0


def review_path(out: Path) -> Path:
    """Return where a run's review page goes, e.g. outputs/fine_tune.review.html."""
    return sibling(out, "review.html")


def grounding_kind(sample: Sample) -> str:
    """Return the grounding kind as the page and the CSV name it: grounded, no-figure or none."""
    return sample.grounding or "none"


def dropped_by_seed(rejected: Iterable[tuple[str, str]]) -> dict[str, Counter]:
    """Count the dropped candidates of each seed by reason, from (seed id, reason) pairs."""
    counts: dict[str, Counter] = {}
    for seed_id, reason in rejected:
        counts.setdefault(seed_id, Counter())[reason] += 1
    return counts


def stratified_sample(samples: Sequence[Sample], size: int, random_seed: int) -> list[int]:
    """Return the indexes of size lines, every stratum value covered first, then each in proportion to the file."""
    if size >= len(samples):
        return list(range(len(samples)))
    rng = random.Random(f"{random_seed}:review")
    buckets: dict[tuple[str, ...], list[int]] = {}  # lines of equal strata, in file order
    for index, sample in enumerate(samples):
        buckets.setdefault(_strata(sample), []).append(index)
    rank = {key: rng.random() for key in sorted(buckets)}  # breaks ties at random, whatever the file order
    shares = [Counter() for _ in STRATA]
    for key, lines in buckets.items():
        for d, value in enumerate(key):
            shares[d][value] += len(lines)
    taken = [Counter() for _ in STRATA]
    picked: dict[tuple[str, ...], set[int]] = {key: set() for key in buckets}
    seeds_taken: set[str] = set()
    chosen = []
    for step in range(1, size + 1):
        open_keys = [key for key, lines in buckets.items() if len(picked[key]) < len(lines)]
        key = max(open_keys, key=lambda k: (*_need(k, taken, shares, step, len(samples)), rank[k]))
        index = _draw(buckets[key], picked[key], samples, seeds_taken, rng)
        chosen.append(index)
        seeds_taken.add(samples[index].seed.id)
        for d, value in enumerate(key):
            taken[d][value] += 1
    return sorted(chosen)


def _strata(sample: Sample) -> tuple[str, ...]:
    return sample.seed.intent, sample.register, sample.generator, grounding_kind(sample)


def _need(key: tuple[str, ...], taken: list[Counter], shares: list[Counter], step: int, total: int) -> tuple[int, float]:
    """Rank a bucket: first by how many of its values are not in the sample yet, then by how far they lag their share."""
    uncovered = sum(1 for d, value in enumerate(key) if not taken[d][value])
    lag = sum(shares[d][value] * step / total - taken[d][value] for d, value in enumerate(key))
    return uncovered, lag


_TRIES = 8  # random draws from a bucket before looking through all of it


def _draw(lines: list[int], picked: set[int], samples: Sequence[Sample], seeds_taken: set[str], rng: random.Random) -> int:
    """Draw a line of the bucket at random, of a seed not in the sample yet where there is one (so it spans many)."""
    for _ in range(_TRIES):
        position = rng.randrange(len(lines))
        if position not in picked and samples[lines[position]].seed.id not in seeds_taken:
            break
    else:  # a small bucket, or one whose seeds are all in already
        free = [p for p in range(len(lines)) if p not in picked]
        position = rng.choice([p for p in free if samples[lines[p]].seed.id not in seeds_taken] or free)
    picked.add(position)
    return lines[position]


def syllable_diff(before: str, after: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Return the character spans of before that after dropped or changed, and of after that are new, by syllable."""
    old, new = list(_TOKEN_RE.finditer(before)), list(_TOKEN_RE.finditer(after))
    matcher = difflib.SequenceMatcher(None, [m.group().casefold() for m in old], [m.group().casefold() for m in new], autojunk=False)
    removed, added = [], []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if i2 > i1:
            removed.append((old[i1].start(), old[i2 - 1].end()))
        if j2 > j1:
            added.append((new[j1].start(), new[j2 - 1].end()))
    return removed, added


def figure_spans(text: str, other: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Return the spans of text's figures whose value other also holds, and of those it does not."""
    values = {value for _, _, value in amount_spans(other)}
    shared, loose = [], []
    for start, end, value in amount_spans(text):
        (shared if value in values else loose).append((start, end))
    return shared, loose


def runs(text: str, marks: Mapping[int, Sequence[tuple[int, int]]]) -> list:
    """Cut text into runs of equal flags: a plain string where none is set, else [text, flags]."""
    flags = bytearray(len(text))
    for flag, spans in marks.items():
        for start, end in spans:
            for position in range(start, end):
                flags[position] |= flag
    pieces, position = [], 0
    for flag, group in itertools.groupby(flags):
        length = len(list(group))
        piece = text[position:position + length]
        pieces.append([piece, flag] if flag else piece)
        position += length
    return pieces


def gate_verdicts(sample: Sample) -> list[list[str]]:
    """Return [name, reason] for every quality gate of the line's kind, reason "" where the line passes it."""
    checks = MISCONCEPTION_CHECKS if sample.misconception else CHECKS
    return [[check.__name__.removeprefix("check_"), check(sample)] for check in checks]


def line_view(number: int, sample: Sample, dropped: Mapping[str, Counter] | None) -> dict:
    """Return everything the page shows about one line, texts already cut into marked runs."""
    seed = sample.seed
    seed_removed, user_added = syllable_diff(seed.question, sample.user)
    answer_removed, answer_added = syllable_diff(seed.answer, sample.assistant)
    view = {
        "line": number, "seed_id": seed.id, "intent": seed.intent, "place": seed.place, "generator": sample.generator,
        "method": sample.method, "register": sample.register, "fallback": sample.fallback, "grounding": grounding_kind(sample),
        "question": runs(seed.question, {CHANGED: seed_removed}),
        "seed_answer": runs(seed.answer, {CHANGED: answer_removed}),
        "user": runs(sample.user, {CHANGED: user_added}),
        "gates": gate_verdicts(sample),
        "dropped": _dropped_view(dropped, seed.id),
    }
    answer_marks = {CHANGED: answer_added}
    if sample.context:
        used, loose = figure_spans(sample.assistant, sample.context)
        answer_marks |= {FIGURE: used, LOOSE_FIGURE: loose}
        view["context"] = runs(sample.context, {FIGURE: figure_spans(sample.context, sample.assistant)[0]})
    view["answer"] = runs(sample.assistant, answer_marks)
    return view


def _dropped_view(dropped: Mapping[str, Counter] | None, seed_id: str) -> list | None:
    """Return [[reason, count], ...] for the seed's dropped siblings, most first; None when the rejected file is unknown."""
    if dropped is None:
        return None
    return [[reason, count] for reason, count in sorted(dropped.get(seed_id, Counter()).items(), key=lambda item: (-item[1], item[0]))]


def review_data(samples: Sequence[Sample], dropped: Mapping[str, Counter] | None, options: ReviewOptions) -> dict:
    """Return the page's data: the sampled lines' views, what they were drawn from, and the page's identity."""
    chosen = stratified_sample(samples, options.size, options.random_seed)
    lines = [line_view(index + 1, samples[index], dropped) for index in chosen]
    identity = hashlib.sha256(json.dumps([options.title, lines], ensure_ascii=False).encode("utf-8")).hexdigest()[:16]
    return {
        "id": identity, "title": options.title, "total": len(samples), "random_seed": options.random_seed,
        "csv_name": f"{Path(options.title).stem}.verdicts.csv", "lines": lines,
    }


def render_page(data: dict) -> str:
    """Fill the page template with the data: the title HTML-escaped, the data as JSON no markup can break out of."""
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # "<" never appears raw, so no "</script>" or "<!--" in the data can end the script element early.
    payload = payload.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    values = {"TITLE": html.escape(data["title"]), "DATA": payload}
    return re.sub(r"\{\{(TITLE|DATA)\}\}", lambda match: values[match.group(1)], _template())


@cache
def _template() -> str:
    return resources.files("augment.dataset").joinpath("review_page.html").read_text("utf-8")


def review_page(samples: Sequence[Sample], dropped: Mapping[str, Counter] | None, options: ReviewOptions) -> str:
    """Return the self-contained review page of a stratified sample of the lines."""
    return render_page(review_data(samples, dropped, options))
