"""Gemini generator: one structured call per seed, concurrent, rate-limited, retried and cached."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from augment.errors import RunError
from augment.generators.base import Generation, Generator
from augment.generators.gemini import sdk
from augment.generators.gemini.batch_api import GeminiBatches
from augment.generators.gemini.breaker import Breaker, BreakerOpen, trip_after
from augment.generators.gemini.cache import ResponseCache
from augment.generators.gemini.counting import count_texts, gemini_token_counts
from augment.generators.gemini.margin import Margin
from augment.generators.gemini.models import cost_usd, lookup, same_model
from augment.generators.gemini.plan import Request, RequestPlanner
from augment.generators.gemini.replies import cached_answer, reply_limit, reply_record
from augment.generators.gemini.ratelimit import PrioritySlots, RateLimiter
from augment.generators.gemini.sdk import AttemptFailed, Rejected
from augment.generators.gemini.settings import GeminiSettings
from augment.generators.variants import VariantPool, parse_variants
from augment.records import Sample, Seed

log = logging.getLogger("augment")


class GeminiGenerator(Generator):
    """Paraphrase each seed with one structured Gemini call, concurrently; report why a seed fell short."""

    name = "gemini"

    def __init__(self, api_key: str, settings: GeminiSettings = GeminiSettings()):
        self._api_key = api_key
        self.settings = settings
        # Counted over every generate() call of the run (the seeds, then the misconception rows).
        self._running = {"api_calls": 0, "cache_hits": 0, "tokens": Counter(), "failed_attempts": Counter(),
                         "served_models": Counter(), "cost_usd": 0.0, "unpriced_replies": 0,
                         # One breaker and one margin for the whole run, over each generate() call (seeds, then rows).
                         "breaker": Breaker(trip_after(settings.concurrency)), "margin": None}
        self.stats: dict = {}

    def __repr__(self) -> str:  # never show the key
        return f"GeminiGenerator(model={self.settings.model!r})"

    def token_counts(self, samples: Sequence[Sample], system: str, formats: Sequence[str]) -> AbstractContextManager:
        """Return a block in which Gemini token counts are countTokens' own for these samples' texts, when a Gemini
        file is written (its tuning is what they size; other runs keep the labelled estimate and spend no calls)."""
        return gemini_token_counts(self, samples, system) if "gemini" in formats else nullcontext()

    def count_tokens(self, texts: Sequence[str]) -> dict[str, int] | None:
        """Return Gemini's own token count of each text (countTokens, cached), or None when it cannot be had."""
        if self._running["breaker"].open:
            return None  # a dead endpoint: the generation already said so, and counting would wait on each text
        found = count_texts(self._api_key, self.settings, texts)
        self.stats["count_tokens_calls"] = found[1] if found else 0
        return found[0] if found else None

    def batches(self) -> GeminiBatches:
        """Return a client for Batch mode with this generator's key and settings."""
        return GeminiBatches(self._api_key, self.settings)

    def generate(self, seeds: Sequence[Seed], n: int) -> Iterator[Generation]:
        """Yield one Generation per seed as its calls complete (completion order, not file order)."""
        try:
            if n < 1:
                yield from (Generation(seed) for seed in seeds)
            else:
                yield from self._generate(seeds, n)
        finally:
            self.stats = _report_stats(self._running)

    def _generate(self, seeds: Sequence[Seed], n: int) -> Iterator[Generation]:
        results: queue.Queue = queue.Queue()
        delivered = 0
        with _LoopThread() as background:
            future = background.submit(self._run(seeds, n, results.put))
            try:
                while delivered < len(seeds):
                    item = results.get()
                    if isinstance(item, BaseException):
                        raise item
                    delivered += 1
                    yield item
            finally:
                if delivered < len(seeds):  # an error, or the caller stopped early: abandon the seeds still running
                    future.cancel()
                concurrent.futures.wait([future])

    async def _run(self, seeds: Sequence[Seed], n: int, put: Callable[[object], None]) -> None:
        """Run every seed concurrently, handing each Generation (or the error that ends the run) to put."""
        session = None
        tasks: list[asyncio.Task] = []
        try:
            session = _Session(self._api_key, self.settings, self._running)
            tasks = [asyncio.create_task(_deliver(session, seed, n, put)) for seed in seeds]
            await asyncio.gather(*tasks)
        except Exception as error:  # noqa: BLE001 - handed to the consuming thread, which raises it
            put(error)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if session is not None:
                await session.close()


async def _deliver(session: _Session, seed: Seed, n: int, put: Callable[[object], None]) -> None:
    put(await session.generation(seed, n))


class _LoopThread:
    """An event loop on its own thread, so the caller's CPU work between yields never stalls network I/O."""

    def __enter__(self) -> _LoopThread:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="gemini", daemon=True)
        self.thread.start()
        return self

    def submit(self, coroutine) -> concurrent.futures.Future:
        """Run a coroutine on the loop and return its future."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def __exit__(self, *exc_info) -> None:
        self.submit(self.loop.shutdown_default_executor()).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


def _report_stats(running: dict) -> dict:
    """Return the running counts as the report shows them: plain dicts, cost rounded."""
    stats = {**running, "tokens": dict(running["tokens"]), "served_models": dict(running["served_models"].most_common())}
    stats["failed_attempts"] = dict(sorted(running["failed_attempts"].items()))
    breaker, margin = stats.pop("breaker"), stats.pop("margin")
    stats |= {"breaker": breaker.summary()} if breaker.open else {}
    stats |= {"margin": margin.summary(running["tokens"]["output"])} if margin else {}
    # A reply from a model without catalogue prices leaves the cost unknown rather than too low.
    unpriced = stats.pop("unpriced_replies")
    stats["cost_usd"] = None if unpriced else round(running["cost_usd"], 6)
    return stats

class _Session:
    """One run's client, limits, cache and counters; lives on the generator's event loop."""

    def __init__(self, api_key: str, settings: GeminiSettings, stats: dict):
        self.settings = settings
        self.stats = stats
        self.client = sdk.new_client(api_key, settings.timeout)
        self.cache = ResponseCache(settings.cache) if settings.cache else None
        self.slots = PrioritySlots(settings.concurrency)
        self.limiter = RateLimiter(settings.rpm)
        if stats["margin"] is None:
            stats["margin"] = Margin.load(self.cache)
        self.margin = stats["margin"]
        self.planner = RequestPlanner(settings, self.margin)
        self.system = self.planner.system
        self.rejected: Rejected | None = None
        self.breaker = stats["breaker"]
        self._warned_served: set[str] = set()
        self._repeats: Counter = Counter()
        self._replayed_unusable: set[str] = set()  # seeds a cached reply gave nothing usable
        self._replied: set[str] = set()  # seeds that got a reply: only a seed's first request carries the margin
        self._jitter = wait_exponential_jitter(initial=settings.backoff, max=settings.max_backoff, jitter=settings.backoff)

    async def close(self) -> None:
        """Release connections and the cache, keeping this run's rejection counts in it."""
        if self.cache is not None:
            self.margin.save(self.cache)  # the next run sizes its margin from this one's rejections too
        await self.client.aio.aclose()
        self.client.close()
        if self.cache is not None:
            self.cache.close()

    async def generation(self, seed: Seed, n: int) -> Generation:
        """Collect n usable variants for one seed within the retry budget; name the last problem if short."""
        pool = VariantPool(seed, n)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.settings.retries + 1),
            wait=self._wait,
            retry=retry_if_exception(lambda error: isinstance(error, AttemptFailed) and error.retry),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    await self._attempt(pool, first=attempt.retry_state.attempt_number == 1)
        except AttemptFailed as failure:
            if seed.id in self._replayed_unusable:
                self._note("cached_fallbacks")  # said in one warning: the cache, not the endpoint, is the cause
            return Generation(seed, pool.samples, failure.reason)
        except Rejected as rejected:
            self._note_rejection(rejected)
            return Generation(seed, pool.samples, rejected.reason)
        except BreakerOpen:
            self.breaker.skipped += 1
            return Generation(seed, pool.samples, "breaker")
        return Generation(seed, pool.samples)

    def _wait(self, state: RetryCallState) -> float:
        """Wait at least the server's Retry-After; otherwise exponential backoff with jitter; none after bad content."""
        failure = state.outcome.exception()
        if failure.retry_after is not None:
            return min(failure.retry_after, sdk.MAX_RETRY_AFTER) + random.uniform(0, self.settings.backoff)
        return self._jitter(state) if failure.backoff else 0.0

    async def _attempt(self, pool: VariantPool, first: bool) -> None:
        """Make or replay one request for the variants still missing; raise AttemptFailed if still short."""
        if self.rejected:
            raise self.rejected
        needed, judged = pool.missing, pool.judged
        if pool.seed.id in self._replied:
            request = self.planner.request(pool, self._repeats)
        else:
            request = self.planner.first_request(pool, self._repeats, self.cache)
        text, problem, served, replayed = await self._reply(request, pool, first)
        items, damage = parse_variants(text) if not problem else ([], problem)
        # The gates cost milliseconds per sample: off the loop thread, so other seeds' requests start on time.
        usable = await asyncio.to_thread(pool.add, items)
        if not replayed:
            self._measure(request.n, request.n - needed, pool.judged - judged, usable)
        if replayed and not usable:
            self._replayed_unusable.add(pool.seed.id)
        elif not replayed and self.cache is not None:
            # Stored once judged: only a reply that gave usable variants is replayed by later runs; junk is recorded
            # as junk (reason and length), so a night of bad replies cannot make the next night replay them.
            record = reply_record(text, problem, usable > 0, reply_limit(pool.seed, request.n), served)
            self.cache.put(request.key, self.settings.model, record)
        if problem:
            self._fail(AttemptFailed(problem, backoff=False))
        if pool.missing:
            self._fail(AttemptFailed(damage or "too-few", backoff=False))

    def _measure(self, asked: int, extra: int, judged: int, usable: int) -> None:
        """Count a live reply's variants asked (the margin's among them) and rejected, for the report and next run."""
        self.margin.asked["variants"] += asked
        self.margin.asked["extra"] += extra
        self.margin.count(judged, judged - usable)

    async def _reply(self, request: Request, pool: VariantPool, first: bool) -> tuple[str, str, str, bool]:
        """Return the next reply to this request, its problem, its serving model, and whether the cache replayed it."""
        answer = cached_answer(self.cache.get(request.key)) if self.cache else None
        if answer is not None and self.settings.refresh_cache and not pool.can_use(parse_variants(answer[0])[0]):
            self._note("refreshed")
            answer = None  # --refresh-cache: a stored reply that gives nothing usable today is asked again
        if answer is not None:
            self.stats["cache_hits"] += 1
            (text, served), problem, replayed = answer, "", True
        else:
            text, problem, served = await self._call(request.prompt, request.params, first)
            replayed = False
        self._note_served(served)
        self._replied.add(pool.seed.id)
        # Counted only after a reply: a request that got none (429, 5xx, timeout) is resent with the same seed.
        self._repeats[request.identity] += 1
        return text, problem, served, replayed

    async def _call(self, prompt: str, params: dict, first: bool) -> tuple[str, str, str]:
        """Send one generateContent request within the concurrency and rate limits; return text, problem, served model."""
        self.breaker.check()
        # Retries and follow-ups go before first requests: a started seed finishes instead of queueing behind all.
        async with self.slots.slot(priority=1 if first else 0):
            await self.limiter.wait()
            if self.rejected:
                raise self.rejected
            self.breaker.check()
            self.stats["api_calls"] += 1
            config = sdk.content_config(self.system, params)
            try:
                async with asyncio.timeout(self.settings.timeout):
                    response = await self.breaker.guard(
                        self.client.aio.models.generate_content(model=self.settings.model, contents=prompt, config=config)
                    )
            except BreakerOpen:
                raise
            except Exception as error:  # noqa: BLE001 - classified below; anything unknown is re-raised
                failure = sdk.classify(error, self.settings.model) or error
                self._answered(failure.reason if isinstance(failure, AttemptFailed) else "")
                self._fail(failure)
        self._answered("")
        served = sdk.served_model(response)
        self._count_usage(response, served)
        return (*sdk.reply_text(response), served)

    def _answered(self, reason: str) -> None:
        """Tell the breaker how a request ended; say so in one line if that tripped it."""
        if self.breaker.record(reason):
            log.warning("%s", self.breaker.message())

    def _fail(self, error: Exception) -> None:
        if isinstance(error, AttemptFailed):
            self.stats["failed_attempts"][error.reason] += 1
        raise error

    def _note(self, event: str) -> None:
        """Count an event that is in the report only when it happened."""
        self.stats[event] = self.stats.get(event, 0) + 1

    def _count_usage(self, response, served: str) -> None:
        """Add the reply's tokens, and their cost at the prices of the model that served it."""
        reply_tokens: Counter = Counter()
        sdk.add_usage(reply_tokens, response.usage_metadata)
        self.stats["tokens"].update(reply_tokens)
        # Google bills a routed request at the serving model's rates; a serving model without prices: the requested one's.
        priced = served if lookup(served) else self.settings.model
        cost = cost_usd(priced, reply_tokens["prompt"], reply_tokens["output"] + reply_tokens["thoughts"])
        if cost is None:
            self.stats["unpriced_replies"] += 1
        else:
            self.stats["cost_usd"] += cost

    def _note_served(self, served: str) -> None:
        """Count a reply under the model that served it; warn once per model that is not the one requested."""
        requested = self.settings.model
        self.stats["served_models"][served or requested] += 1
        if not same_model(requested, served) and served not in self._warned_served:
            self._warned_served.add(served)
            log.warning("Gemini answered with %s, not the requested %s (Google routes retired ids to newer models; "
                        "settings were chosen for %s): pass --model %s", served, requested, requested, served)

    def _note_rejection(self, rejected: Rejected) -> None:
        """Switch the run offline with one warning, or stop it when fallback is off."""
        first = self.rejected is None
        self.rejected = self.rejected or rejected
        if not self.settings.fallback:
            raise RunError(f"{rejected}; stopping (--no-fallback)")
        if first:
            log.warning("%s; building the remaining seeds offline", rejected)
