"""Staff console foundation: passwords, lockout, sessions, CSRF, API tokens, roles, audit, CLI,
and the aiohttp helpers on a tiny app."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from types import SimpleNamespace

import pytest
from aiohttp import DummyCookieJar, web
from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher
from click.testing import CliRunner, Result
from sqlalchemy import select

from outreach import staff_cli
from outreach.cli import main as cli
from outreach.console.accounts import (
    SignedInStaff,
    SignInRefused,
    StaffAccountError,
    StaffAccounts,
)
from outreach.console.passwords import (
    PasswordHashing,
    WeakPasswordError,
    password_problems,
)
from outreach.console.roles import (
    PERMISSIONS,
    Action,
    Role,
    UnknownActionError,
    UnknownRoleError,
    actions_for,
    can,
)
from outreach.console.tokens import check_csrf, csrf_token, hash_secret, new_csrf_secret
from outreach.console.web_auth import (
    CSRF_FORM_FIELD,
    CSRF_HEADER,
    SECURE_SESSION_COOKIE,
    SESSION_COOKIE,
    StaffWebAuth,
    csrf_token_for,
    install_staff_auth,
    is_cross_site,
    require,
    safe_next,
    staff_of,
)
from storage.audit import Actor, AuditError, AuditLog, AuditRecord
from storage.database import Database
from storage.models import StaffAccount, StaffApiToken, StaffSession

pytestmark = pytest.mark.storage

ADMIN_ACTOR = Actor(account_id=None, username="cli:tester")
GOOD = "correct horse battery"
START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class CountingHashing(PasswordHashing):
    """Cheap Argon2 parameters (tests), counting verifications of real and missing accounts."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        super().__init__(hasher or PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
        self.verified = 0
        self.verified_nothing = 0

    def verify(self, stored_hash: str, password: str) -> bool:
        self.verified += 1
        return super().verify(stored_hash, password)

    def verify_nothing(self, password: str) -> None:
        self.verified_nothing += 1
        super().verify_nothing(password)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(db: Database, clock: Clock) -> StaffAccounts:
    return StaffAccounts(db, passwords=CountingHashing(), clock=clock)


async def make(
    accounts: StaffAccounts, username: str, role: str = "admin", password: str = GOOD
) -> None:
    await accounts.create_account(
        username=username, password=password, role=role, actor=ADMIN_ACTOR
    )


async def audit_entries(db: Database, action: str | None = None) -> list[AuditRecord]:
    return list(reversed(await db.read(lambda s: AuditLog(s).latest(limit=500, action=action))))


async def refusal(accounts: StaffAccounts, username: str, password: str) -> str:
    with pytest.raises(SignInRefused) as refused:
        await accounts.sign_in(username=username, password=password)
    assert str(refused.value) == SignInRefused.MESSAGE
    return refused.value.reason


# ------------------------------------------------------------------ passwords


def test_a_hash_verifies_its_password_only_and_normalizes_unicode() -> None:
    hashing = CountingHashing()
    stored = hashing.hash("ﬁve ﬁsh swim ahead")  # "ﬁ" ligatures: NFKC makes them "fi"
    assert stored.startswith("$argon2id$")
    assert hashing.verify(stored, "five fish swim ahead")
    assert not hashing.verify(stored, "five fish swim aheaD")
    assert not hashing.verify("not a hash", "five fish swim ahead")


def test_a_hash_with_other_parameters_needs_rehashing() -> None:
    old = CountingHashing(PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    new = CountingHashing(PasswordHasher(time_cost=2, memory_cost=128, parallelism=1))
    stored = old.hash(GOOD)
    assert not old.needs_rehash(stored)
    assert new.needs_rehash(stored)
    assert new.needs_rehash("garbage")


async def test_signing_in_rehashes_a_hash_made_with_old_parameters(
    db: Database, clock: Clock
) -> None:
    old = StaffAccounts(db, passwords=CountingHashing(), clock=clock)
    await make(old, "amina")
    before = await db.read(lambda s: s.scalar(select(StaffAccount.password_hash)))
    stronger = CountingHashing(PasswordHasher(time_cost=2, memory_cost=128, parallelism=1))
    await StaffAccounts(db, passwords=stronger, clock=clock).sign_in(
        username="amina", password=GOOD
    )
    after = await db.read(lambda s: s.scalar(select(StaffAccount.password_hash)))
    assert before is not None and after is not None and after != before
    assert "m=128,t=2,p=1" in after and not stronger.needs_rehash(after)
    assert stronger.verify(after, GOOD)


@pytest.mark.parametrize(
    ("password", "username", "expected"),
    [
        ("short one", None, "at least 12 characters"),
        ("Password1234", None, "common passwords"),
        ("QWERTY123456", None, "common passwords"),
        ("abababababababab", None, "different characters"),
        ("amina.aliyeva", "amina.aliyeva", "username"),
        ("my name is amina, hello", "amina@undp.org", "username"),
        ("x" * 1025 + "abcde", None, "at most 1024"),
    ],
    ids=["short", "common", "common-case", "repetitive", "username", "contains-name", "long"],
)
def test_weak_passwords_are_refused_with_the_rule(
    password: str, username: str | None, expected: str
) -> None:
    problems = password_problems(password, username=username)
    assert any(expected in problem for problem in problems), problems


def test_a_good_password_breaks_no_rule() -> None:
    assert password_problems("Xəzər dənizi 2030 sahil", username="amina") == []


async def test_creating_an_account_refuses_a_weak_password(
    db: Database, accounts: StaffAccounts
) -> None:
    with pytest.raises(WeakPasswordError, match="12 characters"):
        await make(accounts, "amina", password="too short")
    assert await accounts.list_accounts() == []


async def test_usernames_are_lowercased_and_unique(accounts: StaffAccounts) -> None:
    await make(accounts, "Amina@UNDP.org")
    assert [m.username for m in await accounts.list_accounts()] == ["amina@undp.org"]
    with pytest.raises(StaffAccountError, match="already an account"):
        await make(accounts, "amina@undp.org")
    with pytest.raises(StaffAccountError, match="cannot be a username"):
        await make(accounts, "a b")
    with pytest.raises(UnknownRoleError, match="admin, organizer, analyst, moderator"):
        await make(accounts, "rashad", role="superuser")


# ------------------------------------------------------------------ lockout


async def test_five_failures_lock_the_account_for_fifteen_minutes(
    db: Database, accounts: StaffAccounts, clock: Clock
) -> None:
    await make(accounts, "amina")
    for _ in range(5):
        assert await refusal(accounts, "amina", "wrong password!") == "password"
        clock.advance(minutes=1)
    assert await refusal(accounts, "amina", GOOD) == "locked"
    member = await accounts.get_account(username="amina")
    assert member.locked_until == START + timedelta(minutes=4 + 15)
    clock.advance(minutes=10)
    assert await refusal(accounts, "amina", GOOD) == "locked"
    assert await refusal(accounts, "amina", "still wrong!!") == "locked"
    clock.advance(minutes=5, seconds=1)  # 15 minutes after the fifth failure
    signed_in = await accounts.sign_in(username="amina", password=GOOD)
    assert signed_in.staff.username == "amina"
    locks = await audit_entries(db, "staff.lock")
    assert [(e.username, e.target_id, e.details) for e in locks] == [
        ("system", "amina", {"failed_attempts": 5, "minutes": 15})
    ]


async def test_failures_spread_beyond_the_window_do_not_lock(
    accounts: StaffAccounts, clock: Clock
) -> None:
    await make(accounts, "amina")
    for _ in range(4):
        await refusal(accounts, "amina", "wrong password!")
    clock.advance(minutes=16)
    for _ in range(4):
        await refusal(accounts, "amina", "wrong password!")
    assert (await accounts.get_account(username="amina")).locked_until is None
    await accounts.sign_in(username="amina", password=GOOD)


async def test_a_success_forgets_earlier_failures(accounts: StaffAccounts) -> None:
    await make(accounts, "amina")
    for _ in range(4):
        await refusal(accounts, "amina", "wrong password!")
    await accounts.sign_in(username="amina", password=GOOD)
    for _ in range(4):
        await refusal(accounts, "amina", "wrong password!")
    assert (await accounts.get_account(username="amina")).locked_until is None


async def test_unknown_and_disabled_accounts_get_the_same_answer_and_the_same_work(
    accounts: StaffAccounts,
) -> None:
    hashing = accounts.passwords
    assert isinstance(hashing, CountingHashing)
    await make(accounts, "amina")
    await make(accounts, "rashad", role="analyst")
    await accounts.set_active(username="rashad", active=False, actor=ADMIN_ACTOR)
    assert await refusal(accounts, "nobody", GOOD) == "unknown"
    assert await refusal(accounts, "not a valid name!", GOOD) == "unknown"
    assert (hashing.verified_nothing, hashing.verified) == (2, 2)  # dummy hash checked
    assert await refusal(accounts, "rashad", GOOD) == "disabled"
    assert await refusal(accounts, "amina", "wrong password!") == "password"
    assert hashing.verified == 4  # the two dummy checks, then rashad's and amina's hashes


# ------------------------------------------------------------------ sessions


async def test_a_session_id_is_random_and_stored_only_hashed(
    db: Database, accounts: StaffAccounts
) -> None:
    await make(accounts, "amina")
    first = await accounts.sign_in(username="amina", password=GOOD, user_agent="Firefox")
    second = await accounts.sign_in(username="amina", password=GOOD)
    assert first.session_id != second.session_id and len(first.session_id) >= 43
    rows = await db.read(lambda s: list(s.scalars(select(StaffSession))))
    stored = {row.id_hash for row in rows}
    assert stored == {hash_secret(first.session_id), hash_secret(second.session_id)}
    assert first.session_id not in stored
    staff = await accounts.staff_for_session(first.session_id)
    assert staff is not None and (staff.username, staff.role) == ("amina", "admin")
    assert await accounts.staff_for_session(hash_secret(first.session_id)) is None


async def test_an_idle_session_ends_and_an_active_one_lasts_until_its_absolute_end(
    db: Database, accounts: StaffAccounts, clock: Clock
) -> None:
    await make(accounts, "amina")
    idle = (await accounts.sign_in(username="amina", password=GOOD)).session_id
    active = (await accounts.sign_in(username="amina", password=GOOD)).session_id
    for _ in range(int(12 * 60 / 20) - 1):  # a request every 20 minutes, for almost 12 hours
        clock.advance(minutes=20)
        assert await accounts.staff_for_session(active) is not None
    assert await accounts.staff_for_session(idle) is None
    clock.advance(minutes=20)  # 12 hours after sign-in
    assert await accounts.staff_for_session(active) is None
    assert await db.read(lambda s: list(s.scalars(select(StaffSession)))) == []


async def test_signing_in_replaces_the_session_the_browser_had(accounts: StaffAccounts) -> None:
    await make(accounts, "amina")
    await make(accounts, "rashad", role="analyst")
    planted = (await accounts.sign_in(username="rashad", password=GOOD)).session_id
    fresh = await accounts.sign_in(username="amina", password=GOOD, replacing=planted)
    assert fresh.session_id != planted
    assert await accounts.staff_for_session(planted) is None
    assert await accounts.staff_for_session(fresh.session_id) is not None


async def test_sign_out_disable_and_new_password_end_sessions(
    db: Database, accounts: StaffAccounts
) -> None:
    await make(accounts, "amina")
    await make(accounts, "rashad", role="organizer")
    one = (await accounts.sign_in(username="rashad", password=GOOD)).session_id
    assert await accounts.sign_out(one)
    assert not await accounts.sign_out(one)
    assert await accounts.staff_for_session(one) is None

    two = (await accounts.sign_in(username="rashad", password=GOOD)).session_id
    await accounts.set_password(
        username="rashad", password="a brand new passphrase", actor=ADMIN_ACTOR
    )
    assert await accounts.staff_for_session(two) is None
    await refusal(accounts, "rashad", GOOD)

    three = (
        await accounts.sign_in(username="rashad", password="a brand new passphrase")
    ).session_id
    await accounts.set_active(username="rashad", active=False, actor=ADMIN_ACTOR)
    assert await accounts.staff_for_session(three) is None


async def test_a_new_role_applies_to_the_next_request(accounts: StaffAccounts) -> None:
    await make(accounts, "amina")
    await make(accounts, "rashad", role="analyst")
    session_id = (await accounts.sign_in(username="rashad", password=GOOD)).session_id
    await accounts.set_role(username="rashad", role="moderator", actor=ADMIN_ACTOR)
    staff = await accounts.staff_for_session(session_id)
    assert staff is not None and staff.role == "moderator"
    assert staff.can(Action.MODERATION_ACT) and not staff.can(Action.EXPORTS_CREATE)


async def test_the_last_active_admin_cannot_be_demoted_or_disabled(
    accounts: StaffAccounts,
) -> None:
    await make(accounts, "amina")
    with pytest.raises(StaffAccountError, match="only active admin"):
        await accounts.set_role(username="amina", role="analyst", actor=ADMIN_ACTOR)
    with pytest.raises(StaffAccountError, match="only active admin"):
        await accounts.set_active(username="amina", active=False, actor=ADMIN_ACTOR)
    await make(accounts, "leyla")
    await accounts.set_role(username="amina", role="analyst", actor=ADMIN_ACTOR)
    assert (await accounts.get_account(username="amina")).role == "analyst"


# ------------------------------------------------------------------ CSRF


def test_csrf_tokens_of_the_session_pass_and_others_fail() -> None:
    session = SimpleNamespace(csrf_secret=new_csrf_secret())
    other = SimpleNamespace(csrf_secret=new_csrf_secret())
    first, second = csrf_token(session.csrf_secret), csrf_token(session.csrf_secret)
    assert first != second  # masked afresh each time
    assert check_csrf(session, first) and check_csrf(session, second)
    assert not check_csrf(other, first)
    tampered = first[:-2] + ("AA" if first[-2:] != "AA" else "BB")
    for wrong in (tampered, "", None, "not base64 at all!", session.csrf_secret, "x" * 500):
        assert not check_csrf(session, wrong), wrong
    assert not check_csrf(None, first)


# ------------------------------------------------------------------ API tokens


async def test_api_tokens_act_with_their_accounts_role_until_revoked(
    db: Database, accounts: StaffAccounts, clock: Clock
) -> None:
    await make(accounts, "amina")
    await make(accounts, "rashad", role="analyst")
    made = await accounts.create_api_token(
        username="rashad", name="nightly export", actor=ADMIN_ACTOR
    )
    assert re.fullmatch(r"sdg_[A-Za-z0-9_\-]{43}", made.token)
    assert made.info.prefix == made.token[:8]
    rows = await db.read(lambda s: list(s.scalars(select(StaffApiToken))))
    assert [row.token_hash for row in rows] == [hash_secret(made.token)]
    assert all(made.token[8:] not in str(vars(row)) for row in rows)

    staff = await accounts.staff_for_token(made.token)
    assert staff is not None and (staff.username, staff.role, staff.session) == (
        "rashad",
        "analyst",
        None,
    )
    assert (await accounts.list_api_tokens(username="rashad"))[0].last_used_at == START

    with pytest.raises(StaffAccountError, match="already has a token"):
        await accounts.create_api_token(username="rashad", name="nightly export", actor=ADMIN_ACTOR)
    assert await accounts.staff_for_token(made.token[:-1] + "x") is None
    assert await accounts.staff_for_token("Bearer " + made.token) is None

    await accounts.set_role(username="rashad", role="organizer", actor=ADMIN_ACTOR)
    staff = await accounts.staff_for_token(made.token)
    assert staff is not None and staff.role == "organizer"

    clock.advance(minutes=5)
    revoked = await accounts.revoke_api_token(
        username="rashad", name="nightly export", actor=ADMIN_ACTOR
    )
    assert revoked.revoked_at == START + timedelta(minutes=5)
    assert await accounts.staff_for_token(made.token) is None
    again = await accounts.create_api_token(
        username="rashad", name="nightly export", actor=ADMIN_ACTOR
    )
    assert await accounts.staff_for_token(again.token) is not None
    await accounts.set_active(username="rashad", active=False, actor=ADMIN_ACTOR)
    assert await accounts.staff_for_token(again.token) is None


# ------------------------------------------------------------------ roles

EXPECTED = {
    # action: (admin, organizer, analyst, moderator)
    "dashboard.read": "YYYY",
    "account.self": "YYYY",
    "surveys.read": "YYYY",
    "surveys.upload": "YY..",
    "surveys.close": "YY..",
    "campaigns.read": "YY..",
    "campaigns.create": "YY..",
    "campaigns.schedule": "YY..",
    "respondents.count": "YYY.",
    "results.read": "YYY.",
    "results.text": "Y.YY",
    "exports.create": "Y.Y.",
    "respondents.find": "Y...",
    "respondents.erase": "Y...",
    "moderation.read": "Y..Y",
    "moderation.act": "Y..Y",
    "staff.manage": "Y...",
    "audit.read": "Y...",
}
ROLE_ORDER = ("admin", "organizer", "analyst", "moderator")


@pytest.mark.parametrize(
    ("role", "action", "allowed"),
    [
        (role, action, marks[i] == "Y")
        for action, marks in EXPECTED.items()
        for i, role in enumerate(ROLE_ORDER)
    ],
    ids=lambda v: str(v),
)
def test_the_permission_table(role: str, action: str, allowed: bool) -> None:
    assert can(role, action) is allowed
    assert can(Role(role), Action(action)) is allowed


def test_the_table_covers_every_action_and_nothing_else() -> None:
    assert set(PERMISSIONS) == set(Action) == {Action(a) for a in EXPECTED}
    assert actions_for("admin") == set(Action)
    assert Action.RESPONDENTS_ERASE not in actions_for("analyst")


def test_unknown_actions_are_mistakes_and_unknown_roles_may_do_nothing() -> None:
    with pytest.raises(UnknownActionError, match=r"surveys\.uplaod"):
        can("admin", "surveys.uplaod")
    with pytest.raises(UnknownActionError):
        require("exports.make")
    assert not can("root", "surveys.read")
    assert actions_for("root") == frozenset()


# ------------------------------------------------------------------ audit


async def test_account_changes_are_in_the_audit_log(db: Database, accounts: StaffAccounts) -> None:
    await make(accounts, "amina")
    await make(accounts, "rashad", role="analyst")
    await accounts.set_role(username="rashad", role="moderator", actor=ADMIN_ACTOR)
    await accounts.set_active(username="rashad", active=False, actor=ADMIN_ACTOR)
    await accounts.set_active(username="rashad", active=True, actor=ADMIN_ACTOR)
    await accounts.set_password(
        username="rashad", password="another fine phrase", actor=ADMIN_ACTOR
    )
    await accounts.create_api_token(username="rashad", name="script", actor=ADMIN_ACTOR)
    await accounts.revoke_api_token(username="rashad", name="script", actor=ADMIN_ACTOR)
    signed_in = await accounts.sign_in(username="amina", password=GOOD, ip="10.0.0.7")
    await accounts.sign_out(signed_in.session_id, ip="10.0.0.7")
    entries = await audit_entries(db)
    assert [(e.action, e.target_type, e.target_id) for e in entries] == [
        ("staff.create", "staff_account", "amina"),
        ("staff.create", "staff_account", "rashad"),
        ("staff.role", "staff_account", "rashad"),
        ("staff.disable", "staff_account", "rashad"),
        ("staff.enable", "staff_account", "rashad"),
        ("staff.password", "staff_account", "rashad"),
        ("staff.token_create", "staff_account", "rashad"),
        ("staff.token_revoke", "staff_account", "rashad"),
        ("staff.sign_in", "staff_account", "amina"),
        ("staff.sign_out", "staff_account", "amina"),
    ]
    assert {e.username for e in entries[:8]} == {"cli:tester"}
    assert entries[2].details == {"from": "analyst", "to": "moderator"}
    assert entries[6].details is not None and set(entries[6].details) == {"name", "prefix"}
    amina = (await accounts.get_account(username="amina")).id
    assert [(e.account_id, e.username, e.ip) for e in entries[8:]] == [
        (amina, "amina", "10.0.0.7"),
        (amina, "amina", "10.0.0.7"),
    ]
    assert all(GOOD not in str(e) and "another fine phrase" not in str(e) for e in entries)


async def test_a_failed_change_leaves_no_audit_entry(db: Database, accounts: StaffAccounts) -> None:
    await make(accounts, "amina")
    with pytest.raises(StaffAccountError):
        await accounts.set_active(username="amina", active=False, actor=ADMIN_ACTOR)
    assert [e.action for e in await audit_entries(db)] == ["staff.create"]


@pytest.mark.parametrize(
    "details",
    [
        {"phone": "x"},
        {"filters": {"Text": "anything"}},
        {"who": "+994 50 123 45 67"},
        {"rows": ["ok", "amina@example.org"]},
        {"number": "994501234567"},
        {"when": datetime(2026, 1, 1, tzinfo=UTC)},
        {"blob": "x" * 5000},
    ],
    ids=[
        "phone-key",
        "nested-text-key",
        "phone-value",
        "email-in-list",
        "digits",
        "not-json",
        "too-long",
    ],
)
async def test_personal_data_never_goes_into_audit_details(
    db: Database, details: dict[str, object]
) -> None:
    def record(session: object) -> None:
        AuditLog(session).record(actor=ADMIN_ACTOR, action="export.create", details=details)  # type: ignore[arg-type]

    with pytest.raises(AuditError):
        await db.write(record)
    assert await audit_entries(db) == []


async def test_audit_entries_record_counts_targets_and_read_back_filtered(db: Database) -> None:
    def record(session: object) -> None:
        log = AuditLog(session)  # type: ignore[arg-type]
        log.record(
            actor=ADMIN_ACTOR,
            action="export.create",
            target=("survey", "youth_priorities"),
            details={"format": "csv", "rows": 812, "from": "2026-11-01", "regions": ["baku"]},
            ip="192.0.2.1",
        )
        log.record(actor=ADMIN_ACTOR, action="campaign.schedule", target=("campaign", "c1"))

    await db.write(record)
    with pytest.raises(AuditError, match=r"noun\.verb"):
        await db.write(lambda s: AuditLog(s).record(actor=ADMIN_ACTOR, action="Exported!"))
    exports = await audit_entries(db, "export.create")
    assert [(e.target_id, e.details, e.ip) for e in exports] == [
        (
            "youth_priorities",
            {"format": "csv", "rows": 812, "from": "2026-11-01", "regions": ["baku"]},
            "192.0.2.1",
        )
    ]
    by_target = await db.read(lambda s: AuditLog(s).latest(target=("campaign", "c1")))
    assert [e.action for e in by_target] == ["campaign.schedule"]


# ------------------------------------------------------------------ CLI


@pytest.fixture
def wide_console(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(staff_cli.console, "width", 200)
    yield


async def invoke(database_url: str, *arguments: str, stdin: str | None = None) -> Result:
    return await asyncio.to_thread(
        CliRunner().invoke, cli, list(arguments), input=stdin, env={"DATABASE_URL": database_url}
    )


async def test_the_staff_commands(database_url: str, db: Database, wide_console: None) -> None:
    created = await invoke(
        database_url,
        "staff",
        "create",
        "Amina",
        "--role",
        "admin",
        "--name",
        "Amina Aliyeva",
        stdin=f"{GOOD}\n{GOOD}\n",
    )
    assert created.exit_code == 0, created.output
    assert "Account amina created (admin)." in created.output
    mismatch = await invoke(
        database_url,
        "staff",
        "create",
        "leyla",
        "--role",
        "analyst",
        stdin=f"{GOOD}\nsomething else entirely\n{GOOD}\n{GOOD}\n",
    )
    assert mismatch.exit_code == 0 and "do not match" in mismatch.output.lower()
    weak = await invoke(
        database_url,
        "staff",
        "create",
        "rashad",
        "--role",
        "organizer",
        "--password-stdin",
        stdin="short\n",
    )
    assert weak.exit_code == 1 and "at least 12 characters" in weak.output
    stdin = await invoke(
        database_url,
        "staff",
        "create",
        "rashad",
        "--role",
        "organizer",
        "--password-stdin",
        stdin="an organizer's long passphrase\n",
    )
    assert stdin.exit_code == 0, stdin.output
    duplicate = await invoke(
        database_url,
        "staff",
        "create",
        "RASHAD",
        "--role",
        "analyst",
        "--password-stdin",
        stdin=f"{GOOD}\n",
    )
    assert duplicate.exit_code == 1 and "already an account rashad" in duplicate.output

    role = await invoke(database_url, "staff", "role", "rashad", "analyst")
    assert role.exit_code == 0 and "rashad is now analyst" in role.output
    bad_role = await invoke(database_url, "staff", "role", "rashad", "owner")
    assert bad_role.exit_code == 2
    last_admin = await invoke(database_url, "staff", "disable", "amina")
    assert last_admin.exit_code == 1 and "only active admin" in last_admin.output
    disabled = await invoke(database_url, "staff", "disable", "leyla")
    assert disabled.exit_code == 0

    listed = await invoke(database_url, "staff", "list")
    assert listed.exit_code == 0
    lines = {
        line.split()[1]: line
        for line in listed.output.splitlines()
        if "│" in line and line.split()[1] in ("amina", "leyla", "rashad")
    }
    assert "Amina Aliyeva" in lines["amina"] and "admin" in lines["amina"]
    assert "disabled" in lines["leyla"] and "analyst" in lines["rashad"]

    token = await invoke(database_url, "staff", "token", "create", "rashad", "nightly export")
    assert token.exit_code == 0, token.output
    printed = token.stdout.strip().splitlines()[0]
    assert printed.startswith("sdg_")
    accounts = StaffAccounts(db)
    staff = await accounts.staff_for_token(printed)
    assert staff is not None and (staff.username, staff.role) == ("rashad", "analyst")
    tokens = await invoke(database_url, "staff", "token", "list", "rashad")
    assert "nightly export" in tokens.output and printed[:8] in tokens.output
    assert printed not in tokens.output
    revoked = await invoke(database_url, "staff", "token", "revoke", "rashad", "nightly export")
    assert revoked.exit_code == 0 and await accounts.staff_for_token(printed) is None
    again = await invoke(database_url, "staff", "token", "revoke", "rashad", "nightly export")
    assert again.exit_code == 1 and "no active token" in again.output

    audit = await invoke(database_url, "audit", "--limit", "3")
    assert audit.exit_code == 0
    shown = [
        a
        for a in ("staff.token_revoke", "staff.token_create", "staff.disable", "staff.role")
        if a in audit.output
    ]
    assert shown == ["staff.token_revoke", "staff.token_create", "staff.disable"]
    assert "cli:" in audit.output and printed not in audit.output
    only = await invoke(database_url, "audit", "--action", "staff.create")
    assert only.output.count("staff.create") == 3


# ------------------------------------------------------------------ web helpers


@require(Action.RESULTS_READ)
async def api_results(request: web.Request) -> web.Response:
    return web.json_response({"results": [], "staff": staff_of(request).username})


@require(Action.SURVEYS_UPLOAD)
async def api_upload(request: web.Request) -> web.Response:
    return web.json_response({"uploaded": True}, status=201)


@require(Action.MODERATION_ACT)
async def moderation_page(request: web.Request) -> web.Response:
    return web.Response(text=f"<form><input name=csrf_token value={csrf_token_for(request)}>")


@require(Action.MODERATION_ACT)
async def moderate(request: web.Request) -> web.Response:
    idea = (await request.post()).get("idea")  # read again after require's CSRF check
    assert isinstance(idea, str)
    return web.Response(text=f"moderated {idea}")


@require(Action.AUDIT_READ)
async def audit_page(request: web.Request) -> web.Response:
    return web.Response(text="audit")


async def login(request: web.Request) -> web.StreamResponse:
    auth = request.app[STAFF_AUTH]
    if is_cross_site(request):
        return web.Response(status=403)
    form = await request.post()
    try:
        signed_in = await auth.sign_in(
            request, username=str(form["username"]), password=str(form["password"])
        )
    except SignInRefused as refused:
        return web.Response(status=401, text=str(refused))
    response = web.Response(status=303, headers={"Location": safe_next(request.query.get("next"))})
    auth.start_session(response, signed_in)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    response = web.Response(status=303, headers={"Location": "/login"})
    await request.app[STAFF_AUTH].sign_out(request, response)
    return response


STAFF_AUTH = web.AppKey("test_staff_auth", StaffWebAuth)


def tiny_app(auth: StaffWebAuth) -> web.Application:
    app = web.Application()
    install_staff_auth(app, auth)
    app[STAFF_AUTH] = auth
    app.router.add_get("/api/results", api_results)
    app.router.add_post("/api/surveys", api_upload)
    app.router.add_get("/moderation", moderation_page)
    app.router.add_post("/moderation", moderate)
    app.router.add_get("/audit", audit_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    return app


@pytest.fixture
async def web_accounts(accounts: StaffAccounts) -> StaffAccounts:
    await make(accounts, "amina")
    await make(accounts, "mira", role="moderator")
    await make(accounts, "ali", role="analyst")
    return accounts


async def client_for(auth: StaffWebAuth) -> TestClient[web.Request, web.Application]:
    client = TestClient(TestServer(tiny_app(auth)), cookie_jar=DummyCookieJar())
    await client.start_server()
    return client


@pytest.fixture
async def client(
    web_accounts: StaffAccounts,
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    client = await client_for(StaffWebAuth(web_accounts, secure_cookies=False))
    yield client
    await client.close()


def session_cookie(response: object, name: str = SESSION_COOKIE) -> str:
    cookies = SimpleCookie()
    for header in response.headers.getall("Set-Cookie", []):  # type: ignore[attr-defined]
        cookies.load(header)
    return cookies[name].value


async def sign_in_as(
    client: TestClient[web.Request, web.Application], username: str
) -> dict[str, str]:
    response = await client.post(
        "/login", data={"username": username, "password": GOOD}, allow_redirects=False
    )
    assert response.status == 303
    return {"Cookie": f"{SESSION_COOKIE}={session_cookie(response)}"}


async def test_anonymous_requests_get_401_json_on_the_api_and_a_login_redirect_on_pages(
    client: TestClient[web.Request, web.Application],
) -> None:
    api = await client.get("/api/results")
    assert api.status == 401 and (await api.json())["error"] == "unauthorized"
    assert api.headers["WWW-Authenticate"].startswith("Bearer")
    page = await client.get("/audit?day=1", allow_redirects=False)
    assert page.status == 303 and page.headers["Location"] == "/login?next=/audit%3Fday%3D1"
    posted = await client.post("/moderation", allow_redirects=False)
    assert posted.status == 303 and posted.headers["Location"] == "/login"
    forged = await client.get("/api/results", headers={"Cookie": f"{SESSION_COOKIE}=made-up"})
    assert forged.status == 401


@pytest.mark.parametrize(
    ("username", "method", "path", "status"),
    [
        ("ali", "GET", "/api/results", 200),
        ("ali", "POST", "/api/surveys", 403),
        ("mira", "GET", "/api/results", 403),
        ("amina", "POST", "/api/surveys", 201),
        ("amina", "GET", "/api/results", 200),
    ],
    ids=["analyst-results", "analyst-upload", "moderator-results", "admin-upload", "admin-results"],
)
async def test_api_tokens_are_let_in_by_role(
    client: TestClient[web.Request, web.Application],
    web_accounts: StaffAccounts,
    username: str,
    method: str,
    path: str,
    status: int,
) -> None:
    made = await web_accounts.create_api_token(username=username, name="script", actor=ADMIN_ACTOR)
    response = await client.request(method, path, headers={"Authorization": f"Bearer {made.token}"})
    assert response.status == status
    body = await response.json()
    if status == 403:
        assert body["error"] == "forbidden" and body["action"] in ("surveys.upload", "results.read")
    elif path == "/api/results":
        assert body["staff"] == username


async def test_a_bad_token_is_401_even_beside_a_good_cookie(
    client: TestClient[web.Request, web.Application],
) -> None:
    cookie = await sign_in_as(client, "amina")
    response = await client.get(
        "/api/results", headers={**cookie, "Authorization": "Bearer sdg_revoked"}
    )
    assert response.status == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert (await client.get("/api/results", headers=cookie)).status == 200


async def test_cookie_sessions_need_the_csrf_token_on_every_post(
    client: TestClient[web.Request, web.Application],
) -> None:
    cookie = await sign_in_as(client, "mira")
    page = await client.get("/moderation", headers=cookie)
    assert page.status == 200
    token = re.search(r"value=(\S+)>", await page.text())
    assert token is not None
    missing = await client.post("/moderation", data={"idea": "12"}, headers=cookie)
    assert missing.status == 403 and "expired" in await missing.text()
    wrong = await client.post(
        "/moderation",
        data={"idea": "12", CSRF_FORM_FIELD: csrf_token(new_csrf_secret())},
        headers=cookie,
    )
    assert wrong.status == 403
    good = await client.post(
        "/moderation", data={"idea": "12", CSRF_FORM_FIELD: token.group(1)}, headers=cookie
    )
    assert good.status == 200 and await good.text() == "moderated 12"
    by_header = await client.post(
        "/moderation", data={"idea": "13"}, headers={**cookie, CSRF_HEADER: token.group(1)}
    )
    assert by_header.status == 200
    cross_site = await client.post(
        "/moderation",
        data={"idea": "14", CSRF_FORM_FIELD: token.group(1)},
        headers={**cookie, "Sec-Fetch-Site": "cross-site"},
    )
    assert cross_site.status == 403
    api = await client.post("/api/surveys", headers=cookie)
    assert api.status == 403  # moderators may not upload: the role is checked first
    assert (await api.json())["error"] == "forbidden"


async def test_a_role_that_may_not_gets_a_403_page(
    client: TestClient[web.Request, web.Application],
) -> None:
    cookie = await sign_in_as(client, "ali")
    response = await client.get("/audit", headers=cookie, allow_redirects=False)
    assert response.status == 403 and "analyst" in await response.text()
    admin = await sign_in_as(client, "amina")
    assert (await client.get("/audit", headers=admin)).status == 200


async def test_sign_in_rotates_and_sign_out_clears_the_cookie(
    client: TestClient[web.Request, web.Application],
) -> None:
    first = await sign_in_as(client, "amina")
    again = await client.post(
        "/login",
        data={"username": "amina", "password": GOOD},
        headers=first,
        allow_redirects=False,
    )
    second = {"Cookie": f"{SESSION_COOKIE}={session_cookie(again)}"}
    assert second != first
    assert (await client.get("/audit", headers=first, allow_redirects=False)).status == 303
    assert (await client.get("/audit", headers=second)).status == 200
    wrong = await client.post("/login", data={"username": "amina", "password": "nope nope nope"})
    assert wrong.status == 401 and await wrong.text() == SignInRefused.MESSAGE

    out = await client.post("/logout", headers=second, allow_redirects=False)
    cleared = out.headers["Set-Cookie"]
    assert cleared.startswith(f"{SESSION_COOKIE}=") and "Max-Age=0" in cleared
    assert (await client.get("/audit", headers=second, allow_redirects=False)).status == 303


@pytest.mark.parametrize(
    ("public_base_url", "name", "secure"),
    [
        ("https://outreach.example.org", SECURE_SESSION_COOKIE, True),
        ("http://127.0.0.1:8080", SESSION_COOKIE, False),
        (None, SESSION_COOKIE, False),
    ],
    ids=["https", "http", "unset"],
)
async def test_the_session_cookie_flags(
    web_accounts: StaffAccounts, public_base_url: str | None, name: str, secure: bool
) -> None:
    auth = StaffWebAuth.for_site(web_accounts, public_base_url=public_base_url)
    client = await client_for(auth)
    try:
        response = await client.post(
            "/login", data={"username": "amina", "password": GOOD}, allow_redirects=False
        )
        header = response.headers["Set-Cookie"]
        value = session_cookie(response, name)
        flags = {part.strip().split("=")[0].lower(): part for part in header.split(";")[1:]}
        assert header.startswith(f"{name}=")
        assert "httponly" in flags and flags["samesite"].strip() == "SameSite=Strict"
        assert flags["path"].strip() == "Path=/" and "domain" not in flags
        assert flags["max-age"].strip() == "Max-Age=43200"
        assert ("secure" in flags) is secure
        staff = await web_accounts.staff_for_session(value)
        assert isinstance(staff, SignedInStaff) and staff.username == "amina"
    finally:
        await client.close()


async def test_routes_answer_503_until_the_accounts_are_installed() -> None:
    app = web.Application()
    app.router.add_get("/api/results", api_results)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        assert (await client.get("/api/results")).status == 503
    finally:
        await client.close()


def test_next_addresses_stay_on_this_site() -> None:
    assert safe_next("/results?survey=a") == "/results?survey=a"
    for bad in ("https://evil.example", "//evil.example", "/\\evil.example", None, "results"):
        assert safe_next(bad) == "/"
