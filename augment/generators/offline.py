"""Offline generator: rewrite each seed with curated templates, synonyms and word-order inversions."""

from __future__ import annotations

import random
from collections import Counter
from itertools import islice
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from augment.quality.dedup import is_near_duplicate
from augment.quality.framing import tame_particles
from augment.quality.wording import canonical_names
from augment.knowledge.facts import load_facts
from augment.generators.base import Generation, Generator
from augment.generators.bodies import (
    COPY_LIMIT, assemble, body_sentences, copied_share, pick_opener, split_frame, vary_body,
)
from augment.generators.lexicon import misplaced_phrase, swap_synonyms
from augment.generators.templates import phrase_re, templates
from augment.generators.turns import asked_in, fits, fitting_wrappers, untag_wh, with_pronoun
from augment.records import Sample, Seed
from augment.text import loose_key, nfc, shingles, shingles_around, strip_diacritics, stretched

_SLOT = "⟦{}⟧"
_SLOT_RE = re.compile(r"⟦(\d+)⟧")
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*(?:\s?(?:k|km|m|đ|h))?\b")
_NUMBERING_RE = re.compile(r"^\s*\d+\s*[.)]\s+")  # "1. Đà Lạt ..." -> "Đà Lạt ..."
_SPACE_BEFORE_MARK_RE = re.compile(r"\s+([?,:!])")
_WORD_RE = re.compile(r"\w")
_BODY_DRAWS = 6  # draws of an answer body that look for one the seed has not had yet


@dataclass(frozen=True, slots=True)
class Candidate:
    """One planned user turn: a register's wrapper around one rewrite of the question core, written only if drawn."""

    register: str
    core: int  # which rewrite of the question core it wraps
    wrapper: str
    pronoun: str = ""  # the wrapper's first-person pronoun, spelled for the register; the core takes it too




@cache
def _locked_re() -> re.Pattern:
    names = load_facts().locked_names()
    return re.compile(r"(?<!\w)(" + "|".join(map(re.escape, names)) + r")(?!\w)|" + _NUMBER_RE.pattern, re.IGNORECASE)


def mask(text: str) -> tuple[str, list[str]]:
    """Replace names and numbers with numbered slots so that rewriting cannot touch them."""
    slots: list[str] = []

    def keep(match: re.Match) -> str:
        slots.append(match.group(0))
        return _SLOT.format(len(slots) - 1)

    return _locked_re().sub(keep, text), slots


def starts_with_locked(text: str) -> bool:
    """Return True if text begins with a locked name or number, which mask() would put in a slot."""
    return _locked_re().match(text) is not None


def _own_spelling(name: str) -> str:
    """Return a locked name in its own spelling when only a sentence's capital changed it ("Hồ" -> "hồ")."""
    own = canonical_names().get(" ".join(name.lower().split()), "")
    return own if own and own.lower() == name.lower() and own[:1].islower() else name


def unmask(text: str, slots: list[str]) -> str:
    """Put the locked names and numbers back."""
    return _SLOT_RE.sub(lambda m: slots[int(m.group(1))], text)


@cache
def _strip_res() -> tuple[re.Pattern, re.Pattern]:
    """Return the patterns for a greeting before the question core and a particle after it."""
    data = templates()
    prefix_re = re.compile(r"^(?:" + phrase_re(data["strip_prefixes"]).pattern + r")[\s,:!.]*", re.IGNORECASE)
    suffix_re = re.compile(r"[\s,]*(?:" + phrase_re(data["strip_suffixes"]).pattern + r")$", re.IGNORECASE)
    return prefix_re, suffix_re


def question_core(question: str) -> str:
    """Strip numbering, greetings, particles and final punctuation from a masked question."""
    prefix_re, suffix_re = _strip_res()
    core = _NUMBERING_RE.sub("", question).strip()
    previous = None
    while core != previous:
        previous = core
        core = core.strip().rstrip("?!.… ").strip()
        core = prefix_re.sub("", core)
        core = suffix_re.sub("", core)
    return core[:1].lower() + core[1:] if core[:1].isalpha() else core


class OfflineGenerator(Generator):
    """Template shuffling that needs no network: reproducible for a given random seed."""

    name = "offline"

    def __init__(self, random_seed: int = 0):
        self.random_seed = random_seed

    def generate(self, seeds: Sequence[Seed], n: int) -> Iterator[Generation]:
        """Yield up to n rewritten samples per seed."""
        for seed in seeds:
            samples = self.variants(seed, n)
            yield Generation(seed, samples, "" if len(samples) >= n else "templates-exhausted")

    def variants(self, seed: Seed, n: int) -> list[Sample]:
        """Return up to n distinct samples for one seed, spread across registers."""
        return list(islice(self.iter_variants(seed), n))

    def iter_variants(self, seed: Seed) -> Iterator[Sample]:
        """Yield every sample the templates allow for one seed that is no near-duplicate of another, registers interleaved."""
        return (sample for sample, _ in self.iter_variants_with_grams(seed))

    def iter_variants_with_grams(self, seed: Seed) -> Iterator[tuple[Sample, frozenset[str]]]:
        """Yield what iter_variants yields, each sample with its user turn's n-grams (as shingles() gives them)."""
        rng = random.Random(f"{self.random_seed}:{seed.id}")
        masked, slots = mask(nfc(seed.question))
        slots = [_own_spelling(slot) for slot in slots]  # "Hồ Tuyền Lâm" opened the question: "hồ" mid-sentence
        cores = _core_variations(question_core(masked), rng)
        styled: dict[tuple[int, str, str], _StyledCore] = {}  # each core in each register's spelling, made once
        # A variant that only rewords the greeting of an earlier one (or repeats it) teaches nothing new: those are
        # skipped here, as the pipeline's dedup would refuse them, before an answer is written for them.
        yielded = [shingles(seed.question)]
        bodies: set[tuple[str, ...]] = set()  # the answer bodies given so far: the next looks for a new one
        # The plan is cheap and the pipeline draws only a seed's first few dozen candidates: text is made on demand,
        # and only for candidates that are no near-duplicate (most of a long question's are, and are told apart
        # from the core's n-grams and the wrapper's alone).
        for candidate in _interleave(_plan(cores, rng, asked_in(seed.question)), rng):
            key = (candidate.core, candidate.register, candidate.pronoun)
            if key not in styled:
                core_text = with_pronoun(cores[candidate.core][0], candidate.pronoun)
                styled[key] = _styled_core(_style_core(core_text, candidate.register), tuple(slots))
            core = styled[key]
            user = None
            grams = _joined_grams(candidate.wrapper, core)
            if grams is None:
                user = _user_turn(candidate, core.text, slots)
                grams = shingles(user)
            if is_near_duplicate(grams, yielded):
                continue
            yielded.append(grams)
            if user is None:
                user = _user_turn(candidate, core.text, slots)
            if not fits(user) or misplaced_phrase(user):  # a rewrite that turned the core's type, or an inversion
                continue  # that moved a swapped phrase next to a name it does not fit ("vé vào cổng cáp treo ...")
            assistant = rewrite_answer(seed.answer, candidate.register, rng, seed.intent, bodies, user)
            method = "+".join(["register", *cores[candidate.core][1]])
            yield Sample(seed, user, assistant, self.name, method, candidate.register), grams


@dataclass(frozen=True, slots=True)
class _StyledCore:
    """A rewrite of the question core in one register's spelling, with its syllables for near-duplicate tests."""

    text: str  # masked: names and numbers are slots
    syllables: tuple[str, ...]  # of its loose key, names and numbers in place
    grams: frozenset[str] | None  # their 1-2-grams; None if a wrapper could change them (a stretched letter)


@lru_cache(maxsize=4096)  # registers that keep the core's spelling share it (the wrapper alone differs)
def _styled_core(text: str, slots: tuple[str, ...]) -> _StyledCore:
    """Return the styled core with its syllables and n-grams worked out."""
    unmasked = unmask(text, list(slots))
    syllables = tuple(loose_key(unmasked).split())
    # A stretched letter anywhere makes exact_key squeeze the whole text: keyed apart, the core could differ.
    joinable = bool(syllables) and not stretched(unmasked)
    return _StyledCore(text, syllables, shingles(unmasked) if joinable else None)


@cache
def _wrapper_syllables(wrapper: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """Return the loose-key syllables of the wrapper before and after {q}, or None if it cannot be keyed apart."""
    before, _, after = wrapper.partition("{q}")
    # The core's syllables stay whole only with a non-letter at each join ("{q} ạ?", not "{q}nhé"); a slot or a
    # stretched letter in the wrapper would change how the whole text is keyed.
    glued = _WORD_RE.match(before[-1:]) or _WORD_RE.match(after[:1])
    if glued or "{q}" in after or "⟦" in wrapper or stretched(wrapper):
        return None
    return tuple(loose_key(before).split()), tuple(loose_key(after).split())


def _joined_grams(wrapper: str, core: _StyledCore) -> frozenset[str] | None:
    """Return the n-grams shingles() gives the user turn of wrapper around core, or None if only its text can tell."""
    parts = _wrapper_syllables(wrapper)
    if parts is None or core.grams is None:
        return None
    before, after = parts
    return shingles_around(before, core.syllables, core.grams, after)


def _user_turn(candidate: Candidate, core: str, slots: list[str]) -> str:
    """Write the candidate's user turn: the wrapper around the styled core, names and numbers back in place."""
    return _finish_user(unmask(candidate.wrapper.replace("{q}", core), slots), candidate.register)


def _plan(cores: list[tuple[str, list[str]]], rng: random.Random, asked: bool) -> dict[str, list[Candidate]]:
    """Return each register's candidates in the order to try them: shuffled, then spread over the cores."""
    by_register: dict[str, list[Candidate]] = {}
    spellings, defaults = templates()["pronoun_spelling"], templates()["pronoun_default"]
    for offset, (register, table) in enumerate(templates()["registers"].items()):
        wrappers = fitting_wrappers(table, cores[0][0], asked)
        own = spellings.get(register, {})
        found = [
            Candidate(register, index, wrapper, own.get(family, family or defaults.get(register, "")))
            for index in range(len(cores)) for wrapper, family in wrappers
        ]
        rng.shuffle(found)
        by_register[register] = _spread_cores(found, len(cores), offset)
    return by_register


def _spread_cores(candidates: list[Candidate], count: int, offset: int) -> list[Candidate]:
    """Order candidates so that neighbours, and each register's first ones, wrap different rewrites of the core.

    Two wrappings of one core differ only in greeting and particles and are often near-duplicates; spreading the
    cores first means the pipeline finds a seed's quota among its first candidates instead of its last.
    """
    uses: Counter = Counter()
    ranked = []
    for candidate in candidates:
        ranked.append((uses[candidate.core], (candidate.core - offset) % count, len(ranked), candidate))
        uses[candidate.core] += 1
    return [candidate for *_, candidate in sorted(ranked)]


def _core_variations(core: str, rng: random.Random) -> list[tuple[str, list[str]]]:
    """Return the core plus its synonym and inversion rewrites, each with the tags that made it."""
    core = untag_wh(core)
    variations = [(core, [])]
    for _ in range(3):
        swapped = swap_synonyms(core, rng)
        if swapped != core:
            variations.append((swapped, ["synonym"]))
    for base, tags in list(variations):
        for inverted in _invert(base):
            variations.append((inverted, [*tags, "inversion"]))
    unique = {}
    for text, tags in variations:
        unique.setdefault(text, tags)
    return list(unique.items())







@cache
def _inversions() -> list[tuple[re.Pattern, str]]:
    slot = _SLOT.format(r"\d+")
    rules = []
    for rule in templates()["inversion"]:
        pattern = re.compile(rule["pattern"].replace("<E>", slot), re.IGNORECASE)
        rules.append((pattern, rule["template"]))
    return rules


def _invert(core: str) -> list[str]:
    """Return every word-order inversion of the core that a rule allows."""
    results = []
    if "," in core or "?" in core:  # a rule moves words across the whole core, and so across its clauses
        return results
    for pattern, template in _inversions():
        match = pattern.match(core)
        if match:
            text = template.format(**match.groupdict())
            results.append(text[:1].lower() + text[1:] if text[:1].isalpha() else text)
    return results


@cache
def _teencode() -> tuple[re.Pattern, dict[str, str]]:
    table = {k.casefold(): v for k, v in templates()["teencode_map"].items()}
    return phrase_re(table), table


@cache
def _terse_drop() -> re.Pattern:
    return phrase_re(templates()["terse"]["drop"])


@cache
def _formal() -> tuple[re.Pattern, dict[str, str]]:
    table = {k.casefold(): v for k, v in templates()["formal_map"]["words"].items()}
    return phrase_re(table), table


def _style_core(core: str, register: str) -> str:
    """Apply the register's spelling to the core: teen-code words, standard words, or keyword-only."""
    if register == "teencode":
        pattern, table = _teencode()
        return pattern.sub(lambda m: table[m.group(0).casefold()], core)
    if register in templates()["formal_map"]["registers"]:
        pattern, table = _formal()
        return pattern.sub(lambda m: table[m.group(0).casefold()], core)
    if register == "terse":
        kept = templates()["terse"]["keep"]
        for phrase in kept:  # joined, so that no word of it is dropped on its own
            core = core.replace(phrase, phrase.replace(" ", "_"))
        core = " ".join(_terse_drop().sub(" ", core).split()).strip(" ,")
        return core.replace("_", " ")
    return core


def _finish_user(text: str, register: str) -> str:
    """Fix spacing and punctuation, then apply the register's casing and diacritics."""
    text = _SPACE_BEFORE_MARK_RE.sub(r"\1", " ".join(text.split())).replace("??", "?")
    if register in templates()["lowercase_registers"]:
        text = text.lower()
        return strip_diacritics(text) if register == "nodiacritics" else text
    return text[:1].upper() + text[1:]


def _interleave(by_register: dict[str, list[Candidate]], rng: random.Random) -> Iterator[Candidate]:
    """Yield candidates round-robin over registers in a random order, so any prefix spans registers."""
    order = list(by_register)
    rng.shuffle(order)
    queues = [list(by_register[r]) for r in order]
    while any(queues):
        for queue in queues:
            if queue:
                yield queue.pop(0)


def rewrite_answer(
    answer: str, register: str, rng: random.Random, intent: str = "", seen: set | None = None, user: str = "",
) -> str:
    """Vary the seed answer's body (bodies.py) and frame it with one opener suited to the user's register and
    exactly one closing offer; the opener repeats no phrase of the body and pre-empts no yes/no answer to user.
    Sentence-final "nha"/"nhé" are thinned to the limit the wording gate allows.

    seen holds the bodies the seed's earlier variants got: a few more draws look for a body not among them that
    copies less than most of the seed's sentences, so a seed's lines differ in more than their greeting.
    """
    lines, seed_closer, alone = split_frame(answer)
    for _ in range(_BODY_DRAWS):
        varied = vary_body(lines, intent, rng, len(answer))
        written = _frame(varied, seed_closer, alone, register, rng, user)
        # Told apart as written: thinning the particles can make two drawn bodies one.
        body = body_sentences(written)
        if seen is None or (body not in seen and copied_share(lines, varied) < COPY_LIMIT):
            break
    if seen is not None:
        seen.add(body)
    return written


def _frame(varied: list[str], seed_closer: str, alone: bool, register: str, rng: random.Random, user: str) -> str:
    """Put an opener and one closing offer around a varied body, its sentence-final particles thinned."""
    data = templates()
    closer = rng.choice(data["closers"]["options"]) or seed_closer
    opener = pick_opener(data["openers"].get(register) or [""], "\n".join([*varied, closer]), rng, user)
    return tame_particles(assemble(opener, varied, closer, alone), keep_from=len(opener))
