"""When campaigns fire: APScheduler 3 as the clock, our tables as the truth.

Scheduled campaigns are read from the database (every few seconds, so a
campaign scheduled from the CLI in another process is picked up) and each gets
a timer: at its time, on each cron time, or at once. Firing creates the run for
that due time; the run's unique (campaign, due time) makes a campaign fire once
however many restarts or service processes there are. A run whose outbox was
being written when a process died is resumed. A missed firing (the service was
down) is caught up if it is less than an hour old; older ones are skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import select

from outreach.campaigns.dispatcher import Dispatcher
from outreach.campaigns.filling import fill_run
from polls.campaign import Campaign
from storage.campaigns import CampaignRepository, StoredCampaign
from storage.database import Database
from storage.models import EventRsvp, utcnow

logger = logging.getLogger(__name__)

GRACE = timedelta(hours=1)
SYNC_EVERY = 5.0


def _cron_until(cron: str, timezone: str, until: datetime) -> CronTrigger:
    fields = cron.split()
    minute, hour, day, month, day_of_week = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=day_of_week,
        timezone=ZoneInfo(timezone),
        end_date=until,
    )


def last_fire_time(trigger: CronTrigger, now: datetime, since: datetime) -> datetime | None:
    """The latest time ``trigger`` fired in (since, now], if any."""
    latest = None
    moment = trigger.get_next_fire_time(None, since)
    while moment is not None and moment <= now:
        latest = moment
        moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
    return latest


class CampaignScheduler:
    def __init__(
        self,
        db: Database,
        dispatcher: Dispatcher | None,
        *,
        zones: Mapping[str, str],
        default_zone: str,
        clock: Any = utcnow,
    ) -> None:
        self.db = db
        self.dispatcher = dispatcher
        self.zones = dict(zones)
        self.default_zone = default_zone
        self.clock = clock
        self._aps: AsyncIOScheduler | None = None
        self._jobs: dict[str, str] = {}
        """Job id -> a fingerprint of what it was made from, to redo changed ones."""
        self._filling: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._aps = AsyncIOScheduler(timezone=UTC)
        self._aps.start()
        self._aps.add_job(self.sync, "interval", seconds=SYNC_EVERY, id="sync", coalesce=True)
        await self.sync()

    async def stop(self) -> None:
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, work: Any) -> None:
        """Run ``work`` beside the scheduler, and let stop() wait for it."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def sync(self) -> None:
        """Match the timers to the scheduled campaigns; resume interrupted fills."""
        stored = await self.db.read(lambda s: CampaignRepository(s).all(statuses=("scheduled",)))
        wanted: set[str] = set()
        now = self.clock()
        for campaign in stored:
            for job_id, fingerprint, when, purpose in self._plan(campaign, now):
                wanted.add(job_id)
                if self._jobs.get(job_id) == fingerprint:
                    continue
                self._jobs[job_id] = fingerprint
                self._add_job(job_id, campaign.campaign.id, when, purpose, now)
        for job_id in set(self._jobs) - wanted:
            del self._jobs[job_id]
            if self._aps is not None and self._aps.get_job(job_id):
                self._aps.remove_job(job_id)
        filling = await self.db.read(lambda s: CampaignRepository(s).runs(statuses=("filling",)))
        for run in filling:
            if run["id"] not in self._filling:
                self._spawn(
                    self._fill(run["campaign_id"], run["id"], run["due_at"], run["purpose"])
                )

    def _plan(self, stored: StoredCampaign, now: datetime) -> list[tuple[str, str, Any, str]]:
        """(job id, fingerprint, when: a datetime or a CronTrigger, purpose) of a campaign."""
        campaign = stored.campaign
        schedule = campaign.schedule
        plans: list[tuple[str, str, Any, str]] = []
        # What a job is made of never changes once a campaign is scheduled; its due
        # times must not change either (pausing and resuming must not fire it again).
        key = campaign.id
        if schedule is None:
            plans.append((f"{campaign.id}:now", key, stored.created_at, "broadcast"))
        elif schedule.at is not None:
            plans.append((f"{campaign.id}:at", key, schedule.at, "broadcast"))
        elif schedule.cron is not None:
            plans.append((f"{campaign.id}:cron", key, _cron_until_or_open(campaign), "broadcast"))
        event = campaign.event
        if event is not None and event.reminder_hours:
            remind_at = event.starts_at - timedelta(hours=event.reminder_hours)
            if remind_at > now - GRACE:
                plans.append((f"{campaign.id}:reminder", key, remind_at, "reminder"))
        return plans

    def _add_job(
        self, job_id: str, campaign_id: str, when: Any, purpose: str, now: datetime
    ) -> None:
        assert self._aps is not None
        if isinstance(when, CronTrigger):
            missed = last_fire_time(when, now, now - GRACE)
            if missed is not None:
                self._spawn(self.fire(campaign_id, missed, purpose))
            self._aps.add_job(
                self._fire_cron,
                when,
                args=[campaign_id, when],
                id=job_id,
                replace_existing=True,
                coalesce=True,
                misfire_grace_time=int(GRACE.total_seconds()),
            )
            return
        if when <= now:
            # A one-off broadcast fires late rather than never; a late reminder is pointless.
            if when > now - GRACE or purpose == "broadcast":
                self._spawn(self.fire(campaign_id, when, purpose))
            return
        self._aps.add_job(
            self.fire,
            DateTrigger(run_date=when),
            args=[campaign_id, when, purpose],
            id=job_id,
            replace_existing=True,
            misfire_grace_time=int(GRACE.total_seconds()),
        )

    async def _fire_cron(self, campaign_id: str, trigger: CronTrigger) -> None:
        now = self.clock()
        due = last_fire_time(trigger, now, now - GRACE)
        if due is not None:
            await self.fire(campaign_id, due, "broadcast")

    async def fire(self, campaign_id: str, due_at: datetime, purpose: str = "broadcast") -> None:
        """Create the run for this due time (once) and write its outbox."""
        run_id = await self.db.write(
            lambda s: CampaignRepository(s).create_run(
                campaign_id=campaign_id, due_at=due_at, purpose=purpose
            )
        )
        if run_id is None:
            return  # fired before, by this process or another
        logger.info("campaign %s fires (%s, due %s)", campaign_id, purpose, due_at.isoformat())
        await self._fill(campaign_id, run_id, due_at, purpose)

    async def _fill(self, campaign_id: str, run_id: int, due_at: datetime, purpose: str) -> None:
        if run_id in self._filling:
            return
        self._filling.add(run_id)
        try:
            stored = await self.db.read(
                lambda s: CampaignRepository(s).get(campaign_id=campaign_id)
            )
            if stored is None:
                return
            going = None
            if purpose == "reminder":
                going = await self.db.read(lambda s: _going(s, campaign_id))
            base = max(due_at, self.clock()) if purpose == "broadcast" else self.clock()
            await fill_run(
                self.db,
                stored.campaign,
                run_id,
                base,
                zones=self.zones,
                default_zone=self.default_zone,
                respondent_ids=going,
            )
            if self.dispatcher is not None:
                self.dispatcher.wake.set()
        except Exception:
            logger.exception("writing the outbox of campaign %s failed", campaign_id)
        finally:
            self._filling.discard(run_id)


def _cron_until_or_open(campaign: Campaign) -> CronTrigger:
    schedule = campaign.schedule
    assert schedule is not None and schedule.cron is not None
    if schedule.until is None:
        return CronTrigger.from_crontab(schedule.cron, timezone=ZoneInfo(schedule.timezone))
    return _cron_until(schedule.cron, schedule.timezone, schedule.until)


def _going(session: Any, campaign_id: str) -> list[int]:
    return list(
        session.scalars(
            select(EventRsvp.respondent_id).where(
                EventRsvp.campaign_id == campaign_id,
                EventRsvp.response == "going",
                EventRsvp.waitlisted.is_(False),
            )
        )
    )
