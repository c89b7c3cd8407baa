"""Space request starts evenly so that a run never exceeds a requests-per-minute quota."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


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
