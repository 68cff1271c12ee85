"""Export one survey's answers, all versions, to a file or a FLOIP package.

Answers are read in batches of answer ids, each batch in a ``Database.read`` of
its own, while the batch before is turned into rows and written on a thread:
memory holds two batches at most, whatever the number of answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from outreach.exports.common import (
    AnswerWriter,
    ExportError,
    ExportFormat,
    ExportOptions,
    RowBuilder,
    SurveyExport,
    load_survey_export,
)
from storage.database import Database
from storage.export_rows import AnswerRow, AnswerSpan, answer_span, stream_answer_rows

logger = logging.getLogger(__name__)

SUFFIXES = {
    ExportFormat.CSV: ".csv",
    ExportFormat.XLSX: ".xlsx",
    ExportFormat.PARQUET: ".parquet",
    ExportFormat.FLOIP: "",
}


@dataclass(frozen=True)
class ExportResult:
    path: Path
    rows: int
    withheld: dict[str, int] = field(default_factory=dict)
    """Free-text answers left out, by reason (unmoderated, rejected)."""
    masked: int = 0
    """Free-text answers in which contact details were masked."""


async def plan_export(db: Database, survey_id: str) -> tuple[SurveyExport, AnswerSpan]:
    """The survey's versions and how many answers an export of it would hold now."""

    def read(session: Session) -> tuple[SurveyExport, AnswerSpan]:
        return load_survey_export(session, survey_id), answer_span(session, survey_id=survey_id)

    return await db.read(read)


def target_path(out: Path, survey_id: str, export_format: ExportFormat) -> Path:
    """Where the export goes: ``out``, or a file named after the survey inside folder ``out``."""
    if export_format is not ExportFormat.FLOIP and out.is_dir():
        return out / f"{survey_id}{SUFFIXES[export_format]}"
    return out


def open_writer(
    export_format: ExportFormat,
    path: Path,
    survey: SurveyExport,
    *,
    secret: str,
    options: ExportOptions,
) -> AnswerWriter:
    if export_format is not ExportFormat.FLOIP:
        path.parent.mkdir(parents=True, exist_ok=True)
    if export_format is ExportFormat.CSV:
        from outreach.exports.csv_format import CsvAnswerWriter

        return CsvAnswerWriter(path, bom=options.csv_bom)
    if export_format is ExportFormat.XLSX:
        from outreach.exports.xlsx_format import XlsxAnswerWriter

        return XlsxAnswerWriter(path, survey, language=options.language)
    if export_format is ExportFormat.PARQUET:
        from outreach.exports.parquet_format import ParquetAnswerWriter

        return ParquetAnswerWriter(path, survey, language=options.language)
    from outreach.exports.floip_format import FloipAnswerWriter

    return FloipAnswerWriter(path, survey, secret=secret, language=options.language)


async def export_survey(
    db: Database,
    *,
    survey_id: str,
    export_format: ExportFormat,
    out: Path,
    secret: str,
    options: ExportOptions | None = None,
    plan: tuple[SurveyExport, AnswerSpan] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ExportResult:
    """Write every answer of ``survey_id`` (that exists now) as ``export_format`` at ``out``.

    ``secret`` keys the pseudonyms (PSEUDONYM_SECRET). ``on_progress`` gets the
    number of rows written so far after each batch. Raises UnknownSurveyError
    for a survey that was never loaded. A failed export leaves no file at ``out``
    (a FLOIP folder without ``datapackage.json``: not a package).
    """
    options = options or ExportOptions()
    if not secret:
        raise ExportError("no pseudonym secret: set PSEUDONYM_SECRET")
    survey, span = plan or await plan_export(db, survey_id)
    path = target_path(out, survey_id, export_format)
    builder = RowBuilder(survey, secret, options)
    writer = await asyncio.to_thread(
        open_writer, export_format, path, survey, secret=secret, options=options
    )

    def write(batch: list[AnswerRow]) -> None:
        writer.write(builder.build(batch))

    batches = stream_answer_rows(db, survey_id=survey_id, span=span, batch_size=options.batch_size)
    try:
        async with contextlib.aclosing(batches):
            async for batch in batches:
                await asyncio.to_thread(write, batch)
                if on_progress is not None:
                    on_progress(builder.counts.rows)
        await asyncio.to_thread(writer.finish)
    except BaseException:
        await asyncio.to_thread(writer.abort)
        raise
    counts = builder.counts
    logger.info(
        "exported %d answers of survey %s as %s", counts.rows, survey_id, export_format.value
    )
    return ExportResult(writer.path, counts.rows, dict(counts.withheld), counts.masked)
