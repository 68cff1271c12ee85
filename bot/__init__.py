"""The Telegram adapter: python-telegram-bot in, neutral messages to the service, replies out.

It receives the conversation service by injection and never imports outreach/ or storage/.
"""

import os

# Opt in to python-telegram-bot's coming behaviour: RetryAfter.retry_after as a timedelta.
os.environ.setdefault("PTB_TIMEDELTA", "1")
