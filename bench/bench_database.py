"""A benchmark's own database: a temporary SQLite file, or a fresh PostgreSQL schema.

Rows go in with Core executemany through ``Database.write``, the path the service
writes on; PostgreSQL runs work in a schema of their own, so the tests' ``public``
schema in the same database is left alone.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Table, event, insert, text
from sqlalchemy.orm import Session

from storage.database import Database

CHUNK = 20_000


def use_schema(db: Database, schema: str) -> None:
    """Every connection of ``db`` (PostgreSQL) works in ``schema``: tests keep ``public``."""
    engine = db._async_engine  # the engine the Database's sessions use
    assert engine is not None

    @event.listens_for(engine.sync_engine, "connect", insert=True)
    def set_search_path(dbapi_connection: Any, _record: Any) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        cursor = dbapi_connection.cursor()
        cursor.execute(f'SET search_path TO "{schema}"')
        cursor.close()
        dbapi_connection.autocommit = autocommit


async def postgres_admin(url: str, *statements: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def open_database(url: str | None, schema: str) -> tuple[Database, Path | None]:
    """A migrated database; the temporary folder of a SQLite one (None on PostgreSQL)."""
    work = None
    if url is None:
        work = Path(tempfile.mkdtemp(prefix=f"{schema}-"))
        url = f"sqlite+aiosqlite:///{work / 'bench.db'}"
    db = Database(url)
    if not db.is_sqlite:
        await postgres_admin(
            url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE', f'CREATE SCHEMA "{schema}"'
        )
        use_schema(db, schema)
    await db.migrate()
    return db, work


async def bulk_insert(db: Database, table: Table, rows: list[dict[str, Any]]) -> None:
    """Core executemany in one transaction per CHUNK rows, on the Database's write path."""
    columns = set(table.c.keys())
    if rows and not set(rows[0]) <= columns:  # a column others renamed: fail loudly
        raise SystemExit(f"{table.name}: no column {sorted(set(rows[0]) - columns)}")
    for low in range(0, len(rows), CHUNK):
        part = rows[low : low + CHUNK]

        def work(session: Session, part: list[dict[str, Any]] = part) -> None:
            session.connection().execute(insert(table), part)

        await db.write(work)


async def reset_sequences(db: Database, tables: tuple[str, ...]) -> None:
    """Explicit ids leave PostgreSQL's sequences behind: move them past the rows."""

    def work(session: Session) -> None:
        for table in tables:
            session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT max(id) FROM {table}))"
                )
            )

    await db.write(work)


async def vacuum_analyze(url: str, schema: str, tables: tuple[str, ...]) -> float:
    """The state autovacuum keeps a table in, after a bulk load."""
    began = time.perf_counter()
    await postgres_admin(url, *(f'VACUUM ANALYZE "{schema}".{table}' for table in tables))
    return time.perf_counter() - began
