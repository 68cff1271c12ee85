"""Campaign messages on Telegram: one send, its outcome as our SendError.

The dispatcher (outreach) decides what to do with each outcome; here a Bot API
answer becomes one of: sent (the message id), retryable (429 after the
limiter's own retries, 5xx, no connection), permanent (the person blocked the
bot or deleted their account: unreachable), or unknown (the request left and
no answer came: Telegram has no idempotency key, so it is never resent).
"""

from __future__ import annotations

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.aiohttp_request import OutcomeUnknown, RequestNotSent
from bot.rendering import keyboard
from polls.errors import SendError
from polls.messages import Outbound


async def send_campaign_message(bot: Bot, chat_id: int, message: Outbound) -> str:
    """Send ``message``, already paced by the caller; returns the Telegram message id."""
    try:
        sent = await bot.send_message(
            chat_id,
            message.text,
            reply_markup=keyboard(message),
            rate_limit_args={"bulk": True, "paced": True},
        )
    except Forbidden as error:
        raise SendError(str(error), retryable=False, reason="unreachable", code=403) from error
    except BadRequest as error:
        reason = "unreachable" if "chat not found" in str(error).lower() else "rejected"
        raise SendError(str(error), retryable=False, reason=reason, code=400) from error
    except RetryAfter as error:
        raise SendError(str(error), retryable=True, reason="rate_limited", code=429) from error
    except RequestNotSent as error:
        raise SendError(str(error), retryable=True, reason="provider") from error
    except OutcomeUnknown as error:
        raise SendError(str(error), retryable=False, reason="unknown") from error
    except NetworkError as error:  # Telegram answered 5xx: the message was not taken
        raise SendError(str(error), retryable=True, reason="provider") from error
    except TelegramError as error:
        raise SendError(str(error), retryable=False, reason="rejected") from error
    return str(sent.message_id)
