"""Inbound benchmark: many people answering a 5-question survey at once, through the webhook.

The service runs in its own process exactly as in production (aiohttp webhook
route -> python-telegram-bot -> dialogue -> SQLite -> reply to the Bot API). This
process plays Telegram: the Bot API emulator delivers updates to the webhook
(at most 100 at once, Telegram's webhook maximum) and receives the replies.

Each run offers answers at a fixed rate (open loop: an answer's latency counts
from when it was due, so queueing shows) and then as fast as the service takes
them. The same load against a bare aiohttp route that only writes the raw
update to the same database, in the same run, is the baseline.

    python bench/inbound.py [--people 2000] [--rate 1000]

Ends with one JSON line of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import statistics
import sys
import tempfile
from collections import deque
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from outreach.emulators.telegram_bot_api import (  # noqa: E402
    EmulatedUser,
    TelegramBotApiEmulator,
)

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET = "bench_Z3kq9T_xRb2mYp4Lc8Vn-Hd6Jf1Gs5Qe7aKw0"
WEBHOOK_CONNECTIONS = 100

BENCH_SURVEY = """
id: bench5
title: {az: Sınaq, ru: Тест, en: Benchmark}
languages: [az, ru, en]
questions:
  - id: q1
    kind: single_choice
    text: {az: "Sual 1", ru: "Вопрос 1", en: "Question 1"}
    choices:
      - {value: a, label: {az: A, ru: А, en: A}}
      - {value: b, label: {az: B, ru: Б, en: B}}
      - {value: c, label: {az: C, ru: В, en: C}}
  - id: q2
    kind: rating
    text: {az: "Sual 2", ru: "Вопрос 2", en: "Question 2"}
  - id: q3
    kind: yes_no
    text: {az: "Sual 3", ru: "Вопрос 3", en: "Question 3"}
  - id: q4
    kind: number
    text: {az: "Sual 4", ru: "Вопрос 4", en: "Question 4"}
    min: 0
    max: 1000
  - id: q5
    kind: single_choice
    text: {az: "Sual 5", ru: "Вопрос 5", en: "Question 5"}
    choices:
      - {value: x, label: {az: X, ru: Х, en: X}}
      - {value: y, label: {az: Y, ru: У, en: Y}}
"""
TYPED = ["2", "4", "yes", "42", "1"]
PRESSED = ["B", "4", "Yes", None, "X"]  # q4 is a number: always typed


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ---------------------------------------------------------------- service side


def run_service(database_url: str, surveys_dir: str, api_base: str, port: int) -> None:
    """The real service, in this (child) process, until terminated."""
    import logging

    from pydantic import SecretStr

    from outreach.app import running
    from outreach.settings import Settings

    logging.basicConfig(level=logging.WARNING)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        telegram_bot_token=SecretStr(TOKEN),
        telegram_api_base_url=api_base,
        telegram_webhook_url=f"http://127.0.0.1:{port}/telegram/webhook",
        telegram_webhook_secret=SecretStr(SECRET),
        pseudonym_secret=SecretStr(SECRET + "p"),
        surveys_dir=Path(surveys_dir),
        port=port,
    )

    async def serve() -> None:
        async with running(settings, "127.0.0.1", port):
            await asyncio.Event().wait()

    asyncio.run(serve())


def run_baseline(database_url: str, port: int) -> None:
    """A bare aiohttp route that only writes the raw update to the same database."""
    from aiohttp import web
    from sqlalchemy import text

    from storage.database import Database

    async def serve() -> None:
        db = Database(database_url)
        create = text("CREATE TABLE IF NOT EXISTS bench_raw (update_id INTEGER, body TEXT)")
        insert = text("INSERT INTO bench_raw (update_id, body) VALUES (:u, :b)")
        await db.write(lambda session: session.execute(create))

        async def receive(request: web.Request) -> web.Response:
            body = await request.text()
            values = {"u": json.loads(body)["update_id"], "b": body}
            await db.write(lambda session: session.execute(insert, values))
            return web.Response(text="ok")

        app = web.Application()
        app.router.add_post("/telegram/webhook", receive)
        app.router.add_get("/healthz", lambda _: web.json_response({"status": "ok"}))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await asyncio.Event().wait()

    asyncio.run(serve())


# ---------------------------------------------------------------- load side


async def wait_until(predicate: Any) -> None:
    async with asyncio.timeout(60):
        while not predicate():  # noqa: ASYNC110 - set from another process
            await asyncio.sleep(0.05)


async def onboard(user: EmulatedUser) -> None:
    await user.send("/start bench5")
    for label in ("English", "I agree", "Baku", "18–24", "Prefer not to say"):
        await user.press(label)


async def answer(user: EmulatedUser, step: int, press: bool) -> None:
    label = PRESSED[step] if press else None
    if label is not None:
        await user.press(label)
    else:
        await user.send(TYPED[step])


async def answer_once(user: EmulatedUser, step: int, buttons: bool) -> bool:
    """Answer question ``step``; True if the webhook took it (200)."""
    try:
        await answer(user, step, press=buttons and user.id % 2 == 0)
    except Exception:
        return False
    return user.last_status == 200


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def open_loop(
    people: list[EmulatedUser], rate: float, *, buttons: bool = True
) -> dict[str, float]:
    """Offer answers at ``rate`` per second; latency counts from when each was due."""
    idle = deque((user, 0) for user in people)
    total = len(people) * len(TYPED)
    latencies: list[float] = []
    errors = 0
    pending: set[asyncio.Task[None]] = set()
    loop = asyncio.get_running_loop()
    start = loop.time()
    late = 0

    async def one(user: EmulatedUser, step: int, due: float) -> None:
        nonlocal errors
        errors += not await answer_once(user, step, buttons)
        latencies.append(loop.time() - due)
        if step + 1 < len(TYPED):
            idle.append((user, step + 1))

    for index in range(total):
        due = start + index / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        while not idle:  # everyone is waiting for a reply: the service is behind
            late += 1
            await asyncio.sleep(0.001)
        user, step = idle.popleft()
        task = asyncio.create_task(one(user, step, due))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)
    elapsed = loop.time() - start
    return {
        "answers": total,
        "answers_per_s": round(total / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1),
        "errors": errors,
    }


async def closed_loop(
    people: list[EmulatedUser], concurrency: int, *, buttons: bool = True
) -> dict[str, float]:
    """As fast as the service takes them, ``concurrency`` answers in flight."""
    queue: deque[tuple[EmulatedUser, int]] = deque((user, 0) for user in people)
    latencies: list[float] = []
    errors = 0
    loop = asyncio.get_running_loop()

    async def worker() -> None:
        nonlocal errors
        while queue:
            user, step = queue.popleft()
            began = loop.time()
            errors += not await answer_once(user, step, buttons)
            latencies.append(loop.time() - began)
            if step + 1 < len(TYPED):
                queue.append((user, step + 1))

    start = loop.time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = loop.time() - start
    return {
        "answers": len(latencies),
        "answers_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "errors": errors,
    }


async def gather_limited(coroutines: list[Any], limit: int) -> None:
    slots = asyncio.Semaphore(limit)

    async def run(coroutine: Any) -> None:
        async with slots:
            await coroutine

    await asyncio.gather(*(run(c) for c in coroutines))


async def bench(people: int, rate: float) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-inbound-"))
    surveys = work / "surveys"
    surveys.mkdir()
    (surveys / "bench5.yaml").write_text(BENCH_SURVEY, encoding="utf-8")
    database_url = f"sqlite+aiosqlite:///{work / 'bench.db'}"
    spawn = multiprocessing.get_context("spawn")
    figures: dict[str, Any] = {"people": people, "offered_rate": rate, "cpus": os.cpu_count()}

    async with TelegramBotApiEmulator(global_rate=None, per_chat_rate=None) as emulator:
        emulator._webhook_slots = asyncio.Semaphore(WEBHOOK_CONNECTIONS)  # Telegram's maximum

        # The service: onboarding first (not measured), then the survey answers.
        port = free_port()
        service = spawn.Process(
            target=run_service, args=(database_url, str(surveys), emulator.base_url, port)
        )
        service.start()
        print(f"service pid {service.pid}", flush=True)
        try:
            await wait_until(lambda: emulator.webhook_url is not None)
            crowd = [emulator.user(100_000 + i) for i in range(people * 2)]
            print(f"onboarding {len(crowd)} people ...", flush=True)
            await gather_limited([onboard(u) for u in crowd], WEBHOOK_CONNECTIONS)
            print(f"open loop at {rate:.0f} answers/s ...", flush=True)
            figures["service_open_loop"] = await open_loop(crowd[:people], rate)
            print("closed loop, as fast as it goes ...", flush=True)
            figures["service_max"] = await closed_loop(crowd[people:], WEBHOOK_CONNECTIONS)
        finally:
            service.terminate()
            service.join()

        # The baseline: same load, bare route writing the raw update.
        port = free_port()
        baseline = spawn.Process(target=run_baseline, args=(database_url, port))
        baseline.start()
        try:
            emulator.webhook_url = f"http://127.0.0.1:{port}/telegram/webhook"
            crowd = [emulator.user(500_000 + i) for i in range(people * 2)]
            await asyncio.sleep(1.0)
            print("baseline ...", flush=True)
            # The bare route sends no buttons to press: every answer is typed.
            figures["baseline_open_loop"] = await open_loop(crowd[:people], rate, buttons=False)
            figures["baseline_max"] = await closed_loop(
                crowd[people:], WEBHOOK_CONNECTIONS, buttons=False
            )
        finally:
            baseline.terminate()
            baseline.join()

    service_max = figures["service_max"]["answers_per_s"]
    baseline_max = figures["baseline_max"]["answers_per_s"]
    figures["max_ratio_to_baseline"] = round(service_max / baseline_max, 3)
    figures["goal_answers_per_s"] = 1000
    figures["goal_p99_ms"] = 100
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=2000, help="people per phase")
    parser.add_argument("--rate", type=float, default=1000.0, help="offered answers per second")
    args = parser.parse_args()
    figures = asyncio.run(bench(args.people, args.rate))
    for phase in ("service_open_loop", "service_max", "baseline_open_loop", "baseline_max"):
        print(f"{phase:>20}: {figures[phase]}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
