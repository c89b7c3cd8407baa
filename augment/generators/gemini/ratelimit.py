"""Limit requests: evenly spaced starts for a requests-per-minute quota, and prioritised concurrency slots."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from contextlib import asynccontextmanager


class RateLimiter:
    """Hand out start times at most rpm per minute, evenly spaced (no bursts); rpm None means no limit."""

    def __init__(self, rpm: float | None, clock: Callable[[], float] = time.monotonic):
        self.interval = 60.0 / rpm if rpm else 0.0
        self._clock = clock
        self._next = 0.0

    def reserve(self) -> float:
        """Book the next start slot and return how many seconds to wait for it."""
        if not self.interval:
            return 0.0
        now = self._clock()
        start = max(now, self._next)
        self._next = start + self.interval
        return start - now

    async def wait(self) -> None:
        """Sleep until this caller's start slot."""
        # Reserving before sleeping (no await in between) keeps slots unique on one event loop without a lock.
        delay = self.reserve()
        if delay > 0:
            await asyncio.sleep(delay)


class PrioritySlots:
    """Let at most size holders in at once; a waiter with a lower priority number goes first, ties in arrival order."""

    def __init__(self, size: int):
        self._free = size
        self._waiters: list[tuple[int, int, asyncio.Future]] = []
        self._arrivals = itertools.count()

    @asynccontextmanager
    async def slot(self, priority: int = 0):
        """Hold one slot for the duration of the with-block."""
        await self._acquire(priority)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, priority: int) -> None:
        if self._free and not self._waiters:
            self._free -= 1
            return
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._arrivals), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():  # handed a slot just as we were cancelled: pass it on
                self._release()
            raise

    def _release(self) -> None:
        while self._waiters:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():  # skip waiters cancelled while queued
                future.set_result(None)
                return
        self._free += 1
