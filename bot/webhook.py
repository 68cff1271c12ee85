"""The Telegram webhook as a route on our aiohttp server.

Telegram resends any update not answered with 2xx, so the route answers only
after the update's effects are committed: 200 when handled (or a recognised
redelivery), 500 when handling failed so Telegram tries again, 403 when the
secret header does not match, 400 for a body that is not an update.

A button press is acknowledged (``answerCallbackQuery``) inside the 200 answer
itself, as the Bot API allows for one method per webhook answer: one request
less to Telegram for every press, and that call has no result we need.
"""

from __future__ import annotations

import json
import logging
import secrets

from aiohttp import web
from aiohttp.typedefs import Handler
from telegram import Update
from telegram.ext import Application

from bot.handlers.answers import ANSWER_IN_WEBHOOK_RESPONSE
from bot.handlers.errors import FAILED_UPDATES_KEY

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def telegram_webhook_route(application: Application, secret: str) -> Handler:  # type: ignore[type-arg]
    expected = secret.encode()

    async def receive_update(request: web.Request) -> web.Response:
        """Check the secret in constant time, then process the update before answering."""
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not secrets.compare_digest(given, expected):
            logger.warning("webhook call with a wrong or missing secret token")
            return web.Response(status=403, text="forbidden")
        try:
            data = await request.json(loads=json.loads)
            update = Update.de_json(data, application.bot)
        except (ValueError, KeyError, TypeError, AttributeError):
            return web.Response(status=400, text="not a Telegram update")
        if update is None:
            return web.Response(status=400, text="not a Telegram update")
        query = update.callback_query
        token = ANSWER_IN_WEBHOOK_RESPONSE.set(query is not None)
        try:
            await application.update_processor.process_update(
                update, application.process_update(update)
            )
        finally:
            ANSWER_IN_WEBHOOK_RESPONSE.reset(token)
        failed: set[int] = application.bot_data.get(FAILED_UPDATES_KEY, set())
        if update.update_id in failed:
            failed.discard(update.update_id)
            return web.Response(status=500, text="try again")
        if query is not None:
            return web.json_response(
                {"method": "answerCallbackQuery", "callback_query_id": query.id}
            )
        return web.Response(text="ok")

    return receive_update
