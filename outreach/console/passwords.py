"""Staff passwords: Argon2id hashes (argon2-cffi) and the rules a new password must meet.

Passwords are normalized (Unicode NFKC) before hashing and checking, so the same
password typed on another keyboard layout or phone still matches. Hashes are
PHC strings holding their own parameters: when the defaults change, a hash made
with the old ones is replaced at the next successful sign-in (``needs_rehash``).
"""

from __future__ import annotations

import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from polls.errors import OutreachError

MIN_LENGTH = 12
MAX_LENGTH = 1024
"""Longer passwords are refused: hashing cost grows with length."""
MIN_DISTINCT_CHARACTERS = 5

COMMON_PASSWORDS = frozenset(
    {
        "000000000000",
        "111111111111",
        "123123123123",
        "123456789012",
        "1234567890123",
        "12345678901234",
        "123456789abc",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "aa123456789012",
        "abc123456789",
        "abcdefghijkl",
        "admin1234567",
        "administrator",
        "azerbaijan123",
        "azerbaycan123",
        "baku12345678",
        "changeme1234",
        "football1234",
        "iloveyou1234",
        "letmein12345",
        "passw0rd1234",
        "password1234",
        "password12345",
        "password123!",
        "password123456",
        "qazwsxedcrfv",
        "qwerty123456",
        "qwertyuiop12",
        "qwertyuiop123",
        "qwertyuiopasdf",
        "sdgoutreach1",
        "sdg-outreach",
        "sustainable1",
        "unitednations",
        "welcome12345",
        "zaq12wsxcde3",
        "йцукенгшщзхъ",
    }
)
"""Passwords of 12 characters or more found near the top of leaked-password lists,
and the obvious ones here. Compared case-insensitively."""


class WeakPasswordError(OutreachError):
    """A password that breaks the rules; the message lists every rule it breaks."""


def normalize_password(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def password_problems(password: str, *, username: str | None = None) -> list[str]:
    """Every rule ``password`` breaks, as sentences; empty when it is good enough."""
    password = normalize_password(password)
    folded = password.casefold()
    found: list[str] = []
    if len(password) < MIN_LENGTH:
        found.append(f"use at least {MIN_LENGTH} characters (this one has {len(password)})")
    if len(password) > MAX_LENGTH:
        found.append(f"use at most {MAX_LENGTH} characters")
    if folded in COMMON_PASSWORDS:
        found.append("this password is on lists of common passwords: choose another")
    elif len(set(folded)) < MIN_DISTINCT_CHARACTERS:
        found.append(f"use at least {MIN_DISTINCT_CHARACTERS} different characters")
    if username:
        name = username.strip().casefold()
        local = name.split("@", 1)[0]
        if folded in (name, local) or (len(local) >= 4 and local in folded):
            found.append("do not use the username in the password")
    return found


def check_password_rules(password: str, *, username: str | None = None) -> None:
    """Raise WeakPasswordError naming every rule ``password`` breaks."""
    found = password_problems(password, username=username)
    if found:
        raise WeakPasswordError("Choose another password: " + "; ".join(found) + ".")


class PasswordHashing:
    """Argon2id hashing with argon2-cffi's current defaults (RFC 9106, low memory)."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None

    def hash(self, password: str) -> str:
        return self.hasher.hash(normalize_password(password))

    def verify(self, stored_hash: str, password: str) -> bool:
        """Whether ``password`` matches; a damaged hash is a mismatch, not a crash."""
        try:
            return self.hasher.verify(stored_hash, normalize_password(password))
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """Whether the hash was made with other parameters than ours (rehash on sign-in)."""
        try:
            return self.hasher.check_needs_rehash(stored_hash)
        except (InvalidHashError, ValueError):
            return True

    def verify_nothing(self, password: str) -> None:
        """Spend the time of a verification for an account that does not exist."""
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash("not a password of anyone's")
        self.verify(self._dummy_hash, password)
