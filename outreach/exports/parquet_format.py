"""Parquet: typed columns, row groups of ``ROW_GROUP_ROWS`` answers.

The response has three typed columns, one filled per row: ``response`` (a
choice value, yes or no, or the text), ``response_number`` (a number or a
rating) and ``response_choices`` (list<string>, for multiple choice). Times are
``timestamp[us, tz=UTC]``. The file's key-value metadata ``sdg_outreach`` holds
the survey's questions (id, type, labels, choices) as JSON.

Batches are gathered into row groups of 50,000 rows: big enough to read fast,
small enough to keep memory flat.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from outreach.exports.common import COLUMNS, ExportRow, SurveyExport, partial_path

ROW_GROUP_ROWS = 50_000

_STRING_COLUMNS = (
    "contact_id",
    "session_id",
    "question_id",
    "question_kind",
    "response",
    "response_label",
    "text_withheld",
    "channel",
    "language",
    "region",
    "age_band",
    "gender",
)
_TYPES: dict[str, pa.DataType] = {
    "row_id": pa.int64(),
    "answered_at": pa.timestamp("us", tz="UTC"),
    "survey_version": pa.int32(),
    "response_number": pa.float64(),
    "response_choices": pa.list_(pa.string()),
    **dict.fromkeys(_STRING_COLUMNS, pa.string()),
}
NAMES = (*COLUMNS[:8], "response_number", "response_choices", *COLUMNS[8:])


def parquet_schema(survey: SurveyExport, language: str) -> pa.Schema:
    about = {
        "survey_id": survey.survey_id,
        "versions": [v.version for v in survey.versions],
        "exported_at": datetime.now(UTC).isoformat(),
        "labels_language": language,
        "questions": [
            {
                "id": q.id,
                "type": q.kind.value,
                "versions": list(q.versions),
                "labels": dict(q.text),
                "choices": [{"value": c.value, "labels": dict(c.label)} for c in q.choices],
            }
            for q in survey.questions
        ],
    }
    return pa.schema(
        [pa.field(name, _TYPES[name]) for name in NAMES],
        metadata={"sdg_outreach": json.dumps(about, ensure_ascii=False)},
    )


class ParquetAnswerWriter:
    def __init__(self, path: Path, survey: SurveyExport, *, language: str) -> None:
        self.path = path
        self._part = partial_path(path)
        self._schema = parquet_schema(survey, language)
        self._writer = pq.ParquetWriter(self._part, self._schema, compression="snappy")
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0

    def write(self, rows: Sequence[ExportRow]) -> None:
        columns: dict[str, list[Any]] = {name: [] for name in NAMES}
        for row in rows:
            value = row.response
            text: str | None = None
            number: float | None = None
            picks: list[str] | None = None
            if isinstance(value, list):
                picks = value
            elif isinstance(value, int | float) and not isinstance(value, bool):
                number = float(value)
            elif value is not None:
                text = str(value)
            columns["row_id"].append(row.row_id)
            columns["answered_at"].append(row.answered_at)
            columns["contact_id"].append(row.contact_id)
            columns["session_id"].append(row.session_id)
            columns["survey_version"].append(row.survey_version)
            columns["question_id"].append(row.question_id)
            columns["question_kind"].append(row.question_kind)
            columns["response"].append(text)
            columns["response_number"].append(number)
            columns["response_choices"].append(picks)
            columns["response_label"].append(row.response_label)
            columns["text_withheld"].append(row.text_withheld)
            columns["channel"].append(row.channel)
            columns["language"].append(row.language)
            columns["region"].append(row.region)
            columns["age_band"].append(row.age_band)
            columns["gender"].append(row.gender)
        self._pending.append(pa.RecordBatch.from_pydict(columns, schema=self._schema))
        self._pending_rows += len(rows)
        if self._pending_rows >= ROW_GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            table = pa.Table.from_batches(self._pending, schema=self._schema)
            self._writer.write_table(table, row_group_size=max(table.num_rows, 1))
        self._pending, self._pending_rows = [], 0

    def finish(self) -> None:
        self._flush()
        self._writer.close()
        self._part.replace(self.path)

    def abort(self) -> None:
        try:
            self._writer.close()
        finally:
            self._part.unlink(missing_ok=True)
