"""The Telegram Bot API emulator, driven by the real python-telegram-bot over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import re
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from outreach.emulators.telegram_bot_api import (
    SECRET_TOKEN_HEADER,
    TelegramBotApiEmulator,
    UploadedFile,
)

TOKEN = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"  # fake, but shaped like a real one
USER_ID = 101


@pytest.fixture
async def emulator() -> AsyncIterator[TelegramBotApiEmulator]:
    # Flood limits off: tests that are about them build their own emulator.
    async with TelegramBotApiEmulator(global_rate=None, per_chat_rate=None) as emu:
        yield emu


@pytest.fixture
async def bot(emulator: TelegramBotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=emulator.base_url) as telegram_bot:
        yield telegram_bot


@pytest.fixture
def timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns when ``RetryAfter.retry_after`` is read as an int; opt in to timedelta."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in buttons]]
    )


async def test_get_me_and_urls(emulator: TelegramBotApiEmulator, bot: Bot) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", emulator.url)
    assert emulator.base_url == f"{emulator.url}/bot"
    assert bot.username == "sdg_outreach_bot"
    assert bot.id == 7_000_000_001
    me = await bot.get_me()
    assert me.is_bot and me.can_join_groups and not me.supports_inline_queries
    (first, *_) = emulator.calls("getme")
    assert first.method == "getMe" and first.token == TOKEN


async def test_polling_application_handles_a_command_and_a_button(
    emulator: TelegramBotApiEmulator,
) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(
            "Do you agree?", reply_markup=keyboard(("Yes", "agree:yes"), ("No", "agree:no"))
        )

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer("Thanks!")
        await query.edit_message_text(f"You chose {query.data}")
        await context.bot.send_message(query.message.chat.id, "Next question")

    application = ApplicationBuilder().token(TOKEN).base_url(emulator.base_url).build()
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(on_button))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        try:
            user = emulator.user(USER_ID, first_name="Aysel", language_code="az")
            update = await user.send("/start")
            assert update["message"]["entities"] == [
                {"type": "bot_command", "offset": 0, "length": 6}
            ]
            question = await user.next_message()
            assert question["text"] == "Do you agree?"
            assert question["chat"] == {"id": USER_ID, "type": "private", "first_name": "Aysel"}
            assert question["message_id"] == update["message"]["message_id"] + 1
            assert user.buttons() == ["Yes", "No"]

            pressed = await user.press("Yes")  # by text
            assert pressed["callback_query"]["data"] == "agree:yes"
            assert (await user.next_message())["text"] == "Next question"
            assert user.messages[0] is question  # edited in place
            assert question["text"] == "You chose agree:yes"
            assert "reply_markup" not in question and "edit_date" in question
            (answer,) = emulator.calls("answerCallbackQuery")
            assert answer.params["text"] == "Thanks!"
            assert emulator.callback_answers[pressed["callback_query"]["id"]]["text"] == "Thanks!"

            await user.send("/start@sdg_outreach_bot")
            await user.next_message()
            await user.press("agree:no")  # by callback data
            assert (await user.next_message())["text"] == "Next question"
            assert [m["text"] for m in user.messages] == [
                "You chose agree:yes",
                "Next question",
                "You chose agree:no",
                "Next question",
            ]
        finally:
            await application.updater.stop()
            await application.stop()


async def test_webhook_delivery_with_secret(emulator: TelegramBotApiEmulator, bot: Bot) -> None:
    received: list[tuple[str | None, dict]] = []

    async def hook(request: web.Request) -> web.Response:
        secret = request.headers.get(SECRET_TOKEN_HEADER)
        received.append((secret, await request.json()))
        return web.Response(status=200 if secret == "s3cret_Token-1" else 403)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    hook_url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        assert await bot.set_webhook(hook_url, secret_token="s3cret_Token-1")
        assert emulator.webhook_url == hook_url
        assert (await bot.get_webhook_info()).url == hook_url

        user = emulator.user(USER_ID)
        update = await user.send("hello")
        assert user.last_status == 200
        assert received == [("s3cret_Token-1", update)]
        assert await emulator.deliver(update) == 200  # redelivery of the same update
        assert received[-1] == ("s3cret_Token-1", update)

        with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
            await bot.get_updates()

        await bot.set_webhook(hook_url, secret_token="other")
        await user.send("again")
        assert user.last_status == 403
        info = await bot.get_webhook_info()
        assert info.last_error_message == "Wrong response from the webhook: 403 Forbidden"

        assert await bot.delete_webhook()
        await user.send("polled")
        assert user.last_status is None
        (polled,) = await bot.get_updates()
        assert polled.message is not None and polled.message.text == "polled"
    finally:
        await runner.cleanup()


async def test_set_webhook_rejects_bad_secret(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"^Secret token contains unallowed characters$"):
        await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="not:allowed")
    with pytest.raises(BadRequest, match=r"^Secret token is too long$"):
        await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="a" * 257)


async def test_get_updates_long_polls_and_confirms(
    emulator: TelegramBotApiEmulator, bot: Bot
) -> None:
    user = emulator.user(USER_ID)
    started = time.monotonic()
    waiting = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    sent = await user.send("hi")
    (update,) = await waiting
    assert time.monotonic() - started < 2
    assert update.update_id == sent["update_id"]
    assert update.message is not None and update.message.from_user is not None
    assert update.message.from_user.language_code == "en"

    assert len(await bot.get_updates()) == 1  # not confirmed yet
    assert await bot.get_updates(offset=update.update_id + 1) == ()
    # A redelivered update is still received once, although its id is below the offset.
    await emulator.deliver(sent)
    (again,) = await bot.get_updates(offset=update.update_id + 1)
    assert again.update_id == update.update_id
    assert await bot.get_updates(offset=update.update_id + 1) == ()

    started = time.monotonic()
    assert await bot.get_updates(timeout=0.2) == ()
    assert 0.15 < time.monotonic() - started < 1.5


async def test_send_message_errors(emulator: TelegramBotApiEmulator, bot: Bot) -> None:
    emulator.user(USER_ID)
    with pytest.raises(BadRequest, match=r"^Message text is empty$"):
        await bot.send_message(USER_ID, "")
    with pytest.raises(BadRequest, match=r"^Chat not found$"):
        await bot.send_message(999, "hello")
    with pytest.raises(BadRequest, match=r"^Button_data_invalid$"):  # PTB capitalizes
        await bot.send_message(USER_ID, "pick", reply_markup=keyboard(("é", "é" * 33)))
    assert await bot.send_message(USER_ID, "pick", reply_markup=keyboard(("é", "é" * 32)))
    with pytest.raises(BadRequest, match=r"^Button_data_invalid$"):
        await bot.send_message(USER_ID, "pick", reply_markup=keyboard(("empty", "")))


async def test_message_length_counts_utf16_code_units(
    emulator: TelegramBotApiEmulator, bot: Bot
) -> None:
    user = emulator.user(USER_ID)
    assert await bot.send_message(USER_ID, "x" * 4096)
    assert await bot.send_message(USER_ID, "🌍" * 2048)  # 4096 UTF-16 units
    with pytest.raises(BadRequest, match=r"^Message is too long$"):
        await bot.send_message(USER_ID, "x" * 4097)
    with pytest.raises(BadRequest, match=r"^Message is too long$"):
        await bot.send_message(USER_ID, "🌍" * 4096)  # 4096 characters, 8192 units
    assert user.messages[-1]["text"] == "🌍" * 2048


async def test_edit_errors(emulator: TelegramBotApiEmulator, bot: Bot) -> None:
    user = emulator.user(USER_ID)
    markup = keyboard(("Yes", "yes"))
    sent = await bot.send_message(USER_ID, "Agree?", reply_markup=markup)
    not_modified = (
        "Message is not modified: specified new message content and reply markup are exactly"
        " the same as a current content and reply markup of the message"
    )
    with pytest.raises(BadRequest) as raised:
        await bot.edit_message_text("Agree?", USER_ID, sent.message_id, reply_markup=markup)
    assert raised.value.message == not_modified
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_text("Agree?", USER_ID, 999)

    edited = await bot.edit_message_text("Agree?", USER_ID, sent.message_id)  # drops the keyboard
    assert isinstance(edited, type(sent)) and edited.reply_markup is None
    assert user.buttons() == []
    with pytest.raises(BadRequest) as raised:
        await bot.edit_message_reply_markup(USER_ID, sent.message_id)
    assert raised.value.message == not_modified
    await bot.edit_message_reply_markup(USER_ID, sent.message_id, reply_markup=markup)
    assert user.buttons() == ["Yes"] and len(user.messages) == 1

    assert await bot.delete_message(USER_ID, sent.message_id)
    assert user.messages == []
    with pytest.raises(BadRequest, match=r"^Message to delete not found$"):
        await bot.delete_message(USER_ID, sent.message_id)


async def test_malformed_token_is_unauthorized(emulator: TelegramBotApiEmulator) -> None:
    # PTB's initialize() rewords the 401 "Unauthorized"; the raw answer is checked below.
    with pytest.raises(InvalidToken, match="The token `123:short` was rejected by the server"):
        async with Bot("123:short", base_url=emulator.base_url):
            pass
    assert [call.token for call in emulator.calls("getMe")] == ["123:short"]


async def test_blocked_and_deactivated_users(emulator: TelegramBotApiEmulator, bot: Bot) -> None:
    emulator.user(USER_ID)
    emulator.user(USER_ID + 1)
    emulator.block(USER_ID)
    with pytest.raises(Forbidden, match=r"^Forbidden: bot was blocked by the user$"):
        await bot.send_message(USER_ID, "hello")
    emulator.unblock(USER_ID)
    assert await bot.send_message(USER_ID, "hello")
    emulator.deactivate(USER_ID + 1)
    with pytest.raises(Forbidden, match=r"^Forbidden: user is deactivated$"):
        await bot.send_chat_action(USER_ID + 1, "typing")


@pytest.mark.usefixtures("timedelta_periods")
async def test_per_chat_burst_then_flood_limit() -> None:
    async with (
        TelegramBotApiEmulator(global_rate=None, per_chat_rate=1.0, burst=3) as emulator,
        Bot(TOKEN, base_url=emulator.base_url) as bot,
    ):
        emulator.user(1)
        emulator.user(2)
        for number in range(3):
            await bot.send_message(1, f"burst {number}")
        with pytest.raises(RetryAfter) as raised:
            await bot.send_message(1, "one too many")
        assert raised.value.retry_after == dtm.timedelta(seconds=1)
        assert await bot.send_message(2, "another chat has its own budget")
        assert len(emulator.user(1).messages) == 3


@pytest.mark.usefixtures("timedelta_periods")
async def test_global_flood_limit_and_refill() -> None:
    async with (
        TelegramBotApiEmulator(global_rate=5.0, per_chat_rate=None) as emulator,
        Bot(TOKEN, base_url=emulator.base_url) as bot,
    ):
        for chat_id in range(1, 7):
            emulator.user(chat_id)
        for chat_id in range(1, 6):
            await bot.send_message(chat_id, "hello")
        with pytest.raises(RetryAfter) as raised:
            await bot.send_message(6, "hello")
        assert raised.value.retry_after == dtm.timedelta(seconds=1)

    async with (
        TelegramBotApiEmulator(global_rate=None, per_chat_rate=50.0, burst=1) as emulator,
        Bot(TOKEN, base_url=emulator.base_url) as bot,
    ):
        emulator.user(1)
        await bot.send_message(1, "first")
        with pytest.raises(RetryAfter):
            await bot.send_message(1, "too soon")
        await asyncio.sleep(0.05)  # one token refills in 0.02 s
        assert await bot.send_message(1, "after the wait")


@pytest.mark.usefixtures("timedelta_periods")
async def test_injected_failures(emulator: TelegramBotApiEmulator, bot: Bot) -> None:
    emulator.user(USER_ID)
    emulator.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(USER_ID, "hello")
    assert raised.value.retry_after == dtm.timedelta(seconds=7)

    emulator.fail_next("sendmessage", count=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match=r"^Internal Server Error$"):
            await bot.send_message(USER_ID, "hello")
    assert await bot.send_message(USER_ID, "hello")

    emulator.fail_next("getMe", 502, "Bad Gateway")
    with pytest.raises(NetworkError, match=r"^Bad Gateway$"):
        await bot.get_me()

    emulator.fail_rate = 1.0
    with pytest.raises(NetworkError, match=r"^Internal Server Error$"):
        await bot.send_message(USER_ID, "hello")
    emulator.fail_rate = 0.0
    assert len(emulator.user(USER_ID).messages) == 1


async def test_next_message_cursor_and_timeout(emulator: TelegramBotApiEmulator, bot: Bot) -> None:
    user = emulator.user(USER_ID)
    waiting = asyncio.create_task(user.next_message(timeout=2))
    await bot.send_message(USER_ID, "one")
    await bot.send_message(USER_ID, "two")
    assert (await waiting)["text"] == "one"
    assert (await user.next_message())["text"] == "two"
    with pytest.raises(TimeoutError, match=r"no new message within 0\.05 s.*'two'"):
        await user.next_message(timeout=0.05)
    assert user.last_message is not None and user.last_message["text"] == "two"


async def test_press_unknown_button_lists_the_available_ones(
    emulator: TelegramBotApiEmulator, bot: Bot
) -> None:
    user = emulator.user(USER_ID)
    sent = await bot.send_message(USER_ID, "Pick", reply_markup=keyboard(("A", "a"), ("B", "b")))
    with pytest.raises(LookupError, match=r"buttons available: \['A', 'B'\]"):
        await user.press("C")
    update = await user.press("b", message=user.messages[0])
    query = update["callback_query"]
    assert query["message"]["message_id"] == sent.message_id
    assert query["from"]["id"] == USER_ID and isinstance(query["id"], str)
    (received,) = await bot.get_updates()
    assert received.callback_query is not None and received.callback_query.data == "b"
    assert await received.callback_query.answer()
    with pytest.raises(BadRequest, match=r"^Query is too old"):
        await received.callback_query.answer()


async def test_share_contact(emulator: TelegramBotApiEmulator, bot: Bot) -> None:
    await emulator.user(USER_ID, first_name="Leyla").share_contact("+994501234567")
    (update,) = await bot.get_updates()
    assert update.message is not None and update.message.contact is not None
    assert update.message.contact.phone_number == "+994501234567"
    assert update.message.contact.user_id == USER_ID
    assert update.message.contact.first_name == "Leyla"


async def test_send_document_is_multipart(emulator: TelegramBotApiEmulator, bot: Bot) -> None:
    user = emulator.user(USER_ID)
    content = b"question,answer\nq1,yes\n"
    sent = await bot.send_document(
        USER_ID,
        document=content,
        filename="results.csv",
        reply_markup=keyboard(("Share", "share:results")),  # JSON inside multipart
        caption="<b>Results</b>",
        parse_mode="HTML",
    )
    assert sent.document is not None
    assert sent.document.file_name == "results.csv" and sent.document.file_size == len(content)
    assert sent.caption == "Results"
    uploaded = emulator.calls("sendDocument")[0].params["document"]
    assert isinstance(uploaded, UploadedFile)
    assert (uploaded.file_name, uploaded.size, uploaded.content) == (
        "results.csv",
        len(content),
        content,
    )
    assert user.last_message is not None and "document" in user.last_message
    assert user.buttons() == ["Share"]


async def test_send_poll(emulator: TelegramBotApiEmulator, bot: Bot) -> None:
    emulator.user(USER_ID)
    sent = await bot.send_poll(
        USER_ID,
        "Which goal matters most?",
        ["No poverty", "Zero hunger", "Quality education"],
        type="quiz",
        correct_option_ids=[1],
        is_anonymous=False,
    )
    assert sent.poll is not None
    assert sent.poll.type == "quiz" and sent.poll.correct_option_ids == (1,)
    assert not sent.poll.is_anonymous
    assert sent.poll.options[0].text == "No poverty"
    assert emulator.polls[sent.poll.id]["question"] == "Which goal matters most?"
    with pytest.raises(BadRequest, match=r"^Poll must have at least one answer option$"):
        await bot.send_poll(USER_ID, "Empty?", [])


async def test_commands_per_language_and_descriptions(bot: Bot) -> None:
    assert await bot.set_my_commands([("start", "Begin the survey")])
    assert await bot.set_my_commands([("start", "Sorğunu başla")], language_code="az")
    assert [c.description for c in await bot.get_my_commands()] == ["Begin the survey"]
    assert [c.description for c in await bot.get_my_commands(language_code="az")] == [
        "Sorğunu başla"
    ]
    assert await bot.delete_my_commands(language_code="az")
    assert await bot.get_my_commands(language_code="az") == ()
    with pytest.raises(BadRequest, match=r"^Bot_command_invalid$"):
        await bot.set_my_commands([("Start", "Capitals are not allowed")])

    assert await bot.set_my_description("Surveys about the SDGs")
    assert (await bot.get_my_description()).description == "Surveys about the SDGs"
    assert await bot.set_my_short_description("SDG surveys", language_code="en")
    assert await bot.set_chat_menu_button()
    assert await bot.close() and await bot.log_out()


async def test_html_parse_mode(emulator: TelegramBotApiEmulator, bot: Bot) -> None:
    emulator.user(USER_ID)
    sent = await bot.send_message(USER_ID, "🌍 <b>Goal&#160;13</b> &amp; &nbsp;", parse_mode="HTML")
    assert sent.text == "🌍 Goal\xa013 & &nbsp;"  # Telegram knows only 4 named entities
    (bold,) = sent.entities
    assert (bold.type, bold.offset, bold.length) == ("bold", 3, 7)  # the emoji is 2 units
    assert sent.parse_entity(bold) == "Goal\xa013"
    with pytest.raises(BadRequest) as raised:
        await bot.send_message(USER_ID, "a <div>b</div>", parse_mode="HTML")
    # Telegram says "Unsupported start tag"; PTB's capitalize() lowercases the rest.
    assert raised.value.message == (
        'Can\'t parse entities: unsupported start tag "div" at byte offset 2'
    )


async def test_raw_http_json_form_and_query(emulator: TelegramBotApiEmulator) -> None:
    emulator.user(USER_ID)
    base = f"{emulator.base_url}{TOKEN}"
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{base}/SENDMESSAGE",
            json={"chat_id": USER_ID, "text": "json", "reply_markup": json.dumps(markup)},
        ) as response:
            body = await response.json()
        assert body["ok"] and body["result"]["reply_markup"] == markup

        async with session.get(f"{base}/sendMessage", params={"chat_id": USER_ID, "text": "42"}):
            pass
        params = emulator.calls("sendMessage")[-1].params
        assert params == {"chat_id": USER_ID, "text": "42"}  # text stays a string

        async with session.post(f"{base}/sendMessage", data={"chat_id": "1", "text": "x"}) as r:
            assert r.status == 400
            assert await r.json() == {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: chat not found",
            }

        async with session.post(f"{base}/noSuchMethod") as response:
            assert response.status == 404
            assert (await response.json())["description"] == "Not Found: method not found"

        async with session.get(f"{emulator.base_url}nonsense/getMe") as response:
            assert response.status == 401
            assert await response.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
