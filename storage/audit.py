"""The audit log of staff actions: who did what to what, and when.

Everything that changes or exports data records itself here, in the same unit
of work as the change, so an action and its entry commit or roll back together::

    def schedule(session: Session) -> None:
        ...
        AuditLog(session).record(
            actor=staff, action="campaign.schedule", target=("campaign", campaign_id)
        )

An actor is anything with ``account_id`` and ``username`` (the console's signed-in
staff, or ``Actor.command_line()`` for the ``outreach`` command). The username is
copied into the entry, so it still reads right after the account changes.

``details`` is for counts, choices and settings (``{"format": "csv", "rows": 812}``),
never personal data of respondents: ``record`` refuses keys that name such data
(phone, text, address...) and values that look like an e-mail address or a phone
number, so a mistake fails in tests instead of leaking into a log kept for years.
"""

from __future__ import annotations

import getpass
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from polls.errors import OutreachError
from storage.models import AuditEntry

ACTION_PATTERN = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+")
MAX_DETAILS_CHARS = 4000
FORBIDDEN_DETAIL_KEYS = frozenset(
    {
        "address",
        "answer",
        "body",
        "chat_id",
        "email",
        "message",
        "msisdn",
        "password",
        "phone",
        "phone_number",
        "secret",
        "telegram_id",
        "text",
        "token",
        "user_id",
    }
)
"""Keys that would hold a respondent's contact data, their words, or a credential."""
_EMAIL_LIKE = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_PHONE_LIKE = re.compile(r"\+\d[\d \-]{6,}\d|\d{9,}")

Target = tuple[str, str | int]
"""What was acted on: ``("campaign", "daily-quiz")``, ``("staff_account", "amina")``."""


class AuditError(OutreachError):
    """An audit entry that must not be written as asked (a programming mistake)."""


class AuditActor(Protocol):
    """Who acts: a staff account (by id and name), or the command line (no account)."""

    @property
    def account_id(self) -> int | None: ...

    @property
    def username(self) -> str: ...


@dataclass(frozen=True)
class Actor:
    account_id: int | None
    username: str

    @classmethod
    def command_line(cls) -> Actor:
        """The person at the server's command line, named by their operating-system user."""
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
        return cls(account_id=None, username=f"cli:{user}"[:120])


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: datetime
    account_id: int | None
    username: str
    action: str
    target_type: str | None
    target_id: str | None
    details: dict[str, Any] | None
    ip: str | None


def _record(row: AuditEntry) -> AuditRecord:
    return AuditRecord(
        id=row.id,
        at=row.at,
        account_id=row.account_id,
        username=row.username,
        action=row.action,
        target_type=row.target_type,
        target_id=row.target_id,
        details=row.details,
        ip=row.ip,
    )


def details_problem(details: Mapping[str, Any]) -> str | None:
    """Why ``details`` may not go into the audit log, or None if it may."""
    try:
        encoded = json.dumps(details, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        return f"details must be plain JSON (strings, numbers, lists, objects): {error}"
    if len(encoded) > MAX_DETAILS_CHARS:
        return f"details are {len(encoded)} characters long; keep them under {MAX_DETAILS_CHARS}"

    def walk(value: Any, path: str) -> str | None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                if str(key).casefold() in FORBIDDEN_DETAIL_KEYS:
                    return f"details may not hold {path}{key}: no personal data or secrets"
                found = walk(item, f"{path}{key}.")
                if found:
                    return found
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                found = walk(item, f"{path}{index}.")
                if found:
                    return found
        elif isinstance(value, str) and (_EMAIL_LIKE.search(value) or _PHONE_LIKE.search(value)):
            where = path.rstrip(".") or "value"
            return f"details {where} looks like an e-mail address or a phone number"
        return None

    return walk(details, "")


class AuditLog:
    """Writes and reads audit entries inside the caller's unit of work; never commits."""

    def __init__(self, session: Session, *, clock: Callable[[], datetime] | None = None) -> None:
        self.session = session
        self._clock = clock or (lambda: datetime.now(UTC))

    def record(
        self,
        *,
        actor: AuditActor,
        action: str,
        target: Target | None = None,
        details: Mapping[str, Any] | None = None,
        ip: str | None = None,
        at: datetime | None = None,
    ) -> AuditRecord:
        """Add one entry; ``action`` is dotted lowercase (``campaign.schedule``)."""
        if len(action) > 64 or not ACTION_PATTERN.fullmatch(action):
            raise AuditError(f"audit action {action!r}: write it as noun.verb in lowercase")
        if details is not None:
            problem = details_problem(details)
            if problem:
                raise AuditError(f"audit {action}: {problem}")
        target_type, target_id = (None, None) if target is None else target
        if target_type is not None and not 0 < len(target_type) <= 40:
            raise AuditError(f"audit {action}: a target type is 1 to 40 characters")
        row = AuditEntry(
            at=at or self._clock(),
            account_id=actor.account_id,
            username=actor.username[:120],
            action=action,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id)[:120],
            details=dict(details) if details is not None else None,
            ip=ip[:45] if ip else None,
        )
        self.session.add(row)
        self.session.flush()
        return _record(row)

    def latest(
        self,
        *,
        limit: int = 50,
        action: str | None = None,
        account_id: int | None = None,
        target: Target | None = None,
        before_id: int | None = None,
    ) -> list[AuditRecord]:
        """The newest entries first; ``before_id`` pages further back."""
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if action is not None:
            query = query.where(AuditEntry.action == action)
        if account_id is not None:
            query = query.where(AuditEntry.account_id == account_id)
        if target is not None:
            query = query.where(
                AuditEntry.target_type == target[0], AuditEntry.target_id == str(target[1])
            )
        if before_id is not None:
            query = query.where(AuditEntry.id < before_id)
        return [_record(row) for row in self.session.scalars(query)]
