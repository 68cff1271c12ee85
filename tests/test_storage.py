"""Storage on a real database: SQLite here, PostgreSQL in `.ci/run`."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text

from polls.survey import QuestionKind
from polls.survey_loader import load_survey_file
from storage.answers import AnswerRepository
from storage.database import Database
from storage.inbound import InboundRepository
from storage.models import Answer, AnswerChoice, ChannelIdentity, Respondent
from storage.respondents import RespondentRepository
from storage.surveys import SurveyRepository
from tests.conftest import EXAMPLE_SURVEYS

pytestmark = pytest.mark.storage

YOUTH = load_survey_file(EXAMPLE_SURVEYS / "youth_priorities.yaml")


async def test_migrations_create_every_table(db: Database) -> None:
    async with db.reading() as session:
        version = await session.scalar(text("SELECT version_num FROM alembic_version"))
    assert version == "0001"
    await db.migrate()  # a second run is a no-op


async def test_sqlite_runs_in_wal_mode(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite only")
    async with db.reading() as session:
        mode = await session.scalar(text("PRAGMA journal_mode"))
        foreign_keys = await session.scalar(text("PRAGMA foreign_keys"))
    assert (mode, foreign_keys) == ("wal", 1)


async def test_times_come_back_aware_and_in_utc(db: Database) -> None:
    baku = timezone(timedelta(hours=4))
    moment = datetime(2026, 11, 22, 14, 0, tzinfo=baku)
    async with db.writing() as session:
        respondent = await RespondentRepository(session).create(
            channel="telegram", address="1", language="az"
        )
        respondent.consent_at = moment
    async with db.reading() as session:
        stored = await session.get(Respondent, respondent.id)
    assert stored is not None and stored.consent_at == moment
    assert stored.consent_at.tzinfo is not None and stored.consent_at.utcoffset() == timedelta(0)


async def test_an_edited_survey_becomes_a_new_version(db: Database) -> None:
    async with db.writing() as session:
        surveys = SurveyRepository(session)
        assert await surveys.save_version(survey=YOUTH, source="a.yaml") == (1, True)
        assert await surveys.save_version(survey=YOUTH, source="a.yaml") == (1, False)
        edited_raw = {**YOUTH.raw, "show_results": False}
        edited = replace(YOUTH, show_results=False, raw=edited_raw)
        assert await surveys.save_version(survey=edited) == (2, True)
    async with db.reading() as session:
        surveys = SurveyRepository(session)
        latest_id = await surveys.latest_version_id(survey_id=YOUTH.id)
        assert latest_id is not None
        latest = await surveys.by_version_id(version_id=latest_id)
        assert latest is not None and latest.version == 2
        assert latest.survey.show_results is False
        assert latest.survey == edited
        assert len(await surveys.latest_version_ids()) == 1


async def test_a_delivery_is_claimed_once(db: Database) -> None:
    async with db.writing() as session:
        inbound = InboundRepository(session)
        assert await inbound.claim(channel="telegram", key="100")
        assert not await inbound.claim(channel="telegram", key="100")
        assert await inbound.claim(channel="sms", key="100")


async def test_one_channel_address_is_one_person(db: Database) -> None:
    async with db.writing() as session:
        await RespondentRepository(session).create(channel="telegram", address="7", language="en")
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        async with db.writing() as session:
            await RespondentRepository(session).create(
                channel="telegram", address="7", language="en"
            )


async def _person_with_answers(db: Database) -> int:
    async with db.writing() as session:
        await SurveyRepository(session).save_version(survey=YOUTH)
        version_id = await SurveyRepository(session).latest_version_id(survey_id=YOUTH.id)
        assert version_id is not None
        respondent = await RespondentRepository(session).create(
            channel="telegram", address="55", language="en"
        )
        answers = AnswerRepository(session)
        session_id = await answers.start_session(
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
            await answers.add(
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
    await _person_with_answers(db)
    async with db.reading() as session:
        counts = await AnswerRepository(session).counts(survey_id=YOUTH.id)
    assert counts["top_goals"].answered == 1
    assert counts["top_goals"].choices == {"quality_education": 1, "climate_action": 1}
    assert counts["voice_heard"].choices == {"4": 1}
    assert counts["idea"].answered == 1 and counts["idea"].choices == {}


async def test_answering_a_question_twice_in_a_session_is_refused(db: Database) -> None:
    respondent_id = await _person_with_answers(db)
    question = YOUTH.question("voice_heard")
    assert question is not None
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        async with db.writing() as session:
            answers = AnswerRepository(session)
            first = (await answers.of_respondent(respondent_id=respondent_id))[0]
            await answers.add(
                session_id=first.session_id,
                respondent_id=respondent_id,
                survey_id=YOUTH.id,
                survey_version_id=first.survey_version_id,
                question=question,
                value=5,
                channel="telegram",
            )


async def test_erasing_identity_keeps_only_anonymous_statistics(db: Database) -> None:
    respondent_id = await _person_with_answers(db)
    async with db.writing() as session:
        respondent = await session.get(Respondent, respondent_id)
        assert respondent is not None
        await RespondentRepository(session).erase_identity(respondent=respondent)
    async with db.reading() as session:
        identities = await session.scalar(select(func.count()).select_from(ChannelIdentity))
        kinds = set(await session.scalars(select(Answer.kind)))
        respondent = await session.get(Respondent, respondent_id)
        found = await RespondentRepository(session).find(channel="telegram", address="55")
    assert identities == 0 and found is None
    assert QuestionKind.TEXT.value not in kinds and kinds == {"multiple_choice", "rating"}
    assert respondent is not None and respondent.erased_at is not None


async def test_deleting_a_person_deletes_their_answers(db: Database) -> None:
    respondent_id = await _person_with_answers(db)
    async with db.writing() as session:
        respondent = await session.get(Respondent, respondent_id)
        assert respondent is not None
        await RespondentRepository(session).delete(respondent=respondent)
    async with db.reading() as session:
        for table in (Respondent, ChannelIdentity, Answer, AnswerChoice):
            assert await session.scalar(select(func.count()).select_from(table)) == 0


async def test_writes_from_many_tasks_do_not_collide(db: Database) -> None:
    import asyncio

    async def one(n: int) -> None:
        async with db.writing() as session:
            await RespondentRepository(session).create(
                channel="telegram", address=str(1000 + n), language="en"
            )

    await asyncio.gather(*(one(n) for n in range(50)))
    async with db.reading() as session:
        assert await session.scalar(select(func.count()).select_from(Respondent)) == 50


def test_naive_datetimes_are_refused() -> None:
    from storage.models import UTCDateTime

    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), None)  # type: ignore[arg-type]
    assert UTCDateTime().process_result_value(datetime(2026, 1, 1), None) == datetime(  # type: ignore[arg-type]
        2026, 1, 1, tzinfo=UTC
    )
