"""Campaigns end to end: the CLI, the running service, the emulated Telegram and Twilio.

As a staff member would: create a campaign to one region in two languages,
preview its size and SMS cost, schedule it, follow it until done; then check
that each person got exactly one message, in their language.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from outreach.app import Outreach, running
from outreach.cli import main as cli
from outreach.sandbox.runtime import Sandbox
from outreach.settings import Settings
from storage.campaigns import CampaignRepository
from storage.models import ChannelIdentity, EventRsvp
from tests.conftest import EXAMPLE_SURVEYS, free_port
from tests.test_campaign_engine import people

pytestmark = pytest.mark.storage

GANJA = "ganja-dashkasan"


@pytest.fixture
async def service(database_url: str) -> AsyncIterator[tuple[Outreach, Sandbox]]:
    port = free_port()
    base = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        surveys_dir=EXAMPLE_SURVEYS,
        port=port,
        telegram_chat_rate=30,
    )
    async with Sandbox() as sandbox:
        settings = sandbox.settings_for(base, f"http://127.0.0.1:{port}")
        async with running(settings, "127.0.0.1", port, sandbox) as outreach:
            yield outreach, sandbox


async def cli_run(database_url: str, *arguments: str) -> str:
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, list(arguments), env={"DATABASE_URL": database_url}
    )
    assert result.exit_code == 0, result.output
    return str(result.output)


def campaign_file(tmp_path: Path, **overrides: str) -> Path:
    fields = {
        "id": "ganja_survey",
        "kind": "survey_invitation",
        "name": "Public services in Ganja",
        "languages": "[az, ru]",
        "text": '{az: "Gəncədə xidmətlər necədir? Qısa sorğu.", '
        'ru: "Как работают услуги в Гяндже? Короткий опрос."}',
        "survey": "public_services",
        "audience": f"{{regions: [{GANJA}]}}",
        "window": '{start: "00:00", end: "23:59"}',
    }
    fields.update(overrides)
    path = tmp_path / f"{fields['id']}.yaml"
    path.write_text("\n".join(f"{k}: {v}" for k, v in fields.items()) + "\n", encoding="utf-8")
    return path


async def until(check: Callable[[], Any], seconds: float = 20) -> None:
    async with asyncio.timeout(seconds):
        while not await check():  # noqa: ASYNC110 - the state lives in the database
            await asyncio.sleep(0.1)


async def everyone(outreach: Outreach, sandbox: Sandbox) -> dict[str, int]:
    specs = [
        {"channels": {"telegram": "1001"}, "region": GANJA, "language": "az"},
        {"channels": {"telegram": "1002"}, "region": GANJA, "language": "ru"},
        {"channels": {"sms": "+994501112233"}, "region": GANJA, "language": "ru"},
        {
            "channels": {"telegram": "1003", "sms": "+994501112244"},
            "region": GANJA,
            "language": "az",
        },
        {"channels": {"telegram": "2001"}, "region": "baku", "language": "az"},
        {"channels": {"sms": "+994552223344"}, "region": "baku", "language": "ru"},
    ]
    for user_id in (1001, 1002, 1003, 2001):
        sandbox.telegram.user(user_id)
    ids = await outreach.db.write(lambda s: people(s, specs))
    return {
        "1001": ids[0],
        "1002": ids[1],
        "+994501112233": ids[2],
        "1003": ids[3],
        "2001": ids[4],
        "+994552223344": ids[5],
    }


async def test_a_staff_member_sends_a_survey_invitation_to_one_region(
    service: tuple[Outreach, Sandbox], database_url: str, tmp_path: Path
) -> None:
    outreach, sandbox = service
    await everyone(outreach, sandbox)
    path = campaign_file(tmp_path)
    assert "created as a draft" in await cli_run(database_url, "campaign", "create", str(path))
    preview = await cli_run(database_url, "campaign", "preview", "ganja_survey")
    assert "Reaches 4 people" in preview
    assert "UCS-2" in preview and "USD" in preview  # Russian SMS: cost shown
    await cli_run(database_url, "campaign", "schedule", "ganja_survey")
    assert outreach.scheduler is not None
    await outreach.scheduler.sync()

    async def done() -> bool:
        output = await cli_run(database_url, "campaign", "status", "ganja_survey", "--json")
        counts = json.loads(output)
        return bool(counts["pending"] == 0 and counts["sending"] == 0 and counts["sent"] > 0)

    await until(done)
    telegram = sandbox.telegram
    assert [m["text"].split("\n")[0] for m in telegram.user(1001).messages] == [
        "Gəncədə xidmətlər necədir? Qısa sorğu."
    ]
    assert len(telegram.user(1002).messages) == 1
    assert telegram.user(1002).messages[0]["text"].startswith("Как работают")
    assert len(telegram.user(1003).messages) == 1  # Telegram, not also by SMS
    assert sandbox.twilio.phone("+994501112244").received == []
    sms = sandbox.twilio.phone("+994501112233").received
    assert len(sms) == 1 and sms[0].body.startswith("Как работают") and "JOIN" in sms[0].body
    assert telegram.user(2001).messages == []  # Baku is not in the audience
    assert sandbox.twilio.phone("+994552223344").received == []
    assert "Sorğunu başla" in telegram.user(1001).buttons()

    # The invited person starts the survey with one tap; by SMS, with JOIN.
    await telegram.user(1001).press("Sorğunu başla")
    assert "1/6" in telegram.user(1001).messages[-1]["text"]
    await sandbox.twilio.phone("+994501112233").send("JOIN")
    reply = await sandbox.twilio.phone("+994501112233").next_message()
    reply = await sandbox.twilio.phone("+994501112233").next_message()
    assert "1/6" in reply.body

    listing = await cli_run(database_url, "campaign", "list")
    # The scheduler's own tick may already have closed the finished run.
    assert re.search(r"ganja_survey  survey_invitation  (scheduled|completed)", listing)
    await outreach.db.write(lambda s: CampaignRepository(s).finish_runs())
    status = json.loads(await cli_run(database_url, "campaign", "status", "ganja_survey", "--json"))
    assert status["status"] == "completed" and status["sent"] + status["delivered"] == 4


async def test_an_event_with_rsvp_capacity_and_a_calendar_file(
    service: tuple[Outreach, Sandbox], database_url: str, tmp_path: Path
) -> None:
    outreach, sandbox = service
    await everyone(outreach, sandbox)
    path = campaign_file(
        tmp_path,
        id="ganja_forum",
        kind="event",
        survey="null",
        event='{starts_at: 2099-12-10T15:00:00+04:00, capacity: 1, location: {az: "Gənclər Evi", '
        'ru: "Дом молодёжи"}}',
    )
    await cli_run(database_url, "campaign", "create", str(path))
    await cli_run(database_url, "campaign", "schedule", "ganja_forum")
    assert outreach.scheduler is not None
    await outreach.scheduler.sync()
    first, second = sandbox.telegram.user(1001), sandbox.telegram.user(1002)

    async def invited() -> bool:
        return bool(first.messages and second.messages)

    await until(invited)
    assert "Gənclər Evi" in first.messages[0]["text"]
    await first.press("Gəlirəm")
    documents = [c for c in sandbox.telegram.calls("sendDocument") if c.params["chat_id"] == 1001]
    assert len(documents) == 1
    assert b"BEGIN:VEVENT" in documents[0].params["document"].content
    await second.press("Приду")
    assert (
        "waiting list" in second.messages[-1]["text"] or "ожидания" in second.messages[-1]["text"]
    )
    await first.press("Gələ bilmirəm")  # a place comes free: the first in line takes it
    rsvps = await outreach.db.read(
        lambda s: {
            r.respondent_id: (r.response, r.waitlisted) for r in s.scalars(select(EventRsvp))
        }
    )
    assert sorted(rsvps.values()) == [("going", False), ("no", False)]

    # By SMS, "1" answers the invitation.
    phone = sandbox.twilio.phone("+994501112233")

    async def sms_invited() -> bool:
        return bool(phone.received)

    await until(sms_invited)
    assert "1" in phone.received[0].body
    await phone.send("2")
    answer = await phone.next_message()
    answer = await phone.next_message()
    assert answer.body
    attendees = await cli_run(database_url, "events", "attendees", "ganja_forum")
    lines = attendees.strip().splitlines()
    assert lines[0].startswith("participant,response,waitlisted")
    assert len(lines) == 4 and "+994" not in attendees and "1001" not in attendees


async def _send(outreach: Outreach, database_url: str, path: Path, campaign_id: str) -> None:
    await cli_run(database_url, "campaign", "create", str(path))
    await cli_run(database_url, "campaign", "schedule", campaign_id)
    assert outreach.scheduler is not None
    await outreach.scheduler.sync()

    async def settled() -> bool:
        status = json.loads(
            await cli_run(database_url, "campaign", "status", campaign_id, "--json")
        )
        messages = sum(v for v in status.values() if isinstance(v, int))
        return bool(status["pending"] == 0 and status["sending"] == 0 and messages)

    await until(settled, seconds=30)


async def test_a_blocked_bot_is_final_and_marks_the_person_unreachable(
    service: tuple[Outreach, Sandbox], database_url: str, tmp_path: Path
) -> None:
    outreach, sandbox = service
    await everyone(outreach, sandbox)
    sandbox.telegram.block(1002)
    audience = f"{{regions: [{GANJA}], channels: [telegram], languages: [ru]}}"
    await _send(outreach, database_url, campaign_file(tmp_path, audience=audience), "ganja_survey")
    to_blocked = [c for c in sandbox.telegram.calls("sendMessage") if c.params["chat_id"] == 1002]
    assert len(to_blocked) == 1  # a 403 is permanent: never tried again
    status = json.loads(await cli_run(database_url, "campaign", "status", "ganja_survey", "--json"))
    assert status["failed"] == 1
    unreachable = await outreach.db.read(
        lambda s: s.scalar(
            select(ChannelIdentity.unreachable_at).where(ChannelIdentity.address == "1002")
        )
    )
    assert unreachable is not None


async def test_telegram_429_and_5xx_are_retried_and_each_person_gets_one_message(
    service: tuple[Outreach, Sandbox], database_url: str, tmp_path: Path
) -> None:
    outreach, sandbox = service
    await everyone(outreach, sandbox)
    telegram = sandbox.telegram
    telegram.fail_next("sendMessage", status=429, retry_after=1)
    telegram.fail_next("sendMessage", status=502)
    audience = f"{{regions: [{GANJA}], channels: [telegram], languages: [az]}}"
    await _send(outreach, database_url, campaign_file(tmp_path, audience=audience), "ganja_survey")
    assert len(telegram.user(1001).messages) == 1 and len(telegram.user(1003).messages) == 1
    status = json.loads(await cli_run(database_url, "campaign", "status", "ganja_survey", "--json"))
    assert status["sent"] == 2 and status["failed"] == 0
    assert outreach.dispatcher is not None and outreach.dispatcher.counters.retried >= 1
