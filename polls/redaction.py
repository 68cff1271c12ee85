"""Masking contact details in free text before it leaves the database.

People are asked not to write names or contact details, and some do anyway: a
phone number to be called back, an @handle, an e-mail address, a link to a
profile. ``mask_personal`` replaces each with a placeholder ("[number]",
"[handle]", "[email]", "[link]") and keeps every other word as written.

It errs on the side of masking: any run of 5 or more digits (spaces, dashes,
dots or brackets between them allowed, as people write phone numbers) is a
number, so a date such as 12.05.2024 is masked too. No word boundaries are
assumed around digits and handles: Azerbaijani and Russian glue suffixes and
words to them ("0501234567-yə", "тел89001234567"), and ``\\b`` sees no edge
between a Cyrillic letter and a digit. Masking is pure and idempotent.
"""

from __future__ import annotations

import re

NUMBER = "[number]"
HANDLE = "[handle]"
EMAIL = "[email]"
LINK = "[link]"

# Top-level domains a bare link ("t.me/x", "gov.az") must end in to count as one;
# a full URL (https://...) or www. counts whatever its domain.
_TLDS = (
    "com|org|net|info|biz|edu|gov|int|mil|app|dev|io|co|me|ly|gl|tv|cc|ws|site|online|"
    "az|ru|kz|uz|kg|tj|tm|ua|by|ge|am|tr|ir|su|eu|uk|de|fr|us|рф|бел|қаз|укр"
)
# What may not end a link: sentence punctuation and closing quotes and brackets.
_LINK_END = r"[^\s<>\"'.,;:!?()\[\]{}«»“”‘’…]"
_LINK_TAIL = rf"(?:[^\s<>\"]*{_LINK_END})?"

_SCHEME_LINK = re.compile(
    rf"(?:(?:https?|ftp|tg)://|www\.)[^\s<>\"]*{_LINK_END}|(?:https?|ftp|tg)://",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_BARE_LINK = re.compile(
    rf"(?<![\w@.\-])(?:[^\W_](?:[\w\-]*[^\W_])?\.)+(?:{_TLDS})(?!\w)(?:/{_LINK_TAIL})?",
    re.IGNORECASE,
)
_HANDLE = re.compile(r"@\w(?:[\w.]*\w)?")
# 5 or more digits, with at most two separators between any two of them.
_NUMBER = re.compile(r"[+(]?\d(?:[ \u00a0\-.()]{0,2}\d){4,}")

_RULES = (
    (_SCHEME_LINK, LINK),
    (_EMAIL, EMAIL),
    (_BARE_LINK, LINK),
    (_HANDLE, HANDLE),
    (_NUMBER, NUMBER),
)


def mask_personal(text: str) -> str:
    """``text`` with phone-like numbers, @handles, e-mail addresses and links masked."""
    for pattern, placeholder in _RULES:
        text = pattern.sub(placeholder, text)
    return text
