"""Secrets a deployment makes for itself, kept in its own database."""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from storage.models import InstanceSecret


class InstanceSecretRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_or_create(self, *, name: str) -> str:
        """The stored secret ``name``, made (and stored) on first use."""
        row = self.session.get(InstanceSecret, name)
        if row is None:
            row = InstanceSecret(name=name, value=secrets.token_urlsafe(32))
            self.session.add(row)
            self.session.flush()
        return row.value
