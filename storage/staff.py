"""Staff accounts, their signed-in sessions and their API tokens.

Only hashes of session ids and API tokens are stored: whoever reads the
database (a backup, a leaked dump) cannot sign in with what they find. The
rules (passwords, lockout, expiry) live in ``outreach.console``; these
repositories only read and write rows, inside the caller's unit of work.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from storage.models import StaffAccount, StaffApiToken, StaffSession


class StaffAccountRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(
        self,
        *,
        username: str,
        password_hash: str,
        role: str,
        display_name: str | None,
        now: datetime,
    ) -> StaffAccount:
        account = StaffAccount(
            username=username,
            password_hash=password_hash,
            role=role,
            display_name=display_name,
            active=True,
            created_at=now,
            failed_logins=0,
        )
        self.session.add(account)
        self.session.flush()
        return account

    def by_username(self, *, username: str, for_update: bool = False) -> StaffAccount | None:
        """The account, locked against concurrent sign-ins (PostgreSQL) if ``for_update``."""
        query = select(StaffAccount).where(StaffAccount.username == username)
        if for_update:
            query = query.with_for_update()
        return self.session.scalar(query)

    def get(self, *, account_id: int) -> StaffAccount | None:
        return self.session.get(StaffAccount, account_id)

    def all(self) -> list[StaffAccount]:
        return list(self.session.scalars(select(StaffAccount).order_by(StaffAccount.username)))

    def count_active(self, *, role: str) -> int:
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(StaffAccount)
                .where(StaffAccount.role == role, StaffAccount.active.is_(True))
            )
            or 0
        )


class StaffSessionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        *,
        id_hash: str,
        account_id: int,
        now: datetime,
        expires_at: datetime,
        csrf_secret: str,
        user_agent: str | None,
    ) -> StaffSession:
        row = StaffSession(
            id_hash=id_hash,
            account_id=account_id,
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
            csrf_secret=csrf_secret,
            user_agent=user_agent[:200] if user_agent else None,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def find(self, *, id_hash: str) -> tuple[StaffSession, StaffAccount] | None:
        """The session and its account, whether or not either is still valid."""
        row = self.session.execute(
            select(StaffSession, StaffAccount)
            .join(StaffAccount, StaffAccount.id == StaffSession.account_id)
            .where(StaffSession.id_hash == id_hash)
        ).first()
        return None if row is None else (row[0], row[1])

    def touch(self, *, id_hash: str, now: datetime) -> None:
        self.session.execute(
            update(StaffSession).where(StaffSession.id_hash == id_hash).values(last_seen_at=now)
        )

    def delete(self, *, id_hash: str) -> bool:
        result = self.session.execute(delete(StaffSession).where(StaffSession.id_hash == id_hash))
        return bool(getattr(result, "rowcount", 0))

    def delete_for_account(self, *, account_id: int) -> int:
        result = self.session.execute(
            delete(StaffSession).where(StaffSession.account_id == account_id)
        )
        return int(getattr(result, "rowcount", 0))

    def delete_expired(self, *, now: datetime, idle_since: datetime) -> int:
        """Delete sessions past their absolute end, or unused since ``idle_since``."""
        result = self.session.execute(
            delete(StaffSession).where(
                or_(StaffSession.expires_at <= now, StaffSession.last_seen_at <= idle_since)
            )
        )
        return int(getattr(result, "rowcount", 0))

    def for_account(self, *, account_id: int) -> list[StaffSession]:
        return list(
            self.session.scalars(
                select(StaffSession)
                .where(StaffSession.account_id == account_id)
                .order_by(StaffSession.created_at)
            )
        )


class StaffApiTokenRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self, *, account_id: int, name: str, token_hash: str, prefix: str, now: datetime
    ) -> StaffApiToken:
        row = StaffApiToken(
            account_id=account_id, name=name, token_hash=token_hash, prefix=prefix, created_at=now
        )
        self.session.add(row)
        self.session.flush()
        return row

    def find(self, *, token_hash: str) -> tuple[StaffApiToken, StaffAccount] | None:
        """The token and its account, revoked or not."""
        row = self.session.execute(
            select(StaffApiToken, StaffAccount)
            .join(StaffAccount, StaffAccount.id == StaffApiToken.account_id)
            .where(StaffApiToken.token_hash == token_hash)
        ).first()
        return None if row is None else (row[0], row[1])

    def active_named(self, *, account_id: int, name: str) -> StaffApiToken | None:
        return self.session.scalar(
            select(StaffApiToken).where(
                StaffApiToken.account_id == account_id,
                StaffApiToken.name == name,
                StaffApiToken.revoked_at.is_(None),
            )
        )

    def for_account(self, *, account_id: int) -> list[StaffApiToken]:
        return list(
            self.session.scalars(
                select(StaffApiToken)
                .where(StaffApiToken.account_id == account_id)
                .order_by(StaffApiToken.created_at, StaffApiToken.id)
            )
        )

    def touch(self, *, token_id: int, now: datetime) -> None:
        self.session.execute(
            update(StaffApiToken).where(StaffApiToken.id == token_id).values(last_used_at=now)
        )
