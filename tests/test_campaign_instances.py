"""Two service processes on one PostgreSQL database: one sends campaigns, both take answers.

Each process serves its own webhook; one holds the dispatch lock of the
Telegram credential. When it is killed, the other takes over within seconds and
the campaign ends with nobody messaged twice.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from outreach.emulators.telegram_bot_api import TelegramBotApiEmulator
from storage.database import Database
from storage.models import OutboxMessage
from tests.conftest import EXAMPLE_SURVEYS, free_port
from tests.test_campaign_crash import TOKEN, open_rows, populate

pytestmark = pytest.mark.storage

PEOPLE = 3_000
SECRET = "instances_Z3kq9T_xRb2mYp4Lc8Vn-Hd6Jf1Gs5Qe7aKw0"


class Instance:
    """One service process, its port and what it logged."""

    def __init__(self, database_url: str, emulator: TelegramBotApiEmulator, cwd: Path) -> None:
        self.port = free_port()
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("TWILIO_", "TELEGRAM_"))
        }
        environment.update(
            DATABASE_URL=database_url,
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=emulator.base_url,
            TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{self.port}/telegram/webhook",
            TELEGRAM_WEBHOOK_SECRET=SECRET,
            PSEUDONYM_SECRET=SECRET + "p",
            TELEGRAM_RATE="300",
            PORT=str(self.port),
            LOG_LEVEL="INFO",
            SURVEYS_DIR=str(EXAMPLE_SURVEYS),
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "outreach", "serve"],
            cwd=cwd,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def dispatching(self) -> bool:
        return any("dispatching telegram" in line for line in self.lines)

    async def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        await asyncio.to_thread(self.process.wait, 30)


async def webhook(instance: Instance, update: dict[str, object]) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    url = f"http://127.0.0.1:{instance.port}/telegram/webhook"
    async with (
        aiohttp.ClientSession() as client,
        client.post(url, data=json.dumps(update), headers=headers) as response,
    ):
        return response.status


async def test_two_instances_never_send_twice_and_take_over(
    database_url: str, tmp_path: Path
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("several instances share PostgreSQL")
    db = Database(database_url)
    await db.migrate()
    await db.write(lambda s: populate(s, PEOPLE))
    async with TelegramBotApiEmulator(global_rate=None, per_chat_rate=None) as emulator:
        for user_id in range(1, PEOPLE + 1):
            emulator.user(user_id)
        instances = [Instance(database_url, emulator, tmp_path) for _ in range(2)]
        try:
            async with asyncio.timeout(60):
                while len(emulator.calls("sendMessage")) < 300:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            holders = [i for i in instances if i.dispatching]
            assert len(holders) == 1  # one dispatcher for the credential
            holder = holders[0]
            other = next(i for i in instances if i is not holder)

            # Survey answers flow through both processes meanwhile.
            for number, instance in enumerate(instances, start=1):
                person = emulator.user(900_000 + number)
                update = {
                    "update_id": 10_000_000 + number,
                    "message": {
                        "message_id": 1,
                        "date": 0,
                        "text": "/start",
                        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
                        "chat": {"id": person.id, "type": "private", "first_name": "P"},
                        "from": {"id": person.id, "is_bot": False, "first_name": "P"},
                    },
                }
                status = await webhook(instance, update)
                assert status == 200, "".join(instance.lines[-30:])
                assert person.messages, "each process answers its own webhook"

            holder.process.send_signal(signal.SIGKILL)
            await asyncio.to_thread(holder.process.wait, 10)
            async with asyncio.timeout(30):
                while not other.dispatching:  # noqa: ASYNC110 - its log tells
                    await asyncio.sleep(0.1)

            async with asyncio.timeout(60):
                while await open_rows(db):  # noqa: ASYNC110
                    await asyncio.sleep(0.2)
        finally:
            for instance in instances:
                await instance.stop()
        received = {u: len(emulator.user(u).messages) for u in range(1, PEOPLE + 1)}
        unknown = set(
            await db.read(
                lambda s: list(
                    s.scalars(
                        select(OutboxMessage.respondent_id).where(OutboxMessage.status == "unknown")
                    )
                )
            )
        )
    await db.dispose()
    assert max(received.values()) == 1
    assert {u for u, n in received.items() if n == 0} <= unknown
