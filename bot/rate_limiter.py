"""python-telegram-bot's requests paced by our Pacer: one allowance for replies and campaigns.

Every message the bot sends, whoever sends it, draws on the credential's pacer
(30/s overall and 1/s per chat by default). Campaign sends pass
``rate_limit_args={"bulk": True, "paced": True}``: their dispatcher already took
a slot, giving way to replies. A 429 pauses every
sender for ``retry_after`` and the request is tried again, a few times.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from polls.pacing import Pacer

logger = logging.getLogger(__name__)

SENDING = frozenset(
    {"sendMessage", "sendDocument", "sendPhoto", "sendPoll", "copyMessage", "forwardMessage"}
)


def _seconds(error: RetryAfter) -> float:
    delay = error.retry_after
    return delay.total_seconds() if hasattr(delay, "total_seconds") else float(delay)


class PacedRateLimiter(BaseRateLimiter[dict[str, Any]]):
    def __init__(self, pacer: Pacer, *, max_retries: int = 3) -> None:
        self.pacer = pacer
        self.max_retries = max_retries
        self.flood_waits = 0
        """How often Telegram said 429 despite the pacing (should stay 0)."""

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        bulk = bool(rate_limit_args and rate_limit_args.get("bulk"))
        # A campaign dispatcher takes its slot from the same pacer before it marks a
        # message as being sent; such a request must not take a second one.
        already_paced = bool(rate_limit_args and rate_limit_args.get("paced"))
        paced = endpoint in SENDING and not already_paced
        for attempt in range(self.max_retries + 1):
            # A retry after a 429 always waits for a fresh slot, paced caller or not.
            if paced or (attempt and endpoint in SENDING):
                await self.pacer.acquire(data.get("chat_id"), bulk=bulk)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as flood:
                self.flood_waits += 1
                self.pacer.pause(_seconds(flood) + 0.1)
                if attempt == self.max_retries:
                    raise
                logger.info("Telegram asked to slow down: pausing %.1f s", _seconds(flood))
        raise AssertionError("unreachable")
