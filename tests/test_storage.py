"""Storage on a real database: SQLite here, PostgreSQL in `.ci/run`."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from polls.survey import QuestionKind
from polls.survey_loader import load_survey_file
from storage.answers import AnswerRepository
from storage.database import Database
from storage.inbound import InboundRepository
from storage.models import Answer, AnswerChoice, ChannelIdentity, Respondent, UTCDateTime
from storage.respondents import RespondentRepository
from storage.surveys import SurveyRepository
from tests.conftest import EXAMPLE_SURVEYS

pytestmark = pytest.mark.storage

YOUTH = load_survey_file(EXAMPLE_SURVEYS / "youth_priorities.yaml")


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


async def test_migrations_create_every_table(db: Database) -> None:
    version = await db.read(lambda s: s.scalar(text("SELECT version_num FROM alembic_version")))
    assert version == "0008"
    await db.migrate()  # a second run is a no-op


async def test_sqlite_runs_in_wal_mode(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite only")
    mode = await db.read(lambda s: s.scalar(text("PRAGMA journal_mode")))
    foreign_keys = await db.read(lambda s: s.scalar(text("PRAGMA foreign_keys")))
    assert (mode, foreign_keys) == ("wal", 1)


async def test_times_come_back_aware_and_in_utc(db: Database) -> None:
    baku = timezone(timedelta(hours=4))
    moment = datetime(2026, 11, 22, 14, 0, tzinfo=baku)

    def create(session: Session) -> int:
        repository = RespondentRepository(session)
        record = repository.create(channel="telegram", address="1", language="az")
        record.consent_at = moment
        repository.save(record)
        return record.id

    respondent_id = await db.write(create)
    stored = await db.read(lambda s: RespondentRepository(s).get(respondent_id=respondent_id))
    assert stored is not None and stored.consent_at == moment
    assert stored.consent_at.utcoffset() == timedelta(0)


async def test_a_record_saves_only_what_changed(db: Database) -> None:
    def create(session: Session) -> int:
        return RespondentRepository(session).create(channel="sms", address="+1", language="en").id

    respondent_id = await db.write(create)

    def edit(session: Session) -> None:
        repository = RespondentRepository(session)
        record = repository.find(channel="sms", address="+1")
        assert record is not None and not record.changed
        record.region = "baku"
        record.dialogue = {"flow": "survey"}
        assert record.changed == {"region", "dialogue"}
        repository.save(record)
        assert not record.changed

    await db.write(edit)
    stored = await db.read(lambda s: RespondentRepository(s).get(respondent_id=respondent_id))
    assert stored is not None
    assert (stored.region, stored.dialogue, stored.language) == ("baku", {"flow": "survey"}, "en")


async def test_an_edited_survey_becomes_a_new_version(db: Database) -> None:
    edited = replace(YOUTH, show_results=False, raw={**YOUTH.raw, "show_results": False})

    def save(session: Session) -> list[tuple[int, bool]]:
        surveys = SurveyRepository(session)
        return [
            surveys.save_version(survey=YOUTH, source="a.yaml"),
            surveys.save_version(survey=YOUTH, source="a.yaml"),
            surveys.save_version(survey=edited),
        ]

    assert await db.write(save) == [(1, True), (1, False), (2, True)]

    def latest(session: Session) -> tuple[object, int]:
        surveys = SurveyRepository(session)
        latest_id = surveys.latest_version_id(survey_id=YOUTH.id)
        assert latest_id is not None
        return surveys.by_version_id(version_id=latest_id), len(surveys.latest_version_ids())

    stored, surveys_count = await db.read(latest)
    assert stored.version == 2 and stored.survey == edited  # type: ignore[attr-defined]
    assert stored.survey.show_results is False  # type: ignore[attr-defined]
    assert surveys_count == 1


async def test_a_delivery_is_claimed_once(db: Database) -> None:
    def claims(session: Session) -> list[bool]:
        inbound = InboundRepository(session)
        return [
            inbound.claim(channel="telegram", key="100"),
            inbound.claim(channel="telegram", key="100"),
            inbound.claim(channel="sms", key="100"),
        ]

    assert await db.write(claims) == [True, False, True]


async def test_one_channel_address_is_one_person(db: Database) -> None:
    def create(session: Session) -> None:
        RespondentRepository(session).create(channel="telegram", address="7", language="en")

    await db.write(create)
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        await db.write(create)


def _person_with_answers(session: Session) -> int:
    SurveyRepository(session).save_version(survey=YOUTH)
    version_id = SurveyRepository(session).latest_version_id(survey_id=YOUTH.id)
    assert version_id is not None
    respondent = RespondentRepository(session).create(
        channel="telegram", address="55", language="en"
    )
    answers = AnswerRepository(session)
    session_id = answers.start_session(
        respondent_id=respondent.id,
        survey_id=YOUTH.id,
        survey_version_id=version_id,
        channel="telegram",
    )
    for question_id, value in (
        ("top_goals", ["quality_education", "climate_action"]),
        ("voice_heard", 4),
        ("idea", "A youth centre near the market"),
    ):
        question = YOUTH.question(question_id)
        assert question is not None
        answers.add(
            session_id=session_id,
            respondent_id=respondent.id,
            survey_id=YOUTH.id,
            survey_version_id=version_id,
            question=question,
            value=value,
            channel="telegram",
        )
    return respondent.id


async def test_counts_per_question_and_choice(db: Database) -> None:
    await db.write(_person_with_answers)
    counts = await db.read(lambda s: AnswerRepository(s).counts(survey_id=YOUTH.id))
    assert counts["top_goals"].answered == 1
    assert counts["top_goals"].choices == {"quality_education": 1, "climate_action": 1}
    assert counts["voice_heard"].choices == {"4": 1}
    assert counts["idea"].answered == 1 and counts["idea"].choices == {}


async def test_answering_a_question_twice_in_a_session_is_refused(db: Database) -> None:
    respondent_id = await db.write(_person_with_answers)
    question = YOUTH.question("voice_heard")
    assert question is not None

    def again(session: Session) -> None:
        answers = AnswerRepository(session)
        first = answers.of_respondent(respondent_id=respondent_id)[0]
        answers.add(
            session_id=first.session_id,
            respondent_id=respondent_id,
            survey_id=YOUTH.id,
            survey_version_id=first.survey_version_id,
            question=question,
            value=5,
            channel="telegram",
        )

    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        await db.write(again)


async def test_erasing_identity_keeps_only_anonymous_statistics(db: Database) -> None:
    respondent_id = await db.write(_person_with_answers)
    await db.write(lambda s: RespondentRepository(s).erase_identity(respondent_id=respondent_id))

    def look(session: Session) -> tuple[int, set[str], object, object]:
        repository = RespondentRepository(session)
        return (
            count(session, ChannelIdentity),
            set(session.scalars(select(Answer.kind))),
            repository.get(respondent_id=respondent_id),
            repository.find(channel="telegram", address="55"),
        )

    identities, kinds, respondent, found = await db.read(look)
    assert identities == 0 and found is None
    assert QuestionKind.TEXT.value not in kinds and kinds == {"multiple_choice", "rating"}
    assert respondent is not None and respondent.erased_at is not None  # type: ignore[attr-defined]


async def test_deleting_a_person_deletes_their_answers(db: Database) -> None:
    respondent_id = await db.write(_person_with_answers)
    await db.write(lambda s: RespondentRepository(s).delete(respondent_id=respondent_id))
    counts = await db.read(
        lambda s: [count(s, m) for m in (Respondent, ChannelIdentity, Answer, AnswerChoice)]
    )
    assert counts == [0, 0, 0, 0]


async def test_writes_from_many_tasks_do_not_collide(db: Database) -> None:
    def one(n: int) -> None:
        def work(session: Session) -> None:
            RespondentRepository(session).create(
                channel="telegram", address=str(1000 + n), language="en"
            )

        return work  # type: ignore[return-value]

    await asyncio.gather(*(db.write(one(n)) for n in range(50)))  # type: ignore[arg-type]
    assert await db.read(lambda s: count(s, Respondent)) == 50


async def test_a_failed_unit_of_work_leaves_nothing(db: Database) -> None:
    def half_done(session: Session) -> None:
        RespondentRepository(session).create(channel="telegram", address="9", language="en")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await db.write(half_done)
    assert await db.read(lambda s: count(s, Respondent)) == 0


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), None)  # type: ignore[arg-type]
    restored = UTCDateTime().process_result_value(datetime(2026, 1, 1), None)  # type: ignore[arg-type]
    assert restored == datetime(2026, 1, 1, tzinfo=UTC)


async def test_two_processes_take_turns_with_one_person(database_url: str, db: Database) -> None:
    """PostgreSQL: a second process handling the same person waits for the first's commit."""
    if db.is_sqlite:
        pytest.skip("SQLite has one writer: turns cannot overlap")
    import time

    await db.write(
        lambda s: RespondentRepository(s).create(channel="sms", address="+1", language="en")
    )

    def first(session: Session) -> None:
        repository = RespondentRepository(session)
        record = repository.find(channel="sms", address="+1")
        assert record is not None
        record.region = "baku"
        time.sleep(0.3)  # still handling the message when the second one arrives
        repository.save(record)

    def second(session: Session) -> str | None:
        repository = RespondentRepository(session)
        record = repository.find(channel="sms", address="+1")
        assert record is not None
        seen = record.region
        record.age_band = "18_24"
        repository.save(record)
        return seen

    def other_process() -> str | None:
        """Another process: its own thread, event loop and connections."""

        async def run() -> str | None:
            elsewhere = Database(database_url)
            try:
                await asyncio.sleep(0.1)  # the first is mid-way by now
                return await elsewhere.write(second)
            finally:
                await elsewhere.dispose()

        return asyncio.run(run())

    _, seen = await asyncio.gather(db.write(first), asyncio.to_thread(other_process))
    assert seen == "baku"
    stored = await db.read(lambda s: RespondentRepository(s).find(channel="sms", address="+1"))
    assert stored is not None and (stored.region, stored.age_band) == ("baku", "18_24")


async def test_linking_a_number_never_lifts_a_ban_or_a_mute(db: Database) -> None:
    from storage.moderation import ModerationRepository

    banned_at = datetime(2026, 11, 20, tzinfo=UTC)
    muted_until = datetime(2027, 1, 1, tzinfo=UTC)

    def setup(session: Session) -> tuple[int, int]:
        repository = RespondentRepository(session)
        by_sms = repository.create(channel="sms", address="+994501234567", language="az").id
        ModerationRepository(session).ban(respondent_id=by_sms, now=banned_at)
        ModerationRepository(session).mute(respondent_id=by_sms, until=muted_until)
        fresh = repository.create(channel="telegram", address="777", language="az").id
        return by_sms, fresh

    by_sms, fresh = await db.write(setup)
    await db.write(
        lambda s: RespondentRepository(s).link_identity(
            respondent_id=fresh, channel="sms", address="+994501234567"
        )
    )
    survivor = await db.read(lambda s: RespondentRepository(s).get(respondent_id=fresh))
    assert survivor is not None
    assert (survivor.banned_at, survivor.muted_until) == (banned_at, muted_until)
    assert await db.read(lambda s: RespondentRepository(s).get(respondent_id=by_sms)) is None


async def test_choices_carry_their_answer_s_respondent_through_a_merge(db: Database) -> None:
    from storage.models import AnswerChoice

    services = load_survey_file(EXAMPLE_SURVEYS / "public_services.yaml")

    def answer(session: Session, channel: str, address: str, survey: Any, pick: Any) -> int:
        SurveyRepository(session).save_version(survey=survey)
        version_id = SurveyRepository(session).latest_version_id(survey_id=survey.id) or 0
        person = RespondentRepository(session).create(
            channel=channel, address=address, language="en"
        )
        answers = AnswerRepository(session)
        session_id = answers.start_session(
            respondent_id=person.id,
            survey_id=survey.id,
            survey_version_id=version_id,
            channel=channel,
        )
        question_id, value = pick
        question = survey.question(question_id)
        answers.add(
            session_id=session_id,
            respondent_id=person.id,
            survey_id=survey.id,
            survey_version_id=version_id,
            question=question,
            value=value,
            channel=channel,
        )
        return int(person.id)

    last_service = services.question("last_service")
    assert last_service is not None
    by_sms = await db.write(
        lambda s: answer(
            s, "sms", "+994501112233", services, ("last_service", last_service.choices[0].value)
        )
    )
    on_telegram = await db.write(
        lambda s: answer(
            s, "telegram", "901", YOUTH, ("top_goals", ["quality_education", "climate_action"])
        )
    )

    def owners(session: Session) -> list[tuple[int | None, int]]:
        rows = session.execute(
            select(AnswerChoice.respondent_id, Answer.respondent_id).join(
                Answer, Answer.id == AnswerChoice.answer_id
            )
        )
        return sorted((row[0], row[1]) for row in rows)

    assert await db.read(owners) == [(by_sms, by_sms)] + [(on_telegram, on_telegram)] * 2
    await db.write(
        lambda s: RespondentRepository(s).link_identity(
            respondent_id=on_telegram, channel="sms", address="+994501112233"
        )
    )
    # The SMS person's answer to another survey moved, and its choice with it.
    assert await db.read(owners) == [(on_telegram, on_telegram)] * 3
