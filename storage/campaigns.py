"""Campaigns, their runs, and the outbox that dispatch works through.

Every state change of an outbox row is a conditional update (``WHERE status =
...``), so two dispatchers, a cancel and a send can never both win: whoever
moves a row first owns it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from polls.campaign import Campaign, parse_campaign
from polls.errors import OutreachError
from storage.models import CampaignRecord, CampaignRun, OutboxMessage, utcnow

CAMPAIGNS = cast(Table, CampaignRecord.__table__)
RUNS = cast(Table, CampaignRun.__table__)
OUTBOX = cast(Table, OutboxMessage.__table__)

OUTBOX_STATUSES = ("pending", "sending", "sent", "delivered", "failed", "skipped", "unknown")
_FURTHEST = {
    status: rank
    for rank, status in enumerate(
        ("delivered", "sent", "sending", "unknown", "pending", "failed", "skipped")
    )
}
"""Outbox statuses by how far the message got, for merging two people's messages."""
SENDABLE = ("scheduled",)
"""Campaign statuses whose messages go out (paused and cancelled ones wait or stop)."""


class CampaignLocked(OutreachError):
    """A campaign that is already scheduled cannot be replaced."""


@dataclass(frozen=True)
class StoredCampaign:
    campaign: Campaign
    status: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class DueMessage:
    id: int
    run_id: int
    campaign_id: str
    respondent_id: int
    channel: str
    address: str
    language: str
    attempts: int


@functools.cache
def _move_statement(columns: frozenset[str]) -> Any:
    """One prepared UPDATE per set of extra columns: dispatch moves every row twice."""
    values: dict[str, Any] = {
        name: bindparam(name) for name in ("status", "updated_at", *sorted(columns))
    }
    return (
        update(OUTBOX)
        .where(OUTBOX.c.id == bindparam("message_id"), OUTBOX.c.status == bindparam("expected"))
        .values(values)
    )


def _insert(dialect: str) -> Any:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


class CampaignRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def _connection(self) -> Any:
        return self.session.connection()

    # ---------------------------------------------------------- campaigns

    def save(self, *, campaign: Campaign) -> bool:
        """Store a new campaign or replace a draft; True if it was new."""
        existing = self.get(campaign_id=campaign.id)
        values = {
            "kind": campaign.kind.value,
            "name": campaign.name,
            "definition": dict(campaign.raw),
            "updated_at": utcnow(),
        }
        if existing is None:
            self._connection.execute(
                insert(CAMPAIGNS), {"id": campaign.id, "status": "draft", **values}
            )
            return True
        if existing.status != "draft":
            raise CampaignLocked(
                f"campaign {campaign.id} is {existing.status}: cancel it and create the "
                "new version under another id"
            )
        self._connection.execute(
            update(CAMPAIGNS).where(CAMPAIGNS.c.id == campaign.id).values(**values)
        )
        return False

    def get(self, *, campaign_id: str) -> StoredCampaign | None:
        row = (
            self._connection.execute(select(CAMPAIGNS).where(CAMPAIGNS.c.id == campaign_id))
            .mappings()
            .first()
        )
        return _stored(row) if row else None

    def all(self, *, statuses: Iterable[str] | None = None) -> list[StoredCampaign]:
        query = select(CAMPAIGNS).order_by(CAMPAIGNS.c.created_at)
        if statuses is not None:
            query = query.where(CAMPAIGNS.c.status.in_(tuple(statuses)))
        return [_stored(row) for row in self._connection.execute(query).mappings()]

    def set_status(self, *, campaign_id: str, status: str, only_from: Iterable[str]) -> bool:
        """Move a campaign to ``status`` if it is in one of ``only_from``."""
        result = self._connection.execute(
            update(CAMPAIGNS)
            .where(CAMPAIGNS.c.id == campaign_id, CAMPAIGNS.c.status.in_(tuple(only_from)))
            .values(status=status, updated_at=utcnow())
        )
        return bool(result.rowcount)

    # ---------------------------------------------------------- runs

    def create_run(
        self, *, campaign_id: str, due_at: datetime, purpose: str = "broadcast"
    ) -> int | None:
        """A run for this due time, unless one exists already (then None): fires once."""
        dialect = self._connection.dialect.name
        statement = (
            _insert(dialect)(RUNS)
            .values(
                campaign_id=campaign_id,
                due_at=bindparam("due_at", type_=RUNS.c.due_at.type),
                purpose=purpose,
                status="filling",
                created_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["campaign_id", "due_at", "purpose"])
            .returning(RUNS.c.id)
        )
        return cast(int | None, self._connection.execute(statement, {"due_at": due_at}).scalar())

    def run(self, *, run_id: int) -> Any:
        return self._connection.execute(select(RUNS).where(RUNS.c.id == run_id)).mappings().first()

    def runs(self, *, statuses: Iterable[str], campaign_id: str | None = None) -> list[Any]:
        query = select(RUNS).where(RUNS.c.status.in_(tuple(statuses))).order_by(RUNS.c.id)
        if campaign_id is not None:
            query = query.where(RUNS.c.campaign_id == campaign_id)
        return list(self._connection.execute(query).mappings())

    def set_run(self, *, run_id: int, **values: Any) -> None:
        self._connection.execute(update(RUNS).where(RUNS.c.id == run_id).values(**values))

    def latest_run_due(self, *, campaign_id: str, purpose: str = "broadcast") -> datetime | None:
        return cast(
            datetime | None,
            self._connection.execute(
                select(func.max(RUNS.c.due_at)).where(
                    RUNS.c.campaign_id == campaign_id, RUNS.c.purpose == purpose
                )
            ).scalar(),
        )

    def finish_runs(self) -> list[str]:
        """Close runs with nothing left to send; returns campaigns that became complete."""
        open_rows = (
            select(OUTBOX.c.id)
            .where(OUTBOX.c.run_id == RUNS.c.id, OUTBOX.c.status.in_(("pending", "sending")))
            .exists()
        )
        finished = list(
            self._connection.execute(
                update(RUNS)
                .where(RUNS.c.status == "sending", ~open_rows)
                .values(status="done", finished_at=utcnow())
                .returning(RUNS.c.campaign_id)
            ).scalars()
        )
        completed = []
        for campaign_id in set(finished):
            stored = self.get(campaign_id=campaign_id)
            recurring = (
                stored is not None
                and stored.campaign.schedule is not None
                and (stored.campaign.schedule.recurring)
            )
            still_open = self.runs(statuses=("filling", "sending"), campaign_id=campaign_id)
            if (
                not recurring
                and not still_open
                and self.set_status(
                    campaign_id=campaign_id, status="completed", only_from=("scheduled",)
                )
            ):
                completed.append(campaign_id)
        return completed

    # ---------------------------------------------------------- outbox

    def add_outbox(self, *, rows: list[dict[str, Any]]) -> None:
        """Write a page of outbox rows; rows already written (a resumed fill) are kept."""
        if not rows:
            return
        dialect = self._connection.dialect.name
        self._connection.execute(
            _insert(dialect)(OUTBOX).on_conflict_do_nothing(
                index_elements=["run_id", "respondent_id"]
            ),
            rows,
        )

    def merge_outbox(self, *, into: int, other: int) -> None:
        """Carry ``other``'s campaign messages over to ``into``: the same person, known twice.

        Called by ``RespondentRepository.link_identity`` before ``other`` is deleted.
        A run holds one message per person: where both have one in the same run,
        the one that got furthest stays (delivered, sent, being sent, unknown,
        pending, failed, skipped; at a tie, the survivor's) and the other goes, so
        the person is not messaged twice and counts once in the campaign's figures.
        Messages of runs only one of them was in move as they are, with the
        address they were (or will be) sent to.
        """
        connection = self._connection
        rows = connection.execute(
            select(OUTBOX.c.id, OUTBOX.c.run_id, OUTBOX.c.respondent_id, OUTBOX.c.status).where(
                OUTBOX.c.respondent_id.in_((into, other))
            )
        ).all()
        by_run: dict[int, list[Any]] = {}
        for row in rows:
            by_run.setdefault(row.run_id, []).append(row)
        dropped: list[int] = []
        for both in by_run.values():
            if len(both) < 2:
                continue
            both.sort(key=lambda r: (_FURTHEST.get(r.status, 9), r.respondent_id != into))
            dropped.extend(r.id for r in both[1:])
        if dropped:
            connection.execute(delete(OUTBOX).where(OUTBOX.c.id.in_(dropped)))
        connection.execute(
            update(OUTBOX).where(OUTBOX.c.respondent_id == other).values(respondent_id=into)
        )

    def filled(self, *, run_id: int) -> tuple[int, int]:
        """(rows written, last respondent id written) for a run."""
        count, last = self._connection.execute(
            select(func.count(), func.coalesce(func.max(OUTBOX.c.respondent_id), 0)).where(
                OUTBOX.c.run_id == run_id
            )
        ).one()
        return int(count), int(last)

    def due(self, *, channel: str, now: datetime, limit: int) -> list[DueMessage]:
        """Pending messages whose time has come, of campaigns that may send."""
        rows = self._connection.execute(
            select(
                OUTBOX.c.id,
                OUTBOX.c.run_id,
                OUTBOX.c.campaign_id,
                OUTBOX.c.respondent_id,
                OUTBOX.c.channel,
                OUTBOX.c.address,
                OUTBOX.c.language,
                OUTBOX.c.attempts,
            )
            .join(CAMPAIGNS, CAMPAIGNS.c.id == OUTBOX.c.campaign_id)
            .where(
                OUTBOX.c.channel == channel,
                OUTBOX.c.status == "pending",
                OUTBOX.c.not_before <= now,
                CAMPAIGNS.c.status.in_(SENDABLE),
            )
            .order_by(OUTBOX.c.not_before, OUTBOX.c.id)
            .limit(limit)
        )
        return [DueMessage(*row) for row in rows]

    def move(self, *, message_id: int, expected: str, status: str, **values: Any) -> bool:
        """Move one outbox row from ``expected`` to ``status``; False if it was not there."""
        statement = _move_statement(frozenset(values))
        result = self._connection.execute(
            statement,
            {
                "message_id": message_id,
                "expected": expected,
                "status": status,
                "updated_at": utcnow(),
                **values,
            },
        )
        return bool(result.rowcount)

    def recover(self, *, channel: str) -> int:
        """Rows left 'sending' by a dispatcher that died: their outcome is unknown."""
        result = self._connection.execute(
            update(OUTBOX)
            .where(OUTBOX.c.channel == channel, OUTBOX.c.status == "sending")
            .values(status="unknown", error="the process stopped while this was being sent")
        )
        return int(result.rowcount or 0)

    def skip_pending(self, *, campaign_id: str, reason: str) -> int:
        result = self._connection.execute(
            update(OUTBOX)
            .where(OUTBOX.c.campaign_id == campaign_id, OUTBOX.c.status == "pending")
            .values(status="skipped", error=reason, updated_at=utcnow())
        )
        return int(result.rowcount or 0)

    def status_counts(self, *, campaign_id: str) -> dict[str, int]:
        counts = dict.fromkeys(OUTBOX_STATUSES, 0)
        rows = self._connection.execute(
            select(OUTBOX.c.status, func.count())
            .where(OUTBOX.c.campaign_id == campaign_id)
            .group_by(OUTBOX.c.status)
        )
        counts.update({status: count for status, count in rows})
        return counts

    def mark_delivered(self, *, channel: str, provider_id: str, status: str) -> None:
        """A delivery status for a campaign message (SMS callbacks), moving forward only."""
        target = {"delivered": "delivered", "undelivered": "failed", "failed": "failed"}.get(status)
        if target is None:
            return
        self._connection.execute(
            update(OUTBOX)
            .where(
                OUTBOX.c.channel == channel,
                OUTBOX.c.provider_id == provider_id,
                OUTBOX.c.status == "sent",
            )
            .values(status=target, updated_at=utcnow())
        )


def _stored(row: Any) -> StoredCampaign:
    campaign = parse_campaign(row["definition"], source=f"<stored campaign {row['id']}>")
    return StoredCampaign(campaign, row["status"], row["created_at"], row["updated_at"])


def latest_invitation(
    session: Session, *, respondent_id: int, kind: str, since: datetime
) -> StoredCampaign | None:
    """The newest campaign of ``kind`` sent to this person since ``since``, if any."""
    campaign_id = session.execute(
        select(OUTBOX.c.campaign_id)
        .join(CAMPAIGNS, CAMPAIGNS.c.id == OUTBOX.c.campaign_id)
        .where(
            OUTBOX.c.respondent_id == respondent_id,
            OUTBOX.c.status.in_(("sent", "delivered")),
            OUTBOX.c.updated_at >= since,
            CAMPAIGNS.c.kind == kind,
        )
        .order_by(OUTBOX.c.updated_at.desc(), OUTBOX.c.id.desc())
        .limit(1)
    ).scalar()
    return None if campaign_id is None else CampaignRepository(session).get(campaign_id=campaign_id)
