"""Group commit: many people's messages handled in one database transaction.

SQLite commits one transaction at a time, and a commit costs far more than the
work inside it. Messages that arrive while a batch is being handled wait and go
together into the next transaction. Nobody's reply is released before the
commit that makes their answer durable. At low load a batch is one message and
nothing waits.

A batch is optimistic: if any message in it fails, the transaction is rolled
back and each message is retried alone, so one failure spoils only itself.
Two messages with the same key (from one person) never share a batch, so a
person's messages are handled in the order they came.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Generic, TypeVar

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from storage.database import Database

logger = logging.getLogger(__name__)

In = TypeVar("In")
Out = TypeVar("Out")


class _BatchFailed(Exception):
    """One item of a batch raised: roll back, then retry the items one by one."""


class GroupCommit(Generic[In, Out]):
    def __init__(
        self,
        db: Database,
        work: Callable[[Session, In], Out],
        *,
        key: Callable[[In], Hashable],
        max_batch: int = 200,
        workers: int = 1,
    ) -> None:
        self._db = db
        self._work = work
        self._key = key
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

    def _next_batch(self) -> list[tuple[In, asyncio.Future[Out]]]:
        batch: list[tuple[In, asyncio.Future[Out]]] = []
        keys: set[Hashable] = set()
        later: list[tuple[In, asyncio.Future[Out]]] = []
        while self._pending and len(batch) < self._max_batch:
            entry = self._pending.popleft()
            key = self._key(entry[0])
            if key in keys:
                later.append(entry)
            else:
                keys.add(key)
                batch.append(entry)
        self._pending.extendleft(reversed(later))
        return batch

    async def _drain(self) -> None:
        try:
            while self._pending:
                await self._run(self._next_batch())
        finally:
            self._running -= 1

    async def _run(self, batch: list[tuple[In, asyncio.Future[Out]]]) -> None:
        items = [item for item, _future in batch]
        outcomes: list[Out | BaseException]
        try:
            outcomes = list(await self._db.write(lambda session: self._all(session, items)))
        except _BatchFailed:
            outcomes = [await self._alone(item) for item in items]
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

    def _all(self, session: Session, items: list[In]) -> list[Out]:
        results = []
        for item in items:
            try:
                results.append(self._work(session, item))
            except Exception as error:
                if len(items) == 1:
                    raise
                raise _BatchFailed from error
        return results

    async def _alone(self, item: In) -> Out | BaseException:
        try:
            return await self._db.write(lambda session: self._work(session, item))
        except Exception as error:
            logger.exception("handling one message failed")
            return error
