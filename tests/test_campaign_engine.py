"""Campaign engine on a real database: audiences, outbox filling, dispatch outcomes, scheduling."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from outreach.campaigns.dispatcher import ChannelRoute, Dispatcher
from outreach.campaigns.filling import audience_filter, fill_run
from outreach.campaigns.scheduler import CampaignScheduler, last_fire_time
from polls.campaign import Campaign, load_campaign_text
from polls.errors import SendError
from polls.messages import Outbound
from polls.pacing import Pacer
from storage.audience import AudienceFilter, audience_size, stream_audience
from storage.campaigns import CampaignRepository, DueMessage
from storage.database import Database
from storage.models import ChannelIdentity, OutboxMessage, RespondentTag, SurveySession, utcnow
from storage.respondents import RespondentRepository

pytestmark = pytest.mark.storage

BAKU = ZoneInfo("Asia/Baku")


def people(session: Session, specs: list[dict[str, Any]]) -> list[int]:
    """Consenting people; each spec: channels {channel: address}, plus profile fields."""
    ids = []
    for spec in specs:
        spec = dict(spec)
        channels: dict[str, str] = spec.pop("channels")
        tags = spec.pop("tags", [])
        repository = RespondentRepository(session)
        first_channel, first_address = next(iter(channels.items()))
        record = repository.create(
            channel=first_channel, address=first_address, language=spec.pop("language", "az")
        )
        for channel, address in list(channels.items())[1:]:
            repository.link_identity(respondent_id=record.id, channel=channel, address=address)
        record.consent_at = utcnow()
        for key, value in spec.items():
            setattr(record, key, value)
        repository.save(record)
        for tag in tags:
            session.execute(insert(RespondentTag), {"respondent_id": record.id, "tag": tag})
        ids.append(record.id)
    return ids


def campaign(text: str = "", **fields: str) -> Campaign:
    body = {
        "id": "test_campaign",
        "kind": "announcement",
        "name": "Test",
        "languages": "[az, ru]",
        "text": '{az: "Salam!", ru: "Привет!"}',
        "window": '{start: "00:00", end: "23:59"}',
    }
    body.update(fields)
    document = "\n".join(f"{key}: {value}" for key, value in body.items()) + "\n" + text
    return load_campaign_text(document, source="test.yaml")


async def test_audience_filters_and_one_channel_per_person(db: Database) -> None:
    ids = await db.write(
        lambda s: people(
            s,
            [
                {"channels": {"telegram": "1"}, "region": "baku", "language": "az"},
                {"channels": {"sms": "+994501000002"}, "region": "baku", "language": "ru"},
                {
                    "channels": {"telegram": "3", "sms": "+994501000003"},
                    "region": "baku",
                    "tags": ["school_7"],
                },
                {"channels": {"telegram": "4"}, "region": "ganja-dashkasan"},
                {"channels": {"sms": "+994501000005"}, "region": "baku", "age_band": "18_24"},
            ],
        )
    )

    def sizes(session: Session) -> dict[str, Any]:
        def size(**kwargs: Any) -> int:
            return audience_size(session, AudienceFilter(**kwargs))

        return {
            "everyone": size(),
            "baku": size(regions=["baku"]),
            "sms_only": size(channels=["sms"]),
            "russian": size(languages=["ru"]),
            "tagged": size(tags=["school_7"]),
            "young": size(age_bands=["18_24"]),
        }

    assert await db.read(sizes) == {
        "everyone": 5,
        "baku": 4,
        "sms_only": 3,
        "russian": 1,
        "tagged": 1,
        "young": 1,
    }
    streamed = await db.read(
        lambda s: [r for page in stream_audience(s, AudienceFilter(), page=2) for r in page]
    )
    assert [r.respondent_id for r in streamed] == ids  # every person once, in order
    both = next(r for r in streamed if r.respondent_id == ids[2])
    assert both.channel == "telegram"  # free beats paid


async def test_opted_out_unreachable_unconsented_and_erased_people_are_never_included(
    db: Database,
) -> None:
    ids = await db.write(
        lambda s: people(s, [{"channels": {"sms": f"+99450100000{i}"}} for i in range(5)])
    )

    def exclude(session: Session) -> None:
        repository = RespondentRepository(session)
        repository.set_opt_out(channel="sms", address="+994501000000", at=utcnow())
        repository.mark_unreachable(channel="sms", address="+994501000001", at=utcnow())
        record = repository.get(respondent_id=ids[2])
        assert record is not None
        record.consent_at = None
        repository.save(record)
        repository.erase_identity(respondent_id=ids[3])

    await db.write(exclude)
    streamed = await db.read(
        lambda s: [r.respondent_id for page in stream_audience(s, AudienceFilter()) for r in page]
    )
    assert streamed == [ids[4]]


async def test_answered_and_not_answered(db: Database) -> None:
    ids = await db.write(
        lambda s: people(s, [{"channels": {"telegram": str(i)}} for i in range(1, 4)])
    )

    def sessions(session: Session) -> None:
        from storage.models import SurveyVersion

        session.add(
            SurveyVersion(survey_id="s1", version=1, content_hash="h", definition={"id": "s1"})
        )
        session.flush()
        version = session.scalar(select(SurveyVersion.id))
        for respondent, status in ((ids[0], "completed"), (ids[1], "active")):
            session.add(
                SurveySession(
                    respondent_id=respondent,
                    survey_id="s1",
                    survey_version_id=version,
                    channel="telegram",
                    status=status,
                )
            )

    await db.write(sessions)
    answered = await db.read(lambda s: audience_size(s, AudienceFilter(answered=["s1"])))
    not_answered = await db.read(lambda s: audience_size(s, AudienceFilter(not_answered=["s1"])))
    assert (answered, not_answered) == (1, 2)


async def _stored_run(db: Database, definition: Campaign, due: datetime) -> int:
    def create(session: Session) -> int:
        repository = CampaignRepository(session)
        repository.save(campaign=definition)
        repository.set_status(campaign_id=definition.id, status="scheduled", only_from=("draft",))
        run_id = repository.create_run(campaign_id=definition.id, due_at=due)
        assert run_id is not None
        return run_id

    return await db.write(create)


async def test_quiet_hours_in_each_persons_time_zone(db: Database) -> None:
    await db.write(
        lambda s: people(
            s,
            [
                {"channels": {"telegram": "1"}, "region": "baku"},
                {"channels": {"telegram": "2"}, "region": "far-east"},
            ],
        )
    )
    definition = campaign(window='{start: "10:00", end: "20:00"}')
    base = datetime(2026, 12, 1, 5, 30, tzinfo=UTC)  # 09:30 in Baku, 10:30 in Tashkent
    run_id = await _stored_run(db, definition, base)
    await fill_run(
        db,
        definition,
        run_id,
        base,
        zones={"far-east": "Asia/Tashkent"},
        default_zone="Asia/Baku",
    )
    moments = await db.read(
        lambda s: dict(s.execute(select(OutboxMessage.address, OutboxMessage.not_before)).all())
    )
    assert moments["1"] == datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # waits for 10:00 Baku
    assert moments["2"] == base  # already 10:30 in Tashkent


async def test_drip_spreads_sends_and_a_resumed_fill_doubles_nothing(db: Database) -> None:
    await db.write(lambda s: people(s, [{"channels": {"telegram": str(i)}} for i in range(1, 11)]))
    definition = campaign(drip_hours="5")
    base = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 12:00 in Baku
    run_id = await _stored_run(db, definition, base)
    await fill_run(db, definition, run_id, base, zones={}, default_zone="Asia/Baku", page=3)
    await fill_run(db, definition, run_id, base, zones={}, default_zone="Asia/Baku", page=3)
    moments = await db.read(
        lambda s: list(
            s.scalars(select(OutboxMessage.not_before).order_by(OutboxMessage.respondent_id))
        )
    )
    assert len(moments) == 10
    assert moments[0] == base and moments[-1] == base + timedelta(minutes=270)
    run = await db.read(lambda s: CampaignRepository(s).run(run_id=run_id))
    assert run["status"] == "sending" and run["total"] == 10


class FakeRoute:
    """A channel whose sends succeed or fail as a test says."""

    def __init__(self, outcomes: dict[str, list[SendError | None]]) -> None:
        self.outcomes = outcomes
        self.sent: list[str] = []

    async def send(self, message: DueMessage, outbound: Outbound) -> str:
        plan = self.outcomes.get(message.address, [])
        outcome = plan.pop(0) if plan else None
        if outcome is not None:
            raise outcome
        self.sent.append(message.address)
        return f"id-{message.address}"


async def _dispatch_all(db: Database, route: FakeRoute, clock: Any) -> Dispatcher:
    dispatcher = Dispatcher(
        db,
        {"telegram": ChannelRoute("telegram", "test", Pacer(None), route.send)},
        zone=BAKU,
        clock=clock,
        idle_wait=0.05,
    )
    await dispatcher.start()
    try:
        async with asyncio.timeout(10):
            while True:
                counts = await db.read(
                    lambda s: CampaignRepository(s).status_counts(campaign_id="test_campaign")
                )
                if counts["pending"] == 0 and counts["sending"] == 0:
                    break
                await asyncio.sleep(0.05)
    finally:
        await dispatcher.stop()
    return dispatcher


async def test_dispatch_outcomes(db: Database) -> None:
    await db.write(lambda s: people(s, [{"channels": {"telegram": str(i)}} for i in range(1, 6)]))
    definition = campaign()
    now = utcnow()
    run_id = await _stored_run(db, definition, now)
    await fill_run(db, definition, run_id, now, zones={}, default_zone="Asia/Baku")
    flaky = SendError("502", retryable=True, reason="provider")
    route = FakeRoute(
        {
            "1": [],
            "2": [flaky, flaky],  # retried until it goes
            "3": [SendError("blocked", retryable=False, reason="unreachable", code=403)],
            "4": [SendError("no answer", retryable=False, reason="unknown")],
            "5": [SendError("STOP", retryable=False, reason="opted_out", code=21610)],
        }
    )
    clock_offset = [timedelta(0)]

    def clock() -> datetime:  # jumps over retry delays
        clock_offset[0] += timedelta(seconds=30)
        return utcnow() + clock_offset[0]

    dispatcher = await _dispatch_all(db, route, clock)
    statuses = await db.read(
        lambda s: dict(s.execute(select(OutboxMessage.address, OutboxMessage.status)).all())
    )
    assert statuses == {"1": "sent", "2": "sent", "3": "failed", "4": "unknown", "5": "skipped"}
    assert sorted(route.sent) == ["1", "2"]  # the unknown one was not resent
    assert dispatcher.counters.retried == 2 and dispatcher.counters.unknown == 1
    unreachable = await db.read(
        lambda s: s.scalar(
            select(ChannelIdentity.unreachable_at).where(ChannelIdentity.address == "3")
        )
    )
    assert unreachable is not None


async def test_too_many_retries_end_in_failure(db: Database) -> None:
    await db.write(lambda s: people(s, [{"channels": {"telegram": "1"}}]))
    definition = campaign()
    now = utcnow()
    await fill_run(
        db,
        definition,
        await _stored_run(db, definition, now),
        now,
        zones={},
        default_zone="Asia/Baku",
    )
    route = FakeRoute({"1": [SendError("5xx", retryable=True, reason="provider")] * 10})
    jump = [timedelta(0)]

    def clock() -> datetime:
        jump[0] += timedelta(minutes=10)
        return utcnow() + jump[0]

    await _dispatch_all(db, route, clock)
    row = await db.read(
        lambda s: s.execute(select(OutboxMessage.status, OutboxMessage.attempts)).one()
    )
    assert tuple(row) == ("failed", 5) and route.sent == []


async def test_a_crash_while_sending_leaves_unknown_never_resent(db: Database) -> None:
    await db.write(lambda s: people(s, [{"channels": {"telegram": "1"}}]))
    definition = campaign()
    now = utcnow()
    await fill_run(
        db,
        definition,
        await _stored_run(db, definition, now),
        now,
        zones={},
        default_zone="Asia/Baku",
    )
    # The process died after marking the message 'sending' and before the answer came.
    await db.write(
        lambda s: CampaignRepository(s).move(
            message_id=1, expected="pending", status="sending", attempts=1
        )
    )
    route = FakeRoute({})
    await _dispatch_all(db, route, utcnow)
    assert route.sent == []
    status = await db.read(lambda s: s.scalar(select(OutboxMessage.status)))
    assert status == "unknown"


async def test_paused_campaigns_wait_and_cancelled_ones_skip(db: Database) -> None:
    await db.write(lambda s: people(s, [{"channels": {"telegram": str(i)}} for i in range(1, 4)]))
    definition = campaign()
    now = utcnow()
    await fill_run(
        db,
        definition,
        await _stored_run(db, definition, now),
        now,
        zones={},
        default_zone="Asia/Baku",
    )
    await db.write(
        lambda s: CampaignRepository(s).set_status(
            campaign_id=definition.id, status="paused", only_from=("scheduled",)
        )
    )
    route = FakeRoute({})
    dispatcher = Dispatcher(
        db,
        {"telegram": ChannelRoute("telegram", "t", Pacer(None), route.send)},
        zone=BAKU,
        idle_wait=0.05,
    )
    await dispatcher.start()
    await asyncio.sleep(0.3)
    await dispatcher.stop()
    assert route.sent == []
    skipped = await db.write(
        lambda s: CampaignRepository(s).skip_pending(campaign_id=definition.id, reason="cancelled")
    )
    assert skipped == 3


async def test_a_due_time_fires_once_however_often_asked(db: Database) -> None:
    await db.write(lambda s: people(s, [{"channels": {"telegram": "1"}}]))
    definition = campaign()
    await db.write(lambda s: CampaignRepository(s).save(campaign=definition))
    scheduler = CampaignScheduler(db, None, zones={}, default_zone="Asia/Baku")
    due = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    await asyncio.gather(*(scheduler.fire(definition.id, due) for _ in range(5)))
    await scheduler.fire(definition.id, due + timedelta(days=7))  # the next occurrence
    runs = await db.read(lambda s: CampaignRepository(s).runs(statuses=("sending",)))
    assert len(runs) == 2
    rows = await db.read(lambda s: len(list(s.scalars(select(OutboxMessage.id)))))
    assert rows == 2


def test_cron_catch_up_finds_the_latest_missed_time() -> None:
    trigger = CronTrigger.from_crontab("0 10 * * *", timezone=BAKU)
    now = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)  # 10:30 in Baku
    assert last_fire_time(trigger, now, now - timedelta(hours=1)) == datetime(
        2026, 12, 1, 6, 0, tzinfo=UTC
    )
    assert last_fire_time(trigger, now - timedelta(hours=2), now - timedelta(hours=3)) is None


async def test_scheduler_plans_a_recurring_campaign_and_an_event_reminder(db: Database) -> None:
    recurring = campaign(id="weekly", schedule='{cron: "0 10 * * MON"}')
    event = campaign(
        id="forum",
        kind="event",
        event="{starts_at: 2027-01-10T15:00:00+04:00, reminder_hours: 24}",
        schedule="{at: 2027-01-01T10:00:00+04:00}",
    )
    for definition in (recurring, event):
        await db.write(lambda s, d=definition: CampaignRepository(s).save(campaign=d))
        await db.write(
            lambda s, d=definition: CampaignRepository(s).set_status(
                campaign_id=d.id, status="scheduled", only_from=("draft",)
            )
        )
    scheduler = CampaignScheduler(db, None, zones={}, default_zone="Asia/Baku")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    stored = await db.read(lambda s: CampaignRepository(s).all(statuses=("scheduled",)))
    plans = {job for s in stored for job, _key, _when, _purpose in scheduler._plan(s, now)}
    assert plans == {"weekly:cron", "forum:at", "forum:reminder"}
    reminder = next(
        when
        for s in stored
        for job, _key, when, _purpose in scheduler._plan(s, now)
        if job == "forum:reminder"
    )
    assert reminder == datetime(2027, 1, 9, 11, 0, tzinfo=UTC)
    assert audience_filter(recurring.audience).channels == ("telegram", "sms")
