"""Idea challenges in the database: challenges, ideas, moderation, votes, results.

Staff see an idea's text and its number, never who wrote it: moderation acts on
the author through the idea (mute or ban "the author of idea 12": ``author_of``
finds them, ``storage.moderation.ModerationRepository`` acts). Everyone who
sends an idea or votes is tagged ``challenge_tag(id)``, so results can be
announced to exactly them with an ordinary campaign.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from polls.challenge import Challenge, parse_challenge
from polls.errors import OutreachError
from storage.models import (
    Challenge as ChallengeRow,
)
from storage.models import (
    Idea,
    IdeaVote,
    RespondentTag,
    utcnow,
)

CHALLENGES = cast(Table, ChallengeRow.__table__)
IDEAS = cast(Table, Idea.__table__)
VOTES = cast(Table, IdeaVote.__table__)
TAGS = cast(Table, RespondentTag.__table__)

OPEN, VOTING, CLOSED = "open", "voting", "closed"
PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"


class ChallengeError(OutreachError):
    """Why an idea or a vote was not taken; ``reason`` picks the words the person reads."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def challenge_tag(challenge_id: str) -> str:
    """The audience tag of a challenge's participants (tags hold 40 characters)."""
    return f"ch-{challenge_id}"[:40]


@dataclass(frozen=True)
class StoredChallenge:
    challenge: Challenge
    status: str


@dataclass(frozen=True)
class IdeaRow:
    id: int
    challenge_id: str
    text: str
    status: str
    created_at: datetime
    votes: int = 0


class ChallengeRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def _connection(self) -> Any:
        return self.session.connection()

    # ---------------------------------------------------------- challenges

    def save(self, challenge: Challenge) -> bool:
        """Open a new challenge, or update an existing one's definition; True if new."""
        exists = self.get(challenge.id) is not None
        if exists:
            self._connection.execute(
                update(CHALLENGES)
                .where(CHALLENGES.c.id == challenge.id)
                .values(definition=dict(challenge.raw))
            )
        else:
            self._connection.execute(
                insert(CHALLENGES),
                {
                    "id": challenge.id,
                    "definition": dict(challenge.raw),
                    "status": OPEN,
                    "created_at": utcnow(),
                },
            )
        return not exists

    def get(self, challenge_id: str) -> StoredChallenge | None:
        row = self._connection.execute(
            select(CHALLENGES.c.definition, CHALLENGES.c.status).where(
                CHALLENGES.c.id == challenge_id
            )
        ).first()
        if row is None:
            return None
        return StoredChallenge(parse_challenge(row.definition, source=challenge_id), row.status)

    def all(self) -> list[StoredChallenge]:
        rows = self._connection.execute(
            select(CHALLENGES.c.id).order_by(CHALLENGES.c.created_at.desc())
        ).scalars()
        return [stored for cid in rows if (stored := self.get(cid)) is not None]

    def set_status(self, challenge_id: str, status: str) -> None:
        self._connection.execute(
            update(CHALLENGES).where(CHALLENGES.c.id == challenge_id).values(status=status)
        )

    # ---------------------------------------------------------- ideas

    def submit(self, *, challenge: Challenge, respondent_id: int, text: str, now: datetime) -> int:
        """Store an idea awaiting moderation; ChallengeError('one_each') if one is in."""
        if challenge.one_per_person and self.idea_of(challenge.id, respondent_id) is not None:
            raise ChallengeError("one_each")
        idea_id = int(
            self._connection.execute(
                insert(IDEAS).returning(IDEAS.c.id),
                {
                    "challenge_id": challenge.id,
                    "respondent_id": respondent_id,
                    "text": text,
                    "status": PENDING,
                    "created_at": now,
                },
            ).scalar_one()
        )
        self._tag(respondent_id, challenge.id)
        return idea_id

    def idea_of(self, challenge_id: str, respondent_id: int) -> IdeaRow | None:
        row = self._connection.execute(
            select(IDEAS)
            .where(IDEAS.c.challenge_id == challenge_id, IDEAS.c.respondent_id == respondent_id)
            .order_by(IDEAS.c.id.desc())
            .limit(1)
        ).first()
        return None if row is None else _idea(row)

    def own_idea_ids(self, challenge_id: str, respondent_id: int) -> set[int]:
        """The person's ideas in the challenge (two, if they sent one from each of two
        channels before linking them), to leave off their ballot."""
        return set(
            self._connection.execute(
                select(IDEAS.c.id).where(
                    IDEAS.c.challenge_id == challenge_id, IDEAS.c.respondent_id == respondent_id
                )
            ).scalars()
        )

    def ideas(self, challenge_id: str, *, status: str | None = None) -> list[IdeaRow]:
        votes = (
            select(VOTES.c.idea_id, func.count().label("votes"))
            .group_by(VOTES.c.idea_id)
            .subquery()
        )
        query = (
            select(IDEAS, func.coalesce(votes.c.votes, 0).label("votes"))
            .outerjoin(votes, votes.c.idea_id == IDEAS.c.id)
            .where(IDEAS.c.challenge_id == challenge_id)
            .order_by(IDEAS.c.id)
        )
        if status is not None:
            query = query.where(IDEAS.c.status == status)
        return [_idea(row, votes=row.votes) for row in self._connection.execute(query)]

    def idea(self, idea_id: int) -> IdeaRow | None:
        row = self._connection.execute(select(IDEAS).where(IDEAS.c.id == idea_id)).first()
        return None if row is None else _idea(row)

    def moderate(self, *, idea_id: int, status: str, now: datetime) -> IdeaRow:
        idea = self.idea(idea_id)
        if idea is None:
            raise ChallengeError("no_idea")
        self._connection.execute(
            update(IDEAS).where(IDEAS.c.id == idea_id).values(status=status, moderated_at=now)
        )
        return idea

    def author_of(self, *, idea_id: int) -> int:
        """Who sent the idea: never shown, only handed to ``ModerationRepository``."""
        author = self._connection.execute(
            select(IDEAS.c.respondent_id).where(IDEAS.c.id == idea_id)
        ).scalar()
        if author is None:
            raise ChallengeError("no_idea")
        return int(author)

    # ---------------------------------------------------------- votes

    def vote(self, *, challenge_id: str, respondent_id: int, idea_id: int, now: datetime) -> None:
        """One vote per person and challenge, for an approved idea that is not their own."""
        idea = self._connection.execute(
            select(IDEAS.c.respondent_id, IDEAS.c.status, IDEAS.c.challenge_id).where(
                IDEAS.c.id == idea_id
            )
        ).first()
        if idea is None or idea.challenge_id != challenge_id or idea.status != APPROVED:
            raise ChallengeError("no_idea")
        if idea.respondent_id == respondent_id:
            raise ChallengeError("own_idea")
        statement = _insert(self._connection.dialect.name)(VOTES).on_conflict_do_nothing(
            index_elements=["challenge_id", "respondent_id"]
        )
        result = self._connection.execute(
            statement,
            {
                "challenge_id": challenge_id,
                "respondent_id": respondent_id,
                "idea_id": idea_id,
                "voted_at": now,
            },
        )
        if not result.rowcount:
            raise ChallengeError("voted")
        self._tag(respondent_id, challenge_id)

    def vote_of(self, challenge_id: str, respondent_id: int) -> int | None:
        voted: int | None = self._connection.execute(
            select(VOTES.c.idea_id).where(
                VOTES.c.challenge_id == challenge_id, VOTES.c.respondent_id == respondent_id
            )
        ).scalar()
        return voted

    def results(self, challenge_id: str) -> list[IdeaRow]:
        """Approved ideas, most votes first (ties: the earlier idea first)."""
        ideas = self.ideas(challenge_id, status=APPROVED)
        return sorted(ideas, key=lambda idea: (-idea.votes, idea.id))

    def participants(self, challenge_id: str) -> int:
        return int(
            self._connection.execute(
                select(func.count()).where(TAGS.c.tag == challenge_tag(challenge_id))
            ).scalar()
            or 0
        )

    # ---------------------------------------------------------- linking two people

    def merge_participant(self, *, into: int, other: int) -> None:
        """Carry ``other``'s ideas and votes over to ``into``: the same person, known twice.

        Called by ``RespondentRepository.link_identity`` before ``other`` is deleted
        (their challenge tags move with all their tags, ``storage.audience.merge_tags``).

        - ideas all move, as they were moderated. Where a challenge takes one idea
          per person and both sent one, both stay: each was accepted when it was
          sent, and dropping one would lose words someone may already have voted
          for. Only a new idea is refused, as it is for anyone who sent one.
        - votes: a vote for an idea that is now the person's own is dropped (never
          for one's own idea); then one vote per challenge: where both voted, the
          earlier vote stands and the later goes. With no vote left, they may vote
          again while the vote is open.
        """
        connection = self._connection
        connection.execute(
            update(IDEAS).where(IDEAS.c.respondent_id == other).values(respondent_id=into)
        )
        connection.execute(
            delete(VOTES).where(
                VOTES.c.respondent_id.in_((into, other)),
                VOTES.c.idea_id.in_(select(IDEAS.c.id).where(IDEAS.c.respondent_id == into)),
            )
        )
        votes = connection.execute(
            select(VOTES.c.challenge_id, VOTES.c.respondent_id, VOTES.c.voted_at).where(
                VOTES.c.respondent_id.in_((into, other))
            )
        ).all()
        by_challenge: dict[str, list[Any]] = {}
        for vote in votes:
            by_challenge.setdefault(vote.challenge_id, []).append(vote)
        for challenge_id, both in by_challenge.items():
            if len(both) < 2:
                continue
            # The earlier stands; at the same moment, the survivor's.
            later = max(both, key=lambda v: (v.voted_at, v.respondent_id != into))
            connection.execute(
                delete(VOTES).where(
                    VOTES.c.challenge_id == challenge_id,
                    VOTES.c.respondent_id == later.respondent_id,
                )
            )
        connection.execute(
            update(VOTES).where(VOTES.c.respondent_id == other).values(respondent_id=into)
        )

    def _tag(self, respondent_id: int, challenge_id: str) -> None:
        statement = _insert(self._connection.dialect.name)(TAGS).on_conflict_do_nothing(
            index_elements=["respondent_id", "tag"]
        )
        self._connection.execute(
            statement, {"respondent_id": respondent_id, "tag": challenge_tag(challenge_id)}
        )


def _insert(dialect: str) -> Any:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def _idea(row: Any, votes: int = 0) -> IdeaRow:
    return IdeaRow(row.id, row.challenge_id, row.text, row.status, row.created_at, int(votes))
