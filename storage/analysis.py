"""The counts results are made of: per question, per segment, per choice; funnels; invitations.

Everything here is a count of people grouped in SQL: no row that could identify a
person leaves this module. Suppression of small cells, intervals and weighting
happen on these counts (polls.analysis), before anything is shown.

A segment is a tuple of dimension values, in the order the caller named the
dimensions; a person who did not say (an optional gender, say) is in the segment
``None`` of that dimension.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, case, distinct, func, select
from sqlalchemy.orm import Session

from polls.analysis.published import Segment, SegmentCounts
from storage.models import (
    Answer,
    AnswerChoice,
    CampaignRecord,
    OutboxMessage,
    Respondent,
    SurveySession,
)

ANSWERS = cast(Table, Answer.__table__)
CHOICES = cast(Table, AnswerChoice.__table__)
RESPONDENTS = cast(Table, Respondent.__table__)
SESSIONS = cast(Table, SurveySession.__table__)
OUTBOX = cast(Table, OutboxMessage.__table__)
CAMPAIGNS = cast(Table, CampaignRecord.__table__)

DIMENSIONS = ("region", "age_band", "gender", "language", "channel")
"""What results can be broken down by: the person's profile, and the answer's channel."""

Window = tuple[datetime, datetime] | None
"""From (included) and until (excluded): answers given, sessions begun, in that time."""
REACHED = ("sent", "delivered")
"""Outbox states that mean the invitation reached the person's channel."""


class UnknownDimension(ValueError):
    pass


@dataclass(frozen=True)
class Funnel:
    started: int
    completed: int
    answered: dict[str, int]
    """Per question id: people who answered it."""


@dataclass(frozen=True)
class InvitationRate:
    campaign_id: str
    name: str
    reached: int
    """People the invitation reached (sent or delivered), counted once across runs."""
    responded: int
    """Of them, people who began the survey after it was sent."""
    completed: int


def _within(column: Any, window: Window) -> list[Any]:
    if window is None:
        return []
    since, until = window
    return [column >= since, column < until]


def _columns(dimensions: tuple[str, ...]) -> list[Any]:
    unknown = [d for d in dimensions if d not in DIMENSIONS]
    if unknown:
        raise UnknownDimension(
            f"cannot break results down by {', '.join(unknown)}: use {', '.join(DIMENSIONS)}"
        )
    return [ANSWERS.c.channel if d == "channel" else RESPONDENTS.c[d] for d in dimensions]


class AnalysisRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def question_counts(
        self,
        *,
        survey_id: str,
        dimensions: tuple[str, ...] = (),
        question_ids: Sequence[str],
        counted_by_picks: Collection[str] = (),
        window: Window = None,
    ) -> dict[str, dict[Segment, SegmentCounts]]:
        """Per question and segment: who answered, what they picked, the sum of numbers.

        Two grouped queries over these questions' answers. A question in
        ``counted_by_picks`` has exactly one pick per answer (single choice,
        yes/no, rating), so its people are the sum of its picks and its answers
        need no second pass: on a million answers that pass is a third of the time.
        """
        connection = self.session.connection()
        columns = _columns(dimensions)
        profile = any(d != "channel" for d in dimensions)
        size = len(columns)
        counted_apart = [q for q in question_ids if q not in counted_by_picks]

        def joined(query: Any) -> Any:
            if profile:
                return query.join(RESPONDENTS, RESPONDENTS.c.id == ANSWERS.c.respondent_id)
            return query

        result: dict[str, dict[Segment, SegmentCounts]] = defaultdict(dict)
        if counted_apart:
            answered = joined(
                select(ANSWERS.c.question_id, *columns, func.count(), func.sum(ANSWERS.c.number))
                .select_from(ANSWERS)
                .where(ANSWERS.c.survey_id == survey_id, ANSWERS.c.question_id.in_(counted_apart))
                .where(*_within(ANSWERS.c.answered_at, window))
            ).group_by(ANSWERS.c.question_id, *columns)
            for row in connection.execute(answered):
                segment: Segment = tuple(row[1 : 1 + size])
                result[row[0]][segment] = SegmentCounts(
                    answered=int(row[1 + size]), number_sum=float(row[2 + size] or 0)
                )
        picked = [q for q in question_ids if q in counted_by_picks or q in result]
        if picked:
            picks = (
                select(CHOICES.c.question_id, *columns, CHOICES.c.value, func.count())
                .select_from(CHOICES)
                .where(CHOICES.c.survey_id == survey_id, CHOICES.c.question_id.in_(picked))
            )
            if window is None and "channel" not in dimensions:
                # Profile only: choices lead straight to their people (the answers
                # table, wide with values and text, is not read at all).
                if profile:
                    picks = picks.join(RESPONDENTS, RESPONDENTS.c.id == CHOICES.c.respondent_id)
            else:
                picks = joined(
                    picks.join(ANSWERS, ANSWERS.c.id == CHOICES.c.answer_id).where(
                        *_within(ANSWERS.c.answered_at, window)
                    )
                )
            picks = picks.group_by(CHOICES.c.question_id, *columns, CHOICES.c.value)
            for row in connection.execute(picks):
                segment = tuple(row[1 : 1 + size])
                counts = result[row[0]].setdefault(segment, SegmentCounts())
                count = int(row[2 + size])
                counts.picks[row[1 + size]] = count
                if row[0] in counted_by_picks:
                    counts.answered += count
        return dict(result)

    def respondent_cells(
        self, *, survey_id: str, dimensions: tuple[str, ...], window: Window = None
    ) -> dict[Segment, int]:
        """People who began the survey, per combination of profile values (for weighting)."""
        if "channel" in dimensions:
            raise UnknownDimension("people are weighted by their profile: not by channel")
        columns = _columns(dimensions)
        rows = self.session.connection().execute(
            select(*columns, func.count())
            .select_from(SESSIONS)
            .join(RESPONDENTS, RESPONDENTS.c.id == SESSIONS.c.respondent_id)
            .where(SESSIONS.c.survey_id == survey_id, *_within(SESSIONS.c.started_at, window))
            .group_by(*columns)
        )
        return {tuple(row[:-1]): int(row[-1]) for row in rows}

    def numbers(self, *, survey_id: str, question_id: str, window: Window = None) -> list[float]:
        """Every number given to a question (for medians: a few bytes a person)."""
        rows = self.session.connection().execute(
            select(ANSWERS.c.number).where(
                ANSWERS.c.survey_id == survey_id,
                ANSWERS.c.question_id == question_id,
                ANSWERS.c.number.is_not(None),
                *_within(ANSWERS.c.answered_at, window),
            )
        )
        return [float(value) for (value,) in rows]

    def approved_texts(
        self,
        *,
        survey_id: str,
        question_id: str,
        dimensions: tuple[str, ...] = (),
        window: Window = None,
        after_id: int = 0,
        limit: int = 5000,
    ) -> list[tuple[int, str, str | None, Segment]]:
        """A batch of free text staff approved: (answer id, text, language, segment).

        Only approved text is read: what was not moderated, or was rejected,
        never reaches an analysis. Batches follow the answer id (keyset).
        """
        columns = _columns(dimensions)
        rows = self.session.connection().execute(
            select(ANSWERS.c.id, ANSWERS.c.text, RESPONDENTS.c.language, *columns)
            .select_from(ANSWERS)
            .join(RESPONDENTS, RESPONDENTS.c.id == ANSWERS.c.respondent_id)
            .where(
                ANSWERS.c.survey_id == survey_id,
                ANSWERS.c.question_id == question_id,
                ANSWERS.c.text_status == "approved",
                ANSWERS.c.text.is_not(None),
                ANSWERS.c.id > after_id,
                *_within(ANSWERS.c.answered_at, window),
            )
            .order_by(ANSWERS.c.id)
            .limit(limit)
        )
        return [(row[0], row[1], row[2], tuple(row[3:])) for row in rows]

    def funnel(self, *, survey_id: str, window: Window = None) -> Funnel:
        """People who began the survey (in the window), how far they got, and who completed it.

        With a window, each step counts the people who began in it, whenever they
        answered: a funnel of the month's newcomers, never above 100%.
        """
        connection = self.session.connection()
        started, completed = connection.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((SESSIONS.c.status == "completed", 1), else_=0)), 0),
            ).where(SESSIONS.c.survey_id == survey_id, *_within(SESSIONS.c.started_at, window))
        ).one()
        steps = select(ANSWERS.c.question_id, func.count()).where(ANSWERS.c.survey_id == survey_id)
        if window is not None:
            steps = steps.join(SESSIONS, SESSIONS.c.id == ANSWERS.c.session_id).where(
                *_within(SESSIONS.c.started_at, window)
            )
        answered: dict[str, int] = dict(
            connection.execute(steps.group_by(ANSWERS.c.question_id)).all()
        )
        return Funnel(int(started), int(completed), answered)

    def invitation_rates(self, *, survey_id: str) -> list[InvitationRate]:
        """Each invitation campaign to this survey: reached, began after it, completed."""
        connection = self.session.connection()
        campaigns = [
            (row.id, row.name)
            for row in connection.execute(
                select(CAMPAIGNS.c.id, CAMPAIGNS.c.name, CAMPAIGNS.c.definition)
                .where(CAMPAIGNS.c.kind == "survey_invitation")
                .order_by(CAMPAIGNS.c.created_at)
            )
            if (row.definition or {}).get("survey") == survey_id
        ]
        rates = []
        for campaign_id, name in campaigns:
            # One row per person: the first time the invitation reached them.
            first = (
                select(OUTBOX.c.respondent_id, func.min(OUTBOX.c.updated_at).label("reached_at"))
                .where(OUTBOX.c.campaign_id == campaign_id, OUTBOX.c.status.in_(REACHED))
                .group_by(OUTBOX.c.respondent_id)
                .subquery()
            )
            reached, responded, completed = connection.execute(
                select(
                    func.count(distinct(first.c.respondent_id)),
                    func.count(distinct(SESSIONS.c.respondent_id)),
                    func.count(
                        distinct(
                            case(
                                (SESSIONS.c.status == "completed", SESSIONS.c.respondent_id),
                                else_=None,
                            )
                        )
                    ),
                )
                .select_from(first)
                .outerjoin(
                    SESSIONS,
                    (SESSIONS.c.respondent_id == first.c.respondent_id)
                    & (SESSIONS.c.survey_id == survey_id)
                    & (SESSIONS.c.started_at >= first.c.reached_at),
                )
            ).one()
            rates.append(
                InvitationRate(campaign_id, name, int(reached), int(responded), int(completed))
            )
        return rates
