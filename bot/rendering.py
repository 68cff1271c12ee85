"""Neutral replies drawn as Telegram messages and inline keyboards."""

from __future__ import annotations

import logging

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.error import BadRequest, Forbidden

from polls.messages import Outbound

logger = logging.getLogger(__name__)

CALLBACK_DATA_LIMIT = 64


def keyboard(
    message: Outbound,
) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None:
    if message.contact_button:
        button = KeyboardButton(message.contact_button, request_contact=True)
        return ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)
    if message.remove_keyboard:
        return ReplyKeyboardRemove()
    if not message.buttons:
        return None
    rows = []
    for row in message.buttons:
        for button in row:
            if not 1 <= len(button.payload.encode()) <= CALLBACK_DATA_LIMIT:
                raise ValueError(f"button payload of {len(button.payload.encode())} bytes")
        rows.append([InlineKeyboardButton(b.label, callback_data=b.payload) for b in row])
    return InlineKeyboardMarkup(rows)


async def send_replies(
    bot: Bot, chat_id: int, messages: list[Outbound], pressed: Message | None = None
) -> None:
    """Send replies in order; a reply that redraws a pressed message edits it."""
    for message in messages:
        markup = keyboard(message)
        try:
            if message.updates_pressed:
                if pressed is None or not isinstance(markup, InlineKeyboardMarkup | None):
                    continue
                await bot.edit_message_text(
                    message.text,
                    chat_id=chat_id,
                    message_id=pressed.message_id,
                    reply_markup=markup,
                )
            else:
                await bot.send_message(chat_id, message.text, reply_markup=markup)
            if message.document is not None:
                name, content = message.document
                await bot.send_document(chat_id, InputFile(content, filename=name))
        except BadRequest as error:
            if "not modified" in str(error).lower():
                continue
            raise
        except Forbidden:
            logger.info("a person blocked the bot; replies dropped")
            return
