"""FLOIP Flow Results 1.0 package: a folder with ``datapackage.json`` and ``responses.json``.

The specification (flow-results, "Resource Data") asks for the responses as a
JSON array of 7-column row arrays at the resource's ``path``:
``[timestamp, row_id, contact_id, session_id, question_id, response,
response_metadata]``. They are written as a stream, one row a line, and the
descriptor last, so a package with a ``datapackage.json`` is a complete one.

Decisions:

* One package per survey, all versions together (the specification's "Option 2"):
  ``id`` is a version 4 UUID derived from PSEUDONYM_SECRET and the survey id,
  stable for the deployment; ``created`` is when the first version was loaded,
  ``modified`` when the latest was. Questions of every version are listed; a
  question whose kind changed between versions is listed twice (``id.vN``).
* Types: single choice and yes/no are ``select_one``, multiple choice
  ``select_many`` (choices as ``type_options.choices``), number and rating
  ``numeric`` (``type_options.range`` when both ends are known), text ``text``.
* ``response_metadata`` holds the channel and the survey version, and
  ``withheld`` ("unmoderated", "rejected") for free text left out (its response
  is then ""). Profile columns (region, age band...) are in the other formats.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from outreach.exports.common import (
    ExportError,
    ExportQuestion,
    ExportRow,
    SurveyExport,
    partial_path,
)
from polls.survey import NO, YES, QuestionKind, localize

PROFILE = "flow-results-package"
SPECIFICATION_VERSION = "1.0.0-rc1"
DESCRIPTOR = "datapackage.json"
RESPONSES = "responses.json"

FIELDS = (
    {"name": "timestamp", "title": "Timestamp", "type": "datetime"},
    {"name": "row_id", "title": "Row ID", "type": "string"},
    {"name": "contact_id", "title": "Contact ID", "type": "string"},
    {"name": "session_id", "title": "Session ID", "type": "string"},
    {"name": "question_id", "title": "Question ID", "type": "string"},
    {"name": "response", "title": "Response", "type": "any"},
    {"name": "response_metadata", "title": "Response Metadata", "type": "object"},
)
QUESTION_TYPES = {
    QuestionKind.SINGLE_CHOICE: "select_one",
    QuestionKind.YES_NO: "select_one",
    QuestionKind.MULTIPLE_CHOICE: "select_many",
    QuestionKind.NUMBER: "numeric",
    QuestionKind.RATING: "numeric",
    QuestionKind.TEXT: "text",
}
# ISO 639-1 -> ISO 639-3, for the schema's optional ``language``.
ISO_639_3 = {
    "az": "aze",
    "ru": "rus",
    "en": "eng",
    "kk": "kaz",
    "uz": "uzb",
    "ky": "kir",
    "tg": "tgk",
    "tk": "tuk",
    "tr": "tur",
    "uk": "ukr",
    "hy": "hye",
    "ka": "kat",
}


def timestamp(moment: datetime) -> str:
    """RFC 3339 with the offset written out: ``+00:00``, never ``Z``."""
    return moment.astimezone(UTC).isoformat()


def package_id(secret: str, survey_id: str) -> str:
    """A version 4 UUID, the same for every export of this survey in this deployment."""
    digest = hmac.new(secret.encode(), f"floip-package:{survey_id}".encode(), hashlib.sha256)
    return str(uuid.UUID(bytes=digest.digest()[:16], version=4))


def _number(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def floip_question(question: ExportQuestion, label: str) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if question.kind is QuestionKind.YES_NO:
        options["choices"] = [YES, NO]
    elif question.kind in (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE):
        options["choices"] = [c.value for c in question.choices]
    elif question.minimum is not None and question.maximum is not None:
        options["range"] = [_number(question.minimum), _number(question.maximum)]
    return {"type": QUESTION_TYPES[question.kind], "label": label, "type_options": options}


def descriptor(survey: SurveyExport, *, secret: str, language: str) -> dict[str, Any]:
    """The package's ``datapackage.json``."""
    schema: dict[str, Any] = {
        "fields": list(FIELDS),
        "questions": {
            q.key: floip_question(q, survey.label(q, language)) for q in survey.questions
        },
    }
    if language in ISO_639_3:
        schema["language"] = ISO_639_3[language]
    return {
        "profile": PROFILE,
        "flow_results_specification_version": SPECIFICATION_VERSION,
        "name": survey.survey_id,
        "title": localize(survey.latest.title, language, survey.languages),
        "id": package_id(secret, survey.survey_id),
        "created": timestamp(survey.versions[0].loaded_at),
        "modified": timestamp(survey.versions[-1].loaded_at),
        "resources": [
            {
                "name": "responses",
                "path": RESPONSES,
                "access_method": "file",
                "mediatype": "application/json",
                "encoding": "utf-8",
                "schema": schema,
            }
        ],
    }


class FloipAnswerWriter:
    def __init__(self, folder: Path, survey: SurveyExport, *, secret: str, language: str) -> None:
        if folder.exists() and not folder.is_dir():
            raise ExportError(
                f"{folder} is a file: a FLOIP package is a folder, name a folder with --out"
            )
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder
        self.survey = survey
        self._descriptor = descriptor(survey, secret=secret, language=language)
        self._responses = folder / RESPONSES
        self._part = partial_path(self._responses)
        (folder / DESCRIPTOR).unlink(missing_ok=True)
        self._file = self._part.open("w", encoding="utf-8")
        self._file.write("[")
        self._separator = "\n"

    def _key(self, row: ExportRow) -> str:
        question = self.survey.question(row.question_id, row.question_kind)
        return question.key if question is not None else row.question_id

    def write(self, rows: Sequence[ExportRow]) -> None:
        dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        lines = []
        for row in rows:
            metadata: dict[str, Any] = {
                "channel": row.channel,
                "survey_version": row.survey_version,
            }
            response: Any = row.response
            if row.text_withheld is not None:
                metadata["withheld"] = row.text_withheld
                response = ""
            lines.append(
                dumps(
                    [
                        timestamp(row.answered_at),
                        row.row_id,
                        row.contact_id,
                        row.session_id,
                        self._key(row),
                        response,
                        metadata,
                    ]
                )
            )
        if lines:
            self._file.write(self._separator + ",\n".join(lines))
            self._separator = ",\n"

    def finish(self) -> None:
        self._file.write("\n]\n")
        self._file.close()
        self._part.replace(self._responses)
        (self.path / DESCRIPTOR).write_text(
            json.dumps(self._descriptor, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )

    def abort(self) -> None:
        self._file.close()
        self._part.unlink(missing_ok=True)
