"""Misconception samples: a user turn built on a false foundational premise, an answer that corrects it first."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain, zip_longest

from augment.generators.base import Generator
from augment.knowledge.misconceptions import Misconception, closers, kind_table, misconceptions
from augment.records import Sample, Seed
from augment.text import nfc, strip_diacritics

REGISTERS = ("polite", "deferential", "casual", "teencode", "terse", "nodiacritics")
_LOWERCASE = ("teencode", "terse", "nodiacritics")
Check = Callable[[Sample], str]


def misconception_seed(row: Misconception) -> Seed:
    """Return the synthetic seed a misconception's samples hang on: its first question and a full correct answer."""
    table = kind_table(row.kind)
    question = row.fill(table["polite"][0])
    answer = " ".join([row.fill(table["correction"][0]), row.needs[0], closers()[0]])
    return Seed(f"M-{row.key}", table["intent"], row.place, nfc(question), nfc(answer), misconception=row.key)


def misconception_sample(row: Misconception, register: str, rng: random.Random) -> Sample:
    """Return one sample of a misconception in one register, its wording drawn with rng."""
    table = kind_table(row.kind)
    user = row.fill(rng.choice(table["casual" if register == "nodiacritics" else register]))
    if register in _LOWERCASE:  # typed all in lower case, names too, as the offline generator's same registers
        user = user.lower()
    if register == "nodiacritics":
        user = strip_diacritics(user)
    answer = " ".join([row.fill(rng.choice(table["correction"])), rng.choice(row.needs), rng.choice(closers())])
    return Sample(
        misconception_seed(row), nfc(user), nfc(answer), "offline", "misconception", register, misconception=row.key
    )


def primary_misconceptions(generator: Generator, share: float, lines: int, random_seed: int) -> list[Sample]:
    """Ask the primary generator (Gemini) for rewrites of every misconception's synthetic seed; return them tagged.

    The rewrites are only candidates: add_misconceptions keeps one when the correction gates back it, and fills
    what they refuse, or what a failed call never gave, from the offline templates.
    """
    seeds, per_row = misconception_requests(share, lines, random_seed)
    if not seeds:
        return []
    by_row = {generation.seed.misconception: generation.samples for generation in generator.generate(seeds, per_row)}
    # Round-robin over the rows, so the first candidates taken spread over destinations and kinds.
    spread = zip_longest(*(by_row.get(seed.misconception, []) for seed in seeds))
    return [sample for turn in spread for sample in turn if sample is not None and sample.misconception]


def misconception_requests(share: float, lines: int, random_seed: int) -> tuple[list[Seed], int]:
    """Return the synthetic seeds a run asks the primary generator to rewrite, and how many rewrites of each."""
    wanted = round(share * lines)
    if wanted <= 0:
        return [], 0
    rows = list(misconceptions())
    random.Random(f"misconception-rows-{random_seed}").shuffle(rows)  # nights differ in which rows go first
    rows = rows[: min(len(rows), wanted + 1)]  # a call per row asked: a small share asks few rows
    per_row = -(-wanted // len(rows)) + 1  # one spare per row: the gates refuse some rewrites
    return [misconception_seed(row) for row in rows], per_row


def _candidates(count: int, rng: random.Random) -> Iterator[Sample]:
    """Yield samples spread over the table: every row in turn, each time in the next register."""
    rows = misconceptions()
    for index in range(count * 4):  # a bounded supply: a candidate may be refused by a gate or repeat an earlier one
        row = rows[index % len(rows)]
        register = REGISTERS[(index // len(rows) + index) % len(REGISTERS)]
        yield misconception_sample(row, register, rng)


def add_misconceptions(
    samples: Sequence[Sample], share: float, random_seed: int, check: Check, preferred: Iterable[Sample] = ()
) -> tuple[list[Sample], list[tuple[Sample, str]]]:
    """Replace round(share x lines) plain variants with misconception samples; return the lines and the refused.

    preferred holds the primary generator's candidates, taken first; the offline templates make up the rest.
    """
    wanted = round(share * len(samples))
    if wanted <= 0:
        return list(samples), []
    rng = random.Random(f"misconceptions-{random_seed}")
    made: list[Sample] = []
    refused: list[tuple[Sample, str]] = []
    seen: set[str] = set()
    for sample in chain(preferred, _candidates(wanted, rng)):
        if len(made) == wanted:
            break
        reason = check(sample) or ("duplicate" if sample.user in seen else "")
        if reason:
            refused.append((sample, reason))
            continue
        seen.add(sample.user)
        made.append(sample)
    lines = list(samples)
    for position, sample in zip(_replaceable(lines, len(made), rng), made):
        lines[position] = sample
    return lines, refused


def _replaceable(samples: Sequence[Sample], count: int, rng: random.Random) -> list[int]:
    """Pick count positions of plain generated lines, one per seed in turn, so no seed loses many."""
    by_seed: dict[str, list[int]] = {}
    for position, sample in enumerate(samples):
        if sample.generator != "seed" and not sample.grounding and not sample.misconception:
            by_seed.setdefault(sample.seed.id, []).append(position)
    order = sorted(by_seed)
    rng.shuffle(order)
    picked: list[int] = []
    while len(picked) < count and any(by_seed.values()):
        for seed_id in order:
            if by_seed[seed_id] and len(picked) < count:
                picked.append(by_seed[seed_id].pop())  # a seed's last line: its own pair and first variants stay
    return sorted(picked)
