"""A margin of extra variants on each seed's first request, sized from the rejection rate measured by earlier runs.

A reply short of usable variants costs a follow-up request, which repeats the whole prompt and a full latency on
that seed's critical path. Asking a few more variants than needed up front makes follow-ups rare; how many depends
on how often variants are rejected (near-duplicates, gates), which each live run measures and keeps in the cache.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from augment.generators.gemini.cache import ResponseCache

NOTE = "rejection-rate"
# A seed short after its first request should be rare: at most this likely, given the measured rate.
SHORT_RISK = 0.04
# Today every rejected variant is asked again, so a kept variant costs about 1 / (1 - rate) variants of output; the
# margin may add at most a quarter of the variants needed, per that, so output per kept sample grows at most ~1.25x.
MAX_EXTRA_SHARE = 0.25
# Earlier runs' counts are halved at each run, so a model that changes its ways is learnt within a few nights.
DECAY = 0.5
_HIGHEST_RATE = 0.9  # above it the margin stops growing: such a model needs fixing, not more variants


def extra_variants(needed: int, rate: float) -> int:
    """Return how many variants to ask beyond `needed` so that fewer than `needed` usable ones is unlikely."""
    if needed < 1 or rate <= 0:
        return 0
    cap = math.ceil(MAX_EXTRA_SHARE * needed / (1 - min(rate, _HIGHEST_RATE)))
    for extra in range(cap + 1):
        if _short_risk(needed + extra, extra, rate) <= SHORT_RISK:
            return extra
    return cap


def margins_to_try(needed: int, extra: int) -> list[int]:
    """Return the margins a cached first request may have been asked with, nearest to this run's first.

    The rate moves little from one run to the next (half of it is history), so the margin moves a step or two; 0 is
    what caches written before margins, or on a first night, hold.
    """
    widest = math.ceil(MAX_EXTRA_SHARE * needed / (1 - _HIGHEST_RATE))
    near = [extra, 0, *(extra + step for distance in (1, 2) for step in (-distance, distance))]
    return [margin for margin in dict.fromkeys(near) if 0 <= margin <= widest]


def _short_risk(asked: int, extra: int, rate: float) -> float:
    """Return the chance that more than `extra` of `asked` variants are rejected, each with probability rate."""
    return sum(math.comb(asked, k) * rate**k * (1 - rate) ** (asked - k) for k in range(extra + 1, asked + 1))


@dataclass
class Margin:
    """The rejection rate learnt from earlier runs, and this run's own counts, kept in the cache when it ends."""

    judged: float = 0.0  # variants judged by earlier runs (decayed)
    rejected: float = 0.0
    run_judged: int = 0
    run_rejected: int = 0
    asked: dict = field(default_factory=lambda: {"variants": 0, "extra": 0})  # by this run's live first requests

    @classmethod
    def load(cls, cache: ResponseCache | None) -> Margin:
        """Return the margin the cache's history gives (none without a cache or a history)."""
        stored = cache.note(NOTE) if cache is not None else None
        try:
            counts = json.loads(stored) if stored else {}
            return cls(float(counts.get("judged", 0)), float(counts.get("rejected", 0)))
        except (ValueError, TypeError, AttributeError):
            return cls()  # an unreadable note only costs the margin

    @property
    def rate(self) -> float:
        """Return the share of variants rejected in earlier runs (0 with no history: the first night asks no margin)."""
        return self.rejected / self.judged if self.judged else 0.0

    def extra(self, needed: int) -> int:
        """Return the extra variants for a first request needing `needed`."""
        return extra_variants(needed, self.rate)

    def count(self, judged: int, rejected: int) -> None:
        """Add what one live reply's variants came to."""
        self.run_judged += judged
        self.run_rejected += rejected

    def save(self, cache: ResponseCache) -> None:
        """Keep the decayed history plus this run's counts for the next run."""
        if self.run_judged:
            judged = self.judged * DECAY + self.run_judged
            rejected = self.rejected * DECAY + self.run_rejected
            cache.put_note(NOTE, json.dumps({"judged": round(judged, 3), "rejected": round(rejected, 3)}))

    def summary(self, output_tokens: int) -> dict:
        """Return the report's margin: the rate used, this run's, and the extra variants and output tokens asked."""
        share = self.asked["extra"] / self.asked["variants"] if self.asked["variants"] else 0.0
        return {
            "rejection_rate": round(self.rate, 4),
            "run_rejection_rate": round(self.run_rejected / self.run_judged, 4) if self.run_judged else 0.0,
            "extra_variants": self.asked["extra"],
            "extra_output_tokens": round(output_tokens * share),  # estimate: the extra share of the first requests' output
        }
