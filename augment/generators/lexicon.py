"""Synonym swaps in a question core: curated lexicon groups, each member kept out of company it reads wrong in."""

from __future__ import annotations

import random
import re
from collections import Counter
from functools import cache

from augment.generators.templates import phrase_re, templates


@cache
def _lexicon() -> tuple[re.Pattern, dict[str, list[str]]]:
    groups = templates()["lexicon"]["groups"]
    alternatives = {}
    for group in groups:
        for member in group:
            alternatives[member.casefold()] = [m for m in group if m != member]
    return phrase_re(alternatives), alternatives


@cache
def _lexicon_guards() -> dict[str, list[tuple[re.Pattern | None, re.Pattern | None]]]:
    """Map each guarded lexicon member to the contexts it must not be put in (before it, after it)."""
    guards: dict[str, list] = {}
    for guard in templates()["lexicon"].get("guards", []):
        before = re.compile(guard["before"]) if "before" in guard else None
        after = re.compile(guard["after"]) if "after" in guard else None
        for member in guard["members"]:
            guards.setdefault(member.casefold(), []).append((before, after))
    return guards


def _fits_context(member: str, before: str, after: str) -> bool:
    """Return True if no guard keeps the member out of the place between before and after."""
    return not any(
        (ahead and ahead.search(before.casefold())) or (behind and behind.search(after.casefold()))
        for ahead, behind in _lexicon_guards().get(member.casefold(), ())
    )


def misplaced_phrase(text: str) -> str:
    """Return a guarded lexicon member that stands where its guard keeps it out of the written text, or ""."""
    lowered = text.casefold()
    for member in _lexicon_guards():
        for match in re.finditer(rf"(?<!\w){re.escape(member)}(?!\w)", lowered):
            if not _fits_context(member, lowered[:match.start()], lowered[match.end():]):
                return member
    return ""


def swap_synonyms(core: str, rng: random.Random) -> str:
    """Replace each lexicon phrase in the core with a random other member of its group, never doubling a word and
    never putting a member where a guard keeps it out ("vé vào cổng cáp treo")."""
    pattern, alternatives = _lexicon()

    def swap(match: re.Match) -> str:
        before, after = core[:match.start()], core[match.end():]
        options = [m for m in alternatives[match.group(0).casefold()] if _fits_context(m, before, after)]
        return rng.choice(options) if options else match.group(0)

    swapped = pattern.sub(swap, core)
    # "cách ⟦1⟧ bao xa" -> "cách ⟦1⟧ cách bao xa": a member may repeat a word the core already has.
    before, after = Counter(core.casefold().split()), Counter(swapped.casefold().split())
    return core if any(count > max(1, before[word]) for word, count in after.items()) else swapped
