"""``outreach export``: a survey's answers as CSV, XLSX, Parquet or a FLOIP package."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from outreach.exports import (
    ExportFormat,
    ExportOptions,
    ExportResult,
    Withheld,
    export_survey,
    plan_export,
)
from polls.errors import OutreachError
from storage.database import Database

console = Console()


@click.command("export")
@click.argument("survey_id")
@click.option(
    "--format",
    "export_format",
    type=click.Choice([f.value for f in ExportFormat]),
    required=True,
    help="csv, xlsx, parquet, or floip (a FLOIP Flow Results package: a folder).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="File to write (a folder for floip; an existing folder gets SURVEY_ID.<format>).",
)
@click.option(
    "--include-unmoderated-text",
    is_flag=True,
    help="Also export free text nobody has approved yet (contact details are masked).",
)
@click.option(
    "--language", default="en", show_default=True, help="Language of choice and question labels."
)
@click.option(
    "--no-bom",
    is_flag=True,
    help="CSV without the byte order mark (Excel needs it to read ə, ş, я right).",
)
def export(
    survey_id: str,
    export_format: str,
    out: Path,
    include_unmoderated_text: bool,
    language: str,
    no_bom: bool,
) -> None:
    """Every answer of SURVEY_ID (all versions), one row each, with pseudonymous ids only.

    Free text leaves only when approved (or with --include-unmoderated-text), with
    phone numbers, @handles, e-mails and links masked; rejected text never leaves.
    """
    from outreach.app import resolve_pseudonym_secret
    from outreach.cli import load_settings

    settings = load_settings()
    chosen = ExportFormat(export_format)
    options = ExportOptions(
        include_unmoderated_text=include_unmoderated_text, language=language, csv_bom=not no_bom
    )

    async def run() -> ExportResult:
        database = Database(settings.database_url)
        try:
            await database.migrate()
            plan = await plan_export(database, survey_id)
            secret = await resolve_pseudonym_secret(settings, database)
            total = plan[1].count
            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
            )
            with Progress(
                *columns, console=console, transient=True, disable=not console.is_terminal
            ) as progress:
                task = progress.add_task(f"{survey_id} → {chosen.value}", total=total)
                return await export_survey(
                    database,
                    survey_id=survey_id,
                    export_format=chosen,
                    out=out,
                    secret=secret,
                    options=options,
                    plan=plan,
                    on_progress=lambda done: progress.update(task, completed=done),
                )
        finally:
            await database.dispose()

    try:
        result = asyncio.run(run())
    except OutreachError as error:
        raise click.ClickException(str(error)) from None
    console.print(
        f"Wrote {result.rows} answers to {result.path}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    unmoderated = result.withheld.get(Withheld.UNMODERATED.value, 0)
    rejected = result.withheld.get(Withheld.REJECTED.value, 0)
    if unmoderated:
        console.print(
            f"{unmoderated} free-text answers not yet moderated were left empty "
            "(text_withheld=unmoderated): moderate them first, or pass --include-unmoderated-text.",
            highlight=False,
            markup=False,
        )
    if rejected:
        console.print(
            f"{rejected} rejected free-text answers were left empty (text_withheld=rejected).",
            highlight=False,
            markup=False,
        )
    if result.masked:
        console.print(
            f"Contact details were masked in {result.masked} free-text answers.", highlight=False
        )
