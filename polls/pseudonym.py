"""Pseudonymous participant ids: stable within a deployment, useless outside it."""

from __future__ import annotations

import hashlib
import hmac


def pseudonymous_id(secret: str, respondent_id: int) -> str:
    """A keyed HMAC of the internal id; without the secret it leads nowhere."""
    digest = hmac.new(secret.encode(), f"respondent:{respondent_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:16]
