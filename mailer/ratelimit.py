"""The global sending rate: a token bucket of capacity one shared by every connection.

A capacity of one spaces messages evenly (30/min = one every two seconds), so no
window of the configured length ever holds more than N messages, whichever
connection sends them. Clock and sleep are injectable so tests run on a fake clock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class RateLimiter:
    """At most ``count`` acquisitions in any window of ``period`` seconds.

    ``count=None`` means no limit (the Maildir outbox, or ``--rate unlimited``).
    """

    def __init__(
        self,
        count: int | None,
        period: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.interval = period / count if count else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")
        self._lock = asyncio.Lock()

    def would_wait(self) -> bool:
        """True when the next acquisition cannot happen now (lets callers commit first)."""
        return self.interval > 0 and self._clock() < self._next

    async def acquire(self, stop: asyncio.Event | None = None) -> bool:
        """Wait for the next slot, granted one at a time in call order.

        Returns False, without taking a slot, once ``stop`` is set: the injected
        sleep may return early on a stop so that Ctrl-C never waits for a slot.
        """
        if not self.interval:
            return not (stop and stop.is_set())
        async with self._lock:
            while not (stop and stop.is_set()):
                now = self._clock()
                if now >= self._next:
                    self._next = now + self.interval
                    return True
                await self._sleep(self._next - now)
            return False
