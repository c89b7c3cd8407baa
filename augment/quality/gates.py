"""Quality gates: each check returns "" to keep a sample or the name of the reason to drop it.

Every sample passes through them, the seed's own pair included: form, language, length, foundational facts,
place drift, then fidelity to the seed (intent, names, numbers). The first failing check names the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from augment.quality.claims import contradiction, premises
from augment.quality.grounding import CHECKS as GROUNDING_CHECKS
from augment.quality.support import unsupported
from augment.quality.framing import check_answer_wording
from augment.quality.wording import check_user_wording
from augment.errors import InputError
from augment.knowledge.facts import load_facts
from augment.knowledge.intents import signals
from augment.knowledge.places import (
    VIETNAMESE_LETTER_RE,
    destination_idents,
    destinations,
    landmarks,
    locked_entities,
    names_entity,
)
from augment.records import INTENTS, Sample, Seed
from augment.text import amounts, bad_characters, exact_key, sentences

Check = Callable[[Sample], str]

# Leftovers of a model's reply format, on casefolded text: code fences, JSON, markdown, "Câu hỏi:" labels.
_MARKUP = (
    r"```|^\s*[\[{]|[\]}]\s*$|\"(?:user|assistant|question|answer|variants?)\"\s*:|\*\*|(?m:^#{1,6}\s)|"
    r"^\s*(?:user|assistant|người dùng|trợ lý|câu hỏi|câu trả lời|trả lời|hỏi|đáp|q|a|biến thể\s*\d*)\s*:"
)
_MARKUP_RE = re.compile(_MARKUP)
# A user turn is one question: a leading list marker means the model's list came through.
_USER_MARKUP_RE = re.compile(_MARKUP + r"|^\s*(?:\d+\s*[.)]|[-*•])\s+")
# Matched on casefolded text: a case-sensitive pattern is many times faster than IGNORECASE on Vietnamese.
_AI_TALK_RE = re.compile(
    r"(?<!\w)(?:mô hình ngôn ngữ|language model|là (?:một )?(?:trí tuệ nhân tạo|chatbot|mô hình|trợ lý ảo)|"
    r"as an ai|prompt|biến thể|variant|paraphrase|diễn đạt lại|viết lại câu|câu hỏi gốc|câu trả lời gốc|"
    r"dữ liệu huấn luyện|training data|chatgpt|openai|gemini|here (?:is|are))(?!\w)"
)
# "AI" only in capitals: casefolded, "là AI" would be "là ai" ("who is": "Hồ Xuân Hương là ai?").
_AI_RE = re.compile(r"(?<!\w)(?:là|một|as an?) (?:một )?AI(?!\w)")
_NON_LETTERS_RE = re.compile(r"[\W\d_]+")
_WORD_RE = re.compile(r"[^\W\d_]+")
# English words that are not also unaccented Vietnamese syllables ("an", "do", "to", "me", "the" are).
_ENGLISH = frozenset(
    "what where how which who why when is are was were of for and with from can should would could does did you "
    "your my we our this that there these those much many any best good price prices ticket tickets visit please "
    "about trip place places near cost costs recommend food eat travel famous beach beaches weather month get have "
    "has need want tell or if will days night nights around into way here know like some more most than also just "
    "open opening hours".split()
)
_ENGLISH_SHARE = 0.3
# Vietnamese typed with diacritics has about one marked letter in three; an English answer with a few names
# ("Dạ, the ticket for Thung lũng Tình Yêu ...") stays well under this.
_MARKED_SHARE = 0.12


def check_form(sample: Sample) -> str:
    """Drop empty turns, leftover JSON, markdown or labels, and talk about being an AI or about the prompt."""
    if not exact_key(sample.user) or not sample.assistant.strip():
        return "empty"
    return _form(sample.user, user=True) or _answer_form(sample)


@lru_cache(maxsize=65536)
def _form(turn: str, user: bool) -> str:
    if bad_characters(turn):  # a control, zero-width or bidi character from the model: invisible, never trained on
        return "bad-character"
    folded = turn.strip().casefold()
    if (_USER_MARKUP_RE if user else _MARKUP_RE).search(folded):
        return "markup-leftover"
    if _AI_TALK_RE.search(folded) or _AI_RE.search(turn):
        return "meta-talk"
    return ""


def check_language(sample: Sample) -> str:
    """Require Vietnamese: an answer with diacritics and a polite opening, a user turn that is not English."""
    return _answer_language(sample.assistant) or _user_language(sample.user)


def _answer_language(answer: str) -> str:
    # Counted per sentence: variants of a seed share most sentences, so each is counted once.
    letters, marked, english, words = map(sum, zip(*map(_language_counts, sentences(answer) or [""])))
    if letters == 0 or marked < _MARKED_SHARE * letters or _is_english(english, words):
        return "not-vietnamese"
    if not answer.lstrip().startswith("Dạ"):
        return "impolite-opening"
    return ""


def _user_language(user: str) -> str:
    _, _, english, words = _language_counts(user)
    return "not-vietnamese" if _is_english(english, words) else ""


@lru_cache(maxsize=65536)
def _language_counts(text: str) -> tuple[int, int, int, int]:
    """Return the letters, letters with a Vietnamese diacritic, English-only words and words in text."""
    folded = text.casefold()
    words = _WORD_RE.findall(folded)
    english = len([word for word in words if word in _ENGLISH])
    return len(_NON_LETTERS_RE.sub("", folded)), len(VIETNAMESE_LETTER_RE.findall(folded)), english, len(words)


def _is_english(english: int, words: int) -> bool:
    """Return True if enough of the words are English words that no Vietnamese syllable spells."""
    share = english / words if words else 0.0
    return english >= 2 and share >= _ENGLISH_SHARE or share >= 0.5


def check_length(sample: Sample) -> str:
    """Keep answers within a factor of the seed answer's length, and user turns reasonably short."""
    seed_len = len(sample.seed.answer)
    # An answer saying the context lacks the price is short by design: it has none of the seed's details to repeat.
    shortest = 80 if sample.grounding == "no-figure" else 0.5 * seed_len
    if not shortest <= len(sample.assistant) <= 2.0 * seed_len + 200:
        return "answer-length"
    if len(sample.user) > max(300, 3 * len(sample.seed.question)):
        return "question-length"
    return ""


def check_facts(sample: Sample) -> str:
    """Drop an answer asserting a foundational falsehood, or a user turn adding a false premise its seed lacks."""
    finding = contradiction(sample.assistant, sample.seed.place)
    if finding:
        return finding.reason
    if sample.generator != "seed" and not premises(sample.user, sample.seed.place) <= _seed_premises(sample.seed):
        return "false-premise"
    return ""


@dataclass(frozen=True, slots=True)
class _SeedScope:
    """The places, landmarks, names, numbers and intents a seed allows its variants; computed once per seed."""

    destinations: frozenset[str]
    landmarks: frozenset[str]
    question_destinations: frozenset[str]
    place: str  # the seed's own destination key, if the seed names it
    entities: frozenset[str]
    question_numbers: frozenset[float]
    answer_numbers: frozenset[float]
    intents: frozenset[str]
    signalled: bool  # the seed question itself signals an intent
    question_key: str


def _with_provinces(places: frozenset[str]) -> frozenset[str]:
    """Add the destinations that are the province of a named one: Hội An's answer may name Đà Nẵng."""
    facts = load_facts()
    provinces = {facts.by_name(d.province) for d in map(facts.by_key, places) if d}
    return places | {p.key for p in provinces if p}


@lru_cache(maxsize=65536)
def _scope(seed: Seed) -> _SeedScope:
    question_places = destinations(seed.question)
    answer_places, answer_landmarks = _answer_places(seed.answer)
    places = question_places | answer_places
    own = load_facts().by_name(seed.place)
    return _SeedScope(
        destinations=_with_provinces(places),
        landmarks=landmarks(seed.question) | answer_landmarks,
        question_destinations=question_places,
        place=own.key if own and own.key in places else "",
        entities=locked_entities(seed.question),
        question_numbers=amounts(seed.question),
        answer_numbers=amounts(seed.answer),
        intents=signals(seed.question) | ({seed.intent} & set(INTENTS)),
        signalled=bool(signals(seed.question)),
        question_key=exact_key(seed.question),
    )


@lru_cache(maxsize=65536)
def _seed_premises(seed: Seed) -> frozenset[str]:
    return premises(seed.question, seed.place)


def _names_destination(text: str, key: str) -> bool:
    return any(names_entity(text, ident) for ident in destination_idents(key))


def check_places(sample: Sample) -> str:
    """Drop a sample that names a place or landmark its seed does not, or loses the seed's place."""
    if sample.generator == "seed":
        return ""
    scope = _scope(sample.seed)
    answer_places, answer_landmarks = _answer_places(sample.assistant)
    named = destinations(sample.user) | answer_places
    if named - scope.destinations:
        return "place-drift"
    if (landmarks(sample.user) | answer_landmarks) - scope.landmarks:
        return "added-landmark"
    if not all(_names_destination(sample.user, key) for key in scope.question_destinations):
        return "place-lost"
    if _loses_place(sample, scope, answer_places):
        return "place-lost"
    return ""


def _loses_place(sample: Sample, scope: _SeedScope, answer_places: frozenset[str]) -> bool:
    """Return True if neither turn names the seed's own place, in any spelling the answer may use."""
    # The user turn is scanned only if the answer does not name the place: grounding's re-check runs in the main
    # process, where the user turn's scan is not cached.
    if not scope.place or scope.place in answer_places or scope.place in destinations(sample.user):
        return False
    return not _names_destination(sample.assistant, scope.place)


def _answer_places(answer: str) -> tuple[frozenset[str], frozenset[str]]:
    """Return the destinations and landmarks an answer names, found per sentence (no name spans two)."""
    places, names = zip(*map(_sentence_places, sentences(answer) or [""]))
    return frozenset().union(*places), frozenset().union(*names)


@lru_cache(maxsize=65536)  # answers of one seed share most sentences
def _sentence_places(sentence: str) -> tuple[frozenset[str], frozenset[str]]:
    return destinations(sentence), landmarks(sentence)


def check_fidelity(sample: Sample) -> str:
    """Require the user turn to keep the seed's intent, names and numbers, and the answer its numbers."""
    if sample.generator == "seed":
        return ""
    scope = _scope(sample.seed)
    if exact_key(sample.user) == scope.question_key:
        return "echo-of-seed"
    # A seed question that signals no intent gives nothing to compare with: context a paraphrase adds ("nhà mình
    # đang lên kế hoạch ...") must not count as a change of intent.
    found = signals(sample.user) if scope.signalled else frozenset()
    if found and not found & scope.intents:
        return "intent-changed"
    if not all(names_entity(sample.user, entity) for entity in scope.entities):
        return "lost-entity"
    if amounts(sample.user) != scope.question_numbers:
        return "changed-number"
    if not sample.grounding and _answer_amounts(sample.assistant) != scope.answer_numbers:
        return "changed-answer-number"
    return ""


def check_grounding(sample: Sample) -> str:
    """Require every figure of a grounded answer to come from its context, and a no-figure answer to invent none."""
    if sample.grounding == "no-figure":
        return "invented-figure" if re.search(r"\d", sample.assistant) else ""
    # A figure the traveller gave ("1 buổi sáng", "thứ 7") may be repeated; every other comes from the context.
    if sample.grounding and not amounts(sample.assistant) <= amounts(sample.context) | amounts(sample.user):
        return "figure-not-in-context"
    return ""


def _answer_amounts(answer: str) -> frozenset[float]:
    """Return the numbers of an answer, counted per sentence (a number never spans two)."""
    return frozenset().union(*map(amounts, sentences(answer)))


def check_support(sample: Sample) -> str:
    """Drop a generated answer with a sentence its seed (and context) does not back: a new name or fact term."""
    if sample.generator == "seed":
        return ""
    source = f"{sample.seed.answer}\n{sample.context}" if sample.context else sample.seed.answer
    found = unsupported(sample.assistant, source, sample.seed.place, names=sample.seed.question)
    return "unsupported-claim" if found else ""


CHECKS: tuple[Check, ...] = (
    check_form, check_language, check_length, check_facts, check_places, check_support, check_fidelity,
    check_grounding, *GROUNDING_CHECKS, check_user_wording,
    check_answer_wording,
)


def _answer_form(sample: Sample) -> str:
    return "empty" if not sample.assistant.strip() else _form(sample.assistant, user=False)


def _answer_facts(sample: Sample) -> str:
    finding = contradiction(sample.assistant, sample.seed.place)
    return finding.reason if finding else ""


def _answer_places_kept(sample: Sample) -> str:
    """check_places for the answer alone: it names no place or landmark the seed does not, and keeps the place."""
    if sample.generator == "seed":
        return ""
    scope = _scope(sample.seed)
    answer_places, answer_landmarks = _answer_places(sample.assistant)
    if answer_places - scope.destinations:
        return "place-drift"
    if answer_landmarks - scope.landmarks:
        return "added-landmark"
    return "place-lost" if _loses_place(sample, scope, answer_places) else ""


def _answer_language_kept(sample: Sample) -> str:
    return _answer_language(sample.assistant)


def _answer_numbers_kept(sample: Sample) -> str:
    if sample.generator == "seed" or sample.grounding:
        return ""
    return "changed-answer-number" if _answer_amounts(sample.assistant) != _scope(sample.seed).answer_numbers else ""


# The parts of CHECKS that read the answer or its context, in the same order.
ANSWER_CHECKS: tuple[Check, ...] = (
    _answer_form, _answer_language_kept, check_length, _answer_facts,
    _answer_places_kept, check_support, _answer_numbers_kept, check_grounding, *GROUNDING_CHECKS,
    check_answer_wording,
)


def check_answer(sample: Sample) -> str:
    """Return the first failing check that reads the answer or its context, or "" if it passes them all."""
    # Enough for a sample whose user turn has passed every check and whose answer alone changed, like the grounded
    # rewrite of a kept sample: the user turn's checks would only repeat, and in the main process, whose caches are
    # cold when worker processes made the variants, they are most of the cost.
    return check_sample(sample, ANSWER_CHECKS)


def check_sample(sample: Sample, checks: Sequence[Check] = CHECKS) -> str:
    """Return the first failing check's reason, or "" if the sample passes every check."""
    for check in checks:
        reason = check(sample)
        if reason:
            return reason
    return ""


def seed_sample(seed: Seed) -> Sample:
    """Return the seed's own pair as a sample."""
    return Sample(seed, seed.question, seed.answer, "seed", "seed", "original")


def _evidence(sample: Sample, reason: str) -> str:
    finding = contradiction(sample.assistant, sample.seed.place)
    if reason.startswith("fact-") and finding:
        place = load_facts().by_key(finding.dest)
        return f": the answer says '{finding.phrase}' about {place.name if place else finding.dest}"
    return ""


def check_seeds(seeds: Sequence[Seed], path: str) -> None:
    """Stop the run on the first seed that fails a check, naming its row."""
    for seed in seeds:
        sample = seed_sample(seed)
        reason = check_sample(sample)
        if reason:
            evidence = _evidence(sample, reason)
            raise InputError(f"{path}: row {seed.row} (id {seed.id}) fails the '{reason}' check{evidence}; fix the seed")
