"""The sandbox: the whole service, real libraries included, without any credential.

With no Telegram token and no Twilio account, ``outreach serve`` starts the two
emulators in its own process and points the service at them over HTTP on
127.0.0.1: python-telegram-bot talks to the Bot API emulator (which posts
updates to our real webhook route), the twilio client talks to the Twilio
emulator (which posts signed SMS and delivery statuses to our real routes).
Sandbox data goes to its own database file, never mixed with a real one.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Self

from pydantic import SecretStr

from outreach.emulators.telegram_bot_api import TelegramBotApiEmulator
from outreach.emulators.twilio_sms import TwilioSmsEmulator
from outreach.settings import Settings

SANDBOX_TOKEN = "1234567890:SANDBOX_sandbox_sandbox_sandbox_0"
SANDBOX_NUMBER = "+15005550006"
SANDBOX_DATABASE_URL = "sqlite+aiosqlite:///./sandbox.db"
EXAMPLE_SURVEYS = Path(__file__).resolve().parent.parent.parent / "surveys"


def wants_sandbox(settings: Settings) -> bool:
    """No credentials at all: run against the emulators."""
    return not settings.token() and not settings.sms_enabled


class Sandbox:
    """The Telegram and Twilio emulators the service talks to in the sandbox."""

    def __init__(self) -> None:
        self.telegram = TelegramBotApiEmulator(bot_username="sdg_outreach_sandbox_bot")
        self.twilio = TwilioSmsEmulator(numbers=(SANDBOX_NUMBER,))

    async def start(self) -> None:
        await self.telegram.start()
        await self.twilio.start()

    async def stop(self) -> None:
        await self.twilio.stop()
        await self.telegram.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def settings_for(self, settings: Settings, public_url: str) -> Settings:
        """``settings`` with the emulators as Telegram and Twilio, served at ``public_url``."""
        public_url = public_url.rstrip("/")
        self.twilio.inbound_webhook_url = f"{public_url}/twilio/sms"
        values = settings.model_dump()
        values.update(
            telegram_bot_token=SecretStr(SANDBOX_TOKEN),
            telegram_api_base_url=self.telegram.base_url,
            telegram_webhook_url=f"{public_url}/telegram/webhook",
            telegram_webhook_secret=SecretStr(secrets.token_urlsafe(32)),
            twilio_account_sid=self.twilio.account_sid,
            twilio_auth_token=SecretStr(self.twilio.auth_token),
            twilio_from_number=SANDBOX_NUMBER,
            twilio_messaging_service_sid=None,
            twilio_api_base_url=self.twilio.base_url,
            public_base_url=public_url,
        )
        if "database_url" not in settings.model_fields_set:
            values["database_url"] = SANDBOX_DATABASE_URL
        if "surveys_dir" not in settings.model_fields_set and not settings.surveys_dir.is_dir():
            values["surveys_dir"] = EXAMPLE_SURVEYS
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]
