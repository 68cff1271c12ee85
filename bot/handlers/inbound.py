"""From a Telegram update to the neutral inbound message, and the replies back."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.conversation_port import Conversation
from bot.rendering import send_replies
from polls.messages import Channel, Inbound, InboundKind

logger = logging.getLogger(__name__)

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
    """Hand the message to the service and send what it answers.

    A failure before the answer is committed propagates (the webhook answers 500
    and Telegram delivers the update again). A reply that cannot be sent after
    the commit is only logged: a redelivery would be recognised as handled.
    """
    reply = await conversation_of(context).handle(inbound)
    chat = update.effective_chat
    if chat is None or reply.duplicate:
        return
    pressed = update.callback_query.message if update.callback_query else None
    try:
        await send_replies(context.bot, chat.id, reply.messages, pressed if pressed else None)
    except TelegramError as error:
        logger.warning("a reply could not be sent: %s", type(error).__name__)
