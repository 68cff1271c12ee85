"""Random credentials of the console: session ids, API tokens and CSRF tokens.

Session ids and API tokens carry 256 random bits and are stored as their
SHA-256 only: with that much entropy a plain hash cannot be reversed by
guessing, and looking one up stays a single indexed query.

CSRF: each session has its own random secret. A page puts ``csrf_token(secret)``
in every form (and the little JavaScript sends it as ``X-CSRF-Token``); the
server accepts a request only when ``check_csrf`` finds the token made from the
session's secret. Each token is the secret masked with fresh random bytes, so it
differs on every page (no secret for compression attacks such as BREACH to
guess letter by letter) while every one of them stays valid for the session.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from typing import Protocol

SECRET_BYTES = 32
"""256 bits for session ids, API tokens and CSRF secrets."""
API_TOKEN_PREFIX = "sdg_"
API_TOKEN_SHOWN = 8
"""How much of a token is kept for lists (``sdg_AbCd``): enough to tell them apart."""
MAX_PRESENTED_LENGTH = 200
"""A presented credential longer than this is not one of ours (and is not hashed)."""


def hash_secret(value: str) -> str:
    """The SHA-256 (hex) of a high-entropy credential, as stored."""
    return hashlib.sha256(value.encode()).hexdigest()


def new_session_id() -> str:
    """A session id for the cookie: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(SECRET_BYTES)


def new_api_token() -> str:
    """``sdg_`` and 256 random bits: shown once to the person who made it, then only hashed."""
    return API_TOKEN_PREFIX + secrets.token_urlsafe(SECRET_BYTES)


def is_api_token(value: str) -> bool:
    return value.startswith(API_TOKEN_PREFIX) and 0 < len(value) <= MAX_PRESENTED_LENGTH


def api_token_prefix(token: str) -> str:
    return token[:API_TOKEN_SHOWN]


def new_csrf_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def _decode(value: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None


def csrf_token(secret: str) -> str:
    """A token for one form of the session with ``secret``; a new one each call."""
    raw = _decode(secret)
    if raw is None:
        raise ValueError("not a CSRF secret")
    mask = secrets.token_bytes(len(raw))
    masked = bytes(a ^ b for a, b in zip(mask, raw, strict=True))
    return base64.urlsafe_b64encode(mask + masked).decode().rstrip("=")


def csrf_token_matches(secret: str, token: str | None) -> bool:
    """Whether ``token`` was made by ``csrf_token(secret)``, compared in constant time."""
    if not token or len(token) > MAX_PRESENTED_LENGTH:
        return False
    raw = _decode(secret)
    presented = _decode(token)
    if raw is None or presented is None or len(presented) != 2 * len(raw):
        return False
    mask, masked = presented[: len(raw)], presented[len(raw) :]
    unmasked = bytes(a ^ b for a, b in zip(mask, masked, strict=True))
    return secrets.compare_digest(unmasked, raw)


class HasCsrfSecret(Protocol):
    @property
    def csrf_secret(self) -> str: ...


def check_csrf(session: HasCsrfSecret | None, token: str | None) -> bool:
    """Whether a form's token belongs to this signed-in session: call it for every POST.

    No session (signed out, or signed in with an API token, which needs no CSRF
    token because browsers never send it by themselves) is never a match.
    """
    if session is None:
        return False
    return csrf_token_matches(session.csrf_secret, token)
