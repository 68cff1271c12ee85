"""Alembic environment: runs on the connection the application hands over
(``Database.migrate``) or, for ``alembic`` on the command line, on DATABASE_URL."""

from __future__ import annotations

import asyncio
import os
from typing import Any, Literal

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from storage.models import Base, UTCDateTime

target_metadata = Base.metadata


def _render_item(kind: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Write our aware-datetime type as plain sa.DateTime, so migrations import nothing of ours."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(
        _run_with_own_engine(os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///./outreach.db"))
    )
