"""The requests one seed needs: prompt, generation parameters, cache key, and the replay of what is cached."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from augment.generators.gemini.cache import request_key
from augment.generators.gemini.margin import Margin, margins_to_try
from augment.generators.gemini.models import generation_settings
from augment.generators.gemini.replies import cached_answer
from augment.generators.variants import RESPONSE_SCHEMA, VariantPool, paraphrase_prompt, parse_variants, system_instruction
from augment.records import Seed

if TYPE_CHECKING:
    from augment.generators.gemini.cache import ResponseCache
    from augment.generators.gemini.settings import GeminiSettings


@dataclass(frozen=True, slots=True)
class Request:
    """One paraphrase request as sent: prompt, parameters (sampling seed included) and cache key."""

    seed: Seed
    n: int  # variants asked for
    prompt: str
    params: dict
    key: str
    identity: str  # the key of the request without its repeat's sampling seed


class RequestPlanner:
    """Build the requests of the live path, so a dry run and a batch job use the same ones under the same keys."""

    def __init__(self, settings: GeminiSettings, margin: Margin | None = None):
        self.margin = margin or Margin()
        self.model = settings.model
        self.temperature = settings.temperature
        self.random_seed = settings.random_seed
        self.attempts = settings.retries + 1
        self.system = system_instruction()

    def params(self, seed: Seed, n: int) -> dict:
        """Return the generation parameters of one request (part of its cache key)."""
        params = {
            "seed": self.random_seed,
            "max_output_tokens": 1024 + n * (len(seed.question) + len(seed.answer) + 200),
            "response_mime_type": "application/json",
            "response_schema": RESPONSE_SCHEMA,
        }
        # Paraphrasing needs little reasoning, and thinking tokens count against max_output_tokens and bill as output.
        return params | generation_settings(self.model, self.temperature)

    def request(self, pool: VariantPool, repeats: Counter, extra: int = 0) -> Request:
        """Return the next request for the variants still missing from pool, plus `extra` more."""
        # The k-th repeat of a request in a run is sent with sampling seed + k (a retry after a bad reply must not get
        # the same reply back) and cached under that seed, so a rerun replays the same sequence and makes no call.
        n = pool.missing + extra
        prompt = paraphrase_prompt(pool.seed, n, pool.seen)
        params = self.params(pool.seed, n)
        identity = request_key(model=self.model, system=self.system, prompt=prompt, params=params)
        sent = params | {"seed": self.random_seed + repeats[identity]}
        key = request_key(model=self.model, system=self.system, prompt=prompt, params=sent)
        return Request(pool.seed, n, prompt, sent, key, identity)

    def first_request(self, pool: VariantPool, repeats: Counter, cache: ResponseCache | None) -> Request:
        """Return a seed's first request: with this run's margin, unless the cache answers it with another margin."""
        # The margin follows the rate learnt so far, so it may differ from the run that filled the cache: any margin's
        # cached answer is replayed, and a rerun makes no call.
        extra = self.margin.extra(pool.missing)
        if cache is not None:
            for other in margins_to_try(pool.missing, extra):
                request = self.request(pool, repeats, other)
                if cached_answer(cache.get(request.key)) is not None:
                    return request
        return self.request(pool, repeats, extra)

    def next_uncached(self, seed: Seed, n: int, cache: ResponseCache | None) -> Request | None:
        """Replay a seed's cached replies as the live path would; return the first request not cached, or None."""
        if n < 1:
            return None
        pool = VariantPool(seed, n)
        repeats: Counter = Counter()
        for attempt in range(self.attempts):
            request = self.request(pool, repeats) if attempt else self.first_request(pool, repeats, cache)
            answer = cached_answer(cache.get(request.key)) if cache is not None else None
            if answer is None:  # not asked yet, or junk: the live path asks again
                return request
            repeats[request.identity] += 1
            pool.add(parse_variants(answer[0])[0])
            if not pool.missing:
                return None
        return None  # the live path gives up after these attempts too and fills the seed offline
