"""Engine and units of work for SQLite (the default) and PostgreSQL.

A unit of work is a plain function of a SQLAlchemy ``Session``; repositories
are synchronous. ``Database.write`` and ``Database.read`` run such a function
in one transaction without blocking the event loop:

* SQLite: on threads with the standard ``sqlite3`` driver, writes on one
  dedicated thread (SQLite has one writer) beginning with ``BEGIN IMMEDIATE``,
  reads beside them in WAL mode. A whole unit of work runs in the thread at
  once; with an async driver every statement would cost several round trips
  between threads, which bench/inbound.py showed to be the service's wall.
* PostgreSQL: through asyncpg, with ``AsyncSession.run_sync``, so the same
  function runs unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

from storage.group_commit import GroupCommit

logger = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[[Session], T]

SQLITE_READERS = 4


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so savepoints and DDL work.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _prepare_sqlite_file(database: str | None) -> None:
    if database in (None, "", ":memory:") or database.startswith("file:"):
        return
    Path(database).parent.mkdir(parents=True, exist_ok=True)


def _run_work(session: Session, work: Work[T]) -> T:
    return work(session)


def alembic_config() -> Config:
    folder = resources.files("storage") / "migrations"
    config = Config()
    config.set_main_option("script_location", str(folder))
    return config


def _upgrade_to_head(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
    logger.info("database schema is up to date")


class Database:
    """Runs units of work against SQLite or PostgreSQL without blocking the loop."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self._async_engine: AsyncEngine | None = None
        self._sync_engine: Engine | None = None
        if self.is_sqlite:
            _prepare_sqlite_file(parsed.database)
            engine = create_engine(
                parsed.set(drivername="sqlite+pysqlite"),
                echo=echo,
                pool_size=SQLITE_READERS + 1,
                max_overflow=SQLITE_READERS,
                connect_args={"check_same_thread": False, "timeout": 10},
            )
            _configure_sqlite(engine)
            self._sync_engine = engine
            self._reads = sessionmaker(engine, expire_on_commit=False)
            self._writes = sessionmaker(
                engine.execution_options(sqlite_immediate=True), expire_on_commit=False
            )
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
            self._readers = ThreadPoolExecutor(SQLITE_READERS, thread_name_prefix="sqlite-reader")
        else:
            self._async_engine = create_async_engine(
                url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
            )
            self._async_sessions = async_sessionmaker(self._async_engine, expire_on_commit=False)
        self._batched: GroupCommit[Work[Any], Any] = GroupCommit(
            self, _run_work, key=id, workers=1 if self.is_sqlite else 4
        )

    @property
    def dialect(self) -> str:
        return "sqlite" if self.is_sqlite else make_url(self.url).get_backend_name()

    async def write(self, work: Work[T]) -> T:
        """Run ``work`` in one transaction and commit it; an error rolls it all back."""
        if self.is_sqlite:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._writer, self._in_transaction, self._writes, work
            )
        async with self._async_sessions() as session, session.begin():
            return await session.run_sync(work)

    async def write_batched(self, work: Work[T]) -> T:
        """Like ``write``, but shares one transaction with other writes made meanwhile.

        For small independent writes (a delivery status, a record of a sent
        message): under load they cost one commit together instead of one each.
        """
        result: T = await self._batched.submit(work)
        return result

    async def read(self, work: Work[T]) -> T:
        """Run ``work`` in a transaction that is rolled back: for queries."""
        if self.is_sqlite:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._readers, self._read_only, work)
        async with self._async_sessions() as session:  # closing rolls back, keeps objects
            return await session.run_sync(work)

    @staticmethod
    def _in_transaction(factory: sessionmaker[Session], work: Work[T]) -> T:
        with factory() as session, session.begin():
            return work(session)

    def _read_only(self, work: Work[T]) -> T:
        with self._reads() as session:  # closing rolls back and keeps loaded objects usable
            return work(session)

    @asynccontextmanager
    async def exclusive(self, name: str, *, retry_every: float = 2.0) -> AsyncIterator[None]:
        """Hold a lock named ``name`` across processes for the block; wait until it is free.

        PostgreSQL: a session advisory lock on a connection of its own, released by
        the server if this process dies, so another takes over within ``retry_every``.
        SQLite serves one process: nothing to take.
        """
        if self._async_engine is None:
            yield
            return
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        async with self._async_engine.connect() as connection:
            while not await connection.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}):
                await connection.rollback()
                await asyncio.sleep(retry_every)
            await connection.commit()
            try:
                yield
            finally:
                with contextlib.suppress(Exception):
                    await connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    await connection.commit()

    async def migrate(self) -> None:
        """Apply every Alembic migration not yet applied."""
        if self._sync_engine is not None:
            engine = self._sync_engine

            def upgrade() -> None:
                with engine.begin() as connection:
                    _upgrade_to_head(connection)

            await asyncio.get_running_loop().run_in_executor(self._writer, upgrade)
            return
        assert self._async_engine is not None
        async with self._async_engine.begin() as conn:
            await conn.run_sync(_upgrade_to_head)

    async def dispose(self) -> None:
        if self._sync_engine is not None:
            self._writer.shutdown(wait=True)
            self._readers.shutdown(wait=True)
            self._sync_engine.dispose()
        if self._async_engine is not None:
            await self._async_engine.dispose()
