"""Typed answers and button presses."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.handlers.inbound import converse, inbound_from
from polls.messages import InboundKind


async def answer_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A typed answer (or any text outside a survey)."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    await converse(update, context, inbound_from(update, InboundKind.TEXT, message.text))


async def press_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An inline button: stop the client's spinner first, then answer."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    await converse(update, context, inbound_from(update, InboundKind.BUTTON, query.data or ""))
