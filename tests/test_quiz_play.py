"""Quizzes in the conversation, with a real database: play, scoring, leaderboards, teams, daily.

The channel is left out (tests/test_quiz_e2e.py drives the real bot and SMS);
the clock is the test's, so time limits, days and weeks are exact.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from outreach.conversation import ConversationConfig, ConversationService
from outreach.quiz_catalogue import QuizCatalogue
from outreach.survey_catalogue import SurveyCatalogue
from polls.messages import Channel, Inbound, InboundKind, Outbound, Reply
from polls.onboarding import DEFAULT_REGIONS
from polls.sms_text import sms_cost, transliterate
from storage.database import Database
from storage.models import PlayerScore, QuizAnswer
from storage.quizzes import TeamRepository

pytestmark = pytest.mark.storage

DATA = Path(__file__).parent / "data"
_delivery = itertools.count(1)


@dataclass
class Clock:
    now: datetime = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def service(db: Database, clock: Clock) -> AsyncIterator[ConversationService]:
    quizzes = QuizCatalogue(db)
    await quizzes.load_files([DATA / "quiz_sample.yaml", DATA / "daily_sample.yaml"])
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
        quizzes=quizzes,
    )


@dataclass
class Player:
    service: ConversationService
    address: str
    channel: Channel = Channel.TELEGRAM
    last: list[Outbound] = field(default_factory=list)

    async def send(self, kind: InboundKind, text: str, argument: str = "") -> Reply:
        reply = await self.service.handle(
            Inbound(
                self.channel,
                self.address,
                kind,
                text,
                argument,
                dedup_key=f"d{next(_delivery)}",
                language_hint="en",
            )
        )
        if reply.messages:
            self.last = reply.messages
        return reply

    async def say(self, text: str) -> str:
        return "\n".join(m.text for m in (await self.send(InboundKind.TEXT, text)).messages)

    async def command(self, name: str, argument: str = "") -> str:
        reply = await self.send(InboundKind.COMMAND, name, argument)
        return "\n".join(m.text for m in reply.messages)

    def payload(self, label: str) -> str:
        for message in reversed(self.last):
            for button in message.flat_buttons:
                if button.label == label:
                    return button.payload
        raise LookupError(f"no button {label!r} in {[m.text for m in self.last]}")

    async def press(self, label: str) -> list[Outbound]:
        return (await self.send(InboundKind.BUTTON, self.payload(label))).messages

    async def onboard(self, region: str = "Baku") -> None:
        await self.command("start")
        for answer in ("English", "1", region, "18–24"):
            await self.say(answer)
        if self.channel is Channel.TELEGRAM:
            await self.say("Prefer not to say")

    async def play_sample(
        self, *, right: int = 3, clock: Clock | None = None, seconds: float = 0
    ) -> str:
        """The sample quiz: the first ``right`` answers right, each after ``seconds``."""
        await self.command("quiz", "sample_quiz")
        answers = [
            (["17"], ["8"]),
            (["Sun", "Wind", "Done"], ["Coal", "Done"]),
            (["2030"], ["2025"]),
        ]
        for index, (good, bad) in enumerate(answers):
            if clock is not None:
                clock.advance(seconds=seconds)
            for label in good if index < right else bad:
                await self.press(label)
        return "\n".join(m.text for m in self.last)


async def test_a_whole_quiz_with_buttons_feedback_and_a_summary(
    service: ConversationService, db: Database, clock: Clock
) -> None:
    ada = Player(service, "501")
    await ada.onboard()
    listing = await ada.command("quiz")
    assert listing == "Quizzes:"
    assert [b.label for b in ada.last[0].flat_buttons] == ["Sample quiz", "Question of the day"]

    first = await ada.press("Sample quiz")
    assert first[0].text.startswith("🎯 Sample quiz\n1/3 How many Sustainable Development Goals")
    assert "You have 20 seconds." in first[0].text
    assert [b.label for b in first[0].flat_buttons] == ["8", "17", "169"]

    clock.advance(seconds=5)
    replies = await ada.press("17")
    redraw, following = replies
    assert redraw.updates_pressed and redraw.text.endswith("✅ 17") and not redraw.buttons
    assert following.text.startswith("Correct! There are 17 goals and 169 targets.\n2/3 Which")
    assert "Tick all the right answers, then press Done." in following.text

    # Two right answers: ticks redraw the question in place; Done answers.
    ticked = await ada.press("Sun")
    assert ticked[0].updates_pressed
    assert [b.label for b in ticked[0].flat_buttons] == ["☑️ Sun", "Coal", "Wind", "Done"]
    await ada.press("Wind")
    clock.advance(seconds=3)
    replies = await ada.press("Done")
    assert replies[0].text.endswith("✅ Sun, Wind")
    assert replies[1].text.startswith("Correct! Sun and wind do not run out.\n3/3 By which year")

    clock.advance(seconds=2)
    replies = await ada.press("2025")
    assert replies[0].text.endswith("❌ 2025")
    summary = replies[1].text
    assert summary.startswith("Not quite. The answer: 2030. The agenda runs to 2030.")
    assert "Your score: 2 of 3, in 10 s." in summary
    assert "Right answers to the ones you missed:\n3. 2030" in summary
    assert "New badge: First quiz" in summary
    assert "choose a nickname" in summary

    stored = await db.read(
        lambda s: [(a.question_id, a.chosen, a.correct) for a in s.scalars(select(QuizAnswer))]
    )
    assert sorted(stored) == [
        ("goals_count", "2", True),
        ("renewables", "1,3", True),
        ("target_year", "1", False),
    ]


async def test_a_second_press_and_an_old_button_are_ignored(
    service: ConversationService, db: Database
) -> None:
    ben = Player(service, "502")
    await ben.onboard()
    await ben.command("quiz", "sample_quiz")
    right, wrong = ben.payload("17"), ben.payload("8")
    assert (await ben.send(InboundKind.BUTTON, right)).messages
    # A rapid second press on the same question (either option) changes nothing.
    assert (await ben.send(InboundKind.BUTTON, wrong)).messages == []
    assert (await ben.send(InboundKind.BUTTON, right)).messages == []
    answers = await db.read(lambda s: s.scalar(select(func.count()).select_from(QuizAnswer)))
    assert answers == 1
    # A typed word that names no option gets a short re-prompt, and the quiz goes on.
    assert await ben.say("hmm") == "Tick all the right answers, then press Done."


async def test_an_answer_after_the_time_limit_does_not_score(
    service: ConversationService, db: Database, clock: Clock
) -> None:
    cem = Player(service, "503")
    await cem.onboard()
    await cem.command("quiz", "sample_quiz")
    clock.advance(seconds=21)
    replies = await cem.press("17")
    assert replies[0].text.endswith("⌛ 17")
    assert replies[1].text.startswith("Time is up: this answer does not score. The answer: 17.")
    correct = await db.read(lambda s: s.scalar(select(QuizAnswer.correct)))
    assert correct is False


async def test_first_attempt_counts_and_a_replay_is_practice(
    service: ConversationService, db: Database
) -> None:
    dan = Player(service, "504")
    await dan.onboard()
    await dan.command("nickname", "Dan_2030")
    await dan.play_sample(right=1)
    assert await _score(db, "all") == 1
    opening = await dan.command("quiz", "sample_quiz")
    assert "Only your first result counts in this quiz: this play is practice." in opening
    final = await dan.play_sample(right=3)
    assert "Your earlier result counts for this quiz." in final
    assert await _score(db, "all") == 1


async def test_leaving_a_quiz_and_coming_back_continues_it(
    service: ConversationService,
) -> None:
    eda = Player(service, "505")
    await eda.onboard()
    await eda.command("quiz", "sample_quiz")
    await eda.press("8")
    await eda.command("surveys")
    again = await eda.command("quiz", "sample_quiz")
    assert "Let's continue." in again and "2/3 Which energy sources" in again


async def test_leaderboard_ties_hiding_teams_and_the_weekly_reset(
    service: ConversationService, db: Database, clock: Clock
) -> None:
    code = await db.write(
        lambda s: TeamRepository(s).create(name="School 42", region="ganja-dashkasan")
    )
    players = {}
    for index, (name, region, right, seconds) in enumerate(
        [
            ("Aysel", "Baku", 3, 4),
            ("Bahar", "Baku", 3, 2),  # as many right as Aysel, faster: ranks above her
            ("Cavid", "Ganja-Dashkasan", 2, 1),
            ("Dunya", "Ganja-Dashkasan", 1, 1),
        ]
    ):
        player = Player(service, f"60{index}")
        await player.onboard(region)
        assert "You are" in await player.command("nickname", name)
        if region != "Baku":
            assert await player.command("team", code.lower()) == "You joined School 42."
        await player.play_sample(right=right, clock=clock, seconds=seconds)
        players[name] = player

    board = await players["Dunya"].command("top")
    assert board.splitlines()[:6] == [
        "🏆 All time",
        "1. Bahar 3",
        "2. Aysel 3",
        "3. Cavid 2",
        "4. Dunya 1 ◀",
        "You: 4 of 4",
    ]
    team_board = await players["Dunya"].command("top", "team")
    assert team_board.splitlines()[:3] == ["🏆 All time · School 42", "1. Cavid 2", "2. Dunya 1 ◀"]
    region_board = await players["Aysel"].command("top", "region")
    assert region_board.splitlines()[1:3] == ["1. Bahar 3", "2. Aysel 3 ◀"]

    assert "hidden" in await players["Bahar"].command("hide")
    board = await players["Aysel"].command("top")
    assert "Bahar" not in board and board.splitlines()[1] == "1. Aysel 3 ◀"
    await players["Bahar"].command("show")
    assert "1. Bahar 3" in await players["Aysel"].command("top")

    # A new week: the weekly board starts empty, all time keeps everyone.
    clock.advance(days=7)
    weekly = await players["Aysel"].command("top", "week")
    assert weekly.splitlines()[:2] == ["🏆 This week", "Nobody on this board yet."]
    assert "1. Bahar 3" in await players["Aysel"].command("top")
    clock.advance(days=-7)
    assert "1. Bahar 3" in await players["Aysel"].command("top", "week")


async def test_nicknames_are_checked_and_unique(service: ConversationService) -> None:
    fay = Player(service, "701")
    await fay.onboard()
    assert await fay.command("nickname", "+994 50 123 45 67") == (
        "A nickname must not look like a phone number, a handle or a link."
    )
    assert await fay.command("nickname", "@fay_real") == (
        "A nickname must not look like a phone number, a handle or a link."
    )
    assert await fay.command("nickname", "Id1ot") == "Please choose another nickname."
    assert await fay.command("nickname", "ab") == "A nickname has 3 to 20 letters or digits."
    assert await fay.command("nickname", "Star_2030") == "You are Star_2030 on the leaderboards."
    gul = Player(service, "702")
    await gul.onboard()
    assert await gul.command("nickname", "star 2030") != "You are star 2030 on the leaderboards."
    assert await gul.command("nickname", "STAR_2030") == (
        "That nickname is taken. Please choose another."
    )
    assert await gul.command("team", "NOPE00") == (
        "There is no team with that code. Please check it."
    )


async def test_the_question_of_the_day_builds_a_streak(
    service: ConversationService, clock: Clock
) -> None:
    han = Player(service, "801")
    await han.onboard()
    for day in range(7):
        opened = await han.command("quiz", "daily_sample")
        assert opened.startswith("☀️ Question of the day\nWhich goal is")
        question = han.last[0]
        right = "Goal 2" if "Zero hunger" in question.text else "Goal 6"
        replies = await han.press(right)
        days = "1 day" if day == 0 else f"{day + 1} days"
        assert f"Your streak: {days} in a row." in replies[-1].text
        again = await han.command("quiz", "daily_sample")
        assert again == "You have answered today's question. Come back tomorrow!"
        clock.advance(days=1)
    assert "7-day streak" in replies[-1].text
    profile = await han.command("me")
    assert "Streak: 7 days" in profile and "7-day streak" in profile
    # A day missed breaks the streak.
    clock.advance(days=1)
    await han.command("quiz", "daily_sample")
    replies = await han.press(han.last[0].flat_buttons[0].label)
    assert "Your streak: 1 day in a row." in replies[-1].text


async def test_a_quiz_by_sms_in_few_segments(service: ConversationService, db: Database) -> None:
    ira = Player(service, "+994501112233", channel=Channel.SMS)
    await ira.onboard()
    listing = await ira.command("quiz")
    assert listing.splitlines() == [
        "Quizzes:",
        "1 Sample quiz",
        "2 Question of the day",
        "Reply with a number.",
    ]
    first = await ira.say("1")
    assert first.splitlines() == [
        "Sample quiz",
        "1/3 How many Sustainable Development Goals are there?",
        "1 8",
        "2 17",
        "3 169",
        "Reply 1-3.",
    ]
    reply = await ira.send(InboundKind.TEXT, "2.")
    second = reply.messages[0].text
    assert reply.transliterate  # quizzes go in GSM-7 letters: half the segments for az and ru
    assert second.startswith("Correct! There are 17 goals and 169 targets.\n2/3 Which energy")
    assert second.endswith("Reply all the right numbers, for example 1,3.")
    assert await ira.say("maybe") == "Reply all the right numbers, for example 1,3."
    third = await ira.say("1 3")
    assert third.startswith("Correct! Sun and wind do not run out.\n3/3 By which year")
    assert "Reply 1-" not in third  # said once, at the first question
    final = await ira.say("2030")
    assert "Your score: 3 of 3" in final and "reply NICK and a nickname" in final
    assert "missed" not in final  # by SMS each answer was already given with its feedback
    for message in (first, second, third, final):
        assert sms_cost(transliterate(message, "en")).segments <= 2, message
    answers = await db.read(lambda s: s.scalar(select(func.count()).select_from(QuizAnswer)))
    assert answers == 3


async def _score(db: Database, period: str) -> int:
    return await db.read(
        lambda s: int(s.scalar(select(PlayerScore.score).where(PlayerScore.period == period)) or 0)
    )
