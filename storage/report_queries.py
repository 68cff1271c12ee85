"""Counts for the monthly report: who took part when, on which channel, from where.

Like ``storage.analysis``, everything returned is a count of people (or of
messages) grouped in SQL; no row that could identify a person leaves, except
free text that staff approved, read in batches for the text analysis and never
kept. Time windows are half-open, ``[since, until)``, in UTC; a series of
periods (days, weeks) is a list of boundaries, and each row is put in its
period by one ``CASE`` over them, so a period's edges can follow a time zone
(midnight in Baku) on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, case, distinct, func, literal, select
from sqlalchemy.orm import Session

from storage.models import (
    Answer,
    CampaignRecord,
    CampaignRun,
    ChannelIdentity,
    OutboundMessage,
    OutboxMessage,
    Respondent,
)
from storage.moderation import APPROVED

ANSWERS = cast(Table, Answer.__table__)
RESPONDENTS = cast(Table, Respondent.__table__)
IDENTITIES = cast(Table, ChannelIdentity.__table__)
CAMPAIGNS = cast(Table, CampaignRecord.__table__)
RUNS = cast(Table, CampaignRun.__table__)
OUTBOX = cast(Table, OutboxMessage.__table__)
OUTBOUND = cast(Table, OutboundMessage.__table__)

TEXT_BATCH = 2_000
PeriodCounts = dict[tuple[int, str | None], int]
"""People per (period index, channel)."""
FirstAnswers = dict[tuple[int, str, str | None], int]
"""People per (period index, channel, region) of their first answer in a window."""


@dataclass(frozen=True)
class CampaignDelivery:
    """One campaign's messages of the runs due in a window."""

    campaign_id: str
    name: str
    kind: str
    runs: int
    messages: dict[tuple[str, str], int] = field(default_factory=dict)
    """Per (channel, outbox status)."""
    sms_segments: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Per SMS encoding (GSM-7, UCS-2): (messages accepted by the provider, their segments)."""


def _period_of(column: Any, boundaries: Sequence[datetime]) -> Any:
    """The index of the period ``column`` falls in (call only within the boundaries)."""
    if len(boundaries) < 2:
        raise ValueError("a series of periods needs at least two boundaries")
    if len(boundaries) == 2:
        return literal(0)
    return case(
        *((column < edge, index) for index, edge in enumerate(boundaries[1:-1])),
        else_=len(boundaries) - 2,
    )


def _within(column: Any, since: datetime, until: datetime) -> Any:
    return and_(column >= since, column < until)


class ReportRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def _connection(self) -> Any:
        return self.session.connection()

    def first_answers(self, *, boundaries: Sequence[datetime]) -> FirstAnswers:
        """People who answered in the window, by the period, channel and region of their
        first answer in it: each person counts once, so every total adds up.

        A person's region is None when not said; two first answers at the same instant
        on two channels count under the first channel by name.
        """
        window = _within(ANSWERS.c.answered_at, boundaries[0], boundaries[-1])
        first = (
            select(ANSWERS.c.respondent_id, func.min(ANSWERS.c.answered_at).label("first_at"))
            .where(window)
            .group_by(ANSWERS.c.respondent_id)
            .subquery()
        )
        firsts = (
            select(
                first.c.respondent_id,
                first.c.first_at,
                func.min(ANSWERS.c.channel).label("channel"),
            )
            .select_from(
                first.join(
                    ANSWERS,
                    and_(
                        ANSWERS.c.respondent_id == first.c.respondent_id,
                        ANSWERS.c.answered_at == first.c.first_at,
                    ),
                )
            )
            .group_by(first.c.respondent_id, first.c.first_at)
            .subquery()
        )
        placed = (
            select(
                _period_of(firsts.c.first_at, boundaries).label("period"),
                firsts.c.channel,
                RESPONDENTS.c.region,
            )
            .select_from(firsts.join(RESPONDENTS, RESPONDENTS.c.id == firsts.c.respondent_id))
            .subquery()
        )
        rows = self._connection.execute(
            select(placed.c.period, placed.c.channel, placed.c.region, func.count()).group_by(
                placed.c.period, placed.c.channel, placed.c.region
            )
        )
        return {(int(row[0]), row[1], row[2]): int(row[3]) for row in rows}

    def new_respondents(self, *, boundaries: Sequence[datetime]) -> PeriodCounts:
        """People who agreed to take part, per period and the channel they joined on.

        The channel is that of the person's first channel identity; people who
        have erased their identity since count under None.
        """
        first_channel = (
            select(IDENTITIES.c.channel)
            .where(IDENTITIES.c.respondent_id == RESPONDENTS.c.id)
            .order_by(IDENTITIES.c.created_at, IDENTITIES.c.id)
            .limit(1)
            .correlate(RESPONDENTS)
            .scalar_subquery()
            .label("channel")
        )
        period = _period_of(RESPONDENTS.c.consent_at, boundaries).label("period")
        inner = (
            select(period, first_channel)
            .where(_within(RESPONDENTS.c.consent_at, boundaries[0], boundaries[-1]))
            .subquery()
        )
        rows = self._connection.execute(
            select(inner.c.period, inner.c.channel, func.count()).group_by(
                inner.c.period, inner.c.channel
            )
        )
        return {(int(row[0]), row[1]): int(row[2]) for row in rows}

    def surveys_answered(self, *, since: datetime, until: datetime) -> dict[str, int]:
        """Surveys with answers in the window, with the people who answered them then."""
        rows = self._connection.execute(
            select(ANSWERS.c.survey_id, func.count(distinct(ANSWERS.c.respondent_id)))
            .where(_within(ANSWERS.c.answered_at, since, until))
            .group_by(ANSWERS.c.survey_id)
        )
        return {row[0]: int(row[1]) for row in rows}

    def text_answers(self, *, since: datetime, until: datetime) -> dict[str, int]:
        """Free-text answers of the window by moderation: approved, rejected, pending."""
        status = func.coalesce(ANSWERS.c.text_status, "pending")
        rows = self._connection.execute(
            select(status, func.count())
            .where(ANSWERS.c.text.is_not(None), _within(ANSWERS.c.answered_at, since, until))
            .group_by(status)
        )
        counts = {"approved": 0, "rejected": 0, "pending": 0}
        counts.update({row[0]: int(row[1]) for row in rows})
        return counts

    def approved_texts(
        self, *, since: datetime, until: datetime, after_id: int = 0, limit: int = TEXT_BATCH
    ) -> list[tuple[int, str, str | None]]:
        """A batch of approved free text of the window: (answer id, text, person's language).

        Keyset pagination: pass the last id of a batch as ``after_id`` for the next.
        The id is for paging only and must not be shown.
        """
        rows = self._connection.execute(
            select(ANSWERS.c.id, ANSWERS.c.text, RESPONDENTS.c.language)
            .select_from(ANSWERS.join(RESPONDENTS, RESPONDENTS.c.id == ANSWERS.c.respondent_id))
            .where(
                ANSWERS.c.text_status == APPROVED,
                ANSWERS.c.text.is_not(None),
                ANSWERS.c.id > after_id,
                _within(ANSWERS.c.answered_at, since, until),
            )
            .order_by(ANSWERS.c.id)
            .limit(limit)
        )
        return [(int(row[0]), str(row[1]), row[2]) for row in rows]

    def campaign_delivery(self, *, since: datetime, until: datetime) -> list[CampaignDelivery]:
        """Campaigns with a run due in the window: their messages by channel and status.

        SMS segments come from ``outbound_messages`` (matched on the provider's
        message id), so a message the provider refused before accepting it has none.
        """
        runs = _within(RUNS.c.due_at, since, until)
        campaigns = self._connection.execute(
            select(CAMPAIGNS.c.id, CAMPAIGNS.c.name, CAMPAIGNS.c.kind, func.count(RUNS.c.id))
            .select_from(CAMPAIGNS.join(RUNS, RUNS.c.campaign_id == CAMPAIGNS.c.id))
            .where(runs)
            .group_by(CAMPAIGNS.c.id, CAMPAIGNS.c.name, CAMPAIGNS.c.kind)
            .order_by(func.min(RUNS.c.due_at), CAMPAIGNS.c.id)
        ).all()
        if not campaigns:
            return []
        in_window = OUTBOX.join(RUNS, RUNS.c.id == OUTBOX.c.run_id)
        messages: dict[str, dict[tuple[str, str], int]] = {}
        for campaign_id, channel, status, count in self._connection.execute(
            select(OUTBOX.c.campaign_id, OUTBOX.c.channel, OUTBOX.c.status, func.count())
            .select_from(in_window)
            .where(runs)
            .group_by(OUTBOX.c.campaign_id, OUTBOX.c.channel, OUTBOX.c.status)
        ):
            messages.setdefault(campaign_id, {})[(channel, status)] = int(count)
        segments: dict[str, dict[str, tuple[int, int]]] = {}
        for campaign_id, encoding, count, total in self._connection.execute(
            select(
                OUTBOX.c.campaign_id,
                OUTBOUND.c.encoding,
                func.count(),
                func.coalesce(func.sum(OUTBOUND.c.segments), 0),
            )
            .select_from(
                in_window.join(
                    OUTBOUND,
                    and_(
                        OUTBOUND.c.channel == OUTBOX.c.channel,
                        OUTBOUND.c.provider_id == OUTBOX.c.provider_id,
                    ),
                )
            )
            .where(runs, OUTBOX.c.channel == "sms", OUTBOX.c.provider_id.is_not(None))
            .group_by(OUTBOX.c.campaign_id, OUTBOUND.c.encoding)
        ):
            segments.setdefault(campaign_id, {})[encoding or "?"] = (int(count), int(total))
        return [
            CampaignDelivery(
                campaign_id=campaign_id,
                name=name,
                kind=kind,
                runs=int(run_count),
                messages=messages.get(campaign_id, {}),
                sms_segments=segments.get(campaign_id, {}),
            )
            for campaign_id, name, kind, run_count in campaigns
        ]
