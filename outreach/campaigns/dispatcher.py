"""Dispatch: the outbox sent at the platforms' pace, each message exactly once.

One dispatcher per channel credential sends, in any number of service
processes: it holds a lock named after the credential (a PostgreSQL advisory
lock), and another process takes over within seconds when its holder dies.

For each message: wait for a slot from the credential's pacer (replies go
first), durably mark it ``sending``, send, record the outcome. What a crash
leaves ``sending`` was in flight: whether it arrived is unknown, Telegram has no
idempotency key, so it is marked ``unknown``, counted and shown, and never
resent by itself (a duplicate is worse for a participant than a miss; staff see
the count). Retryable failures (429 after pausing, 5xx, no connection) go back
to ``pending`` with a growing delay, up to ``MAX_ATTEMPTS``; permanent ones (the
person blocked the bot, an invalid or opted-out number) are never retried and
the person is marked unreachable on that channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from outreach.campaigns.rendering import campaign_message
from polls.errors import SendError
from polls.messages import Outbound
from polls.pacing import Pacer
from storage.campaigns import CampaignRepository, DueMessage, StoredCampaign
from storage.database import Database
from storage.models import utcnow
from storage.respondents import RespondentRepository

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
Send = Callable[[DueMessage, Outbound], Awaitable[str]]
"""Sends one message (already paced); returns the provider's id or raises SendError."""


def retry_delay(attempts: int) -> timedelta:
    """2 s, 4 s, 8 s... up to five minutes."""
    return timedelta(seconds=min(300, 2**attempts))


@dataclass
class ChannelRoute:
    """How campaign messages go out on one channel credential."""

    channel: str
    credential: str
    pacer: Pacer
    send: Send


@dataclass
class DispatchCounters:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    unknown: int = 0
    skipped: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)


class Dispatcher:
    def __init__(
        self,
        db: Database,
        routes: Mapping[str, ChannelRoute],
        *,
        zone: ZoneInfo,
        clock: Callable[[], datetime] = utcnow,
        in_flight: int = 100,
        idle_wait: float = 0.5,
    ) -> None:
        self.db = db
        self.routes = dict(routes)
        self.zone = zone
        self.clock = clock
        self.in_flight = in_flight
        self.idle_wait = idle_wait
        self.counters = DispatchCounters()
        self.holding: set[str] = set()
        """Channels this process currently dispatches (it holds their lock)."""
        self._tasks: list[asyncio.Task[None]] = []
        self._campaigns: dict[str, tuple[float, StoredCampaign | None]] = {}
        self._run_purposes: dict[int, str] = {}
        self._stopping = asyncio.Event()
        self.wake = asyncio.Event()
        """Set to look at the outbox at once (a run was just filled)."""

    async def start(self) -> None:
        self._stopping.clear()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._serve(route), name=f"dispatch:{route.channel}")
            for route in self.routes.values()
        ]

    async def stop(self) -> None:
        self._stopping.set()
        self.wake.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []

    async def _serve(self, route: ChannelRoute) -> None:
        async with self.db.exclusive(f"dispatch:{route.credential}"):
            self.holding.add(route.channel)
            logger.info("dispatching %s campaign messages from this process", route.channel)
            try:
                recovered = await self.db.write(
                    lambda s: CampaignRepository(s).recover(channel=route.channel)
                )
                if recovered:
                    logger.warning(
                        "%s: %d campaign messages were in flight when the last dispatcher "
                        "stopped; marked unknown, not resent",
                        route.channel,
                        recovered,
                    )
                await self._loop(route)
            finally:
                self.holding.discard(route.channel)

    def _window(self, route: ChannelRoute) -> int:
        """Sends in flight at once: a tenth of a second's worth keeps the pace full, and
        is all a crash can leave 'unknown'."""
        if route.pacer.rate is None:
            return self.in_flight
        return max(4, min(self.in_flight, int(route.pacer.rate / 10)))

    async def _loop(self, route: ChannelRoute) -> None:
        window = self._window(route)
        slots = asyncio.Semaphore(window)
        flying: set[int] = set()
        pending_tasks: set[asyncio.Task[None]] = set()
        while not self._stopping.is_set():
            now = self.clock()
            due = await self.db.read(
                lambda s, now=now: CampaignRepository(s).due(  # type: ignore[misc]
                    channel=route.channel, now=now, limit=window * 2
                )
            )
            fresh = [m for m in due if m.id not in flying]
            if not fresh:
                await self.db.write(lambda s: CampaignRepository(s).finish_runs())
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.idle_wait)
                continue
            for message in fresh:
                await slots.acquire()
                if self._stopping.is_set():
                    slots.release()
                    break
                flying.add(message.id)
                task = asyncio.get_running_loop().create_task(self._deliver(route, message))
                pending_tasks.add(task)

                def done(t: asyncio.Task[None], message_id: int = message.id) -> None:
                    flying.discard(message_id)
                    pending_tasks.discard(t)
                    slots.release()

                task.add_done_callback(done)
        if pending_tasks:
            await asyncio.gather(*pending_tasks, return_exceptions=True)

    async def _campaign(self, campaign_id: str) -> StoredCampaign | None:
        """The campaign, re-read now and then so a pause or a cancel is seen quickly."""
        loop = asyncio.get_running_loop()
        cached = self._campaigns.get(campaign_id)
        if cached is not None and loop.time() - cached[0] < 1.0:
            return cached[1]
        stored = await self.db.read(lambda s: CampaignRepository(s).get(campaign_id=campaign_id))
        self._campaigns[campaign_id] = (loop.time(), stored)
        return stored

    async def _is_reminder(self, run_id: int) -> bool:
        purpose = self._run_purposes.get(run_id)
        if purpose is None:
            run = await self.db.read(lambda s: CampaignRepository(s).run(run_id=run_id))
            purpose = self._run_purposes[run_id] = run["purpose"] if run else "broadcast"
        return purpose == "reminder"

    async def _deliver(self, route: ChannelRoute, message: DueMessage) -> None:
        stored = await self._campaign(message.campaign_id)
        if stored is None or stored.status != "scheduled":
            return  # paused or cancelled meanwhile: the row waits or is skipped
        outbound = campaign_message(
            stored.campaign,
            message.language,
            message.channel,
            self.zone,
            reminder=await self._is_reminder(message.run_id),
        )
        await route.pacer.acquire(message.address, bulk=True)
        claimed = await self.db.write_batched(
            lambda s: CampaignRepository(s).move(
                message_id=message.id,
                expected="pending",
                status="sending",
                attempts=message.attempts + 1,
            )
        )
        if not claimed:
            return
        try:
            provider_id = await route.send(message, outbound)
        except SendError as error:
            await self._record_failure(route, message, error)
            return
        except Exception as error:  # a bug, not a send outcome: do not guess
            logger.exception("sending a campaign message failed unexpectedly")
            await self._record_failure(
                route, message, SendError(repr(error), retryable=False, reason="unknown")
            )
            return
        self.counters.sent += 1
        self.counters.by_channel[route.channel] = self.counters.by_channel.get(route.channel, 0) + 1
        await self.db.write_batched(
            lambda s: CampaignRepository(s).move(
                message_id=message.id, expected="sending", status="sent", provider_id=provider_id
            )
        )

    async def _record_failure(
        self, route: ChannelRoute, message: DueMessage, error: SendError
    ) -> None:
        attempts = message.attempts + 1
        text = str(error)[:200]
        if error.reason == "unknown":
            self.counters.unknown += 1
            status, values = "unknown", {"error": text}
        elif error.retryable and attempts < MAX_ATTEMPTS:
            self.counters.retried += 1
            status = "pending"
            values = {"error": text, "not_before": self.clock() + retry_delay(attempts)}
        elif error.reason == "opted_out":
            self.counters.skipped += 1
            status, values = "skipped", {"error": text, "error_code": error.code}
        else:
            self.counters.failed += 1
            status, values = "failed", {"error": text, "error_code": error.code}

        def record(session: Session) -> None:
            CampaignRepository(session).move(
                message_id=message.id, expected="sending", status=status, **values
            )
            if error.reason == "unreachable":
                RespondentRepository(session).mark_unreachable(
                    channel=message.channel, address=message.address, at=self.clock()
                )

        await self.db.write_batched(record)
