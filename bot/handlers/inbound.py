"""From a Telegram update to the neutral inbound message, and the replies back."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.conversation_port import Conversation
from bot.rendering import send_replies
from polls.messages import Channel, Inbound, InboundKind

CONVERSATION_KEY = "conversation"


def conversation_of(context: ContextTypes.DEFAULT_TYPE) -> Conversation:
    conversation: Conversation = context.application.bot_data[CONVERSATION_KEY]
    return conversation


def inbound_from(update: Update, kind: InboundKind, text: str, argument: str = "") -> Inbound:
    user = update.effective_user
    assert user is not None
    return Inbound(
        channel=Channel.TELEGRAM,
        address=str(user.id),
        kind=kind,
        text=text,
        argument=argument,
        dedup_key=str(update.update_id),
        language_hint=user.language_code,
    )


async def converse(update: Update, context: ContextTypes.DEFAULT_TYPE, inbound: Inbound) -> None:
    """Hand the message to the service and send what it answers."""
    reply = await conversation_of(context).handle(inbound)
    chat = update.effective_chat
    if chat is None or reply.duplicate:
        return
    pressed = update.callback_query.message if update.callback_query else None
    await send_replies(context.bot, chat.id, reply.messages, pressed if pressed else None)
