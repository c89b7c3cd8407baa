"""Gemini generator: one structured call per seed, concurrent, rate-limited, retried, cached; Batch mode (sole google.genai user)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import email.utils
import logging
import os
import queue
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from dotenv import load_dotenv
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from augment.cache import DEFAULT_CACHE, ResponseCache
from augment.errors import RunError
from augment.generators.base import Generation, Generator
from augment.generators.plan import Request, RequestPlanner, decode_reply, encode_reply
from augment.generators.variants import VariantPool, parse_variants
from augment.ratelimit import PrioritySlots, RateLimiter
from augment.records import Seed

log = logging.getLogger("augment")

DEFAULT_MODEL = "gemini-2.5-flash"
# The SDK's own precedence: GOOGLE_API_KEY wins when both are set.
KEY_VARIABLES = ("GOOGLE_API_KEY", "GEMINI_API_KEY")
# A server asking for a longer wait than this (a daily quota spent) is not waited for: the seed falls back at once.
_MAX_RETRY_AFTER = 120.0
_BLOCKING_FINISH = {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "LANGUAGE"}
_KEY_CODES = {401, 403}
_RETRY_DELAY_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


def find_api_key(env_file: Path = Path(".env")) -> str | None:
    """Return GOOGLE_API_KEY or GEMINI_API_KEY, reading ./.env first without overriding the environment."""
    if env_file.is_file():
        # Loading into os.environ also lets a GOOGLE_GEMINI_BASE_URL in .env reach the SDK.
        load_dotenv(env_file, override=False)
    for name in KEY_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


@dataclass(frozen=True, slots=True)
class GeminiSettings:
    """How to call Gemini: model, limits, retries and cache."""

    model: str = DEFAULT_MODEL
    concurrency: int = 8
    rpm: float | None = None
    retries: int = 4
    timeout: float = 60.0
    backoff: float = 1.0
    max_backoff: float = 30.0
    temperature: float = 0.9
    random_seed: int = 0
    cache: Path | None = DEFAULT_CACHE
    fallback: bool = True

    def __post_init__(self):
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {self.concurrency}")
        if self.rpm is not None and self.rpm <= 0:
            raise ValueError(f"rpm must be positive, got {self.rpm}")
        if self.retries < 0:
            raise ValueError(f"retries must be 0 or more, got {self.retries}")
        if self.timeout <= 0 or self.backoff < 0:
            raise ValueError("timeout must be positive and backoff 0 or more")


class AttemptFailed(Exception):
    """One attempt for one seed failed: a reason code, whether retrying may help, and the server's wait hint."""

    def __init__(self, reason: str, retry: bool = True, retry_after: float | None = None, backoff: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.retry = retry
        self.retry_after = retry_after
        self.backoff = backoff


class Rejected(Exception):
    """Gemini refused the whole run (key or model): no seed can succeed, so none should try."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class GeminiGenerator(Generator):
    """Paraphrase each seed with one structured Gemini call, concurrently; report why a seed fell short."""

    name = "gemini"

    def __init__(self, api_key: str, settings: GeminiSettings = GeminiSettings()):
        self._api_key = api_key
        self.settings = settings
        self.stats: dict = {}

    def __repr__(self) -> str:  # never show the key
        return f"GeminiGenerator(model={self.settings.model!r})"

    def batches(self) -> GeminiBatches:
        """Return a client for Batch mode with this generator's key and settings."""
        return GeminiBatches(self._api_key, self.settings)

    def generate(self, seeds: Sequence[Seed], n: int) -> Iterator[Generation]:
        """Yield one Generation per seed as its calls complete (completion order, not file order)."""
        self.stats = {"api_calls": 0, "cache_hits": 0, "tokens": Counter(), "failed_attempts": Counter()}
        try:
            if n < 1:
                yield from (Generation(seed) for seed in seeds)
            else:
                yield from self._generate(seeds, n)
        finally:
            self.stats["tokens"] = dict(self.stats["tokens"])
            self.stats["failed_attempts"] = dict(sorted(self.stats["failed_attempts"].items()))

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
            session = _Session(self._api_key, self.settings, self.stats)
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


class _Session:
    """One run's client, limits, cache and counters; lives on the generator's event loop."""

    def __init__(self, api_key: str, settings: GeminiSettings, stats: dict):
        from google import genai
        from google.genai import errors, types

        self.settings = settings
        self.stats = stats
        self.types = types
        self.errors = errors
        # No base_url here: the SDK reads GOOGLE_GEMINI_BASE_URL itself (proxies, the loopback fake in tests).
        self.client = genai.Client(api_key=api_key, http_options=types.HttpOptions(timeout=int(settings.timeout * 1000)))
        self.cache = ResponseCache(settings.cache) if settings.cache else None
        self.slots = PrioritySlots(settings.concurrency)
        self.limiter = RateLimiter(settings.rpm)
        self.planner = RequestPlanner(settings)
        self.system = self.planner.system
        self.rejected: Rejected | None = None
        self._repeats: Counter = Counter()
        self._jitter = wait_exponential_jitter(initial=settings.backoff, max=settings.max_backoff, jitter=settings.backoff)

    async def close(self) -> None:
        """Release connections and the cache."""
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
            return Generation(seed, pool.samples, failure.reason)
        except Rejected as rejected:
            self._note_rejection(rejected)
            return Generation(seed, pool.samples, rejected.reason)
        return Generation(seed, pool.samples)

    def _wait(self, state: RetryCallState) -> float:
        """Wait at least the server's Retry-After; otherwise exponential backoff with jitter; none after bad content."""
        failure = state.outcome.exception()
        if failure.retry_after is not None:
            return min(failure.retry_after, _MAX_RETRY_AFTER) + random.uniform(0, self.settings.backoff)
        return self._jitter(state) if failure.backoff else 0.0

    async def _attempt(self, pool: VariantPool, first: bool) -> None:
        """Make or replay one request for the variants still missing; raise AttemptFailed if still short."""
        if self.rejected:
            raise self.rejected
        text, problem = await self._reply(self.planner.request(pool, self._repeats), first)
        if problem:
            self._fail(AttemptFailed(problem, backoff=False))
        items, damage = parse_variants(text)
        # The gates cost milliseconds per sample: off the loop thread, so other seeds' requests start on time.
        await asyncio.to_thread(pool.add, items)
        if pool.missing:
            self._fail(AttemptFailed(damage or "too-few", backoff=False))

    async def _reply(self, request: Request, first: bool) -> tuple[str, str]:
        """Return the next reply to this request: replayed from the cache, else fetched and stored at once."""
        stored = self.cache.get(request.key) if self.cache else None
        if stored is not None:
            self.stats["cache_hits"] += 1
            text, problem = decode_reply(stored)
        else:
            text, problem = await self._call(request.prompt, request.params, first)
            if self.cache is not None:
                self.cache.put(request.key, self.settings.model, encode_reply(text, problem))
        # Counted only after a reply: a request that got none (429, 5xx, timeout) is resent with the same seed.
        self._repeats[request.identity] += 1
        return text, problem

    async def _call(self, prompt: str, params: dict, first: bool) -> tuple[str, str]:
        """Send one generateContent request within the concurrency and rate limits; return its text and problem."""
        # Retries and follow-ups go before first requests: a started seed finishes instead of queueing behind all.
        async with self.slots.slot(priority=1 if first else 0):
            await self.limiter.wait()
            if self.rejected:
                raise self.rejected
            self.stats["api_calls"] += 1
            config = self.types.GenerateContentConfig(system_instruction=self.system, **params)
            try:
                async with asyncio.timeout(self.settings.timeout):
                    response = await self.client.aio.models.generate_content(
                        model=self.settings.model, contents=prompt, config=config
                    )
            except Exception as error:  # noqa: BLE001 - classified below; anything unknown is re-raised
                self._fail(self._classify(error) or error)
        self._count_usage(response)
        return _reply_text(response)

    def _fail(self, error: Exception) -> None:
        if isinstance(error, AttemptFailed):
            self.stats["failed_attempts"][error.reason] += 1
        raise error

    def _classify(self, error: Exception) -> AttemptFailed | Rejected | None:
        """Map an SDK or transport error to a retryable reason, a run-wide rejection, or None if unknown."""
        if isinstance(error, self.errors.APIError):
            return _classify_api_error(error, self.settings.model)
        if isinstance(error, TimeoutError) or _is_transport(error, "Timeout"):
            return AttemptFailed("timeout")
        if isinstance(error, ConnectionError) or _is_transport(error, ""):
            return AttemptFailed("connection")
        return None

    def _count_usage(self, response) -> None:
        usage = response.usage_metadata
        if usage is None:
            return
        tokens = self.stats["tokens"]
        tokens["prompt"] += usage.prompt_token_count or 0
        tokens["output"] += usage.candidates_token_count or 0
        tokens["total"] += usage.total_token_count or 0

    def _note_rejection(self, rejected: Rejected) -> None:
        """Switch the run offline with one warning, or stop it when fallback is off."""
        first = self.rejected is None
        self.rejected = self.rejected or rejected
        if not self.settings.fallback:
            raise RunError(f"{rejected}; stopping (--no-fallback)")
        if first:
            log.warning("%s; building the remaining seeds offline", rejected)


@dataclass(frozen=True, slots=True)
class BatchReply:
    """One item of a finished batch job: its request's cache key and reply, or the error that left it without one."""

    key: str
    text: str = ""
    problem: str = ""
    error: str = ""


@dataclass(frozen=True, slots=True)
class BatchStatus:
    """A batch job's state (JOB_STATE_ prefix dropped, e.g. RUNNING, SUCCEEDED) and, once finished, its replies."""

    state: str
    replies: list[BatchReply]
    tokens: dict


class BatchCallFailed(Exception):
    """A Batch API call failed (HTTP error or transport); code is the HTTP status, 0 without one."""

    def __init__(self, message: str, code: int = 0):
        super().__init__(message)
        self.code = code


class GeminiBatches:
    """Submit paraphrase requests as one Gemini Batch job (inline requests) and read its state and replies."""

    def __init__(self, api_key: str, settings: GeminiSettings):
        from google import genai
        from google.genai import errors, types

        self.settings = settings
        self.types = types
        self.errors = errors
        self.client = genai.Client(api_key=api_key, http_options=types.HttpOptions(timeout=int(settings.timeout * 1000)))

    def __enter__(self) -> GeminiBatches:
        return self

    def __exit__(self, *exc_info) -> None:
        self.client.close()

    def submit(self, requests: Sequence[Request], system: str, display_name: str) -> str:
        """Create the job with the same contents and config as the live calls; return its name (batches/ID)."""
        src = [
            {
                "contents": request.prompt,
                "config": self.types.GenerateContentConfig(system_instruction=system, **_sdk_copy(request.params)),
                "metadata": {"key": request.key},
            }
            for request in requests
        ]
        job = self._call(self.client.batches.create, model=self.settings.model, src=src, config={"display_name": display_name})
        return job.name

    def status(self, name: str, keys: Sequence[str]) -> BatchStatus:
        """Return the job's state and, once it has them, its replies (keys name the items in submission order)."""
        job = self._call(self.client.batches.get, name=name)
        state = getattr(job.state, "value", str(job.state or "JOB_STATE_UNSPECIFIED")).removeprefix("JOB_STATE_")
        items = (job.dest.inlined_responses if job.dest else None) or []
        tokens: Counter = Counter()
        replies = [_batch_reply(item, keys[i] if i < len(keys) else "", tokens) for i, item in enumerate(items)]
        return BatchStatus(state, replies, dict(tokens))

    def _call(self, method, **kwargs):
        try:
            return method(**kwargs)
        except self.errors.APIError as error:
            raise BatchCallFailed(f"HTTP {error.code} {error.status}: {error.message}", error.code or 0) from None
        except Exception as error:  # noqa: BLE001 - transport errors get one line; anything else is a bug, re-raised
            if isinstance(error, (TimeoutError, ConnectionError)) or _is_transport(error, ""):
                raise BatchCallFailed(f"{type(error).__name__}: {error}") from None
            raise


def _sdk_copy(params: dict) -> dict:
    """Return a deep copy of request parameters for batches.create, which rewrites schema dicts in place."""
    # It renames keys such as property_ordering inside the shared RESPONSE_SCHEMA: every later cache key in the
    # process would change, and the live path would miss the replies the batch job just put in the cache.
    return copy.deepcopy(params)


def _batch_reply(item, key: str, tokens: Counter) -> BatchReply:
    """Turn one inlined response into a BatchReply, adding its usage to tokens."""
    key = (item.metadata or {}).get("key") or key
    if item.response is None:
        error = item.error
        return BatchReply(key, error=f"code {error.code}: {error.message}" if error else "no response")
    usage = item.response.usage_metadata
    if usage is not None:
        tokens["prompt"] += usage.prompt_token_count or 0
        tokens["output"] += usage.candidates_token_count or 0
        tokens["total"] += usage.total_token_count or 0
    text, problem = _reply_text(item.response)
    return BatchReply(key, text, problem)


def _classify_api_error(error, model: str) -> AttemptFailed | Rejected:
    code = error.code or 0
    if code in _KEY_CODES or (code == 400 and _mentions_key(error)):
        return Rejected("key-rejected", f"Gemini rejected the API key (HTTP {code} {error.status}); check GEMINI_API_KEY or GOOGLE_API_KEY")
    if code == 404:
        return Rejected("model-not-found", f"Gemini has no model '{model}' (HTTP 404); pass a current one with --model")
    if code == 429:
        wait = _retry_after(error)
        return AttemptFailed("quota", retry=wait is None or wait <= _MAX_RETRY_AFTER, retry_after=wait)
    if code == 408:
        return AttemptFailed("timeout", retry_after=_retry_after(error))
    if code >= 500:
        return AttemptFailed("server-error", retry_after=_retry_after(error))
    return AttemptFailed("bad-request", retry=False)


def _mentions_key(error) -> bool:
    return "API_KEY" in str(error.details) or "API key" in (error.message or "")


def _is_transport(error: Exception, name_part: str) -> bool:
    """Tell whether error comes from the SDK's HTTP stack (httpx2, httpx or aiohttp), optionally by class name."""
    return any(
        cls.__module__.split(".")[0] in {"httpx", "httpx2", "aiohttp", "httpcore"} and name_part in cls.__name__
        for cls in type(error).__mro__
    )


def _retry_after(error) -> float | None:
    """Return the server's wait hint in seconds: the Retry-After header, else the body's RetryInfo."""
    headers = getattr(getattr(error, "response", None), "headers", None) or {}
    value = headers.get("retry-after") if hasattr(headers, "get") else None
    if value:
        seconds = _header_seconds(value)
        if seconds is not None:
            return seconds
    details = (error.details or {}).get("error", {}).get("details", []) if isinstance(error.details, dict) else []
    for detail in details:
        match = _RETRY_DELAY_RE.match(str(detail.get("retryDelay", ""))) if isinstance(detail, dict) else None
        if match:
            return float(match.group(1))
    return None


def _header_seconds(value: str) -> float | None:
    """Read Retry-After as seconds or as an HTTP date."""
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _reply_text(response) -> tuple[str, str]:
    """Return the reply's text and "" or why there is none (blocked prompt or output, empty candidates)."""
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason:
        return "", "blocked"
    if not response.candidates:
        return "", "empty"
    candidate = response.candidates[0]
    parts = candidate.content.parts if candidate.content and candidate.content.parts else []
    text = "".join(part.text for part in parts if part.text and not part.thought)
    if text:
        return text, ""
    finish = getattr(candidate.finish_reason, "name", str(candidate.finish_reason or ""))
    return "", "blocked" if finish in _BLOCKING_FINISH else "empty"
