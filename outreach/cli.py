"""The ``outreach`` command: serve, migrate, check and load surveys, read results."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from aiohttp import web
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from outreach.logs import configure_logging
from outreach.settings import Settings, SettingsError
from polls.errors import OutreachError
from polls.survey_loader import validate_survey_files
from storage.database import Database

console = Console()
T = TypeVar("T")
errors = Console(stderr=True)

NO_TOKEN_MESSAGE = """\
SMS only: TELEGRAM_BOT_TOKEN is not set, so there is no Telegram bot.
To add one, talk to @BotFather in Telegram (/newbot) and set TELEGRAM_BOT_TOKEN.
"""


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        lines = [
            f"  - {'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in error.errors()
        ]
        raise click.ClickException("Invalid settings:\n" + "\n".join(lines)) from None


def run_on_database(
    work: Callable[[Database], Awaitable[T]],
    *,
    explain: Callable[[OutreachError], str] = str,
) -> T:
    """``work`` against the migrated database of the settings; our errors as clean messages."""
    settings = load_settings()

    async def run() -> T:
        database = Database(settings.database_url)
        try:
            await database.migrate()
            return await work(database)
        finally:
            await database.dispose()

    try:
        return asyncio.run(run())
    except OutreachError as error:
        raise click.ClickException(explain(error)) from None


@click.group()
def main() -> None:
    """sdg-outreach: Telegram and SMS surveys for public engagement on the SDGs."""


@main.command()
@click.option("--host", default=None, help="Address to listen on (default: HOST).")
@click.option("--port", default=None, type=int, help="Port to listen on (default: PORT).")
def serve(host: str | None, port: int | None) -> None:
    """Run the service: webhooks, the bot and the SMS channel, in one process.

    With no Telegram token and no Twilio account, it runs the sandbox: both
    platforms emulated on this computer, and a page to chat with the bot.
    """
    from outreach.sandbox.runtime import wants_sandbox

    settings = load_settings()
    host = host or settings.host
    port = port or settings.port
    if wants_sandbox(settings):
        # The sandbox prints one line, its address; set LOG_LEVEL to see more.
        explicit = "log_level" in settings.model_fields_set
        configure_logging(settings.log_level if explicit else "WARNING")
        asyncio.run(_serve_sandbox(settings, host, port))
        return
    configure_logging(settings.log_level)
    try:
        settings.check()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    if not settings.token():
        errors.print(NO_TOKEN_MESSAGE, highlight=False)
    from outreach.app import create_web_app

    web.run_app(
        create_web_app(settings),
        host=host,
        port=port,
        print=lambda text: console.print(text, highlight=False),
    )


async def _serve_sandbox(settings: Settings, host: str, port: int) -> None:
    """The service against the emulators, until Ctrl+C or SIGTERM."""
    import signal

    from outreach.app import running
    from outreach.sandbox.runtime import Sandbox

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for name in ("SIGINT", "SIGTERM"):
        with contextlib.suppress(NotImplementedError, AttributeError):
            loop.add_signal_handler(getattr(signal, name), stop.set)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    async with Sandbox() as sandbox:
        sandbox_settings = sandbox.settings_for(settings, f"http://{shown}:{port}")
        async with running(sandbox_settings, host, port, sandbox):
            console.print(f"Sandbox: http://{shown}:{port}/sandbox", highlight=False)
            await stop.wait()


@main.group()
def db() -> None:
    """Database schema."""


async def _migrate(database_url: str) -> None:
    database = Database(database_url)
    try:
        await database.migrate()
    finally:
        await database.dispose()


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration (serve does this too)."""
    asyncio.run(_migrate(load_settings().database_url))
    console.print("Database schema is up to date.")


@db.command("revision")
@click.argument("message")
def db_revision(message: str) -> None:
    """Write a migration for changes in storage/models.py (compared with DATABASE_URL)."""
    from alembic import command

    from storage.database import alembic_config

    settings = load_settings()
    asyncio.run(_migrate(settings.database_url))
    os.environ["DATABASE_URL"] = settings.database_url
    command.revision(alembic_config(), message=message, autogenerate=True)


@main.group()
def surveys() -> None:
    """Survey files."""


@surveys.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def surveys_validate(paths: tuple[Path, ...]) -> None:
    """Check survey files (or folders of them) and list every problem."""
    problems = validate_survey_files(paths)
    for problem in problems:
        errors.print(str(problem), highlight=False, markup=False)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) found")
    console.print("All surveys are valid.")


@surveys.command("load")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def surveys_load(paths: tuple[Path, ...]) -> None:
    """Store survey files as new versions (default: every file in SURVEYS_DIR)."""
    from outreach.survey_catalogue import SurveyCatalogue, survey_files

    settings = load_settings()
    files: list[Path] = []
    for path in paths or (settings.surveys_dir,):
        files.extend(survey_files(path) if path.is_dir() else [path])

    async def run() -> list[tuple[str, int, bool]]:
        database = Database(settings.database_url)
        try:
            await database.migrate()
            return await SurveyCatalogue(database).load_files(files)
        finally:
            await database.dispose()

    try:
        loaded = asyncio.run(run())
    except OutreachError as error:
        raise click.ClickException(str(error)) from None
    for survey_id, version, created in loaded:
        state = "stored as a new version" if created else "unchanged"
        console.print(f"{survey_id}: version {version} ({state})")


@main.group()
def sms() -> None:
    """SMS tools."""


@sms.command("cost")
@click.argument("text")
@click.option("--language", default="az", show_default=True, help="For transliteration.")
def sms_cost_command(text: str, language: str) -> None:
    """Encoding, segments and characters left for TEXT, before and after transliteration."""
    from polls.sms_text import cheaper

    gsm_text, before, after = cheaper(text, language)
    table = Table(title_justify="left")
    for column in ("", "encoding", "segments", "characters left", "forced by"):
        table.add_column(column)
    table.add_row(
        "as written",
        before.encoding.value,
        str(before.segments),
        str(before.characters_left),
        before.first_non_gsm or "",
    )
    table.add_row(
        "transliterated",
        after.encoding.value,
        str(after.segments),
        str(after.characters_left),
        after.first_non_gsm or "",
    )
    console.print(table)
    console.print(f"transliterated: {gsm_text}", highlight=False, markup=False)


@sms.command("survey-cost")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def sms_survey_cost(path: Path) -> None:
    """Segments of every SMS of a survey file, per language, as written and transliterated."""
    from outreach.sms.survey_cost import survey_sms_costs
    from polls.survey_loader import load_survey_file

    try:
        survey = load_survey_file(path)
    except OutreachError as error:
        raise click.ClickException(str(error)) from None
    costs = survey_sms_costs(survey)
    table = Table(title=f"{survey.id}: SMS segments per person", title_justify="left")
    for column in ("message", "language", "as written", "transliterated"):
        table.add_column(column, justify="left" if column in ("message", "language") else "right")
    totals: dict[str, list[int]] = {}
    for cost in costs:
        table.add_row(
            cost.item,
            cost.language,
            f"{cost.as_written.segments} ({cost.as_written.encoding.value})",
            f"{cost.transliterated.segments} ({cost.transliterated.encoding.value})",
        )
        total = totals.setdefault(cost.language, [0, 0])
        total[0] += cost.as_written.segments
        total[1] += cost.transliterated.segments
    for language, (before, after) in totals.items():
        table.add_row("[bold]total[/bold]", language, str(before), str(after))
    console.print(table)
    console.print("Set sms_transliterate: true in the survey file to send it transliterated.")


# ---------------------------------------------------------------- campaigns


def _manager(database: Database, settings: Settings) -> Any:
    from outreach.campaigns.manage import CampaignManager

    return CampaignManager(
        database,
        zone=settings.timezone,
        segment_price=settings.sms_segment_price,
        currency=settings.sms_price_currency,
        transliterate=settings.sms_transliterate,
    )


def _with_manager(work: Any) -> Any:
    """Run ``work(manager)`` against a migrated database; errors become clean messages."""
    settings = load_settings()

    async def run() -> Any:
        database = Database(settings.database_url)
        try:
            await database.migrate()
            return await work(_manager(database, settings))
        finally:
            await database.dispose()

    try:
        return asyncio.run(run())
    except OutreachError as error:
        raise click.ClickException(str(error)) from None


@main.group()
def campaign() -> None:
    """Broadcasts: announcements, survey invitations, events."""


@campaign.command("create")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def campaign_create(path: Path) -> None:
    """Store a campaign file as a draft (a draft can be replaced; a scheduled one cannot)."""

    async def work(manager: Any) -> Any:
        return await manager.create(path)

    created, new = _with_manager(work)
    state = "created" if new else "replaced"
    console.print(f"Campaign {created.id} {state} as a draft.")
    console.print(f"Next: outreach campaign preview {created.id}", highlight=False)


@campaign.command("preview")
@click.argument("campaign_id")
def campaign_preview(campaign_id: str) -> None:
    """Audience size per channel and language, each message as sent, SMS segments and cost."""

    async def work(manager: Any) -> Any:
        return await manager.preview(campaign_id)

    preview = _with_manager(work)
    console.print(f"[bold]{preview.campaign.name}[/bold] ({preview.campaign.kind.value})")
    console.print(f"Reaches {preview.total} people, each on one channel.")
    table = Table(title_justify="left")
    for column in ("channel", "language", "people", "SMS encoding", "segments each"):
        table.add_column(column)
    for sample in preview.samples:
        table.add_row(
            sample.channel,
            sample.language,
            str(sample.recipients),
            sample.sms.encoding.value if sample.sms else "",
            str(sample.sms.segments) if sample.sms else "",
        )
    console.print(table)
    if preview.sms_segments:
        console.print(
            f"SMS: {preview.sms_segments} segments, about "
            f"{preview.estimated_cost:.2f} {preview.currency} "
            f"(at {load_settings().sms_segment_price} a segment: SMS_SEGMENT_PRICE)"
        )
    for sample in preview.samples:
        console.rule(f"{sample.channel} · {sample.language}")
        console.print(sample.text, highlight=False, markup=False)


def _move(verb: str, campaign_id: str) -> Any:
    async def work(manager: Any) -> Any:
        return await getattr(manager, verb)(campaign_id)

    return _with_manager(work)


@campaign.command("schedule")
@click.argument("campaign_id")
def campaign_schedule(campaign_id: str) -> None:
    """Let it go: now, at its time, or on its cron times (the running service sends it)."""
    _move("schedule", campaign_id)
    console.print(f"Campaign {campaign_id} is scheduled.")
    console.print(f"Follow it: outreach campaign status {campaign_id} --watch", highlight=False)


@campaign.command("pause")
@click.argument("campaign_id")
def campaign_pause(campaign_id: str) -> None:
    """Hold the messages not yet sent."""
    _move("pause", campaign_id)
    console.print(f"Campaign {campaign_id} is paused.")


@campaign.command("resume")
@click.argument("campaign_id")
def campaign_resume(campaign_id: str) -> None:
    """Send the held messages again."""
    _move("resume", campaign_id)
    console.print(f"Campaign {campaign_id} goes on.")


@campaign.command("cancel")
@click.argument("campaign_id")
def campaign_cancel(campaign_id: str) -> None:
    """Stop it for good; messages not yet sent are skipped."""
    skipped = _move("cancel", campaign_id)
    console.print(f"Campaign {campaign_id} is cancelled; {skipped} messages were not sent.")


@campaign.command("list")
def campaign_list() -> None:
    """Every campaign, where it stands, and its messages by status."""

    async def work(manager: Any) -> Any:
        return await manager.list()

    rows = _with_manager(work)
    if not rows:
        console.print("No campaigns yet: outreach campaign create FILE")
    for stored, counts in rows:
        shown = ", ".join(f"{status} {count}" for status, count in counts.items() if count)
        console.print(
            f"{stored.campaign.id}  {stored.campaign.kind.value}  {stored.status}"
            + (f"  ({shown})" if shown else ""),
            highlight=False,
            markup=False,
        )


@campaign.command("status")
@click.argument("campaign_id")
@click.option("--watch", is_flag=True, help="Keep a live progress bar until it is done.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def campaign_status(campaign_id: str, watch: bool, as_json: bool) -> None:
    """Messages by status: pending, sent, delivered, failed, skipped, unknown."""
    from rich.progress import BarColumn, Progress, TextColumn

    async def once(manager: Any) -> Any:
        return await manager.status(campaign_id)

    if not watch:
        stored, counts = _with_manager(once)
        if as_json:
            click.echo(json.dumps({"campaign": campaign_id, "status": stored.status, **counts}))
            return
        console.print(f"{campaign_id}: {stored.status}")
        console.print("  ".join(f"{k}: {v}" for k, v in counts.items()))
        return

    async def follow(manager: Any) -> None:
        columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[line]}"))
        with Progress(*columns, console=console) as progress:
            task = progress.add_task(campaign_id, total=None, line="")
            while True:
                stored, counts = await manager.status(campaign_id)
                total = sum(counts.values())
                done = total - counts["pending"] - counts["sending"]
                line = "  ".join(f"{k} {v}" for k, v in counts.items() if v)
                progress.update(task, total=total or None, completed=done, line=line)
                if stored.status in ("completed", "cancelled") or (total and done == total):
                    break
                await asyncio.sleep(1.0)

    _with_manager(follow)


@main.group()
def events() -> None:
    """Event invitations and their answers."""


@events.command("attendees")
@click.argument("campaign_id")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here.")
def events_attendees(campaign_id: str, out: Path | None) -> None:
    """Who answered an event invitation, as CSV: participant codes, never names or numbers."""
    import csv
    import io

    from outreach.app import resolve_pseudonym_secret
    from polls.pseudonym import pseudonymous_id
    from storage.events import EventRepository

    settings = load_settings()

    async def run() -> tuple[list[dict[str, object]], str]:
        database = Database(settings.database_url)
        try:
            await database.migrate()
            rows = await database.read(
                lambda s: EventRepository(s).attendees(campaign_id=campaign_id)
            )
            return rows, await resolve_pseudonym_secret(settings, database)
        finally:
            await database.dispose()

    rows, secret = asyncio.run(run())
    buffer = io.StringIO()
    columns = [
        "participant",
        "response",
        "waitlisted",
        "responded_at",
        "channel",
        "language",
        "region",
        "age_band",
    ]
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                "participant": pseudonymous_id(secret, int(str(row["respondent_id"]))),
                **{key: row[key] for key in columns[1:]},
            }
        )
    if out is None:
        click.echo(buffer.getvalue(), nl=False)
    else:
        out.write_text(buffer.getvalue(), encoding="utf-8")
        going = sum(1 for r in rows if r["response"] == "going" and not r["waitlisted"])
        console.print(f"{len(rows)} answers ({going} going) written to {out}")


def _register_commands() -> None:
    """Command groups kept in modules of their own, each one obvious place."""
    from outreach.export_cli import export
    from outreach.report_cli import report
    from outreach.results_cli import results
    from outreach.staff_cli import audit, staff
    from outreach.texts_cli import texts
    from outreach.xlsform_cli import import_xlsform
    from outreach.youth_cli import challenge, quizzes, teams

    for command in (results, export, report, texts, teams, quizzes, challenge, staff, audit):
        main.add_command(command)
    surveys.add_command(import_xlsform)


_register_commands()
