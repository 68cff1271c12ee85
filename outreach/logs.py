"""Logging set up once, with tokens and phone numbers redacted from every line."""

from __future__ import annotations

import logging
import re

_REDACTIONS = (
    (re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}"), "<bot-token>"),
    (re.compile(r"\+?\d[\d ()-]{7,}\d"), "<number>"),
    (re.compile(r"(?i)(secret|token|password|auth)=([^&\s]+)"), r"\1=<redacted>"),
)


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's final message; arguments are merged in first."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs every request URL, which holds the bot token: warnings only.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # twilio logs every request with its numbers and text at INFO.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
