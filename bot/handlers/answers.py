"""Typed answers and button presses."""

from __future__ import annotations

from contextvars import ContextVar

from telegram import Update
from telegram.ext import ContextTypes

from bot.handlers.inbound import converse, inbound_from
from polls.messages import InboundKind

ANSWER_IN_WEBHOOK_RESPONSE: ContextVar[bool] = ContextVar(
    "answer_in_webhook_response", default=False
)
"""Set by the webhook route, which acknowledges the press in its HTTP answer."""


async def answer_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A typed answer (or any text outside a survey)."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    await converse(update, context, inbound_from(update, InboundKind.TEXT, message.text))


async def press_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An inline button: acknowledge the press (stops the spinner), then answer."""
    query = update.callback_query
    if query is None:
        return
    if not ANSWER_IN_WEBHOOK_RESPONSE.get():
        await query.answer()
    await converse(update, context, inbound_from(update, InboundKind.BUTTON, query.data or ""))
