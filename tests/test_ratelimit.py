"""The rate limiter never lets more than N messages into any window (fake clock)."""

from __future__ import annotations

import asyncio

from hypothesis import example, given
from hypothesis import strategies as st

from mailer.ratelimit import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


@given(
    count=st.integers(1, 50),
    period=st.sampled_from([1.0, 60.0, 3600.0]),
    gaps=st.lists(st.floats(0, 5, allow_nan=False), min_size=1, max_size=120),
    workers=st.integers(1, 6),
)
@example(count=3, period=1.0, gaps=[0.0] * 8, workers=1)  # thirds that round down
def test_never_more_than_n_per_window(count, period, gaps, workers):
    clock = FakeClock()
    limiter = RateLimiter(count, period, clock=clock, sleep=clock.sleep)
    times: list[float] = []

    async def worker(my_gaps: list[float]) -> None:
        for gap in my_gaps:
            clock.now += gap * period / count
            await limiter.acquire()
            times.append(clock())

    async def main() -> None:
        await asyncio.gather(*(worker(gaps[i::workers]) for i in range(workers)))

    asyncio.run(main())
    times.sort()
    # Slots are spaced by period/count in floating point: three thirds of a
    # second can add up to 0.9999999999999998, so allow rounding, not a message.
    window = period * (1 - 1e-9)
    for i, start in enumerate(times):
        inside = [t for t in times[i:] if t < start + window]
        assert len(inside) <= count


def test_unlimited_never_waits():
    clock = FakeClock()
    limiter = RateLimiter(None, clock=clock, sleep=clock.sleep)

    async def main() -> None:
        for _ in range(1000):
            assert await limiter.acquire()

    asyncio.run(main())
    assert clock.now == 0.0
    assert not limiter.would_wait()


def test_stop_ends_a_wait_without_taking_a_slot():
    clock = FakeClock()
    stop = asyncio.Event()

    async def stopping_sleep(seconds: float) -> None:
        stop.set()

    limiter = RateLimiter(1, 60.0, clock=clock, sleep=stopping_sleep)

    async def main() -> list[bool]:
        return [await limiter.acquire(stop), await limiter.acquire(stop)]

    assert asyncio.run(main()) == [True, False]
    assert limiter.would_wait()
