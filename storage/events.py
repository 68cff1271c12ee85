"""Answers to event invitations: going, maybe, can't; a waiting list past capacity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.orm import Session

from storage.models import ChannelIdentity, EventRsvp, Respondent, utcnow

RSVPS = cast(Table, EventRsvp.__table__)


@dataclass(frozen=True)
class RsvpOutcome:
    response: str
    waitlisted: bool
    promoted: int | None = None
    """Someone who moved up from the waiting list because a place came free."""


class EventRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def answer(
        self, *, campaign_id: str, respondent_id: int, response: str, capacity: int | None
    ) -> RsvpOutcome:
        """Record (or change) a person's answer; past capacity, 'going' waits in line."""
        connection = self.session.connection()
        previous = connection.execute(
            select(RSVPS.c.response, RSVPS.c.waitlisted).where(
                RSVPS.c.campaign_id == campaign_id, RSVPS.c.respondent_id == respondent_id
            )
        ).first()
        connection.execute(
            delete(RSVPS).where(
                RSVPS.c.campaign_id == campaign_id, RSVPS.c.respondent_id == respondent_id
            )
        )
        waitlisted = False
        if response == "going":
            if previous is not None and previous.response == "going":
                waitlisted = bool(previous.waitlisted)
            elif capacity is not None:
                waitlisted = self.going(campaign_id=campaign_id) >= capacity
        connection.execute(
            insert(RSVPS),
            {
                "campaign_id": campaign_id,
                "respondent_id": respondent_id,
                "response": response,
                "waitlisted": waitlisted,
                "responded_at": utcnow(),
            },
        )
        promoted = None
        freed = previous is not None and previous.response == "going" and not previous.waitlisted
        if freed and response != "going" and capacity is not None:
            promoted = self._promote(campaign_id)
        return RsvpOutcome(response, waitlisted, promoted)

    def merge_rsvps(self, *, into: int, other: int) -> list[int]:
        """Carry ``other``'s answers to events over to ``into``: the same person, known twice.

        Called by ``RespondentRepository.link_identity`` before ``other`` is deleted.
        Where both answered the same event, it is as if the person had answered
        twice: the later answer stands, as answering again replaces an answer. If
        it is 'going' and the earlier was 'going' with a place, it keeps that place;
        a place held by the answer that goes (or a second place) is freed for the
        first in the waiting line. Returns the people who moved up from it.
        """
        connection = self.session.connection()
        rows = connection.execute(
            select(RSVPS).where(RSVPS.c.respondent_id.in_((into, other)))
        ).all()
        by_event: dict[str, list[Any]] = {}
        for row in rows:
            by_event.setdefault(row.campaign_id, []).append(row)
        promoted: list[int] = []
        for campaign_id, both in by_event.items():
            if len(both) < 2:
                continue
            # The later stands; at the same moment, the survivor's.
            earlier, later = sorted(both, key=lambda r: (r.responded_at, r.respondent_id == into))
            places = sum(r.response == "going" and not r.waitlisted for r in both)
            waitlisted = bool(later.waitlisted)
            if later.response == "going" and earlier.response == "going":
                waitlisted = waitlisted and bool(earlier.waitlisted)
            connection.execute(
                delete(RSVPS).where(
                    RSVPS.c.campaign_id == campaign_id, RSVPS.c.respondent_id == other
                )
            )
            connection.execute(
                update(RSVPS)
                .where(RSVPS.c.campaign_id == campaign_id, RSVPS.c.respondent_id == into)
                .values(
                    response=later.response,
                    waitlisted=waitlisted,
                    responded_at=later.responded_at,
                )
            )
            freed = places - int(later.response == "going" and not waitlisted)
            for _ in range(freed):
                moved_up = self._promote(campaign_id)
                if moved_up is not None:
                    promoted.append(moved_up)
        connection.execute(
            update(RSVPS).where(RSVPS.c.respondent_id == other).values(respondent_id=into)
        )
        return promoted

    def withdraw(self, *, respondent_id: int) -> list[int]:
        """Take back every answer of a person who erased themselves: a place they held
        goes to the first in that event's waiting line. Returns the people who moved up."""
        connection = self.session.connection()
        held = connection.execute(
            select(RSVPS.c.campaign_id).where(
                RSVPS.c.respondent_id == respondent_id,
                RSVPS.c.response == "going",
                RSVPS.c.waitlisted.is_(False),
            )
        ).scalars()
        events = sorted(held)
        connection.execute(delete(RSVPS).where(RSVPS.c.respondent_id == respondent_id))
        promoted = [self._promote(campaign_id) for campaign_id in events]
        return [person for person in promoted if person is not None]

    def going(self, *, campaign_id: str) -> int:
        return int(
            self.session.connection()
            .execute(
                select(func.count()).where(
                    RSVPS.c.campaign_id == campaign_id,
                    RSVPS.c.response == "going",
                    RSVPS.c.waitlisted.is_(False),
                )
            )
            .scalar()
            or 0
        )

    def _promote(self, campaign_id: str) -> int | None:
        """The first in the waiting line takes the free place."""
        connection = self.session.connection()
        first = connection.execute(
            select(RSVPS.c.respondent_id)
            .where(RSVPS.c.campaign_id == campaign_id, RSVPS.c.waitlisted.is_(True))
            .order_by(RSVPS.c.responded_at)
            .limit(1)
        ).scalar()
        if first is not None:
            connection.execute(
                update(RSVPS)
                .where(RSVPS.c.campaign_id == campaign_id, RSVPS.c.respondent_id == first)
                .values(waitlisted=False)
            )
        return cast(int | None, first)

    def attendees(self, *, campaign_id: str) -> list[dict[str, object]]:
        """Everyone who answered, with what staff need to plan: no names, no numbers."""
        columns = (
            RSVPS.c.respondent_id,
            RSVPS.c.response,
            RSVPS.c.waitlisted,
            RSVPS.c.responded_at,
            Respondent.language,
            Respondent.region,
            Respondent.age_band,
        )
        rows = self.session.execute(
            select(*columns, func.min(ChannelIdentity.channel))
            .join(Respondent, Respondent.id == RSVPS.c.respondent_id)
            .outerjoin(ChannelIdentity, ChannelIdentity.respondent_id == Respondent.id)
            .where(RSVPS.c.campaign_id == campaign_id)
            .group_by(*columns)
            .order_by(RSVPS.c.responded_at)
        ).all()
        return [
            {
                "respondent_id": row[0],
                "response": row[1],
                "waitlisted": row[2],
                "responded_at": row[3],
                "language": row[4],
                "region": row[5],
                "age_band": row[6],
                "channel": row[7],
            }
            for row in rows
        ]
