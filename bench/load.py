"""Load generation shared by the benchmarks: open and closed loops, the baseline route.

A benchmark gives a list of people and ``answer(person, step) -> bool`` (True
when the service took the answer); each person answers ``steps`` questions in
order, never two at once.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

P = TypeVar("P")
Answer = Callable[[P, int], Awaitable[bool]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _figures(latencies: list[float], elapsed: float, errors: int) -> dict[str, float]:
    return {
        "answers": len(latencies),
        "answers_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1),
        "errors": errors,
    }


async def _timed(answer: Answer[P], person: P, step: int) -> bool:
    try:
        return await answer(person, step)
    except Exception:
        return False


async def open_loop(
    people: Sequence[P], steps: int, rate: float, answer: Answer[P]
) -> dict[str, float]:
    """Offer answers at ``rate`` per second; latency counts from when each was due."""
    idle: deque[tuple[P, int]] = deque((person, 0) for person in people)
    total = len(people) * steps
    latencies: list[float] = []
    errors = 0
    pending: set[asyncio.Task[None]] = set()
    loop = asyncio.get_running_loop()
    start = loop.time()

    async def one(person: P, step: int, due: float) -> None:
        nonlocal errors
        errors += not await _timed(answer, person, step)
        latencies.append(loop.time() - due)
        if step + 1 < steps:
            idle.append((person, step + 1))

    for index in range(total):
        due = start + index / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        while not idle:  # noqa: ASYNC110 - everyone awaits a reply: the service is behind
            await asyncio.sleep(0.001)
        person, step = idle.popleft()
        task = asyncio.create_task(one(person, step, due))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)
    return _figures(latencies, loop.time() - start, errors)


async def closed_loop(
    people: Sequence[P], steps: int, concurrency: int, answer: Answer[P]
) -> dict[str, float]:
    """As fast as the service takes them, ``concurrency`` answers in flight."""
    queue: deque[tuple[P, int]] = deque((person, 0) for person in people)
    latencies: list[float] = []
    errors = 0
    loop = asyncio.get_running_loop()

    async def worker() -> None:
        nonlocal errors
        while queue:
            person, step = queue.popleft()
            began = loop.time()
            errors += not await _timed(answer, person, step)
            latencies.append(loop.time() - began)
            if step + 1 < steps:
                queue.append((person, step + 1))

    start = loop.time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return _figures(latencies, loop.time() - start, errors)


async def gather_limited(coroutines: list[Awaitable[Any]], limit: int) -> None:
    slots = asyncio.Semaphore(limit)

    async def run(coroutine: Awaitable[Any]) -> None:
        async with slots:
            await coroutine

    await asyncio.gather(*(run(c) for c in coroutines))


async def wait_until(predicate: Callable[[], bool]) -> None:
    async with asyncio.timeout(60):
        while not predicate():  # noqa: ASYNC110 - set from another process
            await asyncio.sleep(0.05)


def run_baseline(database_url: str, port: int, path: str) -> None:
    """A bare aiohttp route at ``path`` that only writes the raw request to the same database.

    Run in its own process (it blocks): the same work a webhook must do at
    least, with the same database engine settings, to set the service beside.
    """
    from aiohttp import web
    from sqlalchemy import text

    from storage.database import Database

    async def serve() -> None:
        db = Database(database_url)
        create = text("CREATE TABLE IF NOT EXISTS bench_raw (body TEXT)")
        insert = text("INSERT INTO bench_raw (body) VALUES (:b)")
        await db.write(lambda session: session.execute(create))

        async def receive(request: web.Request) -> web.Response:
            values = {"b": await request.text()}
            await db.write(lambda session: session.execute(insert, values))
            return web.Response(text="ok")

        app = web.Application()
        app.router.add_post(path, receive)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await asyncio.Event().wait()

    asyncio.run(serve())
