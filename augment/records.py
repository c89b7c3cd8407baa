"""The two records that flow through the pipeline: a hand-checked Seed and a generated Sample."""

from __future__ import annotations

from dataclasses import dataclass

INTENTS = ("price", "address", "suggestion", "itinerary", "comparison")


@dataclass(frozen=True, slots=True)
class Seed:
    """One hand-checked question/answer pair from the seed file."""

    id: str
    intent: str
    place: str
    question: str
    answer: str
    row: int = 0  # line in the seed file, for error messages
    misconception: str = ""  # a synthetic seed's false premise (generators/misconceptions.py); "" for the seed file's


@dataclass(slots=True)
class Sample:
    """One training example derived from a seed, with its provenance."""

    seed: Seed
    user: str
    assistant: str
    generator: str  # "seed", "offline" or "gemini"
    method: str  # how the user turn was made, e.g. "register+synonym"
    register: str = "polite"
    fallback: str = ""  # why the offline generator stood in, if it did
    context: str = ""  # retrieved-context block for grounded samples
    grounding: str = ""  # "", "grounded" or "no-figure"
    misconception: str = ""  # the misconception whose false premise the user turn carries, e.g. "dalat-sea"

    def meta(self) -> dict:
        """Return the provenance line written beside the training line."""
        meta = {
            "seed_id": self.seed.id,
            "intent": self.seed.intent,
            "place": self.seed.place,
            "generator": self.generator,
            "method": self.method,
            "register": self.register,
        }
        if self.fallback:
            meta["fallback"] = self.fallback
        if self.grounding:
            meta["grounding"] = self.grounding
        if self.misconception:
            meta["misconception"] = self.misconception
        return meta
