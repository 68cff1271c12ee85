"""Idempotency of inbound deliveries: each (channel, key) is handled once."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedInbound


class InboundRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, *, channel: str, key: str) -> bool:
        """Record a delivery; False if it was recorded before (a redelivery)."""
        dialect = self.session.bind.dialect.name if self.session.bind else "sqlite"
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(ProcessedInbound)
            .values(channel=channel, key=key)
            .on_conflict_do_nothing(index_elements=["channel", "key"])
        )
        result = await self.session.execute(statement)
        return bool(getattr(result, "rowcount", 0) == 1)
