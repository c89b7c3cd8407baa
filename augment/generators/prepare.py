"""Offline variants with their gate verdicts, made ahead in worker processes when the seed file is large.

Generating a seed's variants and gating them depend on nothing but the seed and the random seed, so worker
processes can do that work in parallel while the pipeline admits the seeds before them. Only dedup, which compares
every seed with those before it, stays in the pipeline's process. The output does not depend on the worker count:
the variants and verdicts are the same wherever they are computed, and the pipeline decides which it admits.
"""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.context
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice

import numpy as np

from augment.quality.dedup import Fingerprint, fingerprint_of
from augment.quality.gates import check_sample
from augment.generators.offline import OfflineGenerator
from augment.records import Sample, Seed

# Below this many seeds, starting worker processes costs more than it saves: a spawned worker imports the package
# (~0.5 s), a forked one starts in milliseconds with everything imported and compiled (the 1,000-line default run:
# 1.16 s instead of 1.26 s wall, best of 5).
PARALLEL_FROM = 1000
FORKED_PARALLEL_FROM = 100


@dataclass(frozen=True, slots=True)
class Checked:
    """An offline variant with what the pipeline needs to decide on it, computed wherever it is cheapest."""

    sample: Sample
    gates: str  # the reason the gates drop it, "" to keep it
    fingerprint: Fingerprint  # for dedup


def checked_variants(generator: OfflineGenerator, seed: Seed, skip: int = 0) -> Iterator[Checked]:
    """Yield the seed's offline variants from position skip on, each with its gate verdict and fingerprint."""
    for sample, grams in islice(generator.iter_variants_with_grams(seed), skip, None):
        yield Checked(sample, check_sample(sample), fingerprint_of(sample.user, grams))


def default_workers(seeds: int) -> int:
    """Return one worker per usable core for a large seed file, else 1 (no worker process)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cores if seeds >= (FORKED_PARALLEL_FROM if can_fork() else PARALLEL_FROM) else 1


def can_fork() -> bool:
    """Return whether workers may be forked: the platform forks, and no other thread could hold a lock mid-fork."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


# A variant as it travels back from a worker: plain values pickle several times faster than the records.
Packed = tuple[str, str, str, str, str, str, str, bytes]
_GRAM_SEPARATOR = "\n"  # n-grams are made of keys, whose whitespace is folded to single spaces


def _pack(variant: Checked) -> Packed:
    """Return a variant as plain values, its seed left out (the receiver knows it)."""
    sample, fingerprint = variant.sample, variant.fingerprint
    grams = _GRAM_SEPARATOR.join(fingerprint.grams)
    signature = fingerprint.signature.tobytes()
    return sample.user, sample.assistant, sample.method, sample.register, variant.gates, fingerprint.key, grams, signature


def _unpack(packed: Packed, seed: Seed, generator: str) -> Checked:
    """Return the variant _pack made plain, as records again."""
    user, assistant, method, register, gates, key, grams, signature = packed
    gram_set = frozenset(grams.split(_GRAM_SEPARATOR)) if grams else frozenset()
    fingerprint = Fingerprint(key, gram_set, np.frombuffer(signature, np.uint64))
    return Checked(Sample(seed, user, assistant, generator, method, register), gates, fingerprint)


def _prepare_chunk(random_seed: int, wants: list[tuple[Seed, int]], margin: int) -> list[tuple[list[Packed], bool]]:
    """Return each seed's first checked variants, packed, and whether they are all the generator has."""
    # As many as the seed's quota, what the seeds before it in the chunk fell short, and margin more.
    generator = OfflineGenerator(random_seed)
    prepared, carried = [], 0
    for seed, quota in wants:
        wanted = quota + carried + margin
        variants = list(islice(checked_variants(generator, seed), wanted))
        carried = max(0, quota + carried - sum(not variant.gates for variant in variants))
        prepared.append(([_pack(variant) for variant in variants], len(variants) < wanted))
    return prepared


@contextmanager
def collector_paused(pause: bool = True) -> Iterator[None]:
    """Pause Python's cyclic garbage collector inside the block if pause, then leave it as it was before."""
    # The offline stages allocate millions of long-lived objects without reference cycles (n-gram sets, samples,
    # per-text caches): the collector would walk them again and again for nothing, 15-20% of a large run's CPU.
    # Memory is freed as before, by reference counting.
    enabled = gc.isenabled()
    if pause:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def process_pool(workers: int) -> ProcessPoolExecutor:
    """Return a pool of worker processes that end themselves if this process dies."""
    return ProcessPoolExecutor(workers, mp_context=_context(), initializer=_start_worker, initargs=(os.getpid(),))


def _context() -> multiprocessing.context.BaseContext:
    """Fork where it is safe (no other thread, so no lock held mid-operation): a forked worker starts at once with the
    package imported and its patterns compiled; else spawn, where each worker imports the package (~0.5 s)."""
    if can_fork():
        return _ForkContext()
    return _SpawnContext()


def _quiet_start(start: Callable[[], None]) -> None:
    """Start a worker process with Ctrl-C ignored: the terminal sends it to the whole process group, and a worker
    would print a traceback; the parent alone answers it. The ignored disposition survives fork and exec."""
    if threading.current_thread() is not threading.main_thread():
        return start()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        start()
    finally:
        signal.signal(signal.SIGINT, previous)


class _SpawnProcess(multiprocessing.context.SpawnProcess):
    def start(self) -> None:
        _quiet_start(super().start)


class _ForkProcess(multiprocessing.context.ForkProcess):
    def start(self) -> None:
        _quiet_start(super().start)


class _SpawnContext(multiprocessing.context.SpawnContext):
    Process = _SpawnProcess


class _ForkContext(multiprocessing.context.ForkContext):
    Process = _ForkProcess


def _start_worker(parent: int) -> None:
    """Start a worker that runs without the cyclic collector (it runs only offline stages) and ends itself when
    the pipeline's process is gone, even killed with -9 (a worker left alone would wait forever to hand over its
    results)."""
    gc.disable()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


class PreparedVariants:
    """Serve each seed's checked offline variants: those the workers made first, then more made on demand."""

    def __init__(self, generator: OfflineGenerator, seeds: Sequence[Seed], quotas: dict[str, int], workers: int):
        self.generator = generator
        self._ready: dict[str, tuple[list[Checked], bool]] = {}  # seed id -> variants, and whether that is all
        self._made: dict[str, tuple[list[Checked], Iterator[Checked]]] = {}  # seed id -> made here, and the rest
        self._executor: Executor | None = None
        self._chunks: Iterator[list[tuple[Seed, int]]] = iter(())
        self._pending: deque[Future] = deque()  # chunks being prepared, in seed order
        self._order: Iterator[Seed] = iter(())
        self._extra = 0  # variants this process had to make for seeds whose prepared ones ran out
        if workers > 1 and seeds:
            self._start(seeds, quotas, workers)

    def _start(self, seeds: Sequence[Seed], quotas: dict[str, int], workers: int) -> None:
        self._executor = process_pool(workers)
        # Small enough that the first arrives soon and the workers finish together, large enough to cost little.
        size = max(25, len(seeds) // (32 * workers))
        self._chunks = iter([[(seed, quotas[seed.id] - 1) for seed in seeds[i : i + size]] for i in range(0, len(seeds), size)])
        self._order = iter(seeds)
        for _ in range(2 * workers):  # one chunk each to work on, one each waiting
            self._submit()

    def _submit(self) -> None:
        """Send the next chunk, asking for as many extra variants per seed as this process has had to make so far."""
        # Dedup refusing a few variants (near-duplicates of other seeds') is what empties a seed's prepared list; how
        # often depends on the seed file, so the margin follows what the run has seen. The output does not depend on it.
        chunk = next(self._chunks, None)
        if chunk is not None:
            margin = round(self._extra / len(self._ready)) if self._ready else 0
            self._pending.append(self._executor.submit(_prepare_chunk, self.generator.random_seed, chunk, margin))

    def variants(self, seed: Seed) -> Iterator[Checked]:
        """Yield the seed's checked variants in the generator's order, however many the caller takes."""
        ready, exhausted = self._take(seed)
        yield from ready
        if exhausted:
            return
        # Variants made here are kept, and so is the generator making them: a seed asked again (a later shortfall,
        # the final make-up pass) resumes where it stopped instead of making every variant again.
        made, more = self._made.setdefault(seed.id, ([], checked_variants(self.generator, seed, skip=len(ready))))
        yield from made
        for variant in more:
            made.append(variant)
            self._extra += 1
            yield variant

    def _take(self, seed: Seed) -> tuple[list[Checked], bool]:
        while seed.id not in self._ready:
            if not self._pending:
                return [], False
            batch = self._pending.popleft().result()
            self._submit()
            for packed, exhausted in batch:  # chunks come in seed order
                seed_of = next(self._order)
                self._ready[seed_of.id] = [_unpack(p, seed_of, self.generator.name) for p in packed], exhausted
        return self._ready[seed.id]

    def close(self) -> None:
        """Stop the worker processes."""
        if self._executor:
            self._executor.shutdown(cancel_futures=True)
            self._executor = None
