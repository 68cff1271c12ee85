"""Idempotency of inbound deliveries: each (channel, key) is handled once."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import ProcessedInbound, utcnow

_TABLE = cast(Table, ProcessedInbound.__table__)


def _claim_statement(insert: Any) -> Any:
    return (
        insert(_TABLE)
        .values(channel=bindparam("channel"), key=bindparam("key"), processed_at=bindparam("at"))
        .on_conflict_do_nothing(index_elements=["channel", "key"])
    )


_CLAIM = {
    "postgresql": _claim_statement(postgresql.insert),
    "sqlite": _claim_statement(sqlite.insert),
}


class InboundRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(self, *, channel: str, key: str) -> bool:
        """Record a delivery; False if it was recorded before (a redelivery)."""
        connection = self.session.connection()
        statement = _CLAIM[connection.dialect.name]
        result = connection.execute(statement, {"channel": channel, "key": key, "at": utcnow()})
        return bool(getattr(result, "rowcount", 0) == 1)
