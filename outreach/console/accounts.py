"""Staff accounts: creating and changing them, signing in and out, sessions, API tokens.

``StaffAccounts`` is the one service behind the console's login page, its
``/api`` tokens and the ``outreach staff`` command. Every change to an account
writes an audit entry in the same transaction.

Signing in:
- the answer is the same for a wrong password, an unknown or disabled account
  and a locked one (``SignInRefused``), and each costs one Argon2 verification
  and one write, so neither the message nor the time tells whether an account
  exists;
- ``AccountPolicy.max_failed_logins`` failures within ``failure_window`` lock
  the account for ``lockout`` (attempts while locked do not extend it);
- success makes a new session (256-bit id, only its hash stored) and deletes the
  one the browser had, so a session id planted before sign-in is worthless;
- a hash made with older Argon2 parameters is replaced by one with the current.

Sessions end after ``session_idle`` without a request, or ``session_lifetime``
after sign-in whatever happens, or at sign-out; disabling an account or
changing its password ends all of its sessions. A role change applies at the
next request: the role is read with the session every time.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from outreach.console.passwords import PasswordHashing, check_password_rules
from outreach.console.roles import Action, Role, can, parse_role
from outreach.console.tokens import (
    MAX_PRESENTED_LENGTH,
    api_token_prefix,
    hash_secret,
    is_api_token,
    new_api_token,
    new_csrf_secret,
    new_session_id,
)
from polls.errors import OutreachError
from storage.audit import Actor, AuditActor, AuditLog
from storage.database import Database
from storage.models import StaffAccount, StaffApiToken, StaffSession
from storage.staff import StaffAccountRepository, StaffApiTokenRepository, StaffSessionRepository

logger = logging.getLogger(__name__)

USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@+\-]{2,119}")
TOKEN_NAME_PATTERN = re.compile(r"[\w .:\-]{1,80}")
STAFF_TARGET = "staff_account"
SYSTEM = Actor(account_id=None, username="system")
"""The service itself acting on an account (a lockout): no staff member did it."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class StaffAccountError(OutreachError):
    """An account change that cannot be made; the message says why and what to do."""


class SignInRefused(StaffAccountError):
    """Wrong username or password, or an account that may not sign in now.

    The message is the same whatever the reason, so it does not tell whether an
    account exists; ``reason`` is for logs and tests only.
    """

    MESSAGE = (
        "Wrong username or password. After 5 failed attempts an account is locked for 15 minutes."
    )

    def __init__(self, reason: str) -> None:
        super().__init__(self.MESSAGE)
        self.reason = reason


@dataclass(frozen=True)
class AccountPolicy:
    max_failed_logins: int = 5
    failure_window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)
    session_idle: timedelta = timedelta(minutes=30)
    session_lifetime: timedelta = timedelta(hours=12)
    touch_every: timedelta = timedelta(minutes=1)
    """How stale ``last_seen_at`` may get before a request writes it again."""


@dataclass(frozen=True)
class StaffMember:
    """An account as shown to admins: never its password hash."""

    id: int
    username: str
    display_name: str | None
    role: str
    active: bool
    created_at: datetime
    last_login_at: datetime | None
    locked_until: datetime | None


def _member(account: StaffAccount) -> StaffMember:
    return StaffMember(
        id=account.id,
        username=account.username,
        display_name=account.display_name,
        role=account.role,
        active=account.active,
        created_at=account.created_at,
        last_login_at=account.last_login_at,
        locked_until=account.locked_until,
    )


@dataclass(frozen=True)
class SessionInfo:
    """A signed-in browser's session (what ``check_csrf`` needs: its CSRF secret)."""

    id_hash: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    csrf_secret: str


@dataclass(frozen=True)
class SignedInStaff:
    """Who makes a request: from a session cookie, or from an API token (``session`` None).

    It is an audit actor: ``AuditLog(s).record(actor=staff, ...)``.
    """

    account_id: int
    username: str
    display_name: str | None
    role: str
    session: SessionInfo | None = None
    token_id: int | None = None

    @property
    def via_token(self) -> bool:
        return self.token_id is not None

    def can(self, action: Action | str) -> bool:
        return can(self.role, action)


@dataclass(frozen=True)
class SignIn:
    """A successful sign-in: ``session_id`` goes into the cookie and is stored nowhere."""

    session_id: str
    staff: SignedInStaff
    expires_at: datetime


@dataclass(frozen=True)
class ApiTokenInfo:
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def _token_info(row: StaffApiToken) -> ApiTokenInfo:
    return ApiTokenInfo(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


@dataclass(frozen=True)
class NewApiToken:
    """A token just made: ``token`` is shown once and cannot be shown again."""

    token: str
    info: ApiTokenInfo


def normalize_username(username: str) -> str:
    """``username`` lowercased; a StaffAccountError if it is not a usable one."""
    name = username.strip().lower()
    if not USERNAME_PATTERN.fullmatch(name):
        raise StaffAccountError(
            f"{username!r} cannot be a username: use 3 to 120 of a-z, 0-9, '.', '_', '-', "
            "'+' and '@' (an e-mail address works), starting with a letter or a digit"
        )
    return name


def _clean_display_name(name: str | None) -> str | None:
    if name is None or not name.strip():
        return None
    name = " ".join(name.split())
    if len(name) > 100 or any(not ch.isprintable() for ch in name):
        raise StaffAccountError("A display name is at most 100 printable characters.")
    return name


def _reset_failures(account: StaffAccount) -> None:
    account.failed_logins = 0
    account.first_failed_at = None
    account.locked_until = None


class StaffAccounts:
    """Staff accounts over the database; ``clock`` and ``passwords`` can be replaced in tests."""

    def __init__(
        self,
        db: Database,
        *,
        policy: AccountPolicy | None = None,
        passwords: PasswordHashing | None = None,
        clock: Callable[[], datetime] = utcnow,
        hashing_at_once: int = 2,
    ) -> None:
        self.db = db
        self.policy = policy or AccountPolicy()
        self.passwords = passwords or PasswordHashing()
        self.clock = clock
        # Argon2 takes 64 MiB and tens of milliseconds a hash: a burst of sign-ins
        # must not take all memory or every thread.
        self._hashing = asyncio.Semaphore(hashing_at_once)

    async def _hash(self, password: str) -> str:
        async with self._hashing:
            return await asyncio.to_thread(self.passwords.hash, password)

    async def _verify(self, stored_hash: str | None, password: str) -> bool:
        async with self._hashing:
            if stored_hash is None:
                await asyncio.to_thread(self.passwords.verify_nothing, password)
                return False
            return await asyncio.to_thread(self.passwords.verify, stored_hash, password)

    # ------------------------------------------------------------------ accounts

    async def create_account(
        self,
        *,
        username: str,
        password: str,
        role: Role | str,
        actor: AuditActor,
        display_name: str | None = None,
        ip: str | None = None,
    ) -> StaffMember:
        """A new active account; refuses a taken username, an unknown role, a weak password."""
        name = normalize_username(username)
        chosen = parse_role(role)
        shown = _clean_display_name(display_name)
        check_password_rules(password, username=name)
        password_hash = await self._hash(password)
        now = self.clock()

        def create(session: Session) -> StaffMember:
            accounts = StaffAccountRepository(session)
            if accounts.by_username(username=name) is not None:
                raise StaffAccountError(f"There is already an account {name}.")
            account = accounts.create(
                username=name,
                password_hash=password_hash,
                role=chosen.value,
                display_name=shown,
                now=now,
            )
            AuditLog(session, clock=self.clock).record(
                actor=actor,
                action="staff.create",
                target=(STAFF_TARGET, name),
                details={"role": chosen.value},
                ip=ip,
            )
            return _member(account)

        return await self.db.write(create)

    async def list_accounts(self) -> list[StaffMember]:
        return await self.db.read(lambda s: [_member(a) for a in StaffAccountRepository(s).all()])

    async def get_account(self, *, username: str) -> StaffMember:
        name = normalize_username(username)
        return await self.db.read(lambda s: _member(self._account(s, name, for_update=False)))

    @staticmethod
    def _account(session: Session, name: str, *, for_update: bool = True) -> StaffAccount:
        repository = StaffAccountRepository(session)
        account = repository.by_username(username=name, for_update=for_update)
        if account is None:
            raise StaffAccountError(f"There is no account {name}: see outreach staff list.")
        return account

    @staticmethod
    def _keep_an_admin(session: Session, account: StaffAccount) -> None:
        if account.role == Role.ADMIN and account.active:
            admins = StaffAccountRepository(session).count_active(role=Role.ADMIN.value)
            if admins <= 1:
                raise StaffAccountError(
                    f"{account.username} is the only active admin: make another admin first."
                )

    async def set_role(
        self, *, username: str, role: Role | str, actor: AuditActor, ip: str | None = None
    ) -> StaffMember:
        """Give the account another role; it applies to its next request."""
        name = normalize_username(username)
        chosen = parse_role(role)

        def change(session: Session) -> StaffMember:
            account = self._account(session, name)
            if account.role == chosen.value:
                return _member(account)
            if chosen != Role.ADMIN:
                self._keep_an_admin(session, account)
            before = account.role
            account.role = chosen.value
            AuditLog(session, clock=self.clock).record(
                actor=actor,
                action="staff.role",
                target=(STAFF_TARGET, name),
                details={"from": before, "to": chosen.value},
                ip=ip,
            )
            session.flush()
            return _member(account)

        return await self.db.write(change)

    async def set_active(
        self, *, username: str, active: bool, actor: AuditActor, ip: str | None = None
    ) -> StaffMember:
        """Disable (ends its sessions; its API tokens stop working) or enable an account."""
        name = normalize_username(username)

        def change(session: Session) -> StaffMember:
            account = self._account(session, name)
            if account.active == active:
                return _member(account)
            if not active:
                self._keep_an_admin(session, account)
                StaffSessionRepository(session).delete_for_account(account_id=account.id)
            account.active = active
            AuditLog(session, clock=self.clock).record(
                actor=actor,
                action="staff.enable" if active else "staff.disable",
                target=(STAFF_TARGET, name),
                ip=ip,
            )
            session.flush()
            return _member(account)

        return await self.db.write(change)

    async def set_password(
        self, *, username: str, password: str, actor: AuditActor, ip: str | None = None
    ) -> None:
        """A new password: ends every session of the account and lifts a lockout."""
        name = normalize_username(username)
        check_password_rules(password, username=name)
        password_hash = await self._hash(password)

        def change(session: Session) -> None:
            account = self._account(session, name)
            account.password_hash = password_hash
            _reset_failures(account)
            StaffSessionRepository(session).delete_for_account(account_id=account.id)
            AuditLog(session, clock=self.clock).record(
                actor=actor, action="staff.password", target=(STAFF_TARGET, name), ip=ip
            )

        await self.db.write(change)

    # ------------------------------------------------------------------ signing in

    async def sign_in(
        self,
        *,
        username: str,
        password: str,
        user_agent: str | None = None,
        ip: str | None = None,
        replacing: str | None = None,
    ) -> SignIn:
        """A new session for the right password; SignInRefused otherwise.

        ``replacing`` is the session id the browser presented, if any: it is
        deleted, whoever it belonged to.
        """
        try:
            name: str | None = normalize_username(username)
        except StaffAccountError:
            name = None
        stored_hash = None
        if name is not None:
            stored_hash = await self.db.read(lambda s: self._hash_of(s, name))
        matches = await self._verify(stored_hash, password)
        new_hash = None
        if matches and stored_hash is not None and self.passwords.needs_rehash(stored_hash):
            new_hash = await self._hash(password)
        session_id = new_session_id()
        now = self.clock()
        policy = self.policy

        def settle(session: Session) -> tuple[SignIn | None, str]:
            sessions = StaffSessionRepository(session)
            sessions.delete_expired(now=now, idle_since=now - policy.session_idle)
            if replacing and len(replacing) <= MAX_PRESENTED_LENGTH:
                sessions.delete(id_hash=hash_secret(replacing))
            account = None
            if name is not None:
                account = StaffAccountRepository(session).by_username(
                    username=name, for_update=True
                )
            if account is None:
                return None, "unknown"
            if not account.active:
                return None, "disabled"
            if account.locked_until is not None and account.locked_until > now:
                return None, "locked"
            if not matches or account.password_hash != stored_hash:
                self._count_failure(session, account, now, ip)
                return None, "password"
            if new_hash is not None:
                account.password_hash = new_hash
            _reset_failures(account)
            account.last_login_at = now
            expires_at = now + policy.session_lifetime
            row = sessions.add(
                id_hash=hash_secret(session_id),
                account_id=account.id,
                now=now,
                expires_at=expires_at,
                csrf_secret=new_csrf_secret(),
                user_agent=user_agent,
            )
            staff = SignedInStaff(
                account_id=account.id,
                username=account.username,
                display_name=account.display_name,
                role=account.role,
                session=_session_info(row),
            )
            AuditLog(session, clock=self.clock).record(
                actor=staff, action="staff.sign_in", target=(STAFF_TARGET, account.username), ip=ip
            )
            return SignIn(session_id=session_id, staff=staff, expires_at=expires_at), "ok"

        signed_in, reason = await self.db.write(settle)
        if signed_in is None:
            logger.info("staff sign-in refused (%s)", reason)
            raise SignInRefused(reason)
        return signed_in

    @staticmethod
    def _hash_of(session: Session, name: str) -> str | None:
        account = StaffAccountRepository(session).by_username(username=name)
        return account.password_hash if account is not None else None

    def _count_failure(
        self, session: Session, account: StaffAccount, now: datetime, ip: str | None
    ) -> None:
        policy = self.policy
        window_open = (
            account.first_failed_at is not None
            and now - account.first_failed_at < policy.failure_window
        )
        if window_open:
            account.failed_logins += 1
        else:
            account.failed_logins = 1
            account.first_failed_at = now
        if account.failed_logins >= policy.max_failed_logins:
            account.failed_logins = 0
            account.first_failed_at = None
            account.locked_until = now + policy.lockout
            AuditLog(session, clock=self.clock).record(
                actor=SYSTEM,
                action="staff.lock",
                target=(STAFF_TARGET, account.username),
                details={
                    "failed_attempts": policy.max_failed_logins,
                    "minutes": int(policy.lockout.total_seconds() // 60),
                },
                ip=ip,
            )
        session.flush()

    async def staff_for_session(self, session_id: str | None) -> SignedInStaff | None:
        """Who holds this session id, if it is still valid (it is then marked as used)."""
        if not session_id or len(session_id) > MAX_PRESENTED_LENGTH:
            return None
        id_hash = hash_secret(session_id)
        now = self.clock()
        policy = self.policy
        found = await self.db.read(lambda s: StaffSessionRepository(s).find(id_hash=id_hash))
        if found is None:
            return None
        row, account = found
        expired = row.expires_at <= now or now - row.last_seen_at >= policy.session_idle
        if expired or not account.active:
            await self.db.write(lambda s: StaffSessionRepository(s).delete(id_hash=id_hash))
            return None
        if now - row.last_seen_at >= policy.touch_every:
            await self.db.write(lambda s: StaffSessionRepository(s).touch(id_hash=id_hash, now=now))
            row.last_seen_at = now
        return SignedInStaff(
            account_id=account.id,
            username=account.username,
            display_name=account.display_name,
            role=account.role,
            session=_session_info(row),
        )

    async def sign_out(self, session_id: str | None, *, ip: str | None = None) -> bool:
        """Delete the session; whether there was one to delete."""
        if not session_id or len(session_id) > MAX_PRESENTED_LENGTH:
            return False
        id_hash = hash_secret(session_id)

        def delete(session: Session) -> bool:
            sessions = StaffSessionRepository(session)
            found = sessions.find(id_hash=id_hash)
            if found is None:
                return False
            sessions.delete(id_hash=id_hash)
            account = found[1]
            AuditLog(session, clock=self.clock).record(
                actor=Actor(account.id, account.username),
                action="staff.sign_out",
                target=(STAFF_TARGET, account.username),
                ip=ip,
            )
            return True

        return await self.db.write(delete)

    # ------------------------------------------------------------------ API tokens

    async def create_api_token(
        self, *, username: str, name: str, actor: AuditActor, ip: str | None = None
    ) -> NewApiToken:
        """A token for scripts acting as ``username``; its text is returned this once only."""
        account_name = normalize_username(username)
        label = " ".join(name.split())
        if not TOKEN_NAME_PATTERN.fullmatch(label):
            raise StaffAccountError(
                "Name a token with up to 80 letters, digits, spaces, '.', ':', '_' or '-' "
                "(what script uses it: 'nightly export')."
            )
        token = new_api_token()
        now = self.clock()

        def create(session: Session) -> NewApiToken:
            account = self._account(session, account_name)
            if not account.active:
                raise StaffAccountError(f"{account_name} is disabled: enable it first.")
            tokens = StaffApiTokenRepository(session)
            if tokens.active_named(account_id=account.id, name=label) is not None:
                raise StaffAccountError(
                    f"{account_name} already has a token named {label!r}: revoke it or "
                    "choose another name."
                )
            row = tokens.add(
                account_id=account.id,
                name=label,
                token_hash=hash_secret(token),
                prefix=api_token_prefix(token),
                now=now,
            )
            AuditLog(session, clock=self.clock).record(
                actor=actor,
                action="staff.token_create",
                target=(STAFF_TARGET, account_name),
                details={"name": label, "prefix": row.prefix},
                ip=ip,
            )
            return NewApiToken(token=token, info=_token_info(row))

        return await self.db.write(create)

    async def list_api_tokens(self, *, username: str) -> list[ApiTokenInfo]:
        account_name = normalize_username(username)

        def read(session: Session) -> list[ApiTokenInfo]:
            account = self._account(session, account_name, for_update=False)
            rows = StaffApiTokenRepository(session).for_account(account_id=account.id)
            return [_token_info(row) for row in rows]

        return await self.db.read(read)

    async def revoke_api_token(
        self, *, username: str, name: str, actor: AuditActor, ip: str | None = None
    ) -> ApiTokenInfo:
        """Revoke the account's active token named ``name``; it stops working at once."""
        account_name = normalize_username(username)
        label = " ".join(name.split())
        now = self.clock()

        def revoke(session: Session) -> ApiTokenInfo:
            account = self._account(session, account_name)
            row = StaffApiTokenRepository(session).active_named(account_id=account.id, name=label)
            if row is None:
                raise StaffAccountError(
                    f"{account_name} has no active token named {label!r}: "
                    f"see outreach staff token list {account_name}"
                )
            row.revoked_at = now
            AuditLog(session, clock=self.clock).record(
                actor=actor,
                action="staff.token_revoke",
                target=(STAFF_TARGET, account_name),
                details={"name": label, "prefix": row.prefix},
                ip=ip,
            )
            session.flush()
            return _token_info(row)

        return await self.db.write(revoke)

    async def staff_for_token(self, token: str | None) -> SignedInStaff | None:
        """Who an ``sdg_`` token acts for, if it is valid and its account active."""
        if not token or not is_api_token(token):
            return None
        token_hash = hash_secret(token)
        found = await self.db.read(lambda s: StaffApiTokenRepository(s).find(token_hash=token_hash))
        if found is None:
            return None
        row, account = found
        if row.revoked_at is not None or not account.active:
            return None
        now = self.clock()
        if row.last_used_at is None or now - row.last_used_at >= self.policy.touch_every:
            await self.db.write(
                lambda s: StaffApiTokenRepository(s).touch(token_id=row.id, now=now)
            )
        return SignedInStaff(
            account_id=account.id,
            username=account.username,
            display_name=account.display_name,
            role=account.role,
            token_id=row.id,
        )


def _session_info(row: StaffSession) -> SessionInfo:
    return SessionInfo(
        id_hash=row.id_hash,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
        csrf_secret=row.csrf_secret,
    )
