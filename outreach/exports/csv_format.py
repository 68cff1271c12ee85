"""CSV: one row per answer, UTF-8, with a byte order mark by default.

Excel reads a CSV file without a byte order mark in the computer's legacy code
page, which turns Azerbaijani and Cyrillic letters into mojibake; with the mark
it reads UTF-8. pandas (``encoding="utf-8-sig"``), R and LibreOffice read it
either way; ``csv_bom=False`` leaves it out for tools that would keep it as part
of the first column's name.

Times are ISO 8601 with their offset (``+00:00``). Several choices are one cell,
separated by spaces. A free-text answer that begins with = + - or @ gets a
leading apostrophe, so a spreadsheet shows it instead of running it as a formula.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from outreach.exports.common import COLUMNS, ExportRow, partial_path, response_text
from polls.survey import QuestionKind

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    """Text a spreadsheet shows as written (OWASP's advice against CSV injection)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class CsvAnswerWriter:
    def __init__(self, path: Path, *, bom: bool = True) -> None:
        self.path = path
        self._part = partial_path(path)
        self._file = self._part.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="")
        self._csv = csv.writer(self._file)
        self._csv.writerow(COLUMNS)

    def write(self, rows: Sequence[ExportRow]) -> None:
        text_kind = QuestionKind.TEXT.value
        self._csv.writerows(
            (
                row.row_id,
                row.answered_at.isoformat(),
                row.contact_id,
                row.session_id,
                row.survey_version,
                row.question_id,
                row.question_kind,
                safe_cell(response_text(row))
                if row.question_kind == text_kind
                else response_text(row),
                row.response_label or "",
                row.text_withheld or "",
                row.channel,
                row.language or "",
                row.region or "",
                row.age_band or "",
                row.gender or "",
            )
            for row in rows
        )

    def finish(self) -> None:
        self._file.close()
        self._part.replace(self.path)

    def abort(self) -> None:
        self._file.close()
        self._part.unlink(missing_ok=True)
