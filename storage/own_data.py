"""What a person is shown about themselves (``/mydata``) beyond surveys: quizzes, challenges,
labels, events and campaign messages, read from every table that points at them.

The person's own view, so it holds the contents staff never see together with their
owner: their nickname, the words of their ideas, what they voted for. Surveys and
identities are read by ``AnswerRepository`` and ``RespondentRepository``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import Table, case, func, select
from sqlalchemy.orm import Session

from storage.models import (
    Badge,
    DailyAnswer,
    EventRsvp,
    Idea,
    IdeaVote,
    OutboxMessage,
    Player,
    QuizAttempt,
    RespondentTag,
    Team,
)

PLAYERS = cast(Table, Player.__table__)
TEAMS = cast(Table, Team.__table__)
ATTEMPTS = cast(Table, QuizAttempt.__table__)
DAILY = cast(Table, DailyAnswer.__table__)
BADGES = cast(Table, Badge.__table__)
IDEAS = cast(Table, Idea.__table__)
VOTES = cast(Table, IdeaVote.__table__)
TAGS = cast(Table, RespondentTag.__table__)
RSVPS = cast(Table, EventRsvp.__table__)
OUTBOX = cast(Table, OutboxMessage.__table__)


@dataclass(frozen=True)
class OwnAttempt:
    quiz_id: str
    version_id: int
    status: str
    """active, finished or abandoned."""
    score: int
    counted: bool


@dataclass(frozen=True)
class OwnIdea:
    challenge_id: str
    text: str
    status: str
    """pending, approved or rejected."""


@dataclass(frozen=True)
class OwnVote:
    challenge_id: str
    idea_text: str


@dataclass(frozen=True)
class OwnRsvp:
    campaign_id: str
    response: str
    waitlisted: bool


@dataclass(frozen=True)
class OwnYouthData:
    """Everything of a person's quizzes, challenges, labels, events and campaign messages."""

    nickname: str | None = None
    hidden: bool = False
    team: str | None = None
    attempts: list[OwnAttempt] = field(default_factory=list)
    daily_days: int = 0
    daily_right: int = 0
    badges: list[str] = field(default_factory=list)
    ideas: list[OwnIdea] = field(default_factory=list)
    votes: list[OwnVote] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    rsvps: list[OwnRsvp] = field(default_factory=list)
    campaign_messages: int = 0


def own_youth_data(session: Session, *, respondent_id: int) -> OwnYouthData:
    """What the person did in quizzes and challenges and what else points at them."""
    connection = session.connection()
    player = connection.execute(
        select(PLAYERS.c.nickname, PLAYERS.c.hidden, TEAMS.c.name)
        .outerjoin(TEAMS, TEAMS.c.id == PLAYERS.c.team_id)
        .where(PLAYERS.c.respondent_id == respondent_id)
    ).first()
    attempts = [
        OwnAttempt(row.quiz_id, row.quiz_version_id, row.status, row.score, bool(row.counted))
        for row in connection.execute(
            select(
                ATTEMPTS.c.quiz_id,
                ATTEMPTS.c.quiz_version_id,
                ATTEMPTS.c.status,
                ATTEMPTS.c.score,
                ATTEMPTS.c.counted,
            )
            .where(ATTEMPTS.c.respondent_id == respondent_id)
            .order_by(ATTEMPTS.c.started_at, ATTEMPTS.c.id)
        )
    ]
    daily_days, daily_right = connection.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((DAILY.c.correct.is_(True), 1), else_=0)), 0),
        ).where(DAILY.c.respondent_id == respondent_id)
    ).one()
    badges = connection.execute(
        select(BADGES.c.badge)
        .where(BADGES.c.respondent_id == respondent_id)
        .order_by(BADGES.c.earned_at, BADGES.c.badge)
    ).scalars()
    ideas = [
        OwnIdea(row.challenge_id, row.text, row.status)
        for row in connection.execute(
            select(IDEAS.c.challenge_id, IDEAS.c.text, IDEAS.c.status)
            .where(IDEAS.c.respondent_id == respondent_id)
            .order_by(IDEAS.c.created_at, IDEAS.c.id)
        )
    ]
    votes = [
        OwnVote(row.challenge_id, row.text)
        for row in connection.execute(
            select(VOTES.c.challenge_id, IDEAS.c.text)
            .join(IDEAS, IDEAS.c.id == VOTES.c.idea_id)
            .where(VOTES.c.respondent_id == respondent_id)
            .order_by(VOTES.c.voted_at)
        )
    ]
    tags = connection.execute(
        select(TAGS.c.tag).where(TAGS.c.respondent_id == respondent_id).order_by(TAGS.c.tag)
    ).scalars()
    rsvps = [
        OwnRsvp(row.campaign_id, row.response, bool(row.waitlisted))
        for row in connection.execute(
            select(RSVPS.c.campaign_id, RSVPS.c.response, RSVPS.c.waitlisted)
            .where(RSVPS.c.respondent_id == respondent_id)
            .order_by(RSVPS.c.responded_at)
        )
    ]
    messages = connection.execute(
        select(func.count()).where(OUTBOX.c.respondent_id == respondent_id)
    ).scalar()
    return OwnYouthData(
        nickname=player.nickname if player else None,
        hidden=bool(player.hidden) if player else False,
        team=player.name if player else None,
        attempts=attempts,
        daily_days=int(daily_days),
        daily_right=int(daily_right),
        badges=list(badges),
        ideas=ideas,
        votes=votes,
        tags=list(tags),
        rsvps=rsvps,
        campaign_messages=int(messages or 0),
    )
