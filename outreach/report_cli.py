"""``outreach report``: the month's engagement, survey results, themes and campaigns as HTML."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click
from rich.console import Console

from outreach.results_cli import parse_dimensions, read_margins, read_themes
from polls.errors import OutreachError
from polls.i18n import available_languages
from polls.results import MIN_GROUP
from polls.text_analysis import ThemeDictionary
from storage.analysis import DIMENSIONS
from storage.database import Database

console = Console()
errors = Console(stderr=True)

DEFAULT_THEMES = Path("analysis") / "sdg_themes.yaml"


def _themes(path: Path | None) -> ThemeDictionary | None:
    chosen = path or DEFAULT_THEMES
    if not chosen.is_file():
        if path is not None:
            raise click.ClickException(f"no theme list at {path}")
        errors.print(
            f"No theme list at {DEFAULT_THEMES}: the report leaves themes out "
            "(give one with --themes).",
            highlight=False,
            markup=False,
        )
        return None
    return read_themes(chosen)


@click.command("report")
@click.option("--month", required=True, help="The month to report on, as YYYY-MM (2026-11).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The HTML file to write (one self-contained page).",
)
@click.option(
    "--language",
    type=click.Choice(available_languages()),
    default="en",
    show_default=True,
    help="Language of the report.",
)
@click.option(
    "--k",
    default=MIN_GROUP,
    show_default=True,
    type=click.IntRange(3, 100),
    help="The fewest people a published count may describe.",
)
@click.option(
    "--by",
    default="region",
    show_default=True,
    help=f"Break each survey down by one or two of: {', '.join(DIMENSIONS)} (region,age_band).",
)
@click.option(
    "--per",
    type=click.Choice(["day", "week"]),
    default="day",
    show_default=True,
    help="Periods of the engagement series by channel.",
)
@click.option(
    "--margins",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Population margins (CSV: dimension,category,share): weighted percentages beside.",
)
@click.option(
    "--themes",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Theme dictionary for free text (default: {DEFAULT_THEMES} if it exists).",
)
@click.option(
    "--to-date",
    is_flag=True,
    help="Survey results from every answer to date, not only the month's answers.",
)
@click.option(
    "--pdf",
    is_flag=True,
    help="Also print the page to PDF beside it, with headless Chromium if installed.",
)
def report(
    month: str,
    out: Path,
    language: str,
    k: int,
    by: str,
    per: str,
    margins: Path | None,
    themes: Path | None,
    to_date: bool,
    pdf: bool,
) -> None:
    """The month's report: who took part, each survey's results, themes, campaign delivery.

    No figure describes fewer than K people (it reads <K), and no name, phone
    number or answer text appears. Survey results count the month's answers
    (or, with --to-date, every answer so far).
    """
    from outreach.cli import load_settings
    from outreach.monthly_report import (
        ReportMonth,
        ReportOptions,
        collect_report,
        render_report,
    )
    from outreach.monthly_report.pdf import PdfUnavailable, print_pdf

    dimensions = parse_dimensions(by, required=True)
    population = read_margins(margins)
    dictionary = _themes(themes)
    settings = load_settings()
    try:
        period = ReportMonth.parse(month, settings.timezone)
    except OutreachError as error:
        raise click.BadParameter(str(error), param_hint="--month") from None
    options = ReportOptions(
        language=language,
        k=k,
        per=per,
        by=dimensions,
        margins=population,
        themes=dictionary,
        regions=tuple(settings.regions),
        default_language=settings.default_language,
        segment_price=settings.sms_segment_price,
        currency=settings.sms_price_currency,
        to_date=to_date,
    )

    async def run() -> str:
        database = Database(settings.database_url)
        try:
            await database.migrate()
            return render_report(await collect_report(database, period, options))
        finally:
            await database.dispose()

    try:
        page = asyncio.run(run())
    except OutreachError as error:
        raise click.ClickException(str(error)) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    console.print(f"Wrote the report for {month} to {out}", highlight=False, markup=False)
    if pdf:
        pdf_file = out.with_suffix(".pdf")
        try:
            print_pdf(out, pdf_file)
        except PdfUnavailable as error:
            raise click.ClickException(str(error)) from None
        console.print(f"Wrote {pdf_file}", highlight=False, markup=False)
