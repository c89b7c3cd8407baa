"""The one interface every generator implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

from augment.records import Sample, Seed


@dataclass(slots=True)
class Generation:
    """What a generator made for one seed, and why it made fewer than asked, if it did."""

    seed: Seed
    samples: list[Sample] = field(default_factory=list)
    problem: str = ""  # a short reason code, e.g. "quota", "timeout", "bad-json"


class Generator(ABC):
    """Make n variant samples per seed (the seed's own pair is not among them)."""

    name: str

    @abstractmethod
    def generate(self, seeds: Sequence[Seed], n: int) -> Iterator[Generation]:
        """Yield one Generation per seed, in any order."""

    def token_counts(self, samples: Sequence[Sample], system: str, formats: Sequence[str]) -> AbstractContextManager:
        """Return a block in which the token counts this generator's service measures (Gemini's countTokens) stand
        for the estimates of the outputs in these formats; by default a block that changes nothing."""
        return nullcontext()
