"""``outreach results``: a survey's results as they may be published, for people and machines.

Every count under k people is hidden (with whatever would let it be worked out)
and reads ``<5``; in JSON a hidden count is ``null`` beside its text, so no
script can print what staff may not see.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from outreach.survey_results import TextResults
from polls.analysis import Figure, Margins, MarginsFileError, load_margins
from polls.analysis.published import Breakdown, QuestionResults, Share
from polls.errors import OutreachError
from polls.i18n import translator
from polls.results import MIN_GROUP
from polls.text_analysis import ThemeDictionary, ThemeFileError, load_themes
from storage.analysis import DIMENSIONS
from storage.database import Database

console = Console()
errors = Console(stderr=True)


def figure_json(figure: Figure) -> dict[str, Any]:
    """A count as published: hidden counts have no number, only their text."""
    return {"count": figure.count if figure.shown else None, "text": figure.text}


def share_json(share: Share) -> dict[str, Any]:
    data = figure_json(share.figure)
    if share.percent is not None:
        data["percent"] = round(share.percent, 2)
    if share.low is not None and share.high is not None:
        data["ci95"] = [round(share.low, 2), round(share.high, 2)]
    if share.weighted_percent is not None:
        data["weighted_percent"] = round(share.weighted_percent, 2)
    return data


def question_json(result: QuestionResults) -> dict[str, Any]:
    data: dict[str, Any] = {
        "question_id": result.question_id,
        "kind": result.kind,
        "text": result.text,
        "answered": figure_json(result.answered),
    }
    if result.shares:
        data["choices"] = [
            {"value": value, "label": label, **share_json(result.shares[value])}
            for value, label in result.options
        ]
    if result.mean is not None:
        data.update(mean=round(result.mean, 3), median=result.median)
    return data


def breakdown_json(table: Breakdown, results: Any) -> dict[str, Any]:
    segments = []
    for segment in table.segments:
        entry: dict[str, Any] = {
            "segment": dict(zip(table.dimensions, segment, strict=True)),
            "label": results.segment_label(segment),
            "answered": figure_json(table.answered[segment]),
        }
        if table.options:
            entry["cells"] = [
                {"value": value, **share_json(table.cells[(segment, value)])}
                for value, _label in table.options
            ]
        if table.means.get(segment) is not None:
            entry["mean"] = round(table.means[segment] or 0, 3)
        segments.append(entry)
    return {
        "question_id": table.question_id,
        "dimensions": list(table.dimensions),
        "segments": segments,
    }


def results_json(results: Any, language: str = "en") -> dict[str, Any]:
    from outreach.survey_results import REPRESENTATIVENESS

    weighting = results.weighting
    return {
        "survey_id": results.survey_id,
        "version": results.version,
        "title": results.title,
        "k": results.k,
        "dimensions": list(results.dimensions),
        "started": figure_json(results.started),
        "completed": share_json(results.completed),
        "funnel": [{"question_id": q, **figure_json(f)} for q, f in results.funnel],
        "questions": [question_json(q) for q in results.questions],
        "breakdowns": [breakdown_json(b, results) for b in results.breakdowns],
        "invitations": [
            {
                "campaign_id": i.campaign_id,
                "name": i.name,
                "reached": figure_json(i.reached),
                "responded": share_json(i.responded),
                "completed": share_json(i.completed),
            }
            for i in results.invitations
        ],
        "weighting": None
        if weighting is None
        else {
            "dimensions": list(weighting.dimensions),
            "respondents": weighting.respondents,
            "effective_sample_size": round(weighting.effective_sample_size, 1),
            "converged": weighting.converged,
            "unknown_categories": weighting.unknown_categories,
            "empty_categories": weighting.empty_categories,
            "missing_values": weighting.missing_values,
        },
        "notes": [translator(language)(REPRESENTATIVENESS)],
    }


def text_json(text: TextResults, results: Any) -> dict[str, Any]:
    """Free text as published: only terms, phrases and themes at least k answers share."""
    return {
        "question_id": text.question_id,
        "text": text.text,
        "segments": [
            {
                "segment": None
                if part.segment is None
                else dict(zip(results.dimensions, part.segment, strict=True)),
                "answers": figure_json(part.answers),
                "terms": [{"term": t.text, "answers": t.answers} for t in part.terms],
                "phrases": [{"phrase": t.text, "answers": t.answers} for t in part.phrases],
                "themes": part.themes,
            }
            for part in text.segments
        ],
    }


def _text_table(text: TextResults, results: Any) -> Table:
    table = Table(
        title=f"{text.question_id}: {text.text} (approved free text)", title_justify="left"
    )
    for column in ("who", "answers", "top terms", "phrases", "themes"):
        table.add_column(column)
    for part in text.segments:
        who = "everyone" if part.segment is None else results.segment_label(part.segment)
        table.add_row(
            who,
            part.answers.text,
            ", ".join(f"{t.text} {t.answers}" for t in part.terms),
            ", ".join(f"{t.text} {t.answers}" for t in part.phrases),
            ", ".join(
                f"{text.theme_names.get(theme, theme)} {count}"
                for theme, count in sorted(part.themes.items(), key=lambda item: -item[1])
            ),
        )
    table.caption = "Terms, phrases and themes fewer than k answers share are not listed."
    return table


def _percent(share: Share, digits: int = 1) -> str:
    return "" if share.percent is None else f"{share.percent:.{digits}f}"


def _question_table(result: QuestionResults, weighted: bool) -> Table:
    table = Table(title=f"{result.question_id}: {result.text}", title_justify="left")
    for column in ("Answer", "People", "%", "95% CI"):
        table.add_column(column, justify="left" if column == "Answer" else "right")
    if weighted:
        table.add_column("weighted %", justify="right")
    for value, label in result.options:
        share = result.shares[value]
        interval = "" if share.low is None else f"{share.low:.1f}-{share.high:.1f}"
        row = [label, share.figure.text, _percent(share), interval]
        if weighted:
            row.append("" if share.weighted_percent is None else f"{share.weighted_percent:.1f}")
        table.add_row(*row)
    if result.mean is not None:
        table.add_row("mean", f"{result.mean:.2f}", "", "")
        table.add_row("median", f"{result.median:g}", "", "")
    table.caption = f"{result.answered.text} answered"
    return table


def _breakdown_table(breakdown: Breakdown, results: Any) -> Table:
    names = " x ".join(breakdown.dimensions)
    table = Table(title=f"{breakdown.question_id} by {names}", title_justify="left")
    table.add_column(names)
    table.add_column("answered", justify="right")
    for _value, label in breakdown.options:
        table.add_column(label, justify="right")
    if breakdown.means:
        table.add_column("mean", justify="right")
    for segment in breakdown.segments:
        row = [results.segment_label(segment), breakdown.answered[segment].text]
        for value, _label in breakdown.options:
            share = breakdown.cells[(segment, value)]
            row.append(
                share.figure.text
                if share.percent is None
                else f"{share.figure.text} ({share.percent:.0f}%)"
            )
        if breakdown.means:
            mean = breakdown.means.get(segment)
            row.append("" if mean is None else f"{mean:.1f}")
        table.add_row(*row)
    return table


def parse_dimensions(value: str | None, *, required: bool = False) -> tuple[str, ...]:
    """``--by``: one or two different dimensions, separated by a comma."""
    names = tuple(part.strip() for part in (value or "").split(",") if part.strip())
    if not names and not required:
        return ()
    if (
        not names
        or len(names) > 2
        or len(set(names)) != len(names)
        or not set(names) <= set(DIMENSIONS)
    ):
        raise click.BadParameter(
            f"give one or two of {', '.join(DIMENSIONS)} separated by a comma, "
            "for example --by region,age_band",
            param_hint="--by",
        )
    return names


def read_margins(path: Path | None) -> Margins | None:
    """A margins file, or every problem in it on stderr and a clean exit."""
    if path is None:
        return None
    try:
        return load_margins(path)
    except MarginsFileError as error:
        raise _problems_in(error.problems, path) from None


def read_themes(path: Path) -> ThemeDictionary:
    """A theme dictionary, or every problem in it on stderr and a clean exit."""
    try:
        return load_themes(path)
    except ThemeFileError as error:
        raise _problems_in(error.problems, path) from None


def _problems_in(problems: Sequence[object], path: Path) -> click.ClickException:
    for problem in problems:
        errors.print(str(problem), highlight=False, markup=False)
    return click.ClickException(f"{len(problems)} problem(s) in {path}")


@click.command()
@click.argument("survey_id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.option("--language", default="en", show_default=True, help="Language of the labels.")
@click.option(
    "--by",
    "by",
    default=None,
    help=f"Break down by one or two of: {', '.join(DIMENSIONS)} (e.g. region,age_band).",
)
@click.option(
    "--k",
    default=MIN_GROUP,
    show_default=True,
    type=click.IntRange(3, 100),
    help="The fewest people a published count may describe.",
)
@click.option(
    "--margins",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Population margins (CSV: dimension,category,share) to weight by.",
)
@click.option(
    "--text",
    "with_text",
    is_flag=True,
    help="Also the top terms and phrases of approved free text (by segment with --by).",
)
@click.option(
    "--themes",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A theme dictionary (e.g. analysis/sdg_themes.yaml): free text counted by theme.",
)
def results(
    survey_id: str,
    as_json: bool,
    language: str,
    by: str | None,
    k: int,
    margins: Path | None,
    with_text: bool,
    themes: Path | None,
) -> None:
    """Counts, percentages with 95% intervals, breakdowns, funnel and invitations of a survey."""
    from outreach.cli import load_settings
    from outreach.survey_results import REPRESENTATIVENESS, survey_results, text_results

    dimensions = parse_dimensions(by)
    population = read_margins(margins)
    dictionary = read_themes(themes) if themes else None
    settings = load_settings()

    async def run() -> tuple[Any, list[TextResults]]:
        database = Database(settings.database_url)
        try:
            await database.migrate()
            found = await survey_results(
                database,
                survey_id,
                dimensions=dimensions,
                k=k,
                margins=population,
                language=language,
                regions=settings.regions,
            )
            texts = []
            if with_text or dictionary is not None:
                texts = await text_results(
                    database,
                    survey_id,
                    dimensions=dimensions,
                    themes=dictionary,
                    k=k,
                    language=language,
                )
            return found, texts
        finally:
            await database.dispose()

    try:
        found, texts = asyncio.run(run())
    except OutreachError as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        document = results_json(found, language)
        if texts:
            document["free_text"] = [text_json(t, found) for t in texts]
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    console.print(
        f"[bold]{found.survey_id}[/bold] (version {found.version}): "
        f"{found.started.text} started, {found.completed.figure.text} completed"
        + (f" ({found.completed.percent:.0f}%)" if found.completed.percent is not None else "")
        + f"; counts under {k} people read <{k}"
    )
    funnel = Table(title="Funnel: people who answered each question", title_justify="left")
    funnel.add_column("question")
    funnel.add_column("people", justify="right")
    for question_id, figure in found.funnel:
        funnel.add_row(question_id, figure.text)
    console.print(funnel)
    weighted = found.weighting is not None
    for result in found.questions:
        console.print(_question_table(result, weighted))
    for table in found.breakdowns:
        console.print(_breakdown_table(table, found))
    if found.invitations:
        invitations = Table(title="Invitations", title_justify="left")
        for column in ("campaign", "reached", "began", "%", "completed", "%"):
            invitations.add_column(column, justify="left" if column == "campaign" else "right")
        for rate in found.invitations:
            invitations.add_row(
                rate.campaign_id,
                rate.reached.text,
                rate.responded.figure.text,
                _percent(rate.responded, 0),
                rate.completed.figure.text,
                _percent(rate.completed, 0),
            )
        console.print(invitations)
    if found.weighting is not None:
        w = found.weighting
        console.print(
            f"Weighted by {', '.join(w.dimensions)} to the population margins: "
            f"{w.respondents} people, effective sample size {w.effective_sample_size:.0f}"
            + ("" if w.converged else " (raking did not converge: read weighted figures with care)")
        )
    for text in texts:
        console.print(_text_table(text, found))
    console.print(translator(language)(REPRESENTATIVENESS), style="italic")
