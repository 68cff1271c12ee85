"""``outreach report``: a month's self-contained HTML report from people who really answered.

People answer through the real conversation service on both channels, with a
clock inside November 2026 (the storage layer's own timestamps follow it too);
one person answers in October and must not count in November. Shaki-Zagatala
has two people: every figure about it must read "<5".
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import insert, select, update

from outreach.cli import main as cli
from outreach.conversation import ConversationConfig, ConversationService
from outreach.monthly_report.charts import nice_ceiling, wrap
from outreach.monthly_report.month import ReportMonth, ReportMonthError
from outreach.monthly_report.pdf import find_browser
from outreach.survey_catalogue import SurveyCatalogue, survey_files
from outreach.survey_results import REPRESENTATIVENESS
from polls.campaign import parse_campaign
from polls.i18n import translator
from polls.messages import Channel, Inbound, InboundKind, Outbound
from polls.onboarding import DEFAULT_REGIONS
from storage.campaigns import CampaignRepository
from storage.database import Database
from storage.models import Answer, ChannelIdentity, OutboundMessage, Respondent
from storage.respondents import RespondentRepository
from tests.conftest import EXAMPLE_SURVEYS

pytestmark = pytest.mark.storage

REPO = Path(__file__).resolve().parent.parent
_delivery = itertools.count(1)

FIRST_QUESTION = "Which Sustainable Development Goals matter most to you?"
PENDING_TEXT = "Call Rashad on 0501234567 about the school"
WATER_IDEAS = (
    "We need clean water in our village",
    "Drinking water comes twice a week",
    "Water pipes are old and the water is dirty",
    "More clean water for schools",
    "Fix the water supply please",
    "Water and jobs for young people",
)


@dataclass
class Clock:
    now: datetime = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Person:
    service: ConversationService
    channel: Channel
    address: str
    last: list[Outbound] = field(default_factory=list)

    async def send(self, kind: InboundKind, text: str) -> list[str]:
        reply = await self.service.handle(
            Inbound(
                self.channel,
                self.address,
                kind,
                text,
                "youth_priorities" if kind is InboundKind.COMMAND else "",
                dedup_key=f"r{next(_delivery)}",
                language_hint="en",
            )
        )
        if reply.messages:
            self.last = reply.messages
        return [m.text for m in reply.messages]

    async def take_survey(self, region: str, idea: str) -> None:
        await self.send(InboundKind.COMMAND, "start")
        for answer in ("English", "1", region, "18–24"):
            await self.send(InboundKind.TEXT, answer)
        if self.channel is Channel.TELEGRAM:
            await self.send(InboundKind.TEXT, "Prefer not to say")
        for answer in ("4, 6", "2", "4", "yes"):
            await self.send(InboundKind.TEXT, answer)
        final = await self.send(InboundKind.TEXT, idea)
        assert final and final[0].startswith("Thank you"), final


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """One clock for the conversation and for the rows storage stamps itself."""
    clock = Clock()
    import storage.answers
    import storage.respondents

    monkeypatch.setattr(storage.answers, "utcnow", clock)
    monkeypatch.setattr(storage.respondents, "utcnow", clock)
    return clock


@pytest.fixture
async def service(db: Database, clock: Clock) -> AsyncIterator[ConversationService]:
    await SurveyCatalogue(db).load_files(survey_files(EXAMPLE_SURVEYS))
    yield ConversationService(
        db,
        SurveyCatalogue(db),
        ConversationConfig(
            languages=("az", "ru", "en"),
            default_language="az",
            regions=DEFAULT_REGIONS,
            pseudonym_secret="x" * 40,
        ),
        clock=clock,
    )


async def _campaign(
    db: Database, campaign_id: str, due: datetime, statuses: dict[str, list[str]]
) -> None:
    """A sent announcement: outbox rows per channel with these statuses, SMS in UCS-2."""
    campaign = parse_campaign(
        {
            "id": campaign_id,
            "kind": "announcement",
            "name": f"Forum news {campaign_id}",
            "languages": ["en"],
            "text": {"en": "The SDG forum is on 10 December."},
        }
    )

    def write(session: Any) -> None:
        repository = CampaignRepository(session)
        repository.save(campaign=campaign)
        run_id = repository.create_run(campaign_id=campaign_id, due_at=due)
        identities = session.execute(
            select(ChannelIdentity.respondent_id, ChannelIdentity.channel, ChannelIdentity.address)
            .where(ChannelIdentity.address != "2999")
            .order_by(ChannelIdentity.id)
        ).all()
        pools = {c: [i for i in identities if i.channel == c] for c in statuses}
        rows, outbound = [], []
        for channel, wanted in statuses.items():
            for n, (identity, status) in enumerate(zip(pools[channel], wanted, strict=False)):
                provider_id = f"{campaign_id}-{channel}-{n}" if status != "skipped" else None
                rows.append(
                    {
                        "run_id": run_id,
                        "campaign_id": campaign_id,
                        "respondent_id": identity.respondent_id,
                        "channel": channel,
                        "address": identity.address,
                        "language": "en",
                        "status": status,
                        "not_before": due,
                        "provider_id": provider_id,
                        "updated_at": due,
                    }
                )
                if channel == "sms" and provider_id:
                    outbound.append(
                        {
                            "channel": "sms",
                            "address": identity.address,
                            "provider_id": provider_id,
                            "purpose": "campaign",
                            "status": status,
                            "encoding": "UCS-2",
                            "segments": 2,
                            "created_at": due,
                            "updated_at": due,
                        }
                    )
        repository.add_outbox(rows=rows)
        if outbound:
            session.execute(insert(OutboundMessage), outbound)

    await db.write(write)


@pytest.fixture
async def november(db: Database, service: ConversationService, clock: Clock) -> Database:
    """Fourteen people: 6 in Baku (Telegram), 5 in Ganja (SMS), 2 in Shaki, 1 in October."""
    clock.now = datetime(2026, 10, 20, 8, 0, tzinfo=UTC)
    await Person(service, Channel.TELEGRAM, "2999").take_survey("Baku", "Nothing to add")
    clock.now = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)
    for n in range(6):
        clock.now += timedelta(minutes=5)
        await Person(service, Channel.TELEGRAM, f"200{n}").take_survey("Baku", WATER_IDEAS[n])
    clock.now = datetime(2026, 11, 10, 8, 0, tzinfo=UTC)
    for n in range(5):
        clock.now += timedelta(minutes=5)
        idea = PENDING_TEXT if n == 0 else f"Jobs for young people in Ganja, idea {n}"
        await Person(service, Channel.SMS, f"+99450100000{n}").take_survey("Ganja-Dashkasan", idea)
    clock.now = datetime(2026, 11, 17, 8, 0, tzinfo=UTC)
    await Person(service, Channel.TELEGRAM, "2101").take_survey("Shaki-Zagatala", "Roads")
    await Person(service, Channel.SMS, "+994501000101").take_survey("Shaki-Zagatala", "Parks")
    await db.write(
        lambda s: s.execute(
            update(Answer)
            .where(Answer.text.is_not(None), Answer.text != PENDING_TEXT)
            .values(text_status="approved")
        )
    )
    await _campaign(
        db,
        "forum_news",
        datetime(2026, 11, 12, 9, 0, tzinfo=UTC),
        {"telegram": ["sent"] * 7, "sms": ["delivered"] * 6},
    )
    await _campaign(
        db,
        "quiz_day",
        datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        {"sms": ["delivered"] * 5 + ["failed"]},
    )
    await _campaign(
        db, "october_news", datetime(2026, 10, 25, 9, 0, tzinfo=UTC), {"telegram": ["sent"] * 6}
    )
    return db


# ---------------------------------------------------------------- reading the page


class Page(HTMLParser):
    """The parts of the report the tests look at: headings, tables, links, text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.html = html
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.headings: list[tuple[str, str]] = []
        self.tables: list[dict[str, Any]] = []
        self.text: list[str] = []
        self._heading: tuple[str, list[str]] | None = None
        self._table: dict[str, Any] | None = None
        self._cell: list[str] | None = None
        self._cell_tag = ""
        self._in: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._heading = (tag, [])
        elif tag == "table":
            self._table = {"caption": "", "rows": [], "th": 0, "scoped": 0}
        elif tag == "tr" and self._table is not None:
            self._table["rows"].append([])
        elif tag in ("th", "td") and self._table is not None:
            self._cell, self._cell_tag = [], tag
            if tag == "th":
                self._table["th"] += 1
                self._table["scoped"] += "scope" in dict(attrs)
        elif tag == "caption":
            self._cell, self._cell_tag = [], "caption"
        self._in.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._in and self._in[-1] == tag:
            self._in.pop()
        if self._heading is not None and tag == self._heading[0]:
            self.headings.append((tag, "".join(self._heading[1]).strip()))
            self._heading = None
        elif tag in ("th", "td") and self._table is not None and self._cell is not None:
            self._table["rows"][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "caption" and self._table is not None and self._cell is not None:
            self._table["caption"] = " ".join("".join(self._cell).split())
            self._cell = None
        elif tag == "table" and self._table is not None:
            self.tables.append(self._table)
            self._table = None

    def handle_data(self, data: str) -> None:
        if "style" in self._in or "title" in self._in[:3]:
            return
        self.text.append(data)
        if self._heading is not None:
            self._heading[1].append(data)
        if self._cell is not None:
            self._cell.append(data)

    def table(self, caption_start: str) -> dict[str, Any]:
        found = [t for t in self.tables if t["caption"].startswith(caption_start)]
        assert found, (caption_start, [t["caption"] for t in self.tables])
        return found[0]

    @property
    def all_text(self) -> str:
        return " ".join(" ".join(self.text).split())


async def run_report(database_url: str, tmp_path: Path, *arguments: str) -> Page:
    out = tmp_path / "report.html"
    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        [
            "report",
            "--month",
            "2026-11",
            "--out",
            str(out),
            "--themes",
            str(REPO / "analysis" / "sdg_themes.yaml"),
            *arguments,
        ],
        env={"DATABASE_URL": database_url, "TIMEZONE": "Asia/Baku"},
    )
    assert result.exit_code == 0, result.output
    return Page(out.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- the report


async def test_the_monthly_report_is_one_safe_self_contained_page(
    november: Database, database_url: str, tmp_path: Path
) -> None:
    page = await run_report(database_url, tmp_path)
    html = page.html

    # Self-contained: nothing is fetched, no script at all.
    for tag, attrs in page.tags:
        for name in ("src", "href", "xlink:href", "action", "data"):
            value = attrs.get(name) or ""
            assert not re.match(r"\s*(https?:)?//", value), (tag, name, value)
        assert tag not in ("script", "link", "iframe", "img", "object", "embed")
    assert "@import" not in html and "url(http" not in html
    assert "http://" not in html and "https://" not in html

    # Structure: one h1, sections, every table captioned with scoped headers.
    assert [h for h in page.headings if h[0] == "h1"] == [("h1", "Monthly report: November 2026")]
    h2 = [text for tag, text in page.headings if tag == "h2"]
    assert h2 == [
        "Contents",
        "How to read this report",
        "Who took part",
        "Surveys",
        "What people wrote about",
        "Messages sent",
    ]
    assert page.tables
    for table in page.tables:
        assert table["caption"] and table["th"] and table["scoped"] == table["th"], table
    html_tag = next(attrs for tag, attrs in page.tags if tag == "html")
    assert html_tag["lang"] == "en"
    charts = [attrs for tag, attrs in page.tags if tag == "svg"]
    assert charts and all(a["role"] == "img" and a["aria-labelledby"] for a in charts)

    text = page.all_text
    assert FIRST_QUESTION in text
    assert "Youth priorities: the Sustainable Development Goals" in text
    assert REPRESENTATIVENESS in text
    assert "Results: answers given this month" in text
    funnel = page.table("People who began the survey, answered each question and completed it")
    assert funnel["rows"][1] == ["Began the survey", "13", "100%"]  # not the October person

    # Shaki-Zagatala (2 people) reads <5 wherever it appears, never its count.
    regions = page.table("People who answered this month, by region")
    by_region = {row[0]: row[1:] for row in regions["rows"][1:]}
    assert by_region["Shaki-Zagatala"] == ["<5", ""]
    assert by_region["Baku"][0] == "6"  # November only: the October person does not count
    assert by_region["Ganja-Dashkasan"][0] in ("5", "x")
    # Question 1 has more answers than regions: answers run down, regions across.
    breakdown = page.table("Question 1 by region")
    shaki = breakdown["rows"][0].index("Shaki-Zagatala")
    assert breakdown["rows"][1][0] == "Answered" and breakdown["rows"][1][shaki] == "<5"
    assert {row[shaki] for row in breakdown["rows"][1:]} <= {"<5", "x"}
    breakdown = page.table("Question 4 by region")
    shaki_row = next(row for row in breakdown["rows"] if row[0] == "Shaki-Zagatala")
    assert set(shaki_row[1:]) <= {"<5", "x"}, shaki_row

    # No count under k anywhere: every count cell is 0, a count of k or more, <5 or x.
    for table in page.tables:
        if table["caption"].startswith("SMS segments"):
            continue  # segments per message: a property of the text
        for row in table["rows"][1:]:
            for cell in row[1:]:
                count = cell.split(" ")[0]
                if re.fullmatch(r"\d+", count):
                    assert count == "0" or int(count) >= 5, (table["caption"], row)

    # By channel: each person once, on the day of their first answer in November.
    by_channel = page.table("People who answered (on the day of their first answer")
    days = {row[0]: row[1:] for row in by_channel["rows"][2:]}
    assert days["17 November"] == ["<5"] * 6
    assert days["1 November"] == ["0"] * 6
    assert days["Whole month"][2] in ("13", "x")

    # Free text: themes counted, nothing quoted, unmoderated text never read.
    assert PENDING_TEXT not in html and "Rashad" not in html and "0501234567" not in html
    for idea in WATER_IDEAS:
        assert idea not in html
    themes = page.table("Themes of this month's approved answers")
    water = next(row for row in themes["rows"][1:] if row[0] == "Clean water and sanitation")
    assert water[2] == "6"
    moderation = page.table("Free-text answers given this month, by moderation")
    assert [row[0] for row in moderation["rows"][1:]] == [
        "Approved",
        "Waiting for moderation",
        "Rejected",
        "All",
    ]
    assert moderation["rows"][2][1] == "<5"  # the one pending answer

    # Campaigns: November's only, messages by channel and status, SMS segments.
    assert "Forum news forum_news" in text and "october_news" not in text
    delivery = page.table("Messages of “Forum news forum_news” by channel and status")
    assert delivery["rows"][0] == [
        "Channel",
        "Sent",
        "Delivered",
        "Failed",
        "Skipped",
        "Outcome unknown",
        "All",
    ]
    assert delivery["rows"][1] == ["Telegram", "7", "0", "0", "0", "0", "7"]
    assert delivery["rows"][2] == ["SMS", "0", "6", "0", "0", "0", "6"]
    segments = page.table("SMS segments of “Forum news forum_news”")
    assert segments["rows"][1] == ["UCS-2", "2"]
    assert "All SMS of these sendings: 12 segments, about 0.6 USD." in text
    failures = page.table("Messages of “Forum news quiz_day” by channel and status")
    sms = next(row for row in failures["rows"] if row[0] == "SMS")
    assert sms[3] == "<5"  # one failed SMS
    assert "The total of segments and its cost are not shown" in text


async def test_the_report_in_azerbaijani(
    november: Database, database_url: str, tmp_path: Path
) -> None:
    page = await run_report(database_url, tmp_path, "--language", "az", "--per", "week")
    az = translator("az")
    html_tag = next(attrs for tag, attrs in page.tags if tag == "html")
    assert html_tag["lang"] == "az"
    h1 = [text for tag, text in page.headings if tag == "h1"]
    assert h1 == ["Aylıq hesabat: noyabr 2026"]
    h2 = [text for tag, text in page.headings if tag == "h2"]
    assert h2[1:] == [
        az("How to read this report"),
        az("Who took part"),
        az("Surveys"),
        az("What people wrote about"),
        az("Messages sent"),
    ]
    assert "How to read this report" not in h2
    text = page.all_text
    assert az(REPRESENTATIVENESS) in text and az(REPRESENTATIVENESS) != REPRESENTATIVENESS
    assert "Sizin üçün hansı Dayanıqlı İnkişaf Məqsədləri daha vacibdir?" in text
    regions = page.table(az("People who answered this month, by region")[:20])
    by_region = {row[0]: row[1:] for row in regions["rows"][1:]}
    assert by_region["Şəki-Zaqatala"] == ["<5", ""]


async def test_survey_results_to_date_count_every_answer_so_far(
    november: Database, database_url: str, tmp_path: Path
) -> None:
    page = await run_report(database_url, tmp_path, "--to-date")
    assert "Results: all answers to date" in page.all_text
    funnel = page.table("People who began the survey, answered each question and completed it")
    assert funnel["rows"][1] == ["Began the survey", "14", "100%"]  # October's person too
    regions = page.table("People who answered this month, by region")
    assert regions["rows"][1][:2] == ["Baku", "6"]  # engagement stays the month's


async def test_the_report_in_russian(november: Database, database_url: str, tmp_path: Path) -> None:
    page = await run_report(database_url, tmp_path, "--language", "ru")
    assert [text for tag, text in page.headings if tag == "h1"] == [
        "Ежемесячный отчёт: ноябрь 2026"
    ]
    text = page.all_text
    assert translator("ru")(REPRESENTATIVENESS) in text
    regions = page.table("Ответившие в этом месяце по регионам")
    by_region = {row[0]: row[1:] for row in regions["rows"][1:]}
    assert by_region["Шеки-Загатала"] == ["<5", ""]


async def test_an_empty_month_still_reads_well(db: Database, tmp_path: Path) -> None:
    page = await run_report(db.url, tmp_path, "--month", "2026-02")
    text = page.all_text
    assert "No survey had answers this month." in text
    assert "No campaign had a sending due this month." in text
    assert REPRESENTATIVENESS in text


# ---------------------------------------------------------------- small parts


def test_the_representativeness_note_is_translated_from_the_same_words() -> None:
    assert REPRESENTATIVENESS == REPRESENTATIVENESS
    for language in ("az", "ru"):
        assert translator(language)(REPRESENTATIVENESS) != REPRESENTATIVENESS


def test_months_follow_the_time_zone() -> None:
    month = ReportMonth.parse("2026-11", "Asia/Baku")
    assert month.since == datetime(2026, 10, 31, 20, 0, tzinfo=UTC)
    assert month.until == datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
    assert len(month.days()) == 30
    weeks = month.weeks()
    assert (weeks[0].first.day, weeks[0].last.day) == (1, 1)  # 1 November 2026 is a Sunday
    assert (weeks[1].first.day, weeks[1].last.day) == (2, 8)
    assert (weeks[-1].first.day, weeks[-1].last.day) == (30, 30)
    assert ReportMonth.parse("2026-12", "UTC").last_day.day == 31
    for wrong in ("2026-13", "11-2026", "2026/11"):
        with pytest.raises(ReportMonthError):
            ReportMonth.parse(wrong, "Asia/Baku")


@pytest.mark.parametrize(
    ("value", "top", "step"),
    [(0, 5, 1), (3, 3, 1), (7, 8, 2), (37, 40, 10), (1234, 1500, 500)],
    ids=["nothing", "few", "seven", "tens", "thousands"],
)
def test_axis_tops_are_round(value: int, top: float, step: float) -> None:
    assert nice_ceiling(value) == (top, step)


def test_labels_wrap_in_two_lines_at_most() -> None:
    assert wrap("Industry, Innovation and Infrastructure", 20) == [
        "Industry, Innovation",
        "and Infrastructure",
    ]
    long = wrap("one two three four five six seven eight nine ten", 10)
    assert len(long) == 2 and long[-1].endswith("…")


async def test_no_pdf_without_chromium_says_so(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHROMIUM_PATH", str(tmp_path / "no-such-browser"))
    out = tmp_path / "report.html"
    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        ["report", "--month", "2026-11", "--out", str(out), "--pdf"],
        env={"DATABASE_URL": db.url, "CHROMIUM_PATH": str(tmp_path / "no-such-browser")},
    )
    assert result.exit_code == 1
    assert "Chromium is not installed" in result.output
    assert out.is_file()  # the HTML is written all the same


@pytest.mark.skipif(find_browser() is None, reason="no Chromium on this machine")
async def test_the_report_prints_to_pdf_with_chromium(db: Database, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        ["report", "--month", "2026-11", "--out", str(out), "--pdf"],
        env={"DATABASE_URL": db.url},
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")


async def test_people_who_erased_their_identity_still_count_as_new(
    november: Database, database_url: str, tmp_path: Path
) -> None:
    def erase(session: Any) -> None:
        respondent = session.scalar(
            select(ChannelIdentity.respondent_id).where(ChannelIdentity.address == "2000")
        )
        RespondentRepository(session).erase_identity(respondent_id=respondent)

    await november.write(erase)
    page = await run_report(database_url, tmp_path)
    table = page.table("People who answered (on the day of their first answer")
    assert "Channel not known" in table["rows"][1]
    erased = await november.read(
        lambda s: s.scalar(select(Respondent.id).where(Respondent.erased_at.is_not(None)))
    )
    assert erased is not None
