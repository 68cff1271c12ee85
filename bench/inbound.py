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
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import (  # noqa: E402
    closed_loop,
    free_port,
    gather_limited,
    open_loop,
    run_baseline,
    wait_until,
)
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


# ---------------------------------------------------------------- load side


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


async def answer_by_button(user: EmulatedUser, step: int) -> bool:
    """Half the people press buttons, half type (a number is always typed)."""
    await answer(user, step, press=user.id % 2 == 0)
    return user.last_status == 200


async def answer_typed(user: EmulatedUser, step: int) -> bool:
    await answer(user, step, press=False)
    return user.last_status == 200


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
            steps = len(TYPED)
            figures["service_open_loop"] = await open_loop(
                crowd[:people], steps, rate, answer_by_button
            )
            print("closed loop, as fast as it goes ...", flush=True)
            figures["service_max"] = await closed_loop(
                crowd[people:], steps, WEBHOOK_CONNECTIONS, answer_by_button
            )
        finally:
            service.terminate()
            service.join()

        # The baseline: same load, bare route writing the raw update.
        port = free_port()
        baseline = spawn.Process(
            target=run_baseline, args=(database_url, port, "/telegram/webhook")
        )
        baseline.start()
        try:
            emulator.webhook_url = f"http://127.0.0.1:{port}/telegram/webhook"
            crowd = [emulator.user(500_000 + i) for i in range(people * 2)]
            await asyncio.sleep(1.0)
            print("baseline ...", flush=True)
            # The bare route sends no buttons to press: every answer is typed.
            figures["baseline_open_loop"] = await open_loop(
                crowd[:people], len(TYPED), rate, answer_typed
            )
            figures["baseline_max"] = await closed_loop(
                crowd[people:], len(TYPED), WEBHOOK_CONNECTIONS, answer_typed
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
