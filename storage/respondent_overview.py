"""What staff may learn about participants: how many, and what is held about one of them.

Counts describe people who consented and did not erase themselves. The
overview of one person serves an erasure request: it says which kinds of data
exist and how much, never their contents, and channel addresses only masked
(enough for the person to recognise their own number, useless to anyone else).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from storage.models import Base, ChannelIdentity, Respondent, SurveySession

RESPONDENTS = cast(Table, Respondent.__table__)
IDENTITIES = cast(Table, ChannelIdentity.__table__)
SESSIONS = cast(Table, SurveySession.__table__)
MASK = "•"


@dataclass(frozen=True)
class PeopleCounts:
    """People who consented and did not erase themselves, by channel, region and language.

    ``by_channel`` counts the people reachable on each channel (not opted out, not
    unreachable): someone on both Telegram and SMS counts once in each.
    """

    total: int
    by_channel: dict[str, int]
    by_region: dict[str, int]
    by_language: dict[str, int]
    opted_out: int
    """People who said STOP on every channel they have."""


@dataclass(frozen=True)
class HeldIdentity:
    channel: str
    masked_address: str
    since: datetime
    opted_out_at: datetime | None
    unreachable_at: datetime | None


@dataclass(frozen=True)
class HeldSurvey:
    survey_id: str
    status: str
    started_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True)
class HeldAbout:
    """What is held about one person: kinds and amounts, never the contents."""

    created_at: datetime
    language: str | None
    region: str | None
    age_band: str | None
    gender: str | None
    consent_at: datetime | None
    consent_version: str | None
    last_seen_at: datetime | None
    erased_at: datetime | None
    muted_until: datetime | None
    banned_at: datetime | None
    identities: list[HeldIdentity] = field(default_factory=list)
    surveys: list[HeldSurvey] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    """Rows that belong to the person, by table (answers, ideas, quiz attempts...)."""


def masked_address(channel: str, address: str) -> str:
    """A channel address with all but its last two characters hidden (a phone keeps +994)."""
    keep_end = address[-2:] if len(address) > 4 else ""
    if channel == "sms" and address.startswith("+") and len(address) > 8:
        return address[:4] + MASK * (len(address) - 6) + keep_end
    return MASK * max(len(address) - len(keep_end), 3) + keep_end


def _group(session: Session, column: Any, conditions: Iterable[Any]) -> dict[str, int]:
    rows = session.execute(
        select(column, func.count()).where(*conditions).group_by(column).order_by(column)
    )
    return {value if value is not None else "unknown": int(count) for value, count in rows}


def people_counts(session: Session) -> PeopleCounts:
    r = RESPONDENTS.c
    people = (r.consent_at.is_not(None), r.erased_at.is_(None))
    total = int(session.execute(select(func.count()).where(*people)).scalar() or 0)
    reachable = session.execute(
        select(IDENTITIES.c.channel, func.count(func.distinct(IDENTITIES.c.respondent_id)))
        .join(RESPONDENTS, RESPONDENTS.c.id == IDENTITIES.c.respondent_id)
        .where(
            *people,
            IDENTITIES.c.opted_out_at.is_(None),
            IDENTITIES.c.unreachable_at.is_(None),
        )
        .group_by(IDENTITIES.c.channel)
        .order_by(IDENTITIES.c.channel)
    )
    by_channel = {channel: int(count) for channel, count in reachable}
    still_listening = (
        select(IDENTITIES.c.id)
        .where(
            IDENTITIES.c.respondent_id == r.id,
            IDENTITIES.c.opted_out_at.is_(None),
        )
        .exists()
    )
    opted_out = session.execute(select(func.count()).where(*people, ~still_listening)).scalar()
    return PeopleCounts(
        total=total,
        by_channel=by_channel,
        by_region=_group(session, r.region, people),
        by_language=_group(session, r.language, people),
        opted_out=int(opted_out or 0),
    )


def respondent_ids(session: Session, *, after_id: int = 0, limit: int = 10_000) -> list[int]:
    """Respondent ids in increasing order, a page at a time (to match a pseudonymous id)."""
    rows = session.execute(
        select(RESPONDENTS.c.id)
        .where(RESPONDENTS.c.id > after_id)
        .order_by(RESPONDENTS.c.id)
        .limit(limit)
    ).scalars()
    return [int(respondent_id) for respondent_id in rows]


def _owned_tables() -> list[Table]:
    """Every table with a ``respondent_id`` (besides identities and sessions, shown apart)."""
    shown_apart = {RESPONDENTS.name, IDENTITIES.name, SESSIONS.name}
    return [
        table
        for table in Base.metadata.sorted_tables
        if "respondent_id" in table.c and table.name not in shown_apart
    ]


def held_about(session: Session, *, respondent_id: int) -> HeldAbout | None:
    """What is held about a person, or None if there is no such person."""
    person = session.execute(select(RESPONDENTS).where(RESPONDENTS.c.id == respondent_id)).first()
    if person is None:
        return None
    identities = session.execute(
        select(IDENTITIES)
        .where(IDENTITIES.c.respondent_id == respondent_id)
        .order_by(IDENTITIES.c.id)
    )
    surveys = session.execute(
        select(SESSIONS)
        .where(SESSIONS.c.respondent_id == respondent_id)
        .order_by(SESSIONS.c.started_at)
    )
    rows = {}
    for table in _owned_tables():
        count = session.execute(
            select(func.count()).where(table.c.respondent_id == respondent_id)
        ).scalar()
        if count:
            rows[table.name] = int(count)
    return HeldAbout(
        created_at=person.created_at,
        language=person.language,
        region=person.region,
        age_band=person.age_band,
        gender=person.gender,
        consent_at=person.consent_at,
        consent_version=person.consent_version,
        last_seen_at=person.last_seen_at,
        erased_at=person.erased_at,
        muted_until=person.muted_until,
        banned_at=person.banned_at,
        identities=[
            HeldIdentity(
                i.channel,
                masked_address(i.channel, i.address),
                i.created_at,
                i.opted_out_at,
                i.unreachable_at,
            )
            for i in identities
        ],
        surveys=[HeldSurvey(s.survey_id, s.status, s.started_at, s.completed_at) for s in surveys],
        rows=rows,
    )
