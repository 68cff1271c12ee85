"""Pacing sends to a platform's limits: a rate overall, a rate per recipient, replies first.

Telegram allows about 30 messages a second to different chats and one a second
to the same chat (1,000 a second overall with paid broadcasts); an SMS sender
has a rate of its own. One ``Pacer`` per channel credential is shared by every
sender of that credential, so replies in a conversation and campaign messages
draw on the same allowance, and replies never wait behind a broadcast: a bulk
send only takes a slot while no reply is waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    capacity: float
    rate: float
    tokens: float
    updated: float

    def wait(self, now: float) -> float:
        """Refill, then the seconds until a token is there (0 when one is)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        # A refill can land a hair under a whole token; that must not spin on tiny waits.
        return 0.0 if self.tokens >= 1.0 - 1e-9 else (1.0 - self.tokens) / self.rate


class Pacer:
    def __init__(
        self,
        rate: float | None,
        *,
        per_recipient: float | None = None,
        recipient_burst: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``rate`` per second overall, ``per_recipient`` per second to one recipient.

        None turns a limit off. The overall bucket holds a tenth of a second's
        worth: the platform's own bucket holds about a second, and spending it
        all at once would leave no room for a request that overtakes another on
        the way (the platform then answers 429).
        """
        self.rate = rate
        self.per_recipient = per_recipient
        self._recipient_burst = float(recipient_burst)
        self._clock = clock
        self._bulk_line = asyncio.Lock()
        now = clock()
        capacity = max(1.0, (rate or 1.0) / 10)
        self._overall = _Bucket(capacity, rate or 1.0, capacity, now) if rate else None
        self._recipients: dict[Hashable, _Bucket] = {}
        self._paused_until = 0.0
        self._replies_waiting = 0
        self.waited = 0.0
        """Seconds spent waiting for a slot, all senders together (for benchmarks)."""

    def pause(self, seconds: float) -> None:
        """The platform said 'retry after': nobody sends until then."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def _recipient_bucket(self, recipient: Hashable, now: float) -> _Bucket | None:
        if self.per_recipient is None or recipient is None:
            return None
        bucket = self._recipients.get(recipient)
        if bucket is None:
            if len(self._recipients) > 50_000:  # forget recipients who have been quiet
                self._recipients = {
                    key: b for key, b in self._recipients.items() if b.wait(now) > 0
                }
            burst = self._recipient_burst
            bucket = self._recipients[recipient] = _Bucket(burst, self.per_recipient, burst, now)
        return bucket

    async def acquire(self, recipient: Hashable | None = None, *, bulk: bool = False) -> None:
        """Wait for a slot to send to ``recipient``; a bulk send yields to waiting replies.

        Bulk senders queue first come, first served: only the head of the line
        watches the clock, instead of every waiting sender waking for each slot.
        """
        if bulk:
            async with self._bulk_line:
                await self._acquire(recipient, bulk=True)
            return
        await self._acquire(recipient, bulk=False)

    async def _acquire(self, recipient: Hashable | None, *, bulk: bool) -> None:
        if not bulk:
            self._replies_waiting += 1
        try:
            while True:
                now = self._clock()
                wait = self._paused_until - now
                if wait <= 0 and bulk and self._replies_waiting:
                    wait = 0.001
                if wait <= 0:
                    overall = self._overall.wait(now) if self._overall else 0.0
                    bucket = self._recipient_bucket(recipient, now)
                    wait = max(overall, bucket.wait(now) if bucket else 0.0)
                    if wait <= 0:
                        if self._overall:
                            self._overall.tokens -= 1.0
                        if bucket:
                            bucket.tokens -= 1.0
                        return
                self.waited += wait
                await asyncio.sleep(wait)
        finally:
            if not bulk:
                self._replies_waiting -= 1
