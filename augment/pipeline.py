"""Run the stages in order: seeds -> generate -> check -> dedup -> select."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import islice
from dataclasses import dataclass, field

from tqdm import tqdm

from augment.quality.dedup import Deduper, Fingerprint
from augment.quality.gates import check_sample, seed_sample
from augment.generators.base import Generation, Generator
from augment.generators.offline import OfflineGenerator
from augment.generators.prepare import PreparedVariants
from augment.records import Sample, Seed
from augment.quality.select import plan_quotas, select


def variants_wanted(seeds: Sequence[Seed], n: int, target: int) -> int:
    """Return how many variants to ask the primary generator for per seed: enough for n, or the largest quota."""
    return max(n, max(plan_quotas(seeds, target).values(), default=0)) - 1


@dataclass
class Outcome:
    """What a pipeline run produced."""

    selected: list[Sample]
    rejected: list[tuple[Sample, str]] = field(default_factory=list)
    dropped: Counter = field(default_factory=Counter)
    fallbacks: Counter = field(default_factory=Counter)
    fingerprints: dict[str, Fingerprint] = field(default_factory=dict)  # user turn -> its fingerprint, for each kept

    def note_rejected(self, rejected: Sequence[tuple[Sample, str]]) -> None:
        """Record candidates a later stage refused, with their reasons."""
        self.rejected.extend(rejected)
        self.dropped.update(reason for _, reason in rejected)


class Pipeline:
    """Build exactly target samples from checked seeds with a primary generator, topped up offline."""

    def __init__(self, primary: Generator, offline: OfflineGenerator, progress: bool = True, workers: int = 1):
        self.primary = primary
        self.offline = offline
        self.progress = progress
        self.workers = workers  # processes preparing offline variants in an offline run; 1 prepares them here

    def run(self, seeds: Sequence[Seed], n: int, target: int) -> Outcome:
        """Generate, check, deduplicate and select; return the selection and what was dropped."""
        quotas = plan_quotas(seeds, target)
        # A Gemini run tops up only the variants Gemini could not give: not worth preparing ahead.
        workers = self.workers if self.primary is self.offline else 1
        prepared = PreparedVariants(self.offline, seeds, quotas, workers)
        try:
            run = _Run(self, seeds, quotas, prepared)
            run.build(n, target)
        finally:
            prepared.close()
        run.outcome.selected = select(run.pools, seeds, target)
        return run.outcome


class _Run:
    """The state of one pipeline run: pools, dedup memory, shortfall carried between seeds, offline draws."""

    def __init__(self, pipeline: Pipeline, seeds: Sequence[Seed], quotas: dict[str, int], prepared: PreparedVariants):
        self.pipeline = pipeline
        self.offline_only = pipeline.primary is pipeline.offline
        self.seeds = seeds
        self.quotas = quotas
        self.prepared = prepared
        self.outcome = Outcome(selected=[])
        self.pools: dict[str, list[Sample]] = {seed.id: [] for seed in seeds}
        self.deduper = Deduper()
        self.shortfall = 0  # what earlier seeds could not make, carried to the next one
        self.drawn: Counter = Counter()  # offline candidates taken per seed, so a second top-up resumes

    def build(self, n: int, target: int) -> None:
        """Admit the seeds' own pairs, then each seed's variants in seed-file order, topped up offline."""
        seeds = self.seeds
        for seed in seeds:  # the hand-checked pairs first, so no variant can displace its own seed
            self._admit(seed_sample(seed), "")  # check_seeds has passed every seed
        wanted = variants_wanted(seeds, n, target)
        arrived: dict[str, Generation] = {}
        admitted = 0
        # A with block: on Ctrl-C the bar ends its line before the run says it was interrupted.
        with tqdm(total=len(seeds), desc="seeds", unit="seed", disable=not self.pipeline.progress) as bar:
            for generation in self._primary_generations(wanted):  # may arrive in completion order
                arrived[generation.seed.id] = generation
                bar.update()
                # Admit only the longest arrived prefix of the seed file: dedup keeps the first of two near-duplicates,
                # so admitting in file order keeps the output the same whatever order the responses came in.
                while admitted < len(seeds) and seeds[admitted].id in arrived:
                    self._admit_generation(arrived.pop(seeds[admitted].id))
                    admitted += 1
        for seed in seeds[admitted:]:  # a generator that skipped a seed: the offline top-up covers it
            self._admit_generation(arrived.pop(seed.id, None) or Generation(seed, problem="no-response"))
        self._make_up_shortfall()

    def _make_up_shortfall(self) -> None:
        """Let earlier seeds make up what the last seeds could not: they have no next seed to carry it."""
        reason = "" if self.offline_only else "other-seed-short"
        for seed in reversed(self.seeds):
            if not self.shortfall:
                return
            quota = len(self.pools[seed.id]) + self.shortfall
            self._top_up(seed, quota, reason)
            self.shortfall = max(0, quota - len(self.pools[seed.id]))

    def _admit_generation(self, generation: Generation) -> None:
        for sample in generation.samples:
            self._admit(sample, check_sample(sample))
        # A seed whose templates run dry leaves a shortfall; the next seed makes that many more, so selection can
        # rebalance without every seed over-generating.
        quota = self.quotas[generation.seed.id] + self.shortfall
        reason = "" if self.offline_only else generation.problem or "rejected-variants"
        self._top_up(generation.seed, quota, reason)
        self.shortfall = max(0, quota - len(self.pools[generation.seed.id]))

    def _primary_generations(self, wanted: int):
        if self.offline_only:  # the top-up pass does all the work
            return (Generation(seed) for seed in self.seeds)
        return self.pipeline.primary.generate(self.seeds, wanted)

    def _admit(self, sample: Sample, verdict: str, fingerprint: Fingerprint | None = None) -> bool:
        """Keep the sample unless its gates' verdict is a reason or it duplicates one already kept."""
        # Gates before dedup: a poisoned variant is recorded under what is wrong with it, not as a duplicate.
        reason = verdict or self.deduper.duplicate(sample, fingerprint)
        if reason:
            self.outcome.dropped[reason] += 1
            self.outcome.rejected.append((sample, reason))
            return False
        self.outcome.fingerprints[sample.user] = self.deduper.remember(sample)
        self.pools[sample.seed.id].append(sample)
        return True

    def _top_up(self, seed: Seed, quota: int, reason: str) -> None:
        """Fill a seed's pool offline up to its quota, recording why the fallback happened."""
        pool = self.pools[seed.id]
        if len(pool) >= quota:
            return
        added = 0
        variants = islice(self.prepared.variants(seed), self.drawn[seed.id], None)
        while len(pool) < quota:  # checked before drawing: a variant past what was prepared is made here, slowly
            variant = next(variants, None)
            if variant is None:
                break
            self.drawn[seed.id] += 1
            variant.sample.fallback = reason
            added += self._admit(variant.sample, variant.gates, variant.fingerprint)
        if reason and added:
            self.outcome.fallbacks[reason] += 1
