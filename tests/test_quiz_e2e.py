"""Quizzes, teams, leaderboards, the question of the day and idea challenges, end to end.

Played as young people play them: the real python-telegram-bot and twilio libraries
talk HTTP to the emulated Telegram Bot API and Twilio; staff use the CLI. The
conversation's clock is the test's (it starts at the real time), so times, days and
deadlines are exact; campaigns go through the real scheduler and dispatcher.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import func, select

from outreach.app import Outreach, running
from outreach.emulators.telegram_bot_api import EmulatedUser, TelegramBotApiEmulator
from outreach.emulators.twilio_sms import EmulatedPhone, TwilioSmsEmulator
from outreach.sandbox.runtime import Sandbox
from outreach.settings import Settings
from polls.campaign import CampaignFileError, load_campaign_file, load_campaign_text
from polls.quiz import Quiz, QuizQuestion, load_quiz_file
from polls.sms_text import sms_cost
from storage.campaigns import CampaignRepository
from storage.challenges import ChallengeRepository, challenge_tag
from storage.models import CampaignRun, QuizAnswer, QuizAttempt
from tests.conftest import EXAMPLE_SURVEYS, REPO, free_port
from tests.test_campaigns_e2e import cli_run, until
from tests.test_quiz_play import Clock, Player
from tests.test_sms_e2e import join, text

pytestmark = pytest.mark.storage

DATA = Path(__file__).parent / "data"
DAILY_BANK = REPO / "quizzes" / "daily.yaml"
DAILY_CAMPAIGN = REPO / "campaigns" / "daily_question.yaml"
GREEN_SCHOOL = REPO / "challenges" / "green_school.yaml"
BAKU = ZoneInfo("Asia/Baku")


@dataclass
class World:
    outreach: Outreach
    telegram: TelegramBotApiEmulator
    twilio: TwilioSmsEmulator
    clock: Clock
    database_url: str

    def phone(self, number: str) -> EmulatedPhone:
        return self.twilio.phone(number)

    async def count(self, model: type) -> int:
        return await self.outreach.db.read(
            lambda s: int(s.scalar(select(func.count()).select_from(model)) or 0)
        )


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    """The whole service with both emulators; quizzes from tests/data; the test's clock."""
    port = free_port()
    base = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        surveys_dir=EXAMPLE_SURVEYS,
        quizzes_dir=DATA,
        port=port,
        telegram_chat_rate=30,  # pacing has its own tests; here it would only slow things
    )
    sandbox = Sandbox()
    # Flood limits have their own tests; a quiz answered at test speed would hit them.
    sandbox.telegram = TelegramBotApiEmulator(global_rate=None, per_chat_rate=None)
    async with sandbox:
        settings = sandbox.settings_for(base, f"http://127.0.0.1:{port}")
        async with running(settings, "127.0.0.1", port) as outreach:
            clock = Clock(datetime.now(UTC))
            outreach.conversation.clock = clock
            yield World(outreach, sandbox.telegram, sandbox.twilio, clock, database_url)


# ---------------------------------------------------------------- helpers


async def onboard(user: EmulatedUser, age: str = "18–24") -> None:
    """/start and the onboarding buttons, in English, in Baku."""
    await user.send("/start")
    for label in ("English", "I agree", "Baku", age, "Prefer not to say"):
        await user.press(label)


def buttons(message: dict[str, Any]) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


async def new_messages(user: EmulatedUser, action: Callable[[], Any]) -> list[dict[str, Any]]:
    """The messages the bot sent while ``action`` ran (edits change older messages)."""
    before = len(user.messages)
    await action()
    return user.messages[before:]


def right_labels(question: QuizQuestion, language: str = "en") -> list[str]:
    """The labels of the right options (``correct`` holds option indices from 0)."""
    return [question.options[i][language] for i in sorted(question.correct)]


def question_on(quiz: Quiz, moment: datetime) -> QuizQuestion:
    return quiz.question_of_the_day(moment.astimezone(BAKU).date())


async def stored_answers(world: World) -> list[tuple[str, str, bool]]:
    return await world.outreach.db.read(
        lambda s: sorted(
            (a.question_id, a.chosen, a.correct) for a in s.scalars(select(QuizAnswer))
        )
    )


# ---------------------------------------------------------------- 1. a quiz on Telegram


async def test_a_whole_quiz_on_telegram_with_buttons_feedback_and_a_summary(world: World) -> None:
    user = world.telegram.user(501, first_name="Aysel")
    await onboard(user)
    await user.send("/quiz")
    listing = user.last_message
    assert listing is not None and listing["text"] == "Quizzes:"
    assert buttons(listing) == ["Sample quiz", "Question of the day"]

    await user.press("Sample quiz")
    first = user.last_message
    assert first is not None and first is not listing
    assert first["text"].splitlines() == [
        "🎯 Sample quiz",
        "1/3 How many Sustainable Development Goals are there?",
        "You have 20 seconds.",
    ]
    assert buttons(first) == ["8", "17", "169"]

    # A rapid double press: both presses reach the bot, only the first one counts.
    world.clock.advance(seconds=5)
    before = len(user.messages)
    double = await asyncio.gather(user.press("17"), user.press("17"))
    assert [u["callback_query"]["message"]["message_id"] for u in double] == [
        first["message_id"]
    ] * 2
    assert all("reply_markup" in u["callback_query"]["message"] for u in double)  # both taps
    assert all(u["callback_query"]["id"] in world.telegram.callback_answers for u in double)
    assert len(user.messages) == before + 1  # one feedback, not two
    assert first["text"] == "How many Sustainable Development Goals are there?\n✅ 17"
    assert "reply_markup" not in first  # the answered question keeps no buttons
    second = user.messages[-1]
    assert second["text"].splitlines() == [
        "Correct! There are 17 goals and 169 targets.",
        "2/3 Which energy sources are renewable?",
        "Tick all the right answers, then press Done.",
    ]
    assert buttons(second) == ["Sun", "Coal", "Wind", "Done"]
    assert await world.count(QuizAnswer) == 1
    stale = copy.deepcopy(second)  # as a slow phone still shows it

    # Several right answers: each tick redraws the question in place; Done answers.
    assert await new_messages(user, lambda: user.press("Sun")) == []
    assert buttons(second) == ["☑️ Sun", "Coal", "Wind", "Done"]
    await user.press("Wind")
    assert buttons(second) == ["☑️ Sun", "Coal", "☑️ Wind", "Done"]
    world.clock.advance(seconds=3)
    [third] = await new_messages(user, lambda: user.press("Done"))
    assert second["text"] == "Which energy sources are renewable?\n✅ Sun, Wind"
    assert "reply_markup" not in second
    assert third["text"].splitlines() == [
        "Correct! Sun and wind do not run out.",
        "3/3 By which year should the goals be met?",
    ]
    assert buttons(third) == ["2025", "2030"]

    world.clock.advance(seconds=2)
    [summary] = await new_messages(user, lambda: user.press("2025"))
    assert third["text"] == "By which year should the goals be met?\n❌ 2025"
    lines = summary["text"].splitlines()
    assert lines[0] == "Not quite. The answer: 2030. The agenda runs to 2030."
    assert lines[2:5] == [
        "Your score: 2 of 3, in 10 s.",
        "Right answers to the ones you missed:",
        "3. 2030",
    ]
    assert "New badge: First quiz, Goals: 2/17" in lines
    assert lines[-1] == "To appear on the leaderboard, choose a nickname: /nickname and a name."
    assert "reply_markup" not in summary

    # A press on a button still shown by a slow phone, after the quiz: silence, no answer.
    assert await new_messages(user, lambda: user.press("Coal", message=stale)) == []
    assert await stored_answers(world) == [
        ("goals_count", "2", True),
        ("renewables", "1,3", True),
        ("target_year", "1", False),
    ]
    attempt = await world.outreach.db.read(
        lambda s: s.execute(select(QuizAttempt.channel, QuizAttempt.score)).one()
    )
    assert tuple(attempt) == ("telegram", 2)


# ---------------------------------------------------------------- 2. the same by SMS


async def test_the_same_quiz_by_sms_in_short_messages(world: World) -> None:
    phone = world.phone("+994501110001")
    await join(phone)
    start = len(phone.received)
    listing = await text(phone, "QUIZ")
    assert listing.splitlines() == [
        "Quizzes:",
        "1 Sample quiz",
        "2 Question of the day",
        "Reply with a number.",
    ]
    first = await text(phone, "1")
    assert first.splitlines() == [
        "Sample quiz",
        "1/3 How many Sustainable Development Goals are there?",
        "1 8",
        "2 17",
        "3 169",
        "Reply 1-3.",
    ]
    world.clock.advance(seconds=30)  # slower than the limit: by SMS it still scores
    second = await text(phone, "2")
    assert second.startswith("Correct! There are 17 goals and 169 targets.\n2/3 Which energy")
    assert second.endswith("1 Sun\n2 Coal\n3 Wind\nReply all the right numbers, for example 1,3.")
    unclear = await text(phone, "the sun")
    assert unclear == "Reply all the right numbers, for example 1,3."
    third = await text(phone, "1,3")
    assert third.startswith("Correct! Sun and wind do not run out.\n3/3 By which year")
    assert third.endswith("1 2025\n2 2030")  # "Reply 1-2." is said at the first question only
    final = await text(phone, "2")
    assert final.startswith("Correct! The agenda runs to 2030.\n\nYour score: 3 of 3, in 30 s.")
    assert "New badge: First quiz, Perfect score, Goals: 3/17" in final
    assert final.endswith("To appear on the leaderboard, reply NICK and a nickname.")
    assert "/nickname" not in final and "missed" not in final

    replies = phone.received[start:]
    assert len(replies) == 6
    for reply in replies:
        cost = sms_cost(reply.body)
        assert cost.segments <= 2, (cost, reply.body)
        assert cost.segments == reply.segments  # the emulator counts as we do
    assert await stored_answers(world) == [
        ("goals_count", "2", True),
        ("renewables", "1,3", True),
        ("target_year", "2", True),
    ]
    channel = await world.outreach.db.read(lambda s: s.scalar(select(QuizAttempt.channel)))
    assert channel == "sms"


# ---------------------------------------------------------------- 3. teams and boards


async def test_teams_nicknames_and_leaderboards_show_no_personal_data(world: World) -> None:
    created = await cli_run(world.database_url, "teams", "create", "School 42", "--region", "Baku")
    code = created.split("Its code: ")[1].split()[0]
    assert f"/team {code}" in created and f"TEAM {code}" in created

    # Eight players already on the board with 2 points each (played in-process: filler).
    for number in range(1, 9):
        other = Player(world.outreach.conversation, f"90{number}")
        await other.onboard()
        await other.command("nickname", f"Orbit_{number}")
        await other.play_sample(right=2)

    aysel = world.telegram.user(601, first_name="Leyla", username="leyla_h")
    await onboard(aysel)
    await aysel.send(f"/team {code.lower()}")
    assert aysel.last_message is not None
    assert aysel.last_message["text"] == "You joined School 42."
    await aysel.send("/nickname +994 50 123 45 67")
    assert aysel.last_message["text"] == (
        "A nickname must not look like a phone number, a handle or a link."
    )
    await aysel.send("/nickname Star_2030")
    assert aysel.last_message["text"] == "You are Star_2030 on the leaderboards."
    await aysel.send("/quiz sample_quiz")
    for label in ("17", "Coal", "Done", "2025"):  # 1 point
        await aysel.press(label)
    assert aysel.last_message["text"].endswith("You are number 9 of 9. /top")

    await aysel.send("/top")
    board = aysel.last_message
    assert board["text"].splitlines() == [
        "🏆 All time",
        "1. Orbit_1 2",
        "2. Orbit_2 2",
        "3. Orbit_3 2",
        "4. Orbit_4 2",
        "5. Orbit_5 2",
        "…",
        "7. Orbit_7 2",
        "8. Orbit_8 2",
        "9. Star_2030 1 ◀",
        "You: 9 of 9",
    ]
    assert buttons(board) == ["• All time", "This week", "• Everyone", "Region", "Team"]

    # A teammate plays by SMS and scores more: Aysel's place moves down.
    bahar = world.phone("+994501112299")
    await join(bahar)
    assert await text(bahar, f"TEAM {code}") == "You joined School 42."
    assert await text(bahar, "NICK Eco_Hero") == "You are Eco_Hero on the leaderboards."
    await text(bahar, "QUIZ sample_quiz")
    for answer in ("2", "1,3"):
        await text(bahar, answer)
    final = await text(bahar, "2")
    assert "Your score: 3 of 3" in final and final.endswith("You are number 1 of 10.")
    await aysel.send("/top")
    lines = aysel.last_message["text"].splitlines()
    assert lines[1] == "1. Eco_Hero 3"
    assert lines[-3:] == ["9. Orbit_8 2", "10. Star_2030 1 ◀", "You: 10 of 10"]

    cavid = world.telegram.user(602, first_name="Murad", username="murad_b")
    await onboard(cavid)
    await cavid.send(f"/team {code}")
    await cavid.send("/nickname Green_Fox")
    await cavid.send("/quiz sample_quiz")
    for label in ("17", "Sun", "Wind", "Done", "2025"):  # 2 points
        await cavid.press(label)

    await aysel.send("/top team")
    team_board = aysel.last_message
    assert team_board["text"].splitlines() == [
        "🏆 All time · School 42",
        "1. Eco_Hero 3",
        "2. Green_Fox 2",
        "3. Star_2030 1 ◀",
        "You: 3 of 3",
    ]
    assert buttons(team_board)[-1] == "• Team"
    sms_board = await text(bahar, "TOP TEAM")
    assert sms_board.splitlines() == [  # GSM-7 characters only: one segment, not two
        "All time - School 42",
        "1. Eco_Hero 3 <",
        "2. Green_Fox 2",
        "3. Star_2030 1",
        "You: 1 of 3",
        "Also: TOP WEEK, TOP REGION, TOP TEAM",
    ]
    assert sms_cost(sms_board).encoding == "GSM-7" and sms_cost(sms_board).segments == 1

    # /hide takes Cavid off every board; Aysel's board redraws in place when pressed.
    await cavid.send("/hide")
    assert cavid.last_message is not None
    assert cavid.last_message["text"] == "You are hidden from leaderboards. /show to appear again."
    assert await new_messages(aysel, lambda: aysel.press("• Team", message=team_board)) == []
    assert team_board["text"].splitlines()[1:] == [
        "1. Eco_Hero 3",
        "2. Star_2030 1 ◀",
        "You: 2 of 2",
    ]
    await cavid.send("/top")
    hidden_view = cavid.last_message["text"]
    assert "Green_Fox" not in hidden_view
    assert hidden_view.endswith("You are hidden from leaderboards: /show to appear.")
    await cavid.send("/me")
    assert "Hidden from leaderboards (/show to appear)." in cavid.last_message["text"]

    teams = await cli_run(world.database_url, "teams", "list")
    assert re.search(rf"School 42\s*│\s*{code}\s*│\s*baku\s*│\s*3", teams), teams

    boards = [m["text"] for u in (aysel, cavid) for m in u.messages if m["text"].startswith("🏆")]
    boards += [m.body for m in bahar.received if m.body.startswith("All time - ")]
    assert len(boards) == 5
    personal = ("Leyla", "leyla_h", "Murad", "murad_b", "601", "602", "994", "1112299")
    for shown in boards:
        assert not any(word in shown for word in personal), shown
        assert not re.search(r"\d{5,}", shown), shown


# ---------------------------------------------------------------- 4. the question of the day


def test_the_daily_question_campaign_file_is_valid() -> None:
    campaign = load_campaign_file(DAILY_CAMPAIGN)
    assert campaign.kind.value == "quiz_invitation" and campaign.quiz_id == "daily"
    assert campaign.schedule is not None and campaign.schedule.recurring
    assert campaign.audience.age_bands == ("15_17", "18_24")
    assert set(campaign.languages) == {"az", "ru", "en"}
    assert load_quiz_file(DAILY_BANK).daily  # the quiz it invites to is a daily bank
    source = DAILY_CAMPAIGN.read_text(encoding="utf-8")
    for cron, complaint in [
        ("0 9,18 * * *", "fires more than once a day"),
        ("0 9 * * 1-5", "is a number"),
    ]:
        with pytest.raises(CampaignFileError) as refused:
            load_campaign_text(source.replace('"0 9 * * *"', f'"{cron}"'), source="daily.yaml")
        assert any(complaint in str(p) for p in refused.value.problems)


async def test_the_daily_question_comes_with_a_recurring_campaign(
    world: World, tmp_path: Path
) -> None:
    loaded = await cli_run(world.database_url, "quizzes", "load", str(DAILY_BANK))
    assert "daily: version 1" in loaded
    bank = load_quiz_file(DAILY_BANK)
    now = world.clock.now

    nigar = world.telegram.user(701, first_name="Nigar")
    await onboard(nigar)
    elder = world.telegram.user(702, first_name="Rauf")
    await onboard(elder, age="35–49")  # outside the campaign's audience
    sevda = world.phone("+994501113344")
    await join(sevda)

    # Yesterday Nigar answered the question of the day herself.
    world.clock.now = now - timedelta(days=1)
    await nigar.send("/quiz daily")
    yesterday = question_on(bank, world.clock.now)
    assert nigar.last_message is not None
    assert nigar.last_message["text"] == f"☀️ Question of the day\n{yesterday.text['en']}"
    await nigar.press(right_labels(yesterday)[0])
    assert "Your streak: 1 day in a row." in nigar.last_message["text"].splitlines()
    world.clock.now = now

    # Staff schedule the example campaign to fire now (the last minute, caught up).
    document = yaml.safe_load(DAILY_CAMPAIGN.read_text(encoding="utf-8"))
    fired = datetime.now(BAKU) - timedelta(minutes=1)
    document["schedule"] = {"cron": f"{fired.minute} {fired.hour} * * *", "timezone": "Asia/Baku"}
    document["window"] = {"start": "00:00", "end": "23:59"}
    path = tmp_path / "daily_question.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    await cli_run(world.database_url, "campaign", "create", str(path))
    preview = await cli_run(world.database_url, "campaign", "preview", "daily_question")
    assert "Reaches 2 people" in preview
    await cli_run(world.database_url, "campaign", "schedule", "daily_question")
    scheduler = world.outreach.scheduler
    assert scheduler is not None
    texted = len(sevda.received)
    await scheduler.sync()

    async def invited() -> bool:
        return bool(nigar.messages[-1].get("reply_markup") and len(sevda.received) > texted)

    await until(invited)
    invitation = nigar.messages[-1]
    assert invitation["text"] == document["text"]["en"]
    assert buttons(invitation) == ["Play"]
    sms_invitation = (await sevda.next_message()).body
    assert sms_invitation == document["text"]["en"] + "\nReply QUIZ to play."
    assert sms_cost(sms_invitation).segments == 1
    assert not [m for m in elder.messages if m["text"] == document["text"]["en"]]
    status = json.loads(
        await cli_run(world.database_url, "campaign", "status", "daily_question", "--json")
    )
    assert sum(n for n in status.values() if isinstance(n, int)) == 2

    # Once a day: the same due time fires nothing more, however often asked.
    due = await world.outreach.db.read(
        lambda s: CampaignRepository(s).latest_run_due(campaign_id="daily_question")
    )
    assert due is not None
    sent = len(world.telegram.calls("sendMessage")) + len(world.twilio.sent)
    await scheduler.sync()
    await scheduler.fire("daily_question", due)
    await asyncio.sleep(0.3)
    assert len(world.telegram.calls("sendMessage")) + len(world.twilio.sent) == sent
    assert await world.count(CampaignRun) == 1

    # Play: today's question, with its buttons; a right answer keeps the streak going.
    today = question_on(bank, now)
    await nigar.press("Play")
    question = nigar.last_message
    assert question["text"] == f"☀️ Question of the day\n{today.text['en']}"
    assert buttons(question) == [option["en"] for option in today.options]
    [feedback] = await new_messages(nigar, lambda: nigar.press(right_labels(today)[0]))
    assert question["text"] == f"{today.text['en']}\n✅ {right_labels(today)[0]}"
    assert feedback["text"].startswith(f"Correct! {today.explanation['en']}")
    assert "Your streak: 2 days in a row." in feedback["text"].splitlines()
    await nigar.press("Play")  # the invitation again: today's question is answered
    assert nigar.last_message["text"] == "You have answered today's question. Come back tomorrow!"
    await nigar.send("/me")
    profile = nigar.last_message["text"].splitlines()
    goals = len({yesterday.goal, today.goal})
    assert "Streak: 2 days" in profile and f"Badges: Goals: {goals}/17" in profile

    # By SMS: QUIZ answers the invitation; a number answers the question.
    asked = await text(sevda, "QUIZ")
    options = [f"{i} {o['en']}" for i, o in enumerate(today.options, start=1)]
    assert asked.splitlines() == [
        "Question of the day",
        today.text["en"],
        *options,
        f"Reply 1-{len(options)}.",
    ]
    wrong = next(i for i in range(len(today.options)) if i not in today.correct)
    answered = await text(sevda, str(wrong + 1))
    assert answered.startswith("Not quite. The answer: ")
    assert answered.splitlines()[-1] == "Your streak: 1 day in a row."
    assert sms_cost(answered).segments <= 2


# ---------------------------------------------------------------- 5. an idea challenge


async def test_an_idea_challenge_through_telegram_and_sms(world: World, tmp_path: Path) -> None:
    deadline = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    document = yaml.safe_load(GREEN_SCHOOL.read_text(encoding="utf-8"))
    document["deadline"] = deadline.isoformat()  # past for staff, who use the real clock
    document["voting_closes_at"] = (deadline + timedelta(days=30)).isoformat()
    challenge_file = tmp_path / "green_school.yaml"
    challenge_file.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    world.clock.now = deadline - timedelta(days=3)  # the participants' time: ideas are open
    assert "opened" in await cli_run(world.database_url, "challenge", "open", str(challenge_file))

    ana = world.telegram.user(801, first_name="Ana")
    bo = world.telegram.user(802, first_name="Bo")
    cy = world.phone("+994501234567")
    for user in (ana, bo):
        await onboard(user)
    await join(cy)

    await ana.send("/idea")
    assert ana.last_message is not None
    prompt = ana.last_message["text"]
    assert prompt.startswith("💡 Ideas for a greener school\nWhat one change")
    assert prompt.endswith("Send your idea in one message, up to 500 characters.")
    await ana.send("Solar panels on the school roof")
    assert ana.last_message["text"].startswith("Thank you! Our team reads every idea")
    await bo.send("/idea Compost bins for the canteen waste")
    assert bo.last_message["text"].startswith("Thank you!")
    sms_prompt = await text(cy, "IDEA")
    assert sms_prompt.startswith("Ideas for a greener school\n")
    assert "up to 500 characters" in sms_prompt
    unsafe = await text(cy, "Text me on 050 555 12 34 about a school garden")
    assert "without names, phone numbers" in unsafe
    assert (await text(cy, "A school garden with a rain barrel")).startswith("Thank you!")

    pending = await cli_run(
        world.database_url, "challenge", "ideas", "green_school", "--status", "pending"
    )
    assert "3 idea(s)." in pending and "barrel" in pending and "Compost" in pending
    assert "+994" not in pending and "Ana" not in pending  # staff never see who wrote it
    ideas = await world.outreach.db.read(
        lambda s: {i.text.split()[0]: i.id for i in ChallengeRepository(s).ideas("green_school")}
    )
    await cli_run(world.database_url, "challenge", "approve", *map(str, ideas.values()))
    assert "Voting is open on 3 ideas" in await cli_run(
        world.database_url, "challenge", "voting", "green_school"
    )
    world.clock.now = deadline + timedelta(hours=2)

    # Ana's ballot: the others' ideas, as numbered buttons, never her own.
    await ana.send("/vote")
    ballot = ana.last_message
    assert "Solar panels" not in ballot["text"]
    assert "Compost bins" in ballot["text"] and "school garden" in ballot["text"]
    assert buttons(ballot) == ["1", "2"]
    compost = next(line.split(".")[0] for line in ballot["text"].splitlines() if "Compost" in line)
    assert await new_messages(ana, lambda: ana.press(compost)) == []
    assert ballot["text"] == "Thank you for your vote! We will announce the results here."
    assert "reply_markup" not in ballot  # the ballot became the thanks, in place

    # A tampered client pressing a vote for Bo's own idea is refused.
    await bo.send("/vote")
    bo_ballot = bo.last_message
    assert "Compost" not in bo_ballot["text"]
    forged = {
        **bo_ballot,
        "reply_markup": {
            "inline_keyboard": [
                [{"text": "X", "callback_data": f"vote:green_school:{ideas['Compost']}"}]
            ]
        },
    }
    await bo.press("X", message=forged)
    assert bo.last_message["text"] == "You cannot vote for your own idea."
    garden = next(line.split(".")[0] for line in bo_ballot["text"].splitlines() if "garden" in line)
    await bo.press(garden, message=bo_ballot)
    assert bo_ballot["text"].startswith("Thank you for your vote!")

    # By SMS: VOTE, then a number from the numbered ballot.
    sms_ballot = await text(cy, "VOTE")
    assert "school garden" not in sms_ballot
    assert sms_ballot.endswith("Reply the number of an idea.")
    assert sms_cost(sms_ballot).segments <= 2
    number = next(line.split(".")[0] for line in sms_ballot.splitlines() if "Compost" in line)
    assert (await text(cy, number)).startswith("Thank you for your vote!")
    assert await text(cy, "VOTE") == "You have voted in this challenge. Thank you!"

    # Staff close the vote: the results become a campaign to the participants.
    out = tmp_path / "results.yaml"
    assert "The vote is closed." in await cli_run(
        world.database_url, "challenge", "announce", "green_school", "--out", str(out)
    )
    results = load_campaign_file(out)
    assert results.audience.tags == (challenge_tag("green_school"),)
    assert results.text_for("en").splitlines() == [
        "Results: Ideas for a greener school",
        "1. Compost bins for the canteen waste (2 votes)",
        "2. A school garden with a rain barrel (1 vote)",
        "3. Solar panels on the school roof (0 votes)",
    ]
    # Sent now, in any hour, it reaches the three of them on their own channel.
    announcement = yaml.safe_load(out.read_text(encoding="utf-8"))
    del announcement["schedule"]
    announcement["window"] = {"start": "00:00", "end": "23:59"}
    out.write_text(yaml.safe_dump(announcement, allow_unicode=True), encoding="utf-8")
    await cli_run(world.database_url, "campaign", "create", str(out))
    await cli_run(world.database_url, "campaign", "schedule", announcement["id"])
    assert world.outreach.scheduler is not None
    await world.outreach.scheduler.sync()

    def announced(texts: list[str]) -> bool:
        return any(t.startswith("Results: Ideas for a greener school") for t in texts)

    async def everyone_told() -> bool:
        return (
            announced([m["text"] for m in ana.messages])
            and announced([m["text"] for m in bo.messages])
            and announced([m.body for m in cy.received])
        )

    await until(everyone_told)
    by_sms = (await cy.next_message()).body
    assert by_sms == results.text_for("en") and sms_cost(by_sms).segments <= 2
    assert not [m for m in ana.messages if m["text"].startswith("Results:") and buttons(m)]
    # Afterwards /vote (VOTE) shows the same results.
    assert await text(cy, "VOTE") == results.text_for("en")
