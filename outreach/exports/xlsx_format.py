"""XLSX: a sheet of answers, one row each, and a sheet "questions".

Written with XlsxWriter in ``constant_memory`` mode: each row goes to a
temporary file as soon as the next begins, so memory stays flat however many
answers there are (XlsxWriter is also several times faster than openpyxl's
write-only mode). Past Excel's 1,048,576 rows a sheet, answers go on in
"answers 2", "answers 3", ...

Every text is written as text, never as a formula or a link. Excel has no time
zones: times are UTC, as the column's name says.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import xlsxwriter

from outreach.exports.common import (
    COLUMNS,
    ExportRow,
    SurveyExport,
    partial_path,
    response_text,
)

ANSWERS_SHEET = "answers"
QUESTIONS_SHEET = "questions"
EXCEL_ROWS = 1_048_576
HEADER = tuple("answered_at (UTC)" if c == "answered_at" else c for c in COLUMNS)
WIDTHS = {"answered_at (UTC)": 19, "contact_id": 18, "session_id": 18, "response": 24}


class XlsxAnswerWriter:
    def __init__(
        self, path: Path, survey: SurveyExport, *, language: str, rows_per_sheet: int = EXCEL_ROWS
    ) -> None:
        self.path = path
        self.survey = survey
        self.language = language
        self._part = partial_path(path)
        self._rows_per_sheet = rows_per_sheet
        self._book = xlsxwriter.Workbook(
            str(self._part),
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "remove_timezone": True,
            },
        )
        self._bold = self._book.add_format({"bold": True})
        self._time = self._book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self._sheets = 0
        self._sheet: Any = None
        self._next_row = 0
        self._new_answers_sheet()

    def _new_answers_sheet(self) -> None:
        self._sheets += 1
        name = ANSWERS_SHEET if self._sheets == 1 else f"{ANSWERS_SHEET} {self._sheets}"
        sheet = self._book.add_worksheet(name)
        for column, title in enumerate(HEADER):
            sheet.set_column(column, column, WIDTHS.get(title, 12))
        sheet.write_row(0, 0, HEADER, self._bold)
        sheet.freeze_panes(1, 0)
        self._sheet, self._next_row = sheet, 1

    def write(self, rows: Sequence[ExportRow]) -> None:
        # Typed calls straight to XlsxWriter: write_row's per-cell type dispatch
        # costs as much again. A None cell is left empty.
        time_format = self._time
        for row in rows:
            if self._next_row >= self._rows_per_sheet:
                self._new_answers_sheet()
            index = self._next_row
            self._next_row = index + 1
            sheet = self._sheet
            text, number = sheet.write_string, sheet.write_number
            number(index, 0, row.row_id)
            sheet.write_datetime(index, 1, row.answered_at, time_format)
            text(index, 2, row.contact_id)
            text(index, 3, row.session_id)
            number(index, 4, row.survey_version)
            text(index, 5, row.question_id)
            text(index, 6, row.question_kind)
            response = row.response
            if isinstance(response, int | float) and not isinstance(response, bool):
                number(index, 7, response)
            elif response is not None:
                text(index, 7, response_text(row))
            for column, value in enumerate(
                (
                    row.response_label,
                    row.text_withheld,
                    row.channel,
                    row.language,
                    row.region,
                    row.age_band,
                    row.gender,
                ),
                start=8,
            ):
                if value is not None:
                    text(index, column, value)

    def _write_questions(self) -> None:
        languages = self.survey.languages
        sheet = self._book.add_worksheet(QUESTIONS_SHEET)
        header = ("id", "type", "versions", "choices", *(f"label_{lang}" for lang in languages))
        sheet.write_row(0, 0, header, self._bold)
        sheet.freeze_panes(1, 0)
        sheet.set_column(0, 3, 16)
        sheet.set_column(4, 3 + len(languages), 60)
        for index, question in enumerate(self.survey.questions, start=1):
            sheet.write_row(
                index,
                0,
                (
                    question.id,
                    question.kind.value,
                    " ".join(str(v) for v in question.versions),
                    " ".join(c.value for c in question.choices),
                    *(question.text.get(lang, "") for lang in languages),
                ),
            )

    def finish(self) -> None:
        self._write_questions()
        self._book.close()
        self._part.replace(self.path)

    def abort(self) -> None:
        try:
            self._book.close()
        finally:
            self._part.unlink(missing_ok=True)
