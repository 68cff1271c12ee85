"""Exports of a survey's answers: CSV, XLSX, Parquet and FLOIP, read back and compared.

The answers come from the real conversation service (Telegram and SMS, every
question kind, two versions of the survey, an erased respondent); every export
is read back with pandas, openpyxl and pyarrow and compared with the database,
and searched for anything that would point back to a person.
"""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import json
import re
import uuid
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from outreach.cli import main as cli
from outreach.conversation import ConversationConfig, ConversationService
from outreach.exports import (
    COLUMNS,
    ExportFormat,
    ExportOptions,
    ExportResult,
    UnknownSurveyError,
    export_survey,
    pseudonymous_session_id,
)
from outreach.exports.common import SurveyExport, merge_questions
from outreach.exports.csv_format import safe_cell
from outreach.exports.floip_format import DESCRIPTOR, RESPONSES, descriptor
from outreach.survey_catalogue import SurveyCatalogue, survey_files
from polls.messages import Channel, Inbound, InboundKind
from polls.onboarding import DEFAULT_REGIONS
from polls.pseudonym import pseudonymous_id
from polls.redaction import mask_personal
from polls.survey import Choice, Question, QuestionKind, Survey
from storage.database import Database
from storage.export_rows import VersionInfo, answer_span, stream_answer_rows
from storage.models import Answer, Respondent, SurveyVersion
from tests.conftest import EXAMPLE_SURVEYS

pytestmark = pytest.mark.storage

SECRET = "export-tests-" + "k" * 40
SURVEY = "public_services"
FIRST_RESPONDENT_ID = 987_650
"""Respondent ids start high, so a leaked id would be recognisable in a file."""

# Who answers, and how they must never appear in an export.
TELEGRAM_IDS = ("700123456", "700654321", "700777888")
PHONE = "+994501112233"
APPROVED_TEXT = "Call me on +994 50 123 45 67 or @aysel_m, more doctors please"
UNMODERATED_TEXT = "Yazın: ali.veli@mail.az və ya 0551234567-yə zəng edin"
REJECTED_TEXT = "Spam @spam_user https://spam.example.com"
SECRETS_IN_TEXT = (
    "50 123 45 67",
    "aysel_m",
    "ali.veli",
    "mail.az",
    "0551234567",
    "spam_user",
    "spam.example.com",
)
FLOIP_TYPES = {
    "select_one",
    "select_many",
    "numeric",
    "open",
    "text",
    "image",
    "video",
    "audio",
    "geo_point",
    "date",
    "time",
    "datetime",
}
FLOIP_FIELDS = [
    "timestamp",
    "row_id",
    "contact_id",
    "session_id",
    "question_id",
    "response",
    "response_metadata",
]

_delivery = itertools.count(1)


# ---------------------------------------------------------------- mask_personal


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("Zəng edin: +994 50 123 45 67", "Zəng edin: [number]"),
        ("nömrəm 0501234567dir", "nömrəm [number]dir"),
        ("тел89001234567", "тел[number]"),
        ("8 (900) 123-45-67 звоните", "[number] звоните"),
        ("(012) 493-12-34", "[number]"),
        ("@aysel_m-ə yazın", "[handle]-ə yazın"),
        ("Пишите @ivan.petrov.", "Пишите [handle]."),
        ("poçt: ali.veli@mail.az, sağ ol", "poçt: [email], sağ ol"),
        ("ali@yahoo", "ali[handle]"),
        ("https://t.me/+AbCdEf123", "[link]"),
        ("saytımızhttps://example.org/a?b=1.", "saytımız[link]."),
        ("bax: t.me/sdg_az", "bax: [link]"),
        ("see (https://example.com/x).", "see ([link])."),
        ("президент.рф/обращения", "[link]"),
        ("Instagram: instagram.com/ali_veli99", "Instagram: [link]"),
        ("Код 12345", "Код [number]"),
        ("Kitabxana 2024-cü ildə açıldı, 35 nəfər", "Kitabxana 2024-cü ildə açıldı, 35 nəfər"),
        ("Ə.Əliyev küçəsi 12, məktəb №5", "Ə.Əliyev küçəsi 12, məktəb №5"),
        ("e.g. more parks. Çox az.", "e.g. more parks. Çox az."),
        ("1, 2, 3, 4, 5", "1, 2, 3, 4, 5"),
        ("[number] [handle] [email] [link]", "[number] [handle] [email] [link]"),
    ],
    ids=lambda value: value[:24],
)
def test_mask_personal(written: str, masked: str) -> None:
    assert mask_personal(written) == masked
    assert mask_personal(masked) == masked


@pytest.mark.parametrize(
    ("cell", "shown"),
    [("=HYPERLINK(1)", "'=HYPERLINK(1)"), ("-more parks", "'-more parks"), ("ok", "ok")],
)
def test_csv_cells_never_start_a_formula(cell: str, shown: str) -> None:
    assert safe_cell(cell) == shown


def test_questions_of_every_version_are_merged() -> None:
    def question(qid: str, kind: QuestionKind, *values: str, **more: Any) -> Question:
        choices = tuple(Choice(v, {"en": v.upper()}) for v in values)
        return Question(qid, kind, {"en": f"{qid}?"}, choices, **more)

    def version(number: int, *questions: Question) -> tuple[VersionInfo, Survey]:
        moment = datetime(2026, 1, number, tzinfo=UTC)
        return VersionInfo(number * 10, number, moment), Survey(
            "s", {"en": "S"}, ("en",), questions
        )

    first = version(
        1,
        question("idea", QuestionKind.TEXT),
        question("pick", QuestionKind.SINGLE_CHOICE, "a", "b"),
        question("howmany", QuestionKind.NUMBER, minimum=0, maximum=10),
    )
    second = version(
        2,
        question("idea", QuestionKind.SINGLE_CHOICE, "x", "y"),
        question("pick", QuestionKind.SINGLE_CHOICE, "b", "c"),
        question("howmany", QuestionKind.NUMBER, minimum=5, maximum=20),
        question("score", QuestionKind.RATING, minimum=1, maximum=7),
    )
    survey = SurveyExport(
        "s",
        [first[0], second[0]],
        {first[0].version_id: first[1], second[0].version_id: second[1]},
        merge_questions([first[0], second[0]], {10: first[1], 20: second[1]}),
    )
    keys = [(q.key, q.kind.value, q.versions) for q in survey.questions]
    assert keys == [
        ("idea", "single_choice", (2,)),
        ("pick", "single_choice", (1, 2)),
        ("howmany", "number", (1, 2)),
        ("score", "rating", (2,)),
        ("idea.v1", "text", (1,)),
    ]
    floip = descriptor(survey, secret=SECRET, language="en")["resources"][0]["schema"]
    questions = floip["questions"]
    assert questions["pick"]["type_options"] == {"choices": ["b", "c", "a"]}
    assert questions["howmany"]["type_options"] == {"range": [0, 20]}
    assert questions["score"]["type_options"] == {"range": [1, 7]}
    assert questions["idea.v1"]["type"] == "text" and questions["idea"]["type"] == "select_one"
    assert floip["language"] == "eng"


# ---------------------------------------------------------------- the data


@dataclass
class Person:
    service: ConversationService
    address: str
    channel: Channel = Channel.TELEGRAM

    async def send(self, kind: InboundKind, value: str, argument: str = "") -> str:
        reply = await self.service.handle(
            Inbound(
                self.channel,
                self.address,
                kind,
                value,
                argument,
                dedup_key=f"e{next(_delivery)}",
                language_hint="en",
            )
        )
        return "\n".join(m.text for m in reply.messages)

    async def say(self, *answers: str) -> str:
        said = ""
        for answer in answers:
            said = await self.send(InboundKind.TEXT, answer)
        return said

    async def take_survey(self, *answers: str, survey: str = SURVEY) -> str:
        await self.send(InboundKind.COMMAND, "start", survey)
        await self.say("English", "1", "Baku", "18–24")
        if self.channel is Channel.TELEGRAM:
            await self.say("Prefer not to say")
        return await self.say(*answers)


@dataclass
class Populated:
    db: Database
    answer_ids: list[int]
    respondent_ids: list[int]
    erased_id: int


async def _start_ids_high(db: Database) -> None:
    def bump(session: Session) -> None:
        if db.is_sqlite:
            session.execute(insert(Respondent).values(id=FIRST_RESPONDENT_ID))
        else:
            session.execute(
                text("SELECT setval(pg_get_serial_sequence('respondents', 'id'), :n)"),
                {"n": FIRST_RESPONDENT_ID},
            )

    await db.write(bump)


async def _set_text_status(db: Database, answer_text: str, status: str) -> None:
    await db.write(
        lambda s: s.execute(
            update(Answer).where(Answer.text == answer_text).values(text_status=status)
        )
    )


@pytest.fixture
async def populated(db: Database, tmp_path: Path) -> AsyncIterator[Populated]:
    await _start_ids_high(db)
    catalogue = SurveyCatalogue(db)
    await catalogue.load_files(survey_files(EXAMPLE_SURVEYS))
    service = ConversationService(
        db,
        catalogue,
        ConversationConfig(
            languages=("az", "ru", "en"),
            default_language="az",
            regions=DEFAULT_REGIONS,
            pseudonym_secret=SECRET,
        ),
    )
    # public_services: last_service, satisfaction (rating), minutes_to_clinic (number),
    # online_service (yes/no), improve (multiple choice, up to 2), suggestion (text).
    first = Person(service, TELEGRAM_IDS[0])
    assert "Thank you" in await first.take_survey("1", "4", "25", "yes", "1, 3", APPROVED_TEXT)
    # A second version of the survey: the next people answer that one.
    edited = (EXAMPLE_SURVEYS / "public_services.yaml").read_text(encoding="utf-8")
    edited = edited.replace("show_results: true", "show_results: false")
    (tmp_path / "public_services.yaml").write_text(edited, encoding="utf-8")
    assert await catalogue.load_files([tmp_path / "public_services.yaml"]) == [(SURVEY, 2, True)]
    by_sms = Person(service, PHONE, Channel.SMS)
    assert "Thank you" in await by_sms.take_survey("2", "5", "90", "no", "2", UNMODERATED_TEXT)
    rejected = Person(service, TELEGRAM_IDS[1])
    assert "Thank you" in await rejected.take_survey("3", "1", "15", "yes", "2, 4", REJECTED_TEXT)
    # Erased: the identity and the written answer go, choices stay as statistics.
    erased = Person(service, TELEGRAM_IDS[2])
    await erased.take_survey("4", "2", "40", "no", "1", "Forget me 0501234567")
    await erased.send(InboundKind.BUTTON, "forget:identity")
    # Answers to another survey stay out of this export.
    await Person(service, TELEGRAM_IDS[0]).send(InboundKind.COMMAND, "start", "youth_priorities")
    await Person(service, TELEGRAM_IDS[0]).say("4, 13")

    await _set_text_status(db, APPROVED_TEXT, "approved")
    await _set_text_status(db, REJECTED_TEXT, "rejected")

    def facts(session: Session) -> tuple[list[int], list[int], int]:
        answers = list(
            session.scalars(select(Answer.id).where(Answer.survey_id == SURVEY).order_by(Answer.id))
        )
        people = sorted(
            set(session.scalars(select(Answer.respondent_id).where(Answer.survey_id == SURVEY)))
        )
        erased_id = session.scalar(select(Respondent.id).where(Respondent.erased_at.is_not(None)))
        assert erased_id is not None
        return answers, people, erased_id

    answer_ids, respondent_ids, erased_id = await db.read(facts)
    assert min(respondent_ids) > FIRST_RESPONDENT_ID and erased_id in respondent_ids
    yield Populated(db, answer_ids, respondent_ids, erased_id)


@dataclass(frozen=True)
class Expected:
    row_id: int
    answered_at: datetime
    contact_id: str
    session_id: str
    survey_version: int
    question_id: str
    kind: str
    response: Any
    withheld: str | None
    channel: str
    region: str | None
    age_band: str | None


async def expected_rows(db: Database, *, include_unmoderated: bool = False) -> list[Expected]:
    """What an export must hold, computed from the tables apart from the export code."""

    def read(session: Session) -> list[Expected]:
        rows = session.execute(
            select(
                Answer.id,
                Answer.answered_at,
                Answer.respondent_id,
                Answer.session_id,
                SurveyVersion.version,
                Answer.question_id,
                Answer.kind,
                Answer.value,
                Answer.text_status,
                Answer.channel,
                Respondent.region,
                Respondent.age_band,
            )
            .join(SurveyVersion, SurveyVersion.id == Answer.survey_version_id)
            .join(Respondent, Respondent.id == Answer.respondent_id)
            .where(Answer.survey_id == SURVEY)
            .order_by(Answer.id)
        )
        expected = []
        for row in rows:
            response, withheld = row.value, None
            if row.kind == "text":
                if row.text_status == "rejected":
                    response, withheld = None, "rejected"
                elif row.text_status != "approved" and not include_unmoderated:
                    response, withheld = None, "unmoderated"
                else:
                    response = mask_personal(row.value)
            expected.append(
                Expected(
                    row.id,
                    row.answered_at,
                    pseudonymous_id(SECRET, row.respondent_id),
                    pseudonymous_session_id(SECRET, row.session_id),
                    row.version,
                    row.question_id,
                    row.kind,
                    response,
                    withheld,
                    row.channel,
                    row.region,
                    row.age_band,
                )
            )
        return expected

    return await db.read(read)


def as_cell(response: Any) -> str:
    if response is None:
        return ""
    if isinstance(response, list):
        return " ".join(response)
    if isinstance(response, float) and response.is_integer():
        return str(int(response))
    return str(response)


async def run_export(
    db: Database, export_format: ExportFormat, out: Path, **options: Any
) -> ExportResult:
    return await export_survey(
        db,
        survey_id=SURVEY,
        export_format=export_format,
        out=out,
        secret=SECRET,
        options=ExportOptions(batch_size=7, **options),
    )


# ---------------------------------------------------------------- privacy


def file_texts(path: Path) -> list[str]:
    """Everything a file or package holds, as text (XLSX unzipped, Parquet decoded)."""
    if path.is_dir():
        return [t for child in sorted(path.iterdir()) for t in file_texts(child)]
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as archive:
            return [archive.read(name).decode("utf-8") for name in archive.namelist()]
    if path.suffix == ".parquet":
        parquet = pq.ParquetFile(path)
        metadata = parquet.schema_arrow.metadata or {}
        table = parquet.read()
        return [
            json.dumps(table.to_pylist(), default=str, ensure_ascii=False),
            *(v.decode("utf-8") for v in metadata.values()),
        ]
    return [path.read_text(encoding="utf-8-sig")]


def assert_nothing_points_to_a_person(path: Path, respondent_ids: list[int]) -> None:
    for content in file_texts(path):
        for secret in (PHONE, PHONE[1:], PHONE[4:], *TELEGRAM_IDS, *SECRETS_IN_TEXT):
            assert secret not in content, f"{secret} leaked into {path.name}"
        for respondent_id in respondent_ids:
            leaked = re.search(rf"(?<![0-9a-f.]){respondent_id}(?![0-9a-f])", content)
            assert leaked is None, f"respondent id {respondent_id} in {path.name}"
        assert "respondent_id" not in content


# ---------------------------------------------------------------- the formats


async def test_rows_stream_in_batches_of_answer_ids(populated: Populated) -> None:
    db = populated.db
    span = await db.read(lambda s: answer_span(s, survey_id=SURVEY))
    assert span.count == len(populated.answer_ids) == 24 - 1  # the erased text is gone
    batches = [
        [row.answer_id for row in batch]
        async for batch in stream_answer_rows(db, survey_id=SURVEY, span=span, batch_size=5)
    ]
    assert [len(b) for b in batches] == [5, 5, 5, 5, 3]
    assert [i for b in batches for i in b] == populated.answer_ids


async def test_csv(populated: Populated, tmp_path: Path) -> None:
    result = await run_export(populated.db, ExportFormat.CSV, tmp_path / "answers.csv")
    expected = await expected_rows(populated.db)
    assert result.rows == len(expected)
    assert result.withheld == {"unmoderated": 1, "rejected": 1} and result.masked == 1
    raw = result.path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(result.path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(frame.columns) == list(COLUMNS)
    assert [int(i) for i in frame["row_id"]] == [e.row_id for e in expected]
    assert list(frame["contact_id"]) == [e.contact_id for e in expected]
    assert list(frame["session_id"]) == [e.session_id for e in expected]
    assert list(frame["survey_version"]) == [str(e.survey_version) for e in expected]
    assert list(frame["question_id"]) == [e.question_id for e in expected]
    assert list(frame["question_kind"]) == [e.kind for e in expected]
    assert list(frame["response"]) == [as_cell(e.response) for e in expected]
    assert list(frame["text_withheld"]) == [e.withheld or "" for e in expected]
    assert list(frame["channel"]) == [e.channel for e in expected]
    assert list(frame["region"]) == [e.region or "" for e in expected]
    assert [datetime.fromisoformat(t) for t in frame["answered_at"]] == [
        e.answered_at for e in expected
    ]
    assert set(frame["channel"]) == {"telegram", "sms"}
    assert set(frame["survey_version"]) == {"1", "2"}
    assert not set(frame["contact_id"]) & set(frame["session_id"])
    erased = pseudonymous_id(SECRET, populated.erased_id)
    assert (frame["contact_id"] == erased).sum() == 5  # its choices and numbers stay
    texts = frame[frame["question_kind"] == "text"]
    assert "Call me on [number] or [handle], more doctors please" in list(texts["response"])
    labels = dict(zip(frame["response"], frame["response_label"], strict=True))
    assert labels["healthcare"] == "Clinic or hospital" and labels["yes"] == "Yes"
    assert_nothing_points_to_a_person(result.path, populated.respondent_ids)

    plain = await run_export(populated.db, ExportFormat.CSV, tmp_path / "plain.csv", csv_bom=False)
    assert not plain.path.read_bytes().startswith(b"\xef\xbb\xbf")
    header = next(csv.reader(io.StringIO(plain.path.read_text(encoding="utf-8"))))
    assert header == list(COLUMNS)


async def test_unmoderated_text_leaves_only_when_asked_and_masked(
    populated: Populated, tmp_path: Path
) -> None:
    result = await run_export(
        populated.db, ExportFormat.CSV, tmp_path / "all.csv", include_unmoderated_text=True
    )
    assert result.withheld == {"rejected": 1} and result.masked == 2
    frame = pd.read_csv(result.path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    expected = await expected_rows(populated.db, include_unmoderated=True)
    assert list(frame["response"]) == [as_cell(e.response) for e in expected]
    assert "Yazın: [email] və ya [number]-yə zəng edin" in list(frame["response"])
    assert list(frame["text_withheld"]).count("rejected") == 1
    assert_nothing_points_to_a_person(result.path, populated.respondent_ids)


async def test_xlsx(populated: Populated, tmp_path: Path) -> None:
    result = await run_export(populated.db, ExportFormat.XLSX, tmp_path / "answers.xlsx")
    expected = await expected_rows(populated.db)
    book = load_workbook(result.path, read_only=True)
    assert book.sheetnames == ["answers", "questions"]
    rows = list(book["answers"].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert list(header) == ["answered_at (UTC)" if c == "answered_at" else c for c in COLUMNS]
    assert len(body) == result.rows == len(expected)
    column = {name: index for index, name in enumerate(COLUMNS)}
    for row, want in zip(body, expected, strict=True):
        assert row[column["row_id"]] == want.row_id
        assert row[column["contact_id"]] == want.contact_id
        assert row[column["session_id"]] == want.session_id
        assert row[column["survey_version"]] == want.survey_version
        assert row[column["question_id"]] == want.question_id
        moment = row[column["answered_at"]]
        assert isinstance(moment, datetime)
        assert abs(moment.replace(tzinfo=UTC) - want.answered_at) < timedelta(milliseconds=1)
        response = row[column["response"]]
        if want.kind in ("number", "rating"):
            assert response == want.response
        else:
            assert (response or "") == as_cell(want.response)
        assert row[column["text_withheld"]] == want.withheld
    questions = list(book["questions"].iter_rows(values_only=True))
    assert questions[0] == ("id", "type", "versions", "choices", "label_az", "label_ru", "label_en")
    assert [q[0] for q in questions[1:]] == [
        "last_service",
        "satisfaction",
        "minutes_to_clinic",
        "online_service",
        "improve",
        "suggestion",
    ]
    assert {q[1] for q in questions[1:]} == {
        "single_choice",
        "rating",
        "number",
        "yes_no",
        "multiple_choice",
        "text",
    }
    assert all(q[2] == "1 2" and q[4] and q[5] and q[6] for q in questions[1:])
    book.close()
    assert_nothing_points_to_a_person(result.path, populated.respondent_ids)


async def test_xlsx_rolls_over_to_a_new_sheet_when_one_is_full(
    populated: Populated, tmp_path: Path
) -> None:
    from outreach.exports import common, xlsx_format

    survey = await populated.db.read(lambda s: common.load_survey_export(s, SURVEY))
    writer = xlsx_format.XlsxAnswerWriter(
        tmp_path / "small.xlsx", survey, language="en", rows_per_sheet=11
    )
    rows = []
    async for batch in stream_answer_rows(
        populated.db,
        survey_id=SURVEY,
        span=await populated.db.read(lambda s: answer_span(s, survey_id=SURVEY)),
    ):
        rows.extend(common.RowBuilder(survey, SECRET, ExportOptions()).build(batch))
    writer.write(rows)
    writer.finish()
    book = load_workbook(tmp_path / "small.xlsx", read_only=True)
    assert book.sheetnames == ["answers", "answers 2", "answers 3", "questions"]
    counts = [sum(1 for _ in book[name].iter_rows()) - 1 for name in book.sheetnames[:3]]
    assert counts == [10, 10, 3]
    book.close()


async def test_parquet(populated: Populated, tmp_path: Path) -> None:
    result = await run_export(populated.db, ExportFormat.PARQUET, tmp_path / "answers.parquet")
    expected = await expected_rows(populated.db)
    table = pq.read_table(result.path)
    schema = table.schema
    assert schema.field("answered_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("response_choices").type == pa.list_(pa.string())
    assert schema.field("response_number").type == pa.float64()
    assert schema.field("row_id").type == pa.int64()
    rows = table.to_pylist()
    assert len(rows) == result.rows == len(expected)
    for row, want in zip(rows, expected, strict=True):
        assert row["row_id"] == want.row_id
        assert row["answered_at"] == want.answered_at
        assert (row["contact_id"], row["session_id"]) == (want.contact_id, want.session_id)
        assert row["question_id"] == want.question_id
        assert row["text_withheld"] == want.withheld
        if want.kind == "multiple_choice":
            assert row["response_choices"] == want.response and row["response"] is None
        elif want.kind in ("number", "rating"):
            assert row["response_number"] == float(want.response)
            assert row["response"] is None and row["response_choices"] is None
        else:
            assert row["response"] == want.response and row["response_number"] is None
    frame = pd.read_parquet(result.path)
    assert len(frame) == len(expected) and str(frame["answered_at"].dt.tz) == "UTC"
    about = json.loads(pq.read_schema(result.path).metadata[b"sdg_outreach"])
    assert about["survey_id"] == SURVEY and about["versions"] == [1, 2]
    assert_nothing_points_to_a_person(result.path, populated.respondent_ids)


async def test_floip_package(populated: Populated, tmp_path: Path) -> None:
    result = await run_export(populated.db, ExportFormat.FLOIP, tmp_path / "package")
    expected = await expected_rows(populated.db)
    package = json.loads((result.path / DESCRIPTOR).read_text(encoding="utf-8"))
    assert package["profile"] == "flow-results-package"
    assert package["flow_results_specification_version"] == "1.0.0-rc1"
    assert package["name"] == SURVEY and package["title"]
    assert uuid.UUID(package["id"]).version == 4
    created = datetime.fromisoformat(package["created"])
    modified = datetime.fromisoformat(package["modified"])
    assert created.utcoffset() == timedelta(0) and created <= modified
    [resource] = package["resources"]
    assert (result.path / resource["path"]).is_file() and resource["path"] == RESPONSES
    schema = resource["schema"]
    assert [f["name"] for f in schema["fields"]] == FLOIP_FIELDS
    questions = schema["questions"]
    assert all(q["type"] in FLOIP_TYPES for q in questions.values())
    assert all(isinstance(q["label"], str) and q["label"] for q in questions.values())
    assert questions["last_service"]["type"] == "select_one"
    assert "healthcare" in questions["last_service"]["type_options"]["choices"]
    assert questions["online_service"]["type_options"] == {"choices": ["yes", "no"]}
    assert questions["improve"]["type"] == "select_many"
    assert questions["satisfaction"] == {
        "type": "numeric",
        "label": questions["satisfaction"]["label"],
        "type_options": {"range": [1, 5]},
    }
    assert questions["minutes_to_clinic"]["type_options"] == {"range": [0, 600]}
    assert questions["suggestion"]["type"] == "text"

    rows = json.loads((result.path / resource["path"]).read_text(encoding="utf-8"))
    assert len(rows) == result.rows == len(expected)
    assert all(len(row) == 7 for row in rows)
    assert len({str(row[1]) for row in rows}) == len(rows)
    for row, want in zip(rows, expected, strict=True):
        moment, row_id, contact, session, question, response, metadata = row
        assert moment.endswith("+00:00") and not moment.endswith("Z")
        assert datetime.fromisoformat(moment) == want.answered_at
        assert (row_id, contact, session) == (want.row_id, want.contact_id, want.session_id)
        assert question in questions and question == want.question_id
        assert metadata["channel"] == want.channel
        assert metadata["survey_version"] == want.survey_version
        if want.withheld:
            assert response == "" and metadata["withheld"] == want.withheld
        else:
            assert response == want.response and "withheld" not in metadata
        if questions[question]["type"] == "select_one":
            assert response in questions[question]["type_options"]["choices"]
        if questions[question]["type"] == "select_many":
            assert set(response) <= set(questions[question]["type_options"]["choices"])
    assert_nothing_points_to_a_person(result.path, populated.respondent_ids)

    again = await run_export(populated.db, ExportFormat.FLOIP, tmp_path / "package")
    second = json.loads((again.path / DESCRIPTOR).read_text(encoding="utf-8"))
    assert (second["id"], second["created"]) == (package["id"], package["created"])


async def test_a_failed_export_leaves_nothing(populated: Populated, tmp_path: Path) -> None:
    out = tmp_path / "broken.csv"

    def fail(_done: int) -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        await export_survey(
            populated.db,
            survey_id=SURVEY,
            export_format=ExportFormat.CSV,
            out=out,
            secret=SECRET,
            options=ExportOptions(batch_size=5),
            on_progress=fail,
        )
    assert not await asyncio.to_thread(out.exists)
    assert not await asyncio.to_thread((tmp_path / "broken.csv.part").exists)


async def test_an_unknown_survey_names_the_fix(populated: Populated, tmp_path: Path) -> None:
    with pytest.raises(UnknownSurveyError) as error:
        await export_survey(
            populated.db,
            survey_id="public_service",
            export_format=ExportFormat.CSV,
            out=tmp_path / "x.csv",
            secret=SECRET,
        )
    assert "public_services" in str(error.value) and "outreach surveys load" in str(error.value)


async def test_the_export_command(populated: Populated, database_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": database_url, "PSEUDONYM_SECRET": SECRET}
    runner = CliRunner()
    result = await asyncio.to_thread(
        runner.invoke,
        cli,
        ["export", SURVEY, "--format", "xlsx", "--out", str(tmp_path), "--language", "az"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    written = tmp_path / f"{SURVEY}.xlsx"
    assert f"Wrote {len(populated.answer_ids)} answers to {written}" in result.output
    assert "--include-unmoderated-text" in result.output
    book = load_workbook(written, read_only=True)
    labels = {r[7]: r[8] for r in book["answers"].iter_rows(min_row=2, values_only=True)}
    assert labels["healthcare"] == "Poliklinika və ya xəstəxana"
    book.close()

    unknown = await asyncio.to_thread(
        runner.invoke,
        cli,
        ["export", "no_such_survey", "--format", "csv", "--out", str(tmp_path / "x.csv")],
        env=env,
    )
    assert unknown.exit_code == 1
    assert "no survey 'no_such_survey'" in unknown.output
    assert "outreach surveys load" in unknown.output
