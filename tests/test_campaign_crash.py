"""A campaign survives its process being killed: resumed, nobody skipped, nobody messaged twice.

The service runs in a subprocess against the Telegram emulator in this one; it
is killed with SIGKILL in the middle of a 10,000-person campaign and started
again. Whoever got no message must be counted 'unknown' (in flight at the
kill: never resent, by the documented rule); nobody gets two.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text

from outreach.emulators.telegram_bot_api import TelegramBotApiEmulator
from polls.campaign import load_campaign_text
from storage.campaigns import CampaignRepository
from storage.database import Database
from storage.models import ChannelIdentity, OutboxMessage, Respondent, utcnow
from tests.conftest import EXAMPLE_SURVEYS, free_port

pytestmark = pytest.mark.storage

PEOPLE = 10_000
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
CAMPAIGN = """
id: big_announcement
kind: announcement
name: Big announcement
languages: [az, ru]
text: {az: "Salam!", ru: "Привет!"}
window: {start: "00:00", end: "23:59"}
"""


def populate(session: object, count: int) -> None:
    now = utcnow()
    connection = session.connection()  # type: ignore[attr-defined]
    connection.execute(
        insert(Respondent.__table__),
        [
            {"id": i, "language": "az", "consent_at": now, "created_at": now, "region": "baku"}
            for i in range(1, count + 1)
        ],
    )
    connection.execute(
        insert(ChannelIdentity.__table__),
        [
            {"respondent_id": i, "channel": "telegram", "address": str(i), "created_at": now}
            for i in range(1, count + 1)
        ],
    )
    if connection.dialect.name == "postgresql":  # explicit ids: move the id sequence on
        connection.execute(
            text("SELECT setval(pg_get_serial_sequence('respondents', 'id'), :n)"), {"n": count}
        )
    repository = CampaignRepository(session)  # type: ignore[arg-type]
    campaign = load_campaign_text(CAMPAIGN, source="big.yaml")
    repository.save(campaign=campaign)
    repository.set_status(campaign_id=campaign.id, status="scheduled", only_from=("draft",))


def start_service(
    database_url: str, emulator: TelegramBotApiEmulator, cwd: Path
) -> subprocess.Popen[bytes]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TWILIO_", "TELEGRAM_"))
    }
    environment.update(
        DATABASE_URL=database_url,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=emulator.base_url,
        TELEGRAM_RATE="1000",
        PORT=str(free_port()),
        LOG_LEVEL="WARNING",
        SURVEYS_DIR=str(EXAMPLE_SURVEYS),
    )
    return subprocess.Popen(
        [sys.executable, "-m", "outreach", "serve"],
        cwd=cwd,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def open_rows(db: Database) -> int:
    """Outbox rows not yet settled (another process is sending them)."""
    statement = select(func.count()).where(OutboxMessage.status.in_(("pending", "sending")))
    return int(await db.read(lambda s: s.scalar(statement)) or 0)


async def sent_messages(emulator: TelegramBotApiEmulator) -> int:
    return len(emulator.calls("sendMessage"))


async def test_killed_mid_campaign_then_restarted(database_url: str, tmp_path: Path) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("runs once, on SQLite (the two-instance test covers PostgreSQL)")
    db = Database(database_url)
    await db.migrate()
    await db.write(lambda s: populate(s, PEOPLE))
    async with TelegramBotApiEmulator(global_rate=None, per_chat_rate=None) as emulator:
        for user_id in range(1, PEOPLE + 1):
            emulator.user(user_id)
        first = start_service(database_url, emulator, tmp_path)
        try:
            async with asyncio.timeout(60):
                while await sent_messages(emulator) < 2_000:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            first.send_signal(signal.SIGKILL)
            await asyncio.to_thread(first.wait, 10)
        finally:
            if first.poll() is None:
                first.kill()
        at_kill = await sent_messages(emulator)
        assert at_kill < PEOPLE, "the campaign ended before the kill: make it longer"

        second = start_service(database_url, emulator, tmp_path)
        try:
            async with asyncio.timeout(90):
                while await open_rows(db):  # noqa: ASYNC110 - another process writes them
                    await asyncio.sleep(0.2)
        finally:
            # Wait in a thread: the emulator in this loop must answer while it shuts down.
            second.terminate()
            await asyncio.to_thread(second.wait, 30)

        statuses = await db.read(
            lambda s: dict(
                s.execute(
                    select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                ).all()
            )
        )
        unknown_ids = set(
            await db.read(
                lambda s: list(
                    s.scalars(
                        select(OutboxMessage.respondent_id).where(OutboxMessage.status == "unknown")
                    )
                )
            )
        )
        received = {u: len(emulator.user(u).messages) for u in range(1, PEOPLE + 1)}
    await db.dispose()

    assert sum(statuses.values()) == PEOPLE  # everyone has a row: nobody skipped
    assert set(statuses) <= {"sent", "unknown"}
    assert max(received.values()) == 1  # nobody twice
    missing = {u for u, n in received.items() if n == 0}
    assert missing <= unknown_ids  # whoever got nothing is counted unknown
    assert len(unknown_ids) <= 100  # only what was in flight: a tenth of a second at 1,000/s
