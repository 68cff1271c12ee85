"""The whole service, driven as a person would through the emulated Telegram Bot API.

The real python-telegram-bot talks HTTP to the emulator on 127.0.0.1; the
emulator posts updates to our webhook route (or is polled). Nothing is mocked.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner
from pydantic import SecretStr
from sqlalchemy import func, select

from outreach.app import Outreach, running
from outreach.cli import main as cli
from outreach.emulators.telegram_bot_api import EmulatedUser, TelegramBotApiEmulator
from outreach.settings import Settings
from storage.models import Answer, AnswerChoice, ChannelIdentity, Respondent
from tests.conftest import EXAMPLE_SURVEYS, free_port

pytestmark = pytest.mark.storage

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
WEBHOOK_SECRET = "w" * 8 + "Z3kq9T_xRb2mYp4Lc8Vn-Hd6Jf1Gs5Qe7"
PSEUDONYM_SECRET = "p3Xq9T_xRb2mYp4Lc8Vn-Hd6Jf1Gs5Qe7aKw0"


@pytest.fixture
async def emulator() -> AsyncIterator[TelegramBotApiEmulator]:
    async with TelegramBotApiEmulator(global_rate=None, per_chat_rate=None) as emu:
        yield emu


ServiceFactory = Callable[..., AbstractAsyncContextManager[Outreach]]


@pytest.fixture
def make_settings(database_url: str, emulator: TelegramBotApiEmulator) -> Callable[..., Settings]:
    def build(*, webhook: bool = True, port: int | None = None) -> Settings:
        port = port or free_port()
        return Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=database_url,
            telegram_bot_token=SecretStr(TOKEN),
            telegram_api_base_url=emulator.base_url,
            telegram_webhook_url=f"http://127.0.0.1:{port}/telegram/webhook" if webhook else None,
            telegram_webhook_secret=SecretStr(WEBHOOK_SECRET),
            pseudonym_secret=SecretStr(PSEUDONYM_SECRET),
            surveys_dir=EXAMPLE_SURVEYS,
            port=port,
            telegram_chat_rate=30,  # pacing has its own tests; here it would only slow things
        )

    return build


@pytest.fixture
async def service(make_settings: Callable[..., Settings]) -> AsyncIterator[Outreach]:
    settings = make_settings()
    async with running(settings, "127.0.0.1", settings.port) as outreach:
        yield outreach


def texts(user: EmulatedUser) -> list[str]:
    return [m.get("text", "") for m in user.messages]


async def onboard(user: EmulatedUser, deep_link: str = "") -> None:
    await user.send(f"/start {deep_link}".strip())
    await user.press("English")
    await user.press("I agree")
    await user.press("Baku")
    await user.press("18–24")
    await user.press("Prefer not to say")


async def count(outreach: Outreach, model: type) -> int:
    return await outreach.db.read(
        lambda s: int(s.scalar(select(func.count()).select_from(model)) or 0)
    )


async def test_a_new_person_completes_a_survey_and_results_show_it(
    service: Outreach, emulator: TelegramBotApiEmulator, database_url: str
) -> None:
    assert emulator.webhook_url and emulator.webhook_url.endswith("/telegram/webhook")
    user = emulator.user(501, language_code="en")
    await user.send("/start youth_priorities")
    assert user.last_message is not None
    assert "Choose your language" in user.last_message["text"]
    await user.press("English")
    assert "/forget" in user.last_message["text"]  # the consent says how to leave
    await user.press("I agree")
    await user.press("Baku")
    await user.press("18–24")
    await user.press("Prefer not to say")
    assert user.last_message["text"].startswith("1/5 Which Sustainable Development Goals")
    await user.press("Quality Education")
    assert "✅ Quality Education" in user.buttons()  # the toggle redrew the keyboard
    await user.press("Climate Action")
    await user.press("Done")
    assert user.last_message["text"].startswith("2/5")
    await user.send("1")
    await user.press("4")
    await user.press("Yes")
    await user.send("A youth centre in every district")
    assert any(t.startswith("Thank you!") for t in texts(user)[-2:])
    assert user.last_status == 200

    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        ["results", "youth_priorities", "--json"],
        env={"DATABASE_URL": database_url},
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    goals = next(q for q in document["questions"] if q["question_id"] == "top_goals")
    # One person: what they picked is stored, and nothing of it is published, not
    # even the zeros (with one person, "0" says what they did not pick).
    assert goals["answered"] == {"count": None, "text": "<5"}
    assert all(c["count"] is None and c["text"] == "<5" for c in goals["choices"])
    assert document["completed"] == {"count": None, "text": "<5"}
    stored = await service.db.read(
        lambda s: sorted(
            s.scalars(select(AnswerChoice.value).where(AnswerChoice.question_id == "top_goals"))
        )
    )
    assert stored == ["climate_action", "quality_education"]


async def test_a_wrong_answer_gets_a_friendly_reprompt(
    service: Outreach, emulator: TelegramBotApiEmulator
) -> None:
    user = emulator.user(502)
    await onboard(user, "public_services")
    await user.send("I don't know")
    assert user.last_message is not None
    assert user.last_message["text"].startswith("Sorry, I didn't catch that.")
    assert "1/6" in user.last_message["text"]
    assert user.buttons()  # the choices come again
    await user.send("1")
    assert user.last_message["text"].startswith("2/6")


async def test_after_a_restart_the_person_continues_where_they_were(
    make_settings: Callable[..., Settings], emulator: TelegramBotApiEmulator
) -> None:
    settings = make_settings()
    user = emulator.user(503)
    async with running(settings, "127.0.0.1", settings.port):
        await onboard(user, "public_services")
        await user.send("1")
        assert user.last_message is not None and user.last_message["text"].startswith("2/6")
    async with running(settings, "127.0.0.1", settings.port) as outreach:
        await user.send("5")
        assert user.last_message["text"].startswith("3/6")
        await user.send("/start")
        assert "3/6" in user.last_message["text"]
        assert await count(outreach, Answer) == 2


async def test_an_update_delivered_twice_is_handled_once(
    service: Outreach, emulator: TelegramBotApiEmulator
) -> None:
    user = emulator.user(504)
    await onboard(user, "public_services")
    update = await user.send("2")
    sent_before = len(emulator.calls("sendMessage"))
    status = await emulator.deliver(update)
    assert status == 200
    assert len(emulator.calls("sendMessage")) == sent_before  # no second reply
    assert await count(service, Answer) == 1


async def test_a_reply_that_fails_after_the_answer_is_saved_is_not_redelivered(
    service: Outreach, emulator: TelegramBotApiEmulator
) -> None:
    user = emulator.user(510)
    await onboard(user, "public_services")
    emulator.fail_next("sendMessage", status=500)
    await user.send("2")
    assert user.last_status == 200  # the answer is durable: no retry from Telegram
    assert await count(service, Answer) == 1
    await user.send("/start")  # the person can pick up where they are
    assert user.last_message is not None and "2/6" in user.last_message["text"]


async def test_a_failure_before_the_commit_asks_telegram_to_retry(
    service: Outreach, emulator: TelegramBotApiEmulator
) -> None:
    user = emulator.user(511)
    await onboard(user, "public_services")
    original = service.conversation._handle_in_session
    calls = 0

    def flaky(session, inbound):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database hiccup")
        return original(session, inbound)

    service.conversation._group._work = flaky
    update = await user.send("2")
    assert user.last_status == 500
    assert await count(service, Answer) == 0
    assert await emulator.deliver(update) == 200  # Telegram's retry is handled
    assert await count(service, Answer) == 1


async def test_forget_erases_identity_after_confirmation(
    service: Outreach, emulator: TelegramBotApiEmulator
) -> None:
    user = emulator.user(505)
    await onboard(user, "youth_priorities")
    await user.send("4")
    await user.send("/forget")
    assert set(user.buttons()) >= {"Delete my identity", "Delete everything", "Cancel"}
    await user.press("Delete my identity")
    assert user.last_message is not None
    assert "deleted" in user.last_message["text"]
    assert await count(service, ChannelIdentity) == 0
    assert await count(service, Answer) == 1  # anonymous statistics stay
    await user.send("/mydata")  # a stranger now: the bot starts afresh
    assert "Choose your language" in user.last_message["text"]


async def test_mydata_shows_what_is_held(
    service: Outreach, emulator: TelegramBotApiEmulator
) -> None:
    user = emulator.user(506)
    await onboard(user)
    await user.send("/mydata")
    assert user.last_message is not None
    text = user.last_message["text"]
    assert "Telegram: 506" in text and "Region: Baku" in text and "Participant code:" in text


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({}, {"update_id": 1}, 403),
        ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, {"update_id": 1}, 403),
        ({"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}, [1, 2], 400),
        ({"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}, "not json", 400),
    ],
    ids=["missing-secret", "wrong-secret", "not-an-update", "not-json"],
)
async def test_the_webhook_refuses_forged_or_broken_calls(
    service: Outreach, headers: dict[str, str], body: object, status: int
) -> None:
    url = f"http://127.0.0.1:{service.settings.port}/telegram/webhook"
    async with aiohttp.ClientSession() as client:
        data = body if isinstance(body, str) else json.dumps(body)
        async with client.post(url, data=data, headers=headers) as response:
            assert response.status == status
    assert await count(service, Respondent) == 0


async def test_long_polling_works_too(
    make_settings: Callable[..., Settings], emulator: TelegramBotApiEmulator
) -> None:
    settings = make_settings(webhook=False)
    async with running(settings, "127.0.0.1", settings.port) as outreach:
        assert emulator.webhook_url is None
        user = emulator.user(507)
        await user.send("/start")
        first = await user.next_message()
        assert "Choose your language" in first["text"]
        await user.press("Русский")
        edited_or_new = await user.next_message()
        assert edited_or_new["text"]
        await asyncio.sleep(0)
        assert await count(outreach, Respondent) == 1


async def test_every_button_press_is_acknowledged(
    service: Outreach, emulator: TelegramBotApiEmulator
) -> None:
    user = emulator.user(509)
    await user.send("/start")
    update = await user.press("English")
    query_id = update["callback_query"]["id"]
    assert query_id in emulator.callback_answers  # in the webhook's answer: no extra request
    assert not [c for c in emulator.calls("answerCallbackQuery") if c.token == TOKEN]


async def test_commands_are_published_in_every_language(
    service: Outreach, emulator: TelegramBotApiEmulator
) -> None:
    languages = {call.params.get("language_code") for call in emulator.calls("setMyCommands")}
    assert {"az", "ru", "en", None} <= languages


async def test_logs_hold_no_token_and_no_message_text(
    service: Outreach, emulator: TelegramBotApiEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    from outreach.logs import RedactingFilter

    caplog.handler.addFilter(RedactingFilter())
    with caplog.at_level(logging.DEBUG):
        user = emulator.user(508)
        await onboard(user, "youth_priorities")
        await user.send("My phone is +994501234567")
    logged = caplog.text
    assert TOKEN not in logged and TOKEN.split(":")[1] not in logged
    assert "+994501234567" not in logged and "994501234567" not in logged


def test_weak_webhook_secrets_stop_the_start(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["serve"],
        env={
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_WEBHOOK_URL": "https://example.org/telegram/webhook",
            "TELEGRAM_WEBHOOK_SECRET": "changeme",
            "PSEUDONYM_SECRET": "",
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db",
        },
    )
    assert result.exit_code != 0
    assert "TELEGRAM_WEBHOOK_SECRET is too short" in result.output
    assert "PSEUDONYM_SECRET is not set" in result.output
