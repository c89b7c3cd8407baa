"""The requests-per-minute limiter."""

from __future__ import annotations

import asyncio
import time

from augment.generators.gemini.ratelimit import RateLimiter


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
    # The k-th start is never earlier than k x 50 ms after the first (a busy machine can only make it later).
    assert all(stamp - stamps[0] >= 0.05 * k - 0.005 for k, stamp in enumerate(stamps))


def test_slots_bound_holders_and_serve_lower_priority_numbers_first():
    from augment.generators.gemini.ratelimit import PrioritySlots

    async def scenario():
        slots = PrioritySlots(2)
        order, held, peak = [], [0], [0]

        async def job(name: str, priority: int):
            async with slots.slot(priority):
                held[0] += 1
                peak[0] = max(peak[0], held[0])
                order.append(name)
                await asyncio.sleep(0.01)
                held[0] -= 1

        first = [asyncio.create_task(job(f"a{i}", 1)) for i in range(4)]
        await asyncio.sleep(0)  # a0 and a1 hold the slots, a2 and a3 queue
        late = asyncio.create_task(job("retry", 0))
        cancelled = asyncio.create_task(job("gone", 0))
        await asyncio.sleep(0)
        cancelled.cancel()
        await asyncio.gather(*first, late, return_exceptions=True)
        return order, peak[0]

    order, peak = asyncio.run(scenario())
    assert peak == 2
    assert order == ["a0", "a1", "retry", "a2", "a3"]
