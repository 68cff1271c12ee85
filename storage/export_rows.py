"""A survey's answers read for export: one row per answer, in batches of answer ids.

Each batch is one short read (keyset pagination on ``answers.id``: the next batch
starts after the last id of the one before), so an export of any size holds a
batch or two in memory and never keeps a transaction open for long. An export covers
the answers that existed when it began (``AnswerSpan.last_id``); answers given
meanwhile wait for the next export.

Rows carry the internal respondent and session ids, for the caller to turn into
pseudonyms; nothing here reads ``channel_identities`` (phone numbers, Telegram
ids). Erased respondents keep their choice and number answers as statistics and
are read like anyone else.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from storage.database import Database
from storage.models import Answer, Respondent, SurveyVersion

ANSWERS = cast(Table, Answer.__table__)
RESPONDENTS = cast(Table, Respondent.__table__)
VERSIONS = cast(Table, SurveyVersion.__table__)

EXPORT_BATCH = 5_000


@dataclass(frozen=True, slots=True)
class AnswerRow:
    """One answer with the respondent's profile beside it."""

    answer_id: int
    respondent_id: int
    session_id: int
    survey_version_id: int
    question_id: str
    kind: str
    value: Any
    """As stored: a choice value, a list of them, a number or the text."""
    text_status: str | None
    channel: str
    answered_at: datetime
    language: str | None
    region: str | None
    age_band: str | None
    gender: str | None


@dataclass(frozen=True)
class AnswerSpan:
    """How many answers a survey has, and the range of their ids."""

    count: int
    first_id: int
    last_id: int


@dataclass(frozen=True)
class VersionInfo:
    version_id: int
    version: int
    loaded_at: datetime


_ROW_COLUMNS = (
    ANSWERS.c.id,
    ANSWERS.c.respondent_id,
    ANSWERS.c.session_id,
    ANSWERS.c.survey_version_id,
    ANSWERS.c.question_id,
    ANSWERS.c.kind,
    ANSWERS.c.value,
    ANSWERS.c.text_status,
    ANSWERS.c.channel,
    ANSWERS.c.answered_at,
    RESPONDENTS.c.language,
    RESPONDENTS.c.region,
    RESPONDENTS.c.age_band,
    RESPONDENTS.c.gender,
)


def survey_versions(session: Session, *, survey_id: str) -> list[VersionInfo]:
    """Every stored version of the survey, oldest first (none: no such survey)."""
    rows = session.execute(
        select(VERSIONS.c.id, VERSIONS.c.version, VERSIONS.c.loaded_at)
        .where(VERSIONS.c.survey_id == survey_id)
        .order_by(VERSIONS.c.version)
    )
    return [VersionInfo(version_id, version, loaded_at) for version_id, version, loaded_at in rows]


def stored_survey_ids(session: Session) -> list[str]:
    """The id of every survey with a stored version, in order."""
    return list(
        session.scalars(select(VERSIONS.c.survey_id).distinct().order_by(VERSIONS.c.survey_id))
    )


def answer_span(session: Session, *, survey_id: str) -> AnswerSpan:
    """The survey's answers as they are now: their count and first and last ids."""
    count, first_id, last_id = session.execute(
        select(func.count(), func.min(ANSWERS.c.id), func.max(ANSWERS.c.id)).where(
            ANSWERS.c.survey_id == survey_id
        )
    ).one()
    return AnswerSpan(int(count), int(first_id or 0), int(last_id or 0))


def answer_rows(
    session: Session, *, survey_id: str, after_id: int, last_id: int, limit: int = EXPORT_BATCH
) -> list[AnswerRow]:
    """Up to ``limit`` answers with ids in (after_id, last_id], in id order.

    Each batch must cost its own rows only: the database walks the primary key
    from ``after_id`` and keeps the survey's answers. PostgreSQL's planner finds
    that walk from its statistics. SQLite (no statistics: the service never runs
    ANALYZE) would rather read every remaining answer of the survey through the
    ``(survey_id, question_id)`` index and sort them, batch after batch; comparing
    ``survey_id || ''`` keeps it off that index. (An index on ``(survey_id, id)``
    would serve both databases best.)
    """
    survey_matches = (
        ANSWERS.c.survey_id + "" == survey_id
        if session.get_bind().dialect.name == "sqlite"
        else ANSWERS.c.survey_id == survey_id
    )
    query = (
        select(*_ROW_COLUMNS)
        .select_from(ANSWERS.join(RESPONDENTS, RESPONDENTS.c.id == ANSWERS.c.respondent_id))
        .where(ANSWERS.c.id > after_id, ANSWERS.c.id <= last_id, survey_matches)
        .order_by(ANSWERS.c.id)
        .limit(limit)
    )
    return [AnswerRow(*tuple(row)) for row in session.execute(query)]


async def stream_answer_rows(
    db: Database, *, survey_id: str, span: AnswerSpan, batch_size: int = EXPORT_BATCH
) -> AsyncGenerator[list[AnswerRow], None]:
    """The answers of ``span`` in batches, each read in a ``Database.read`` of its own.

    The next batch is read while the caller works on the current one.
    """
    if span.count == 0:
        return
    after_id = span.first_id - 1

    async def read(after: int) -> list[AnswerRow]:
        return await db.read(
            lambda session: answer_rows(
                session,
                survey_id=survey_id,
                after_id=after,
                last_id=span.last_id,
                limit=batch_size,
            )
        )

    batch = await read(after_id)
    upcoming: asyncio.Task[list[AnswerRow]] | None = None
    try:
        while batch:
            if len(batch) == batch_size and batch[-1].answer_id < span.last_id:
                upcoming = asyncio.create_task(read(batch[-1].answer_id))
            yield batch
            batch = await upcoming if upcoming is not None else []
            upcoming = None
    finally:
        if upcoming is not None:
            upcoming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await upcoming
