"""Context-grounded samples: a retrieved context rendered from the seed's fact record, and an answer that reads it."""

from __future__ import annotations

import random
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import cache, lru_cache
from importlib import resources

from augment.generators.contexts import SHAPES, capitalised, distractors, render_context
from augment.generators.figures import vary
from augment.generators.offline import starts_with_locked
from augment.quality.framing import known_openers
from augment.knowledge.seed_facts import FactRecord, record_for
from augment.quality.grounding import cited_backed
from augment.records import Sample
from augment.text import amounts, loose_key, sentences

Check = Callable[[Sample], str]

_OPENING_RE = re.compile(r"^Dạ(?:\s+vâng)?\s*,\s*")
_DIGIT_RE = re.compile(r"\d")


@cache
def _data() -> dict:
    return tomllib.loads(resources.files("augment.knowledge.data").joinpath("grounding.toml").read_text("utf-8"))


def _substitute(text: str, mapping: dict[str, str]) -> str:
    if not mapping:
        return text
    pieces = list(_split_at_figures(text, tuple(sorted(mapping, key=len, reverse=True))))
    pieces[1::2] = [mapping[figure] for figure in pieces[1::2]]
    return "".join(pieces)


@lru_cache(maxsize=1 << 16)  # where the figures sit depends only on the answer, not on their new values
def _split_at_figures(text: str, olds: tuple[str, ...]) -> tuple[str, ...]:
    """Split text around the figures, longest tried first: the text between them at even indexes, figures at odd."""
    # Whole figures only: not inside a longer number or range ("1.250.000", "12:30", "5-10 phút" for "10 phút").
    pattern = "|".join(rf"(?<!\d)(?<!\d[.,:-]){re.escape(old)}(?!\d)(?![.,:]\d)" for old in olds)
    return tuple(re.split(f"({pattern})", text))


def _passages(record: FactRecord, mapping: dict[str, str], prices: bool, place: str, pool: Sequence[FactRecord],
              rng: random.Random) -> str:
    """Render the record's passage among any distractors, in one shape drawn for the whole context."""
    shape = rng.choice(SHAPES)
    passages = [(other, {}, True) for other in distractors(record, place, pool, rng)]
    passages.insert(rng.randrange(len(passages) + 1), (record, mapping, prices))
    return render_context(passages, shape)


def ground_with_figures(sample: Sample, rng: random.Random, pool: Sequence[FactRecord] = ()) -> Sample | None:
    """Return the sample with a context whose figures differ from the seed's, and an answer that uses them.

    None when the seed has no record with a drifting figure, or the answer has none of the record's figures.
    """
    record = record_for(sample.seed)
    mapping = vary(record.varied, rng) if record else None
    if not mapping:
        return None
    answer = _substitute(sample.assistant, mapping)
    if answer == sample.assistant:
        return None
    context = _passages(record, mapping, True, sample.seed.place, pool, rng)
    allowed = amounts(context) | amounts(sample.user)
    lead = rng.choice(_data()["attribution"]["leads"])
    answer = attribute(answer, tuple(mapping.values()), context, allowed, lead, sample.seed.answer)
    return replace(sample, assistant=answer, context=context, grounding="grounded")


def _split_opener(text: str) -> tuple[str, str]:
    """Split text into its opener ("Dạ, chào bạn nha!", "Dạ, ") and the rest; no opener gives ("", text)."""
    for opener in known_openers():
        if text.startswith(opener):
            return opener, text[len(opener):].lstrip()
    match = _OPENING_RE.match(text)
    return (match.group(0).strip(), text[match.end():]) if match else ("", text)


def attribute(answer: str, figures: Sequence[str], context: str, allowed: frozenset[float], lead: str,
              reference: str = "") -> str:
    """Put the lead-in before the first sentence (or list heading) that states one of the context's figures.

    Only before one the context backs whole (the attribution gate's rule), never inside a list; an answer without
    such a sentence is left without a lead-in.
    """
    opener, body = _split_opener(answer)
    if not opener or not body:
        return answer
    parts = [part for part in sentences(body) if part.strip()]
    position = 0
    for index, part in enumerate(parts):
        start = body.find(part, position)
        position = start + len(part)
        if part.lstrip().startswith(("-", "•")):
            continue
        content = "\n".join(parts[index:]) if part.rstrip().endswith(":") else part
        if any(figure in content for figure in figures) and cited_backed(parts, index, context, allowed):
            return _lead_before(opener, body, start, lead, reference)
    return answer


def continued(text: str, reference: str = "") -> str:
    """Return a sentence as it reads after a lead-in: its first letter lowered, unless it begins a proper name."""
    lowered = text[:1].lower() + text[1:]
    if " ".join(lowered.split()[:2]) in reference:  # the seed writes it small mid-sentence ("biển An Bàng")
        return lowered
    # A locked name with a capital further on is a proper name ("Thung lũng Tình Yêu", "Chùa Cầu"); "Lẩu gà lá é"
    # is a dish, written small mid-sentence.
    if starts_with_locked(text) and any(word[:1].isupper() for word in text.split()[1:4]):
        return text
    return lowered


def _lead_before(opener: str, body: str, start: int, lead: str, reference: str) -> str:
    """Insert the lead-in at body[start], lowering the sentence's first letter unless it begins a name."""
    rest = continued(body[start:], reference)
    head = f"{opener} " + body[:start] if start else f"{opener} "
    if not start and opener.endswith(","):  # a plain "Dạ," continues the sentence
        return f"{head}{lead}{rest}"
    return f"{head}{capitalised(lead)}{rest}"


def ground_without_figure(sample: Sample, rng: random.Random, pool: Sequence[FactRecord] = ()) -> Sample | None:
    """Return the sample with a context that lacks the price, and an answer that says so and how to check it."""
    record = record_for(sample.seed)
    kinds = _data()["kinds"]
    if record is None or record.kind not in kinds or not any(f.kind == "price" for f in record.figures):
        return None
    context = _passages(record, {}, False, sample.seed.place, pool, rng)
    answer = _no_figure_answer(record, kinds[record.kind], rng, sample.seed.answer, sample.user)
    return replace(sample, assistant=answer, context=context, grounding="no-figure")


def _no_figure_answer(record: FactRecord, kind: dict, rng: random.Random, reference: str, question: str = "") -> str:
    """Write an answer naming the missing price by the subject's noun, what the context holds, and how to check.

    The fact quoted is one the question also asks about where there is one ("... có thang máy không" -> "khu núi có
    thang máy lên núi"), else one about the price, else any.
    """
    data = _data()["no_figure"]
    noun, check = kind["noun"], rng.choice(kind["check"]).format(entity=record.entity)
    facts = _facts(record, reference)
    if not facts:
        return rng.choice(data["empty"]).format(noun=noun, entity=record.entity, check=check)
    asked = [fact for fact in facts if _shares_a_phrase(fact, question, record.entity)]
    pricey = [fact for fact in facts if any(re.search(rf"(?<!\w){w}(?!\w)", fact) for w in data["price_words"])]
    found = rng.choice(data["found"]).format(entity=record.entity, fact=rng.choice(asked or pricey or facts))
    return rng.choice(data["answers"]).format(found=found, noun=noun, noun_cap=capitalised(noun), check=check)


def _shares_a_phrase(fact: str, question: str, entity: str) -> bool:
    """Return True if the fact and the question share two syllables in a row (accents and case aside) beyond the
    subject's own name."""
    return bool((_syllable_pairs(fact) & _syllable_pairs(question)) - _syllable_pairs(entity))


def _syllable_pairs(text: str) -> set[tuple[str, str]]:
    words = loose_key(text).split()
    return set(zip(words, words[1:]))


def _facts(record: FactRecord, reference: str) -> list[str]:
    """Return what the record's passage states without a figure, as clauses to quote: its address, its notes."""
    facts = [f"{record.entity} {record.located}"] if record.address else []
    for note in record.notes:
        facts.append(continued(note.rstrip("."), reference))
    return [fact for fact in facts if not _DIGIT_RE.search(fact)]


def _pools(samples: Sequence[Sample]) -> dict[str, list[FactRecord]]:
    """Return, per destination, the records of the seeds in samples: where distractor passages come from."""
    pools: dict[str, dict[str, FactRecord]] = {}
    for sample in samples:
        record = record_for(sample.seed)
        if record:
            pools.setdefault(sample.seed.place, {})[record.seed_id] = record
    return {place: [records[key] for key in sorted(records)] for place, records in pools.items()}


def ground(samples: Sequence[Sample], ratio: float, random_seed: int, check: Check = lambda sample: "") -> list[Sample]:
    """Turn round(ratio x len) samples into grounded ones, in place and deterministically.

    Price questions come first (up to price_share of them), a no_figure_share of those with a context that lacks
    the price; then the other intents. A grounded sample that fails check keeps its plain original.
    """
    wanted = round(ratio * len(samples))
    if not wanted:
        return list(samples)
    data = _data()
    rng = random.Random(f"{random_seed}:ground")
    order = [i for i, s in enumerate(samples) if s.generator != "seed"]
    rng.shuffle(order)
    price = [i for i in order if samples[i].seed.intent == "price"]
    quota = min(wanted, round(data["price_share"] * len(price)))
    pools = _pools(samples)
    result = list(samples)
    counts = {"grounded": 0, "no-figure": 0}
    for index in price + [i for i in order if samples[i].seed.intent != "price"]:
        done = sum(counts.values())
        if done == wanted:
            break
        sample = samples[index]
        is_price = sample.seed.intent == "price"
        if is_price and done >= quota:
            continue
        pool = pools.get(sample.seed.place, [])
        figureless = is_price and counts["no-figure"] < data["no_figure_share"] * (done + 1)
        candidates = (ground_without_figure, ground_with_figures) if figureless else (ground_with_figures,)
        for make in candidates:
            grounded = make(sample, rng, pool)
            if grounded is not None and not check(grounded):
                result[index] = grounded
                counts[grounded.grounding] += 1
                break
    return result
