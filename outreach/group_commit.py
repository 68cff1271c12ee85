"""Group commit: many people's messages handled in one database transaction.

SQLite commits one transaction at a time, and a commit costs far more than the
work inside it. Messages that arrive while a batch is being handled wait and go
together into the next transaction, each in its own savepoint so one failure
spoils only itself. Nobody's reply is released before the commit that makes
their answer durable. At low load a batch is one message and nothing waits.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import Database

logger = logging.getLogger(__name__)

In = TypeVar("In")
Out = TypeVar("Out")


class GroupCommit(Generic[In, Out]):
    def __init__(
        self,
        db: Database,
        work: Callable[[AsyncSession, In], Awaitable[Out]],
        *,
        max_batch: int = 100,
        workers: int = 1,
    ) -> None:
        self._db = db
        self._work = work
        self._max_batch = max_batch
        self._workers = workers
        self._pending: deque[tuple[In, asyncio.Future[Out]]] = deque()
        self._running = 0
        self.batches = 0
        self.items = 0

    async def submit(self, item: In) -> Out:
        """Handle ``item`` in the next transaction; returns once it is committed."""
        future: asyncio.Future[Out] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._running < self._workers:
            self._running += 1
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch = [
                    self._pending.popleft() for _ in range(min(self._max_batch, len(self._pending)))
                ]
                await self._run(batch)
        finally:
            self._running -= 1

    async def _run(self, batch: list[tuple[In, asyncio.Future[Out]]]) -> None:
        outcomes: list[Out | BaseException] = []
        try:
            async with self._db.writing() as session:
                for item, _future in batch:
                    try:
                        async with session.begin_nested():
                            outcomes.append(await self._work(session, item))
                    except Exception as error:  # one message's failure is its own
                        logger.exception("handling one message failed")
                        outcomes.append(error)
        except Exception as error:  # the commit itself failed: nothing is durable
            logger.exception("committing a batch of %d messages failed", len(batch))
            outcomes = [error] * len(batch)
        self.batches += 1
        self.items += len(batch)
        for (_item, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
