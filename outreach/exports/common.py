"""What every export format shares: the survey as exported, the rows, the writer shape.

A row is one answer, ready to leave the database: the person and the session as
keyed pseudonyms (HMAC with PSEUDONYM_SECRET, stable within a deployment), the
profile columns (region, age band, gender, language), and the value. Free text
leaves only when staff approved it (or when asked for with
``include_unmoderated_text``), always with contact details masked
(``polls.redaction``); rejected text never leaves. Text that does not leave is
an empty value with ``text_withheld`` saying why, so row counts still match the
database.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session

from polls.errors import OutreachError
from polls.i18n import translator
from polls.pseudonym import pseudonymous_id
from polls.redaction import mask_personal
from polls.survey import NO, YES, Choice, LocalizedText, QuestionKind, Survey, localize
from storage.export_rows import (
    EXPORT_BATCH,
    AnswerRow,
    VersionInfo,
    stored_survey_ids,
    survey_versions,
)
from storage.surveys import SurveyRepository

APPROVED = "approved"
REJECTED = "rejected"
# Kinds as plain strings: compared once per row.
_TEXT = QuestionKind.TEXT.value
_MULTIPLE = QuestionKind.MULTIPLE_CHOICE.value
_SINGLE = QuestionKind.SINGLE_CHOICE.value
_YES_NO = QuestionKind.YES_NO.value


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    PARQUET = "parquet"
    FLOIP = "floip"


class Withheld(StrEnum):
    """Why a free-text answer was left out of an export."""

    UNMODERATED = "unmoderated"
    REJECTED = "rejected"


class ExportError(OutreachError):
    """An export cannot be made; the message says what to do."""


class UnknownSurveyError(ExportError):
    pass


@dataclass(frozen=True)
class ExportOptions:
    include_unmoderated_text: bool = False
    """Export free text nobody has approved yet (masked like approved text)."""
    language: str = "en"
    """Language of labels: choice labels in rows, FLOIP question labels."""
    csv_bom: bool = True
    """Begin CSV files with a UTF-8 byte order mark, so Excel reads ə, ş, я right."""
    batch_size: int = EXPORT_BATCH


# The columns of the tabular formats (CSV, XLSX, Parquet), in order.
COLUMNS = (
    "row_id",
    "answered_at",
    "contact_id",
    "session_id",
    "survey_version",
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

Response = str | list[str] | int | float | None


@dataclass(frozen=True, slots=True)
class ExportRow:
    row_id: int
    """The answer's own id: unique, increasing, and leads to no person."""
    answered_at: datetime
    contact_id: str
    session_id: str
    survey_version: int
    question_id: str
    question_kind: str
    response: Response
    """A choice value, a list of them (multiple choice), a number, the text, or None
    when the text is withheld."""
    response_label: str | None
    """The choice label(s) in the export's language, for choice questions."""
    text_withheld: str | None
    channel: str
    language: str | None
    region: str | None
    age_band: str | None
    gender: str | None


@dataclass(frozen=True)
class ExportQuestion:
    """A question as exported, across all the versions that asked it the same way.

    A question whose kind changed between versions is two questions here; the
    one of the latest version keeps the plain id as ``key``, the other gets
    ``id.vN`` (FLOIP needs one type per question id).
    """

    id: str
    key: str
    kind: QuestionKind
    text: LocalizedText
    choices: tuple[Choice, ...]
    minimum: float | None
    maximum: float | None
    versions: tuple[int, ...]


@dataclass
class SurveyExport:
    """Every stored version of a survey, and its questions as exported."""

    survey_id: str
    versions: list[VersionInfo]
    surveys: dict[int, Survey]
    """Parsed surveys by version id."""
    questions: list[ExportQuestion]
    _by_id_kind: dict[tuple[str, str], ExportQuestion] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id_kind = {(q.id, q.kind.value): q for q in self.questions}

    @property
    def latest(self) -> Survey:
        return self.surveys[self.versions[-1].version_id]

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages of every version, the latest version's first."""
        seen: dict[str, None] = {}
        for info in reversed(self.versions):
            seen.update(dict.fromkeys(self.surveys[info.version_id].languages))
        return tuple(seen)

    def question(self, question_id: str, kind: str) -> ExportQuestion | None:
        return self._by_id_kind.get((question_id, kind))

    def label(self, question: ExportQuestion, language: str) -> str:
        return localize(question.text, language, self.languages)


def merge_questions(
    versions: list[VersionInfo], surveys: dict[int, Survey]
) -> list[ExportQuestion]:
    """Questions of every version, newest definition first, in the latest version's order."""
    merged: dict[tuple[str, QuestionKind], ExportQuestion] = {}
    for info in reversed(versions):
        for question in surveys[info.version_id].questions:
            slot = (question.id, question.kind)
            known = merged.get(slot)
            minimum, maximum = question.minimum, question.maximum
            if question.kind is QuestionKind.RATING:
                points = question.rating_values()
                minimum, maximum = points[0], points[-1]
            if known is None:
                taken = any(q.key == question.id for q in merged.values())
                merged[slot] = ExportQuestion(
                    id=question.id,
                    key=f"{question.id}.v{info.version}" if taken else question.id,
                    kind=question.kind,
                    text=question.text,
                    choices=question.choices,
                    minimum=minimum,
                    maximum=maximum,
                    versions=(info.version,),
                )
                continue
            values = {c.value for c in known.choices}
            merged[slot] = ExportQuestion(
                id=known.id,
                key=known.key,
                kind=known.kind,
                text=known.text,
                choices=known.choices + tuple(c for c in question.choices if c.value not in values),
                minimum=None
                if known.minimum is None or minimum is None
                else min(known.minimum, minimum),
                maximum=None
                if known.maximum is None or maximum is None
                else max(known.maximum, maximum),
                versions=(info.version, *known.versions),
            )
    return list(merged.values())


def load_survey_export(session: Session, survey_id: str) -> SurveyExport:
    """Every version of ``survey_id``; UnknownSurveyError naming the fix if there is none."""
    versions = survey_versions(session, survey_id=survey_id)
    if not versions:
        known = stored_survey_ids(session)
        if not known:
            raise UnknownSurveyError(
                f"no survey '{survey_id}' is stored, nor any other yet: "
                "load the survey file first: outreach surveys load PATH"
            )
        raise UnknownSurveyError(
            f"no survey '{survey_id}' is stored (stored surveys: {', '.join(known)}). "
            "Check the id, or load the survey file first: outreach surveys load PATH"
        )
    repository = SurveyRepository(session)
    surveys: dict[int, Survey] = {}
    for info in versions:
        stored = repository.by_version_id(version_id=info.version_id)
        assert stored is not None
        surveys[info.version_id] = stored.survey
    return SurveyExport(survey_id, versions, surveys, merge_questions(versions, surveys))


def pseudonymous_session_id(secret: str, session_id: int) -> str:
    """A keyed HMAC of a survey session's id, keyed apart from respondents' pseudonyms."""
    digest = hmac.new(secret.encode(), f"survey_session:{session_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:16]


@dataclass
class ExportCounts:
    rows: int = 0
    withheld: dict[str, int] = field(default_factory=dict)
    masked: int = 0
    """Texts in which contact details were masked."""


class RowBuilder:
    """Turns stored answers into export rows: pseudonyms, labels, moderation, masking."""

    def __init__(self, survey: SurveyExport, secret: str, options: ExportOptions) -> None:
        self.survey = survey
        self.secret = secret
        self.options = options
        self.counts = ExportCounts()
        self._version_number = {v.version_id: v.version for v in survey.versions}
        self._labels: dict[tuple[int, str], dict[str, str]] = {}
        words = translator(options.language)
        self._yes_no = {YES: words("Yes"), NO: words("No")}

    def build(self, answers: Sequence[AnswerRow]) -> list[ExportRow]:
        secret = self.secret
        contacts: dict[int, str] = {}
        sessions: dict[int, str] = {}
        rows = []
        for answer in answers:
            contact = contacts.get(answer.respondent_id)
            if contact is None:
                contact = contacts[answer.respondent_id] = pseudonymous_id(
                    secret, answer.respondent_id
                )
            session = sessions.get(answer.session_id)
            if session is None:
                session = sessions[answer.session_id] = pseudonymous_session_id(
                    secret, answer.session_id
                )
            response, label, withheld = self._value(answer)
            rows.append(
                ExportRow(
                    row_id=answer.answer_id,
                    answered_at=answer.answered_at,
                    contact_id=contact,
                    session_id=session,
                    survey_version=self._version_number[answer.survey_version_id],
                    question_id=answer.question_id,
                    question_kind=answer.kind,
                    response=response,
                    response_label=label,
                    text_withheld=withheld,
                    channel=answer.channel,
                    language=answer.language,
                    region=answer.region,
                    age_band=answer.age_band,
                    gender=answer.gender,
                )
            )
        self.counts.rows += len(rows)
        return rows

    def _value(self, answer: AnswerRow) -> tuple[Response, str | None, str | None]:
        value = answer.value
        kind = answer.kind
        if kind == _TEXT:
            withheld = self._withheld(answer.text_status)
            if withheld is not None:
                self.counts.withheld[withheld] = self.counts.withheld.get(withheld, 0) + 1
                return None, None, withheld
            masked = mask_personal(str(value))
            if masked != value:
                self.counts.masked += 1
            return masked, None, None
        if kind == _MULTIPLE and isinstance(value, list):
            labels = self._choice_labels(answer)
            picked = [str(v) for v in value]
            return picked, "; ".join(labels.get(v, v) for v in picked), None
        if kind == _YES_NO:
            return str(value), self._yes_no.get(str(value)), None
        if kind == _SINGLE:
            return str(value), self._choice_labels(answer).get(str(value)), None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value, None, None
        return None if value is None else str(value), None, None

    def _withheld(self, status: str | None) -> str | None:
        if status == APPROVED:
            return None
        if status == REJECTED:
            return Withheld.REJECTED.value
        return None if self.options.include_unmoderated_text else Withheld.UNMODERATED.value

    def _choice_labels(self, answer: AnswerRow) -> dict[str, str]:
        slot = (answer.survey_version_id, answer.question_id)
        labels = self._labels.get(slot)
        if labels is None:
            survey = self.survey.surveys[answer.survey_version_id]
            question = survey.question(answer.question_id)
            choices = question.choices if question is not None else ()
            labels = self._labels[slot] = {
                c.value: localize(c.label, self.options.language, survey.languages) for c in choices
            }
        return labels


class AnswerWriter(Protocol):
    """One export file (or package) being written, batch after batch."""

    path: Path
    """Where the finished export is (a file, or the FLOIP package's folder)."""

    def write(self, rows: Sequence[ExportRow]) -> None: ...

    def finish(self) -> None:
        """Complete the export where ``path`` says; nothing is there before."""

    def abort(self) -> None:
        """Remove whatever was written."""


def response_text(row: ExportRow) -> str:
    """The response as one cell of text: several choices separated by spaces.

    Choice values never hold spaces (see ``polls.survey_loader``), the convention
    of XLSForm tools for "select multiple".
    """
    value = row.response
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def partial_path(path: Path) -> Path:
    """Where a file is written until it is complete."""
    return path.with_name(path.name + ".part")
