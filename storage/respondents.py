"""Participants and the channel identities that reach them.

Every inbound message reads and updates one participant, so this repository
works in Core statements on plain records (``RespondentRecord``) rather than
ORM objects: the record notes which fields changed and ``save`` writes only those.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from storage.models import Answer, ChannelIdentity, Respondent, SurveySession, utcnow

RESPONDENTS = cast(Table, Respondent.__table__)
IDENTITIES = cast(Table, ChannelIdentity.__table__)
ANSWERS = cast(Table, Answer.__table__)
SESSIONS = cast(Table, SurveySession.__table__)


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


class RespondentRepository:
    _find = _find_statement()

    def __init__(self, session: Session) -> None:
        self.session = session

    def find(self, *, channel: str, address: str) -> RespondentRecord | None:
        """The participant reached at ``address`` on ``channel``, if known."""
        row = (
            self.session.connection()
            .execute(self._find, {"channel": channel, "address": address})
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
        values = {name: getattr(record, name) for name in record.changed}
        self.session.connection().execute(
            update(RESPONDENTS).where(RESPONDENTS.c.id == record.id).values(**values)
        )
        record.changed.clear()

    def identities(self, *, respondent_id: int) -> list[ChannelIdentity]:
        rows = self.session.scalars(
            select(ChannelIdentity)
            .where(ChannelIdentity.respondent_id == respondent_id)
            .order_by(ChannelIdentity.id)
        )
        return list(rows)

    def erase_identity(self, *, respondent_id: int, now: datetime | None = None) -> None:
        """Forget who the person is and what they wrote in their own words.

        Channel identities and free-text answers are deleted; choice and number
        answers stay, attached to a row that no longer leads to anyone.
        """
        now = now or utcnow()
        connection = self.session.connection()
        connection.execute(delete(IDENTITIES).where(IDENTITIES.c.respondent_id == respondent_id))
        connection.execute(
            delete(ANSWERS).where(
                ANSWERS.c.respondent_id == respondent_id,
                ANSWERS.c.text.is_not(None),
            )
        )
        connection.execute(
            update(SESSIONS)
            .where(
                SESSIONS.c.respondent_id == respondent_id,
                SESSIONS.c.status == "active",
            )
            .values(status="abandoned", updated_at=now)
        )
        connection.execute(
            update(RESPONDENTS)
            .where(RESPONDENTS.c.id == respondent_id)
            .values(dialogue=None, last_seen_at=None, erased_at=now)
        )

    def delete(self, *, respondent_id: int) -> None:
        """Delete the person and everything they answered (the database cascades)."""
        self.session.connection().execute(
            delete(RESPONDENTS).where(RESPONDENTS.c.id == respondent_id)
        )
