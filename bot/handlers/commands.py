"""Slash commands: /start (with an optional deep-link survey id) and the rest."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.handlers.inbound import converse, inbound_from
from polls.messages import InboundKind

COMMANDS = (
    "start",
    "surveys",
    "quiz",
    "top",
    "me",
    "team",
    "nickname",
    "hide",
    "show",
    "idea",
    "vote",
    "language",
    "phone",
    "mydata",
    "forget",
    "help",
)


async def run_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Pass a command and its argument (``/start youth_priorities``) to the service."""
    message = update.effective_message
    if message is None or not message.text:
        return
    command = message.text.split()[0].lstrip("/").split("@")[0].lower()
    argument = " ".join(context.args or [])
    await converse(update, context, inbound_from(update, InboundKind.COMMAND, command, argument))
