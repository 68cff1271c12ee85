"""The one error handler: log without personal data, remember the failed update."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

logger = logging.getLogger(__name__)

FAILED_UPDATES_KEY = "failed_update_ids"


async def report_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure; a webhook then answers 500 so Telegram delivers the update again."""
    update_id = update.update_id if isinstance(update, Update) else None
    logger.error(
        "handling update %s failed: %s",
        update_id,
        type(context.error).__name__,
        exc_info=context.error,
    )
    if update_id is not None:
        context.application.bot_data.setdefault(FAILED_UPDATES_KEY, set()).add(update_id)
