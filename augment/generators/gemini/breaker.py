"""A circuit breaker: stop calling an endpoint that has failed a run of requests in a row with no success between."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")

# What a dead or unreachable endpoint looks like. Any other answer (a reply, a 429, a 400) shows it is alive.
BREAKING = frozenset({"timeout", "connection", "server-error", "bad-response"})
_MIN_TRIP = 8


def trip_after(concurrency: int) -> int:
    """Return how many failures in a row trip the breaker: two full waves of in-flight requests, at least 8.

    Requests fail in waves of up to `concurrency` when an endpoint dies, so one wave can be bad luck and two cannot;
    the floor of 8 keeps the retries of one or two unlucky seeds (up to 5 attempts each by default) from tripping it.
    """
    return max(_MIN_TRIP, 2 * concurrency)


class BreakerOpen(Exception):
    """The breaker has tripped: no request is sent any more in this run."""


class Breaker:
    """Count consecutive failures of the endpoint; trip once they reach the limit, and cut off what is in flight."""

    def __init__(self, limit: int):
        self.limit = limit
        self.streak: Counter = Counter()  # the reasons of the failures since the last success
        self.skipped = 0  # seeds left to the offline generator because the breaker was open
        self.open = False  # stays open for the rest of the run, over every event loop the run uses
        self._waiters: set[asyncio.Future] = set()  # calls in flight, each woken if the breaker trips

    def record(self, reason: str) -> bool:
        """Count one answer ("" or a failure reason); return True if this one tripped the breaker."""
        if self.open:
            return False
        if reason not in BREAKING:
            self.streak.clear()  # the endpoint answered: whatever failed before was not a dead endpoint
            return False
        self.streak[reason] += 1
        if sum(self.streak.values()) < self.limit:
            return False
        self.open = True
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        return True

    def check(self) -> None:
        """Raise BreakerOpen if the breaker has tripped."""
        if self.open:
            raise BreakerOpen()

    async def guard(self, call: Awaitable[T]) -> T:
        """Await call, but abandon it and raise BreakerOpen as soon as the breaker trips (no waiting out a timeout)."""
        self.check()
        task = asyncio.ensure_future(call)
        tripped = asyncio.get_running_loop().create_future()
        self._waiters.add(tripped)
        try:
            await asyncio.wait({task, tripped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._waiters.discard(tripped)
            tripped.cancel()
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if task.cancelled():
            raise BreakerOpen()
        return task.result()

    def summary(self) -> dict:
        """Return what the report says of a tripped breaker: its limit, the failures that tripped it, seeds skipped."""
        return {"after": self.limit, "failures": dict(sorted(self.streak.items())), "skipped_seeds": self.skipped}

    def message(self) -> str:
        """Return the one line that says the breaker tripped."""
        reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(self.streak.items()))
        return (
            f"Gemini failed {self.limit} requests in a row with no success in between ({reasons}); circuit breaker: "
            "no more requests in this run, the remaining seeds are built offline (exit 3)"
        )
