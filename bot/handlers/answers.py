"""Typed answers and button presses."""

from __future__ import annotations

from contextvars import ContextVar

from telegram import Update
from telegram.ext import ContextTypes

from bot.handlers.inbound import converse, inbound_from
from polls.i18n import N_, translator
from polls.messages import InboundKind

SHARE_OWN_NUMBER = N_("Please use the button to share your own number.")

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


async def share_contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A shared phone number: only the person's own counts, never someone else's card."""
    message = update.effective_message
    user = update.effective_user
    if message is None or message.contact is None or user is None:
        return
    if message.contact.user_id != user.id:
        await message.reply_text(translator(user.language_code or "en")(SHARE_OWN_NUMBER))
        return
    inbound = inbound_from(update, InboundKind.CONTACT, message.contact.phone_number)
    await converse(update, context, inbound)


async def press_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An inline button: acknowledge the press (stops the spinner), then answer."""
    query = update.callback_query
    if query is None:
        return
    if not ANSWER_IN_WEBHOOK_RESPONSE.get():
        await query.answer()
    await converse(update, context, inbound_from(update, InboundKind.BUTTON, query.data or ""))
