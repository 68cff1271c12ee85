"""Settings, read once from the environment and a ``.env`` file.

Every setting is an environment variable of the same name in capitals (the
README's configuration table lists them). Secrets are checked before anything
starts: a weak or missing secret in webhook mode stops the service with a
message that names the variable and how to make a good value.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from polls.errors import OutreachError
from polls.onboarding import DEFAULT_REGIONS

DEFAULT_TELEGRAM_API = "https://api.telegram.org/bot"
MAKE_SECRET = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'
WEAK_WORDS = ("changeme", "change-me", "secret", "password", "example", "test", "default")


class SettingsError(OutreachError):
    """The configuration cannot work; the message says what to set."""


def _comma_list(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _entropy_bits(value: str) -> float:
    """Shannon entropy of the string as a whole, a rough guard against weak secrets."""
    counts = Counter(value)
    per_char = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return per_char * len(value)


def secret_problem(name: str, value: str | None) -> str | None:
    """Why ``value`` is not good enough as ``name``, or None if it is."""
    how = f"set {name} to a random value of 32 characters or more, e.g. from: {MAKE_SECRET}"
    if not value:
        return f"{name} is not set: {how}"
    if len(value) < 32:
        return f"{name} is too short ({len(value)} characters): {how}"
    if any(word in value.casefold() for word in WEAK_WORDS) or _entropy_bits(value) < 100:
        return f"{name} looks guessable: {how}"
    return None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    database_url: str = "sqlite+aiosqlite:///./outreach.db"
    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = DEFAULT_TELEGRAM_API
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    surveys_dir: Path = Path("surveys")
    quizzes_dir: Path = Path("quizzes")
    """Quiz files (YAML), loaded at start like the surveys."""
    languages: Annotated[list[str], NoDecode] = ["az", "ru", "en"]
    default_language: str = "az"
    regions: Annotated[list[str], NoDecode] = list(DEFAULT_REGIONS)
    pseudonym_secret: SecretStr | None = None
    log_level: str = "INFO"
    public_base_url: str | None = None
    """The address the world reaches us at (https://example.org), behind any proxy."""
    default_phone_region: str = "AZ"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_base_url: str | None = None
    telegram_rate: float = Field(default=30.0, gt=0, le=1000)
    """Messages per second to different chats (Telegram allows ~30; up to 1,000 paid)."""
    telegram_chat_rate: float = Field(default=1.0, gt=0, le=30)
    sms_rate: float = Field(default=10.0, gt=0, le=1000)
    """SMS per second from our sender (ask Twilio what your number or service allows)."""
    sms_segment_price: float = Field(default=0.05, ge=0)
    """Estimated price of one SMS segment, for campaign previews (in SMS_PRICE_CURRENCY)."""
    sms_price_currency: str = "USD"
    timezone: str = "Asia/Baku"
    """The default time zone of recipients (sending windows), and of cron schedules."""
    region_timezones: Annotated[dict[str, str], NoDecode] = {}
    """Time zones of regions whose zone differs: REGION_TIMEZONES=region-a=Asia/Almaty,..."""
    sms_transliterate: bool = False
    """Write every SMS in GSM-7 letters where possible (about half the cost for az and ru)."""
    sms_confirm_standard_opt_out: bool = False
    exports_dir: Path = Path("exports")
    """Where exports started from the staff console are written (and downloaded from)."""
    themes_file: Path = Path("analysis/sdg_themes.yaml")
    """The theme dictionary the console counts free text by (when it exists)."""
    sms_join_words: Annotated[list[str], NoDecode] = []
    sms_stop_words: Annotated[list[str], NoDecode] = []
    sms_help_words: Annotated[list[str], NoDecode] = []

    _split_lists = field_validator(
        "languages", "regions", "sms_join_words", "sms_stop_words", "sms_help_words", mode="before"
    )(_comma_list)

    @field_validator("region_timezones", mode="before")
    @classmethod
    def _zones(cls, value: object) -> object:
        if isinstance(value, str):
            pairs = [p.split("=", 1) for p in value.split(",") if p.strip()]
            if any(len(p) != 2 for p in pairs):
                raise ValueError("write REGION_TIMEZONES as region=Zone/Name,region=Zone/Name")
            return {k.strip(): v.strip() for k, v in pairs}
        return value

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("name at least one language, e.g. LANGUAGES=az,ru,en")
        return [v.lower() for v in value]

    @field_validator("telegram_webhook_url")
    @classmethod
    def _https_webhook(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError("Telegram only calls https:// webhooks: use an https URL")
        return value or None

    @property
    def webhook_mode(self) -> bool:
        return self.telegram_webhook_url is not None

    @property
    def sms_enabled(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token)

    def token(self) -> str | None:
        return self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else None

    def problems(self) -> list[str]:
        """Everything that stops the service from starting, as actionable sentences."""
        found: list[str] = []
        if self.default_language not in self.languages:
            found.append(
                f"DEFAULT_LANGUAGE={self.default_language} is not in LANGUAGES="
                f"{','.join(self.languages)}: add it to LANGUAGES or pick one of them"
            )
        if not self.regions:
            found.append("REGIONS is empty: list regions separated by commas")
        if bool(self.twilio_account_sid) != bool(self.twilio_auth_token):
            found.append("set both TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, or neither")
        if self.sms_enabled:
            if not (self.twilio_from_number or self.twilio_messaging_service_sid):
                found.append(
                    "SMS needs a sender: set TWILIO_FROM_NUMBER (+994...) or "
                    "TWILIO_MESSAGING_SERVICE_SID (MG...)"
                )
            if not self.public_base_url:
                found.append(
                    "SMS needs PUBLIC_BASE_URL, the https address Twilio calls "
                    "(e.g. https://example.org): signatures are checked against it"
                )
        if self.webhook_mode:
            if not self.telegram_bot_token:
                found.append("TELEGRAM_WEBHOOK_URL is set but TELEGRAM_BOT_TOKEN is not")
            secret = self.telegram_webhook_secret
            problem = secret_problem(
                "TELEGRAM_WEBHOOK_SECRET", secret.get_secret_value() if secret else None
            )
            if problem:
                found.append(problem)
            elif secret and not all(
                c.isascii() and (c.isalnum() or c in "_-") for c in secret.get_secret_value()
            ):
                found.append(
                    "TELEGRAM_WEBHOOK_SECRET may only hold A-Z, a-z, 0-9, _ and -: "
                    f"make one with {MAKE_SECRET}"
                )
            pseudonym = self.pseudonym_secret
            problem = secret_problem(
                "PSEUDONYM_SECRET", pseudonym.get_secret_value() if pseudonym else None
            )
            if problem:
                found.append(problem)
        return found

    def check(self) -> None:
        """Raise SettingsError listing every problem, if there are any."""
        found = self.problems()
        if found:
            raise SettingsError("Cannot start:\n" + "\n".join(f"  - {p}" for p in found))
