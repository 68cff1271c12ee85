"""Participants and the channel identities that reach them.

Every inbound message reads and updates one participant, so this repository
works in Core statements on plain records (``RespondentRecord``) rather than
ORM objects: the record notes which fields changed and ``save`` writes only those.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from storage.audience import merge_tags
from storage.campaigns import CampaignRepository
from storage.challenges import ChallengeRepository
from storage.events import EventRepository
from storage.models import (
    Answer,
    AnswerChoice,
    Badge,
    ChannelIdentity,
    Idea,
    IdeaVote,
    OutboundMessage,
    OutboxMessage,
    Player,
    PlayerScore,
    QuizAttempt,
    Respondent,
    RespondentTag,
    SurveySession,
    utcnow,
)
from storage.moderation import ModerationRepository
from storage.quizzes import QuizRepository

RESPONDENTS = cast(Table, Respondent.__table__)
IDENTITIES = cast(Table, ChannelIdentity.__table__)
ANSWERS = cast(Table, Answer.__table__)
CHOICES = cast(Table, AnswerChoice.__table__)
SESSIONS = cast(Table, SurveySession.__table__)
ATTEMPTS = cast(Table, QuizAttempt.__table__)
PLAYERS = cast(Table, Player.__table__)
SCORES = cast(Table, PlayerScore.__table__)
BADGES = cast(Table, Badge.__table__)
IDEAS = cast(Table, Idea.__table__)
VOTES = cast(Table, IdeaVote.__table__)
TAGS = cast(Table, RespondentTag.__table__)
OUTBOX = cast(Table, OutboxMessage.__table__)
OUTBOUND = cast(Table, OutboundMessage.__table__)
ERASED_ADDRESS = ""
"""What a channel address becomes where a row must outlive the person's identity."""


@dataclass(eq=False)
class RespondentRecord:
    """A participant's row; assigning a field marks it for ``save``."""

    id: int
    created_at: datetime | None = None
    language: str | None = None
    region: str | None = None
    age_band: str | None = None
    gender: str | None = None
    consent_at: datetime | None = None
    consent_version: str | None = None
    dialogue: dict[str, Any] | None = None
    last_seen_at: datetime | None = None
    erased_at: datetime | None = None
    muted_until: datetime | None = None
    banned_at: datetime | None = None
    changed: set[str] = field(default_factory=set, repr=False)

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name in _COLUMNS and "changed" in self.__dict__:
            self.changed.add(name)


_COLUMNS = frozenset(f.name for f in fields(RespondentRecord)) - {"id", "changed"}


def _find_statement() -> Any:
    return (
        select(RESPONDENTS)
        .join(IDENTITIES, IDENTITIES.c.respondent_id == RESPONDENTS.c.id)
        .where(
            IDENTITIES.c.channel == bindparam("channel"),
            IDENTITIES.c.address == bindparam("address"),
        )
    )


_PROFILE = ("language", "region", "age_band", "gender", "consent_at", "consent_version")

MERGED_TABLES = frozenset(
    {
        "channel_identities",
        "survey_sessions",
        "answers",
        "quiz_attempts",
        "quiz_answers",
        "players",
        "player_scores",
        "daily_answers",
        "badges",
        "ideas",
        "idea_votes",
        "respondent_tags",
        "event_rsvps",
        "outbox",
    }
)
"""Every table whose rows point at a person, all carried over by ``_merge`` (a test holds
this list to the models: a new table with a respondent key needs its rule there)."""

IDENTITY_ERASURE = {
    "channel_identities": "deleted",
    "survey_sessions": "kept; unfinished ones abandoned, their saved place cleared",
    "answers": "free text deleted; choices and numbers kept",
    "quiz_attempts": "kept (scores as anonymous statistics); one in progress abandoned",
    "quiz_answers": "kept",
    "players": "deleted (nickname, team, hidden)",
    "player_scores": "deleted: off every leaderboard",
    "daily_answers": "kept",
    "badges": "deleted",
    "ideas": "deleted, with the votes others cast for them",
    "idea_votes": "their own votes kept, as anonymous choices: nobody's results move",
    "respondent_tags": "deleted",
    "event_rsvps": "deleted; a place they held goes to the first on the waiting list",
    "outbox": "kept for the campaign's figures, address blanked; messages not yet sent skipped",
}
"""What "delete my identity" does to each table of ``MERGED_TABLES`` (``erase_identity``;
a test holds the two lists together). Besides them: the respondent row keeps the profile
used for breakdowns and the consent, and ``outbound_messages`` forget the addresses."""
UTC_ZONE = ZoneInfo("UTC")


@functools.cache
def _update_statement(columns: frozenset[str]) -> Any:
    """One prepared UPDATE per set of changed columns: building one costs more than running it."""
    return (
        update(RESPONDENTS)
        .where(RESPONDENTS.c.id == bindparam("respondent_id"))
        .values({name: bindparam(name) for name in sorted(columns)})
    )


class RespondentRepository:
    _find = _find_statement()
    # PostgreSQL: lock the person for the turn, so two processes handling two of their
    # messages at once take turns instead of overwriting each other's dialogue state.
    _find_locked = _find_statement().with_for_update(of=RESPONDENTS)

    def __init__(self, session: Session) -> None:
        self.session = session

    def find(self, *, channel: str, address: str) -> RespondentRecord | None:
        """The participant reached at ``address`` on ``channel``, if known."""
        connection = self.session.connection()
        statement = self._find_locked if connection.dialect.name == "postgresql" else self._find
        row = (
            connection.execute(statement, {"channel": channel, "address": address})
            .mappings()
            .first()
        )
        return RespondentRecord(**row) if row else None

    def get(self, *, respondent_id: int) -> RespondentRecord | None:
        row = (
            self.session.connection()
            .execute(select(RESPONDENTS).where(RESPONDENTS.c.id == respondent_id))
            .mappings()
            .first()
        )
        return RespondentRecord(**row) if row else None

    def create(self, *, channel: str, address: str, language: str | None) -> RespondentRecord:
        now = utcnow()
        connection = self.session.connection()
        respondent_id = connection.execute(
            insert(RESPONDENTS).returning(RESPONDENTS.c.id),
            {"language": language, "created_at": now, "last_seen_at": now},
        ).scalar_one()
        connection.execute(
            insert(IDENTITIES),
            {
                "respondent_id": respondent_id,
                "channel": channel,
                "address": address,
                "created_at": now,
            },
        )
        return RespondentRecord(
            id=respondent_id, created_at=now, language=language, last_seen_at=now
        )

    def save(self, record: RespondentRecord) -> None:
        """Write the fields assigned since the record was read."""
        if not record.changed:
            return
        columns = frozenset(record.changed)
        values = {name: getattr(record, name) for name in columns}
        values["respondent_id"] = record.id
        self.session.connection().execute(_update_statement(columns), values)
        record.changed.clear()

    def identities(self, *, respondent_id: int) -> list[ChannelIdentity]:
        rows = self.session.scalars(
            select(ChannelIdentity)
            .where(ChannelIdentity.respondent_id == respondent_id)
            .order_by(ChannelIdentity.id)
        )
        return list(rows)

    def erase_identity(self, *, respondent_id: int, now: datetime | None = None) -> None:
        """Forget who the person is, the names they chose and what they wrote in their own words.

        What stays is statistics attached to a row that leads to no one: the
        profile used for breakdowns (language, region, age band, gender), choice
        and number answers, quiz attempts and answers, the question of the day,
        and their votes. ``IDENTITY_ERASURE`` says it table by table; ``/forget``'s
        section of the README says it for the person.
        """
        now = now or utcnow()
        connection = self.session.connection()
        self._release(respondent_id)
        connection.execute(delete(IDENTITIES).where(IDENTITIES.c.respondent_id == respondent_id))
        connection.execute(
            delete(ANSWERS).where(
                ANSWERS.c.respondent_id == respondent_id,
                ANSWERS.c.text.is_not(None),
            )
        )
        # A survey left half-way keeps its answers so far in its saved place, free text too.
        connection.execute(
            update(SESSIONS)
            .where(
                SESSIONS.c.respondent_id == respondent_id,
                SESSIONS.c.status.in_(("active", "paused")),
            )
            .values(status="abandoned", updated_at=now)
        )
        connection.execute(
            update(SESSIONS).where(SESSIONS.c.respondent_id == respondent_id).values(state=None)
        )
        connection.execute(
            update(ATTEMPTS)
            .where(ATTEMPTS.c.respondent_id == respondent_id, ATTEMPTS.c.status == "active")
            .values(status="abandoned")
        )
        # The nickname and team are how others know them; scores stay only in the attempts.
        for table in (PLAYERS, SCORES, BADGES, TAGS):
            connection.execute(delete(table).where(table.c.respondent_id == respondent_id))
        # Their ideas are their own words: withdrawn, with the votes others gave them (those
        # people may vote again while the vote is open). Their own votes stay.
        theirs = select(IDEAS.c.id).where(IDEAS.c.respondent_id == respondent_id)
        connection.execute(delete(VOTES).where(VOTES.c.idea_id.in_(theirs)))
        connection.execute(delete(IDEAS).where(IDEAS.c.respondent_id == respondent_id))
        connection.execute(
            update(OUTBOX)
            .where(OUTBOX.c.respondent_id == respondent_id, OUTBOX.c.status == "pending")
            .values(status="skipped", error="the person erased their identity", updated_at=now)
        )
        connection.execute(
            update(OUTBOX)
            .where(OUTBOX.c.respondent_id == respondent_id)
            .values(address=ERASED_ADDRESS)
        )
        connection.execute(
            update(RESPONDENTS)
            .where(RESPONDENTS.c.id == respondent_id)
            .values(dialogue=None, last_seen_at=None, erased_at=now)
        )

    def _release(self, respondent_id: int) -> None:
        """What erasing a person must do beyond their own rows, whichever way they erase.

        A place they held at an event goes to the first on its waiting line, and the
        log of messages sent (``outbound_messages``, kept by address for delivery
        statuses and costs) forgets their addresses.
        """
        EventRepository(self.session).withdraw(respondent_id=respondent_id)
        connection = self.session.connection()
        addresses = connection.execute(
            select(IDENTITIES.c.channel, IDENTITIES.c.address).where(
                IDENTITIES.c.respondent_id == respondent_id
            )
        ).all()
        for channel, address in addresses:
            connection.execute(
                update(OUTBOUND)
                .where(OUTBOUND.c.channel == channel, OUTBOUND.c.address == address)
                .values(address=ERASED_ADDRESS)
            )

    def opted_out(self, *, channel: str, address: str) -> bool:
        """Whether this address said STOP (and has not joined again)."""
        at = (
            self.session.connection()
            .execute(
                select(IDENTITIES.c.opted_out_at).where(
                    IDENTITIES.c.channel == channel, IDENTITIES.c.address == address
                )
            )
            .scalar()
        )
        return at is not None

    def set_opt_out(self, *, channel: str, address: str, at: datetime | None) -> None:
        """Record a STOP (``at``) or a return (None) for this address."""
        self.session.connection().execute(
            update(IDENTITIES)
            .where(IDENTITIES.c.channel == channel, IDENTITIES.c.address == address)
            .values(opted_out_at=at)
        )

    def mark_unreachable(self, *, channel: str, address: str, at: datetime) -> None:
        """The channel says this address cannot receive messages (invalid, landline...)."""
        self.session.connection().execute(
            update(IDENTITIES)
            .where(IDENTITIES.c.channel == channel, IDENTITIES.c.address == address)
            .values(unreachable_at=at)
        )

    def link_identity(
        self, *, respondent_id: int, channel: str, address: str, zone: ZoneInfo | None = None
    ) -> bool:
        """Make ``address`` reach this person; True if it merged another person into them.

        When the address already belongs to someone else (the same person, who
        answered by SMS before linking), everything of that person moves here
        (``_merge`` says how); ``zone`` is where weeks begin for the weekly
        leaderboards (``ConversationConfig.timezone``; UTC if not given).
        """
        connection = self.session.connection()
        owner = connection.execute(
            select(IDENTITIES.c.respondent_id).where(
                IDENTITIES.c.channel == channel, IDENTITIES.c.address == address
            )
        ).scalar()
        if owner == respondent_id:
            return False
        if owner is None:
            connection.execute(
                insert(IDENTITIES),
                {
                    "respondent_id": respondent_id,
                    "channel": channel,
                    "address": address,
                    "created_at": utcnow(),
                },
            )
            return False
        self._merge(into=respondent_id, other=owner, zone=zone or UTC_ZONE)
        return True

    def _merge(self, *, into: int, other: int, zone: ZoneInfo) -> None:
        """Make ``other`` part of ``into`` and delete ``other``: nothing they did is lost,
        nothing counts twice. Each rule sits beside its data:

        - surveys (here): sessions and answers move; where both took the same
          survey, the fuller session stays (completed, then more answers, then the
          survivor's) and the other goes with its answers. A survey ``other`` was in
          the middle of is paused where they were.
        - channel identities move; profile gaps are filled from ``other``; the code
          of conduct follows the person: the later mute, the earlier ban (which
          rejects every idea and free text, the moved ones too, and hides them from
          leaderboards).
        - quizzes, the question of the day, badges, players and leaderboards:
          ``QuizRepository.merge_player``.
        - ideas and votes: ``ChallengeRepository.merge_participant``.
        - tags: ``storage.audience.merge_tags``; answers to events:
          ``EventRepository.merge_rsvps``; campaign messages:
          ``CampaignRepository.merge_outbox``.

        ``MERGED_TABLES`` names every table this covers.
        """
        connection = self.session.connection()
        theirs = self.get(respondent_id=other)
        flow = theirs.dialogue if theirs is not None else None
        if flow and flow.get("flow") == "survey":
            # Keep the place of the survey they were in the middle of.
            connection.execute(
                update(SESSIONS)
                .where(SESSIONS.c.id == flow["session_id"])
                .values(status="paused", state=flow["state"])
            )
        self._merge_sessions(into, other)
        connection.execute(
            update(IDENTITIES).where(IDENTITIES.c.respondent_id == other).values(respondent_id=into)
        )
        mine = self.get(respondent_id=into)
        if mine is not None and theirs is not None:
            for name in _PROFILE:
                if getattr(mine, name) is None and getattr(theirs, name) is not None:
                    setattr(mine, name, getattr(theirs, name))
            # The code of conduct follows the person: linking a number never lifts a
            # mute or a ban (the later mute, the earlier ban).
            if theirs.muted_until is not None and (
                mine.muted_until is None or theirs.muted_until > mine.muted_until
            ):
                mine.muted_until = theirs.muted_until
            if theirs.banned_at is not None and (
                mine.banned_at is None or theirs.banned_at < mine.banned_at
            ):
                mine.banned_at = theirs.banned_at
            self.save(mine)
        # After the profile (leaderboard rows carry the region), before a ban (which
        # rejects the ideas that moved and hides the recomputed rows).
        QuizRepository(self.session).merge_player(into=into, other=other, zone=zone)
        ChallengeRepository(self.session).merge_participant(into=into, other=other)
        merge_tags(self.session, into=into, other=other)
        EventRepository(self.session).merge_rsvps(into=into, other=other)
        CampaignRepository(self.session).merge_outbox(into=into, other=other)
        if mine is not None and mine.banned_at is not None:
            ModerationRepository(self.session).ban(respondent_id=into, now=mine.banned_at)
        connection.execute(delete(RESPONDENTS).where(RESPONDENTS.c.id == other))

    def _merge_sessions(self, into: int, other: int) -> None:
        """Survey sessions and answers; of two sessions of one survey, the fuller stays."""
        connection = self.session.connection()
        answered = (
            select(ANSWERS.c.session_id, func.count().label("answers"))
            .group_by(ANSWERS.c.session_id)
            .subquery()
        )
        rows = connection.execute(
            select(
                SESSIONS.c.id,
                SESSIONS.c.respondent_id,
                SESSIONS.c.survey_id,
                SESSIONS.c.status,
                func.coalesce(answered.c.answers, 0),
            )
            .outerjoin(answered, answered.c.session_id == SESSIONS.c.id)
            .where(SESSIONS.c.respondent_id.in_((into, other)))
        ).all()
        by_survey: dict[str, list[tuple[int, int, str, int]]] = {}
        for session_id, owner, survey_id, status, answers in rows:
            by_survey.setdefault(survey_id, []).append((session_id, owner, status, answers))
        losers: list[int] = []
        for sessions in by_survey.values():
            if len(sessions) < 2:
                continue
            # Completed beats unfinished, then more answers, then this person's own.
            ranked = sorted(
                sessions, key=lambda s: (s[2] == "completed", s[3], s[1] == into), reverse=True
            )
            losers.extend(s[0] for s in ranked[1:])
        if losers:
            connection.execute(delete(SESSIONS).where(SESSIONS.c.id.in_(losers)))
        connection.execute(
            update(SESSIONS).where(SESSIONS.c.respondent_id == other).values(respondent_id=into)
        )
        connection.execute(
            update(ANSWERS).where(ANSWERS.c.respondent_id == other).values(respondent_id=into)
        )
        connection.execute(
            update(CHOICES).where(CHOICES.c.respondent_id == other).values(respondent_id=into)
        )

    def delete(self, *, respondent_id: int) -> None:
        """Delete the person and everything of theirs: every row of ``MERGED_TABLES`` (the
        database cascades), so also the votes others cast for their ideas and the vote they
        cast (the idea they voted for has one vote fewer)."""
        self._release(respondent_id)
        self.session.connection().execute(
            delete(RESPONDENTS).where(RESPONDENTS.c.id == respondent_id)
        )
