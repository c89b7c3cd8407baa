"""The requests-per-minute limiter."""

from __future__ import annotations

import asyncio
import time

from augment.ratelimit import RateLimiter


def test_slots_are_evenly_spaced_from_now():
    now = [100.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    assert [limiter.reserve() for _ in range(3)] == [0.0, 1.0, 2.0]
    now[0] = 110.0  # idle for a while: no burst credit is saved up
    assert [limiter.reserve() for _ in range(2)] == [0.0, 1.0]


def test_no_limit_never_waits():
    limiter = RateLimiter(None)
    assert limiter.reserve() == limiter.reserve() == 0.0


def test_wait_sleeps_until_the_slot():
    async def starts():
        limiter = RateLimiter(1200)  # one start every 50 ms
        stamps = []

        async def one():
            await limiter.wait()
            stamps.append(time.monotonic())

        await asyncio.gather(*(one() for _ in range(4)))
        return stamps

    stamps = asyncio.run(starts())
    assert all(b - a >= 0.045 for a, b in zip(stamps, stamps[1:]))
