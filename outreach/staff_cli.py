"""``outreach staff`` and ``outreach audit``: staff console accounts from the server's shell.

Whoever runs these has the server's shell, so no password is asked for; each
change is written to the audit log as ``cli:<operating-system user>``.
``outreach staff create NAME --role admin`` makes the first admin.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from outreach.console.accounts import StaffAccounts
from outreach.console.roles import Role
from storage.audit import Actor, AuditLog, AuditRecord

console = Console()
_T = TypeVar("_T")
ROLES = click.Choice([role.value for role in Role])


def _run(work: Callable[[StaffAccounts], Awaitable[_T]]) -> _T:
    from outreach.cli import run_on_database

    return run_on_database(lambda database: work(StaffAccounts(database)))


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise click.ClickException("--password-stdin: no password on standard input")
        return password
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@click.group()
def staff() -> None:
    """Staff console accounts: create, list, roles, disable, API tokens."""


@staff.command("create")
@click.argument("username")
@click.option("--role", type=ROLES, required=True, help="What the account may do.")
@click.option("--name", "display_name", default=None, help="The person's name, as shown.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def staff_create(username: str, role: str, display_name: str | None, password_stdin: bool) -> None:
    """Make an account (the first one: --role admin). Asks for its password twice."""
    password = _read_password(password_stdin)
    member = _run(
        lambda accounts: accounts.create_account(
            username=username,
            password=password,
            role=role,
            display_name=display_name,
            actor=Actor.command_line(),
        )
    )
    console.print(Text(f"Account {member.username} created ({member.role})."))


@staff.command("list")
def staff_list() -> None:
    """Every account, its role and state."""
    members = _run(lambda accounts: accounts.list_accounts())
    if not members:
        console.print("No accounts yet: outreach staff create NAME --role admin")
        return
    table = Table(title_justify="left")
    for column in ("username", "name", "role", "state", "created", "last sign-in"):
        table.add_column(column)
    for member in members:
        state = "active" if member.active else "disabled"
        if member.locked_until is not None and member.active:
            state = f"locked until {_when(member.locked_until)} UTC"
        table.add_row(
            Text(member.username),
            Text(member.display_name or ""),
            member.role,
            state,
            _when(member.created_at),
            _when(member.last_login_at),
        )
    console.print(table)


@staff.command("role")
@click.argument("username")
@click.argument("role", type=ROLES)
def staff_role(username: str, role: str) -> None:
    """Give an account another role (it applies at its next request)."""
    member = _run(
        lambda accounts: accounts.set_role(username=username, role=role, actor=Actor.command_line())
    )
    console.print(Text(f"{member.username} is now {member.role}."))


@staff.command("disable")
@click.argument("username")
def staff_disable(username: str) -> None:
    """Stop an account: its sessions end and its API tokens stop working."""
    member = _run(
        lambda accounts: accounts.set_active(
            username=username, active=False, actor=Actor.command_line()
        )
    )
    console.print(Text(f"{member.username} is disabled."))


@staff.command("enable")
@click.argument("username")
def staff_enable(username: str) -> None:
    """Let a disabled account sign in again."""
    member = _run(
        lambda accounts: accounts.set_active(
            username=username, active=True, actor=Actor.command_line()
        )
    )
    console.print(Text(f"{member.username} is enabled."))


@staff.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def staff_password(username: str, password_stdin: bool) -> None:
    """Set a new password (ends the account's sessions, lifts a lockout)."""
    password = _read_password(password_stdin)
    _run(
        lambda accounts: accounts.set_password(
            username=username, password=password, actor=Actor.command_line()
        )
    )
    console.print(Text(f"New password set for {username.strip().lower()}."))


@staff.group("token")
def staff_token() -> None:
    """API tokens for scripts: they act with their account's role."""


@staff_token.command("create")
@click.argument("username")
@click.argument("name")
def token_create(username: str, name: str) -> None:
    """Make a token named NAME for USERNAME and print it, this once only."""
    made = _run(
        lambda accounts: accounts.create_api_token(
            username=username, name=name, actor=Actor.command_line()
        )
    )
    click.echo(made.token)
    click.echo(
        "Keep it now: it is not stored and cannot be shown again. "
        "Send it as: Authorization: Bearer <token>",
        err=True,
    )


@staff_token.command("revoke")
@click.argument("username")
@click.argument("name")
def token_revoke(username: str, name: str) -> None:
    """Revoke USERNAME's token NAME: it stops working at once."""
    info = _run(
        lambda accounts: accounts.revoke_api_token(
            username=username, name=name, actor=Actor.command_line()
        )
    )
    console.print(Text(f"Token {info.name!r} ({info.prefix}…) revoked."))


@staff_token.command("list")
@click.argument("username")
def token_list(username: str) -> None:
    """USERNAME's tokens: name, first characters, use, revocation."""
    tokens = _run(lambda accounts: accounts.list_api_tokens(username=username))
    table = Table(title_justify="left")
    for column in ("name", "token", "created", "last used", "revoked"):
        table.add_column(column)
    for info in tokens:
        table.add_row(
            Text(info.name),
            f"{info.prefix}…",
            _when(info.created_at),
            _when(info.last_used_at),
            _when(info.revoked_at),
        )
    console.print(table)


@click.command("audit")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--action", default=None, help="Only this action, e.g. staff.create.")
def audit(limit: int, action: str | None) -> None:
    """The newest entries of the audit log: who did what to what, when (UTC)."""

    async def read(accounts: StaffAccounts) -> list[AuditRecord]:
        return await accounts.db.read(lambda s: AuditLog(s).latest(limit=limit, action=action))

    entries = _run(read)
    if not entries:
        console.print("The audit log is empty.")
        return
    table = Table(title_justify="left")
    for column in ("when", "who", "action", "target", "details", "ip"):
        table.add_column(column)
    for entry in entries:
        target = f"{entry.target_type}:{entry.target_id}" if entry.target_type else ""
        details = json.dumps(entry.details, ensure_ascii=False) if entry.details else ""
        table.add_row(
            entry.at.strftime("%Y-%m-%d %H:%M:%S"),
            Text(entry.username),
            entry.action,
            Text(target),
            Text(details),
            entry.ip or "",
        )
    console.print(table)
