"""Builds the python-telegram-bot Application around the conversation service."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.aiohttp_request import AiohttpRequest
from bot.conversation_port import Conversation
from bot.handlers.answers import answer_text, press_button, share_contact
from bot.handlers.commands import COMMANDS, run_command
from bot.handlers.errors import report_error
from bot.handlers.inbound import CONVERSATION_KEY
from bot.rate_limiter import PacedRateLimiter
from bot.update_processor import PerChatUpdateProcessor
from polls.i18n import N_, translator
from polls.pacing import Pacer

COMMAND_DESCRIPTIONS = {
    "start": N_("start or continue"),
    "surveys": N_("open surveys"),
    "quiz": N_("SDG quizzes and the question of the day"),
    "top": N_("leaderboards"),
    "me": N_("your score, streak and badges"),
    "team": N_("join your school's or club's team with its code"),
    "nickname": N_("your name on leaderboards"),
    "hide": N_("hide from leaderboards"),
    "show": N_("appear on leaderboards again"),
    "idea": N_("send an idea to a challenge"),
    "vote": N_("vote on young people's ideas"),
    "language": N_("change language"),
    "phone": N_("link your phone number, to answer by SMS too"),
    "mydata": N_("see what we hold about you"),
    "forget": N_("delete your data"),
    "help": N_("help"),
}
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]


def build_application(
    *,
    token: str,
    conversation: Conversation,
    base_url: str,
    polling: bool,
    pacer: Pacer,
    connection_pool_size: int = 100,
) -> Application:  # type: ignore[type-arg]
    """The bot: long polling when ``polling``, else fed by our webhook route."""
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .concurrent_updates(PerChatUpdateProcessor())
        .request(AiohttpRequest(connection_pool_size=connection_pool_size))
        .get_updates_request(AiohttpRequest(connection_pool_size=2, read_timeout=60.0))
        .rate_limiter(PacedRateLimiter(pacer))
    )
    if not polling:
        builder = builder.updater(None)
    application = builder.build()
    application.bot_data[CONVERSATION_KEY] = conversation
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler(list(COMMANDS), run_command, filters=private))
    application.add_handler(CallbackQueryHandler(press_button))
    application.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, answer_text))
    application.add_handler(MessageHandler(private & filters.CONTACT, share_contact))
    application.add_handler(MessageHandler(private & filters.COMMAND, run_command))
    application.add_error_handler(report_error)
    return application


async def publish_commands(application: Application, languages: Sequence[str]) -> None:  # type: ignore[type-arg]
    """The command menu in every language, so Telegram shows it in the person's own.

    Called at start (``post_init`` only runs under ``run_polling``/``run_webhook``).
    """
    for language in (None, *languages):
        _ = translator(language or "en")
        commands = [BotCommand(name, _(text)) for name, text in COMMAND_DESCRIPTIONS.items()]
        await application.bot.set_my_commands(commands, language_code=language)
