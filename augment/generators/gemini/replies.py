"""What the response cache keeps of a reply: usable answers, replayed; junk, recorded but never replayed as an answer."""

from __future__ import annotations

import json

from augment.records import Seed

# Per variant asked: the length gates let a variant's question and answer be at most about twice the seed's (plus a
# little), and its JSON adds well under 500 characters. A reply longer than this cannot be that many variants of this
# seed, only junk (a proxy's page, a runaway model), which must not grow the cache: a night of 10 MB replies once
# grew it to 528 MB for 10 seeds.
_SLACK_PER_VARIANT = 500
_SLACK_PER_REPLY = 4096


def reply_limit(seed: Seed, asked: int) -> int:
    """Return the most characters a reply asking for `asked` variants of seed may hold and still be stored."""
    return asked * (2 * (len(seed.question) + len(seed.answer)) + _SLACK_PER_VARIANT) + _SLACK_PER_REPLY


def answer_record(text: str, served: str = "") -> str:
    """Return the cache record of a reply that gave at least one usable variant, with the model that served it."""
    return json.dumps({"text": text, "problem": "", "served": served}, ensure_ascii=False)


def junk_record(reason: str, chars: int) -> str:
    """Return the cache record of a reply that gave nothing usable, or too long to keep: its reason, not its text."""
    return json.dumps({"junk": reason, "chars": chars})


def reply_record(text: str, problem: str, usable: bool, limit: int, served: str = "") -> str:
    """Return what to store for one reply: an answer when it gave usable variants and fits the limit, else junk."""
    if problem or not usable:
        return junk_record(problem or "unusable", len(text))
    if len(text) > limit:
        return junk_record("too-large", len(text))
    return answer_record(text, served)


def cached_answer(stored: str | None) -> tuple[str, str] | None:
    """Return the text and serving model of a stored answer to replay; None if there is none (missing, junk, unreadable)."""
    if stored is None:
        return None
    try:
        reply = json.loads(stored)
    except ValueError:
        return None
    # Junk records, and records of earlier versions that kept failed replies with their problem, are asked again.
    if not isinstance(reply, dict) or reply.get("problem") or not isinstance(reply.get("text"), str):
        return None
    return reply["text"], str(reply.get("served") or "")
