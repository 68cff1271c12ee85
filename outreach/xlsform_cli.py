"""``outreach surveys import-xlsform``: a KoBoToolbox or ODK form becomes a survey file.

The YAML it writes is an ordinary survey file: keep it in git, review it, and
load it with ``outreach surveys load``. Nothing is written when the form has
problems; they are listed by sheet, row and column with what to change.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click
from rich.console import Console

from polls.survey_loader import SurveyProblem
from polls.xlsform import XlsFormError, convert_xlsform, document_to_yaml

console = Console()
errors = Console(stderr=True)


def _print(problems: Sequence[SurveyProblem], heading: str) -> None:
    if problems:
        errors.print(heading, highlight=False, markup=False, soft_wrap=True)
    for problem in problems:
        errors.print(f"  {problem}", highlight=False, markup=False, soft_wrap=True)


@click.command("import-xlsform")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--id", "survey_id", help="The survey id (default: form_id on the settings sheet).")
@click.option(
    "--languages",
    help="Comma-separated language codes, such as az,ru,en "
    "(default: the languages of the label columns).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Where to write the YAML (default: SURVEYS_DIR/<id>.yaml; '-' prints it).",
)
@click.option("--force", is_flag=True, help="Replace the output file if it exists.")
def import_xlsform(
    file: Path, survey_id: str | None, languages: str | None, out: Path | None, force: bool
) -> None:
    """Convert an XLSForm (.xlsx or .xls) into a survey file (YAML)."""
    codes = [code.strip() for code in languages.split(",") if code.strip()] if languages else None
    try:
        conversion = convert_xlsform(file, survey_id=survey_id, languages=codes)
    except XlsFormError as error:
        _print(error.problems, "Problems (nothing was written):")
        _print(error.notices, "Also set aside, once those are fixed:")
        raise click.ClickException(f"{len(error.problems)} problem(s) in {file}") from None
    survey = conversion.survey
    text = document_to_yaml(
        conversion.document,
        comment=f"Imported from {file.name} with 'outreach surveys import-xlsform'.",
    )
    _print(conversion.notices, "Set aside (the survey works without them):")
    if out is not None and str(out) == "-":
        click.echo(text, nl=False)
        return
    if out is None:
        from outreach.cli import load_settings

        out = load_settings().surveys_dir / f"{survey.id}.yaml"
    if out.exists() and not force:
        raise click.ClickException(f"{out} exists: pass --force to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    console.print(
        f"{survey.id}: {len(survey.questions)} questions in {', '.join(survey.languages)} "
        f"written to {out}. Load it with: outreach surveys load {out}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
