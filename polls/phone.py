"""Phone numbers as E.164, the one form we store and compare."""

from __future__ import annotations

import phonenumbers

from polls.errors import OutreachError


class InvalidPhoneNumber(OutreachError):
    """A number that cannot be a real phone number; the message says why."""


def normalize_phone(raw: str, default_region: str = "AZ") -> str:
    """``050 123 45 67`` (in Azerbaijan) or ``+994501234567`` as ``+994501234567``."""
    text = raw.strip()
    if not text:
        raise InvalidPhoneNumber("no phone number given: write it with the country code, +994...")
    try:
        parsed = phonenumbers.parse(text, default_region.upper())
    except phonenumbers.NumberParseException as error:
        raise InvalidPhoneNumber(
            f"{text!r} is not a phone number ({error}): write it with the country code, +994..."
        ) from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber(
            f"{text!r} is not a valid phone number: check the digits and the country code"
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
