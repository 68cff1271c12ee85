"""Nicknames on leaderboards: chosen by the player, checked so they neither hurt nor expose.

A nickname may not look like a phone number, a Telegram handle, an e-mail or a
link (players must not be findable), nor contain words from a small list of
insults in Azerbaijani, Russian and English (compared folded, so spelling
tricks with case, accents, ı/i or ə/e do not slip through).
"""

from __future__ import annotations

import re
import unicodedata

from polls.answer_parsing import fold
from polls.errors import OutreachError

MIN_LENGTH, MAX_LENGTH = 3, 20

# Kept short and general on purpose: staff mute or ban for the rest (code of conduct).
_BLOCKED = (
    "fuck",
    "shit",
    "bitch",
    "idiot",
    "stupid",
    "nazi",
    "whore",
    "slut",
    "admin",
    "moderator",
    "сука",
    "бля",
    "хуй",
    "пизд",
    "еба",
    "ебл",
    "мудак",
    "дурак",
    "идиот",
    "шлюх",
    "админ",
    "sik",
    "got",
    "qehbe",
    "qancig",
    "eclaf",
    "axmaq",
    "gic",
    "dumbul",
)
_DIGITS = re.compile(r"\d")
_HANDLE = re.compile(r"(^|\s)@|https?:|www\.|\.(com|az|ru|org|net)\b|@\w+\.", re.IGNORECASE)


class NicknameRefused(OutreachError):
    """Why a nickname cannot be used; ``reason`` selects the words the player reads."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def clean_nickname(raw: str) -> str:
    """The nickname as shown, or NicknameRefused (reason: length, characters, contact, words)."""
    nickname = " ".join(unicodedata.normalize("NFC", raw).split())
    if not MIN_LENGTH <= len(nickname) <= MAX_LENGTH:
        raise NicknameRefused("length")
    if len(_DIGITS.findall(nickname)) >= 5 or _HANDLE.search(nickname):
        raise NicknameRefused("contact")
    if not all(ch.isalnum() or ch in " _-." for ch in nickname):
        raise NicknameRefused("characters")
    folded = fold(nickname).replace(" ", "").replace("_", "").replace("-", "").replace(".", "")
    folded = folded.translate(str.maketrans("013457", "oieast"))
    if any(word in folded for word in _BLOCKED):
        raise NicknameRefused("words")
    return nickname


def nickname_key(nickname: str) -> str:
    """Two nicknames with the same key look alike to a reader: only one may exist."""
    return "".join(ch for ch in fold(nickname) if ch not in " _-.")[:MAX_LENGTH]
