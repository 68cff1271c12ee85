"""Linking a phone number merges the SMS person into the Telegram person: nothing they did
is lost (quizzes, streak, badges, team, ideas, votes, tags, events, campaign messages) and
nothing counts twice (the replay rule, one vote, one answer a day, one message a run).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import Table, insert, literal_column, select
from sqlalchemy.orm import Session

from outreach.conversation import ConversationService
from polls.campaign import load_campaign_file
from polls.challenge import parse_challenge
from polls.messages import Channel, InboundKind
from polls.quiz import parse_quiz
from storage.campaigns import CampaignRepository
from storage.challenges import VOTING, ChallengeRepository, challenge_tag
from storage.database import Database
from storage.events import EventRepository
from storage.models import (
    Badge,
    Base,
    DailyAnswer,
    EventRsvp,
    OutboxMessage,
    PlayerScore,
    QuizAttempt,
    QuizVersion,
    RespondentTag,
)
from storage.models import Player as PlayerRow
from storage.quizzes import (
    ALL_TIME,
    LeaderboardRepository,
    PlayerRepository,
    QuizRepository,
    TeamRepository,
)
from storage.respondents import MERGED_TABLES, RespondentRepository
from tests.test_quiz_play import DATA, Clock, Player
from tests.youth_service import youth_service

pytestmark = pytest.mark.storage

REPO = Path(__file__).resolve().parent.parent
NUMBER = "+994501234567"
WEEK = "2026-W48"  # Monday 23 to Sunday 29 November 2026, where the story happens
DEADLINE = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
"""Ideas until Wednesday noon, then the vote."""


@pytest.fixture
def clock() -> Clock:
    return Clock()  # Monday 23 November 2026, 09:00 UTC


@pytest.fixture
async def service(db: Database, clock: Clock, tmp_path: Path) -> AsyncIterator[ConversationService]:
    best = yaml.safe_load((DATA / "quiz_sample.yaml").read_text(encoding="utf-8"))
    best.update(id="best_quiz", replay="best")
    best["title"] = {"az": "Ən yaxşı", "ru": "Лучший", "en": "Best quiz"}
    best_file = tmp_path / "best_quiz.yaml"
    best_file.write_text(yaml.safe_dump(best, allow_unicode=True), encoding="utf-8")
    yield await youth_service(
        db,
        clock,
        [DATA / "quiz_sample.yaml", best_file, DATA / "daily_sample.yaml"],
        challenge_deadline=DEADLINE,
    )


# ---------------------------------------------------------------- what points at a person


def respondent_tables() -> list[Table]:
    """Every table with a foreign key to respondents, as the models define them."""
    return [
        table
        for table in Base.metadata.sorted_tables
        if any(key.column.table.name == "respondents" for key in table.foreign_keys)
    ]


def keys_of(session: Session, respondent_id: int) -> dict[str, set[tuple[Any, ...]]]:
    """Per table, the person's rows by their key without the person (the row id, or the
    rest of a composite key: a day, a badge, a challenge, a period...)."""
    found = {}
    for table in respondent_tables():
        key: list[Any] = [c for c in table.primary_key.columns if c.name != "respondent_id"]
        rows = session.execute(
            select(*(key or [literal_column("1")])).where(table.c.respondent_id == respondent_id)
        ).all()
        found[table.name] = {tuple(row) for row in rows}
    return found


def test_every_table_that_points_at_a_person_has_a_merge_rule() -> None:
    assert {table.name for table in respondent_tables()} == MERGED_TABLES


# ---------------------------------------------------------------- the whole story


async def _play_by_sms(sms: Player, quiz_id: str, *, right: bool) -> str:
    await sms.command("quiz", quiz_id)
    answers = ("2", "1 3", "2") if right else ("1", "2", "1")
    for answer in answers:
        final = await sms.say(answer)
    return final


async def _daily(player: Player) -> str:
    """Answer the question of the day rightly, by button or by number."""
    opened = await player.command("quiz", "daily_sample")
    if player.channel is Channel.SMS:
        return await player.say("1" if "Zero hunger" in opened else "2")
    right = "Goal 2" if "Zero hunger" in opened else "Goal 6"
    return "\n".join(m.text for m in await player.press(right))


async def _vote_by_button(player: Player, idea_text: str) -> str:
    ballot = await player.command("vote")
    line = next(line for line in ballot.splitlines() if idea_text in line)
    return "\n".join(m.text for m in await player.press(line.split(".")[0]))


async def test_linking_a_phone_carries_everything_over_once(
    service: ConversationService, db: Database, clock: Clock
) -> None:
    code = await db.write(lambda s: TeamRepository(s).create(name="School 42", region=None))
    sam = Player(service, NUMBER, channel=Channel.SMS)  # by SMS first
    tia = Player(service, "777")  # the same young person, later on Telegram
    ula = Player(service, "778")
    vic = Player(service, "779")
    for person in (sam, tia, ula, vic):
        await person.onboard()

    # Monday. By SMS: half a survey, a nickname, a team, two quizzes, the daily question.
    await sam.command("start", "youth_priorities")
    await sam.say("4")
    assert "You are SamSms" in await sam.command("nickname", "SamSms")
    assert await sam.command("team", code) == "You joined School 42."
    # On Telegram, earlier the same morning: the sample quiz (its first attempt counts).
    await tia.play_sample(right=1)
    clock.advance(minutes=30)
    assert "3 of 3" in await _play_by_sms(sam, "sample_quiz", right=True)
    assert "3 of 3" in await _play_by_sms(sam, "best_quiz", right=True)
    await tia.command("quiz", "best_quiz")
    for label in ("17", "Sun", "Wind", "Done", "2025"):  # 2 of 3
        await tia.press(label)
    await ula.command("nickname", "Ula")
    await ula.play_sample(right=3)
    # Ideas, one each.
    ideas = {
        "sam": "A rain barrel for the school garden",
        "tia": "Solar panels on the school roof",
        "ula": "Compost bins for the canteen waste",
        "vic": "Bicycle racks by the school gate",
    }
    for person, name in ((sam, "sam"), (tia, "tia"), (ula, "ula"), (vic, "vic")):
        assert (await person.command("idea", ideas[name])).startswith("Thank you!")
    await _daily(sam)

    def approve_all(session: Session) -> dict[str, int]:
        challenges = ChallengeRepository(session)
        by_text = {}
        for idea in challenges.ideas("green_school"):
            challenges.moderate(idea_id=idea.id, status="approved", now=clock.now)
            by_text[idea.text] = idea.id
        challenges.set_status("green_school", VOTING)
        return by_text

    idea_ids = await db.write(approve_all)
    clock.advance(days=1)
    await _daily(sam)  # Tuesday

    # Wednesday, after the deadline: both vote, by SMS first.
    clock.now = DEADLINE + timedelta(hours=1)
    await _daily(sam)
    await _daily(tia)  # both answered Wednesday's question
    sms_ballot = await sam.command("vote")
    compost = next(line for line in sms_ballot.splitlines() if "Compost" in line)
    assert (await sam.say(compost.split(".")[0])).startswith("Thank you")
    clock.advance(hours=1)
    assert (await _vote_by_button(tia, "Bicycle")).startswith("Thank you for your vote")

    # Staff gave the SMS person a tag; both answered an event, the SMS answer first;
    # a campaign reached both, and another only the SMS person.
    def staff_side(session: Session) -> dict[str, int]:
        respondents = RespondentRepository(session)
        by_sms = respondents.find(channel="sms", address=NUMBER)
        by_telegram = respondents.find(channel="telegram", address="777")
        assert by_sms is not None and by_telegram is not None
        session.execute(insert(RespondentTag), {"respondent_id": by_sms.id, "tag": "school42"})
        campaigns = CampaignRepository(session)
        campaigns.save(campaign=load_campaign_file(REPO / "campaigns" / "ganja_town_hall.yaml"))
        events = EventRepository(session)
        for respondent_id, response in ((by_sms.id, "going"), (by_telegram.id, "maybe")):
            events.answer(
                campaign_id="ganja_town_hall",
                respondent_id=respondent_id,
                response=response,
                capacity=120,
            )
        first = campaigns.create_run(campaign_id="ganja_town_hall", due_at=clock.now)
        second = campaigns.create_run(
            campaign_id="ganja_town_hall", due_at=clock.now + timedelta(days=1)
        )
        assert first is not None and second is not None
        rows = [
            (first, by_sms.id, "sms", NUMBER, "sent"),
            (first, by_telegram.id, "telegram", "777", "pending"),
            (second, by_sms.id, "sms", NUMBER, "pending"),
        ]
        campaigns.add_outbox(
            rows=[
                {
                    "run_id": run_id,
                    "campaign_id": "ganja_town_hall",
                    "respondent_id": respondent_id,
                    "channel": channel,
                    "address": address,
                    "language": "en",
                    "status": status,
                    "not_before": clock.now,
                    "attempts": 0,
                    "updated_at": clock.now,
                }
                for run_id, respondent_id, channel, address, status in rows
            ]
        )
        return {"sms": by_sms.id, "telegram": by_telegram.id, "first_run": first}

    ids = await db.write(staff_side)
    by_sms, by_telegram = ids["sms"], ids["telegram"]

    # Thursday: the daily question on Telegram, then the phone number is shared.
    clock.advance(days=1)
    await _daily(tia)
    before_sms = await db.read(lambda s: keys_of(s, by_sms))
    before_telegram = await db.read(lambda s: keys_of(s, by_telegram))
    assert all(before_sms.values()), [name for name, keys in before_sms.items() if not keys]
    telegram_copy = await db.read(
        lambda s: s.scalar(
            select(OutboxMessage.id).where(
                OutboxMessage.respondent_id == by_telegram,
                OutboxMessage.run_id == ids["first_run"],
            )
        )
    )

    assert "phone number" in await tia.command("phone")
    linked = await tia.send(InboundKind.CONTACT, NUMBER.removeprefix("+"))
    assert "linked" in linked.messages[0].text

    # Every row of the SMS person now belongs to the survivor, under the same key; only
    # the Telegram copy of a campaign message the SMS one had already been sent is gone.
    after_sms = await db.read(lambda s: keys_of(s, by_sms))
    after = await db.read(lambda s: keys_of(s, by_telegram))
    assert not any(after_sms.values())
    assert await db.read(lambda s: RespondentRepository(s).get(respondent_id=by_sms)) is None
    dropped = {"outbox": {(telegram_copy,)}}
    for name, keys in after.items():
        expected = (before_sms[name] | before_telegram[name]) - dropped.get(name, set())
        assert keys == expected, name

    # Quizzes: one counted attempt per quiz, as each quiz's replay rule says.
    counted = await db.read(
        lambda s: {
            (a.quiz_id, a.score)
            for a in s.scalars(
                select(QuizAttempt).where(
                    QuizAttempt.respondent_id == by_telegram, QuizAttempt.counted.is_(True)
                )
            )
        }
    )
    # first: the Telegram play of Monday morning, before the SMS one; best: the SMS 3 of 3.
    assert counted == {("sample_quiz", 1), ("best_quiz", 3)}

    # The profile reads the same on both channels: nickname and team from SMS, the
    # points of the counted attempts, four days in a row (Wednesday counted once).
    sam_again = Player(service, NUMBER, channel=Channel.SMS)
    for person in (tia, sam_again):
        profile = (await person.command("me")).splitlines()
        assert profile[:2] == ["Nickname: SamSms", "Team: School 42"]
        assert "All time: 1 of 2" in profile and "This week: 1 of 2" in profile
        assert "Streak: 4 days" in profile
        assert any("First quiz" in line and "Perfect score" in line for line in profile)
    board = (await ula.command("top")).splitlines()
    assert board[1:3] == ["1. SamSms 4", "2. Ula 3 ◀"]
    weekly = await db.read(lambda s: LeaderboardRepository(s).page(period=WEEK))
    assert [(row.nickname, row.score) for row in weekly] == [("SamSms", 4), ("Ula", 3)]
    team_board = (await tia.command("top", "team")).splitlines()
    assert team_board[1] == "1. SamSms 4 ◀"

    # The replay rules still hold: another play of either quiz is practice now.
    opening = await tia.command("quiz", "sample_quiz")
    assert "Only your first result counts in this quiz: this play is practice." in opening
    final = await tia.play_sample(right=3)
    assert "Your earlier result counts for this quiz." in final
    assert "Your earlier result counts for this quiz." in await _play_by_sms(
        sam_again, "best_quiz", right=True
    )
    totals = await db.read(
        lambda s: LeaderboardRepository(s).rank(respondent_id=by_telegram, period=ALL_TIME)
    )
    assert totals == (1, 2)

    # Ideas: both stay the survivor's; the vote cast first (by SMS) stands, the later
    # one is gone, and nobody votes twice.
    def challenge_state(session: Session) -> tuple[set[int], int | None, dict[str, int]]:
        challenges = ChallengeRepository(session)
        votes = {idea.text: idea.votes for idea in challenges.ideas("green_school")}
        return (
            challenges.own_idea_ids("green_school", by_telegram),
            challenges.vote_of("green_school", by_telegram),
            votes,
        )

    own, vote, votes = await db.read(challenge_state)
    assert own == {idea_ids[ideas["sam"]], idea_ids[ideas["tia"]]}
    assert vote == idea_ids[ideas["ula"]]
    assert votes == {ideas["sam"]: 0, ideas["tia"]: 0, ideas["ula"]: 1, ideas["vic"]: 0}
    assert await tia.command("vote") == "You have voted in this challenge. Thank you!"
    assert await sam_again.command("vote") == "You have voted in this challenge. Thank you!"

    # Tags, the event and the campaign messages.
    tags = await db.read(
        lambda s: set(
            s.scalars(select(RespondentTag.tag).where(RespondentTag.respondent_id == by_telegram))
        )
    )
    assert tags == {"school42", challenge_tag("green_school")}
    # Four people took part, three now that two of them are known to be one.
    assert await db.read(lambda s: ChallengeRepository(s).participants("green_school")) == 3
    rsvp = await db.read(
        lambda s: s.execute(
            select(EventRsvp.response, EventRsvp.waitlisted).where(
                EventRsvp.respondent_id == by_telegram
            )
        ).one()
    )
    assert tuple(rsvp) == ("maybe", False)  # the later answer
    statuses = await db.read(
        lambda s: CampaignRepository(s).status_counts(campaign_id="ganja_town_hall")
    )
    assert (statuses["sent"], statuses["pending"]) == (1, 1)


# ---------------------------------------------------------------- rules, one by one


def _person(session: Session, channel: str, address: str) -> int:
    return RespondentRepository(session).create(channel=channel, address=address, language="en").id


async def test_players_nicknames_and_hiding(db: Database) -> None:
    def setup(session: Session) -> tuple[int, int]:
        players = PlayerRepository(session)
        into, other = _person(session, "telegram", "1"), _person(session, "sms", "+2")
        players.set_nickname(respondent_id=into, nickname="Tia", key="tia")
        players.set_nickname(respondent_id=other, nickname="Sam", key="sam")
        players.set_hidden(respondent_id=other, hidden=True)
        return into, other

    into, _other = await db.write(setup)
    await db.write(
        lambda s: RespondentRepository(s).link_identity(
            respondent_id=into, channel="sms", address="+2"
        )
    )

    def check(session: Session) -> None:
        rows = list(session.scalars(select(PlayerRow)))
        assert [(p.respondent_id, p.nickname, p.hidden) for p in rows] == [(into, "Tia", True)]

    await db.read(check)
    # The other's nickname is free again.
    newcomer = await db.write(lambda s: _person(s, "telegram", "3"))
    await db.write(
        lambda s: PlayerRepository(s).set_nickname(
            respondent_id=newcomer, nickname="Sam", key="sam"
        )
    )


async def test_a_vote_for_what_becomes_ones_own_idea_is_dropped(
    service: ConversationService, db: Database, clock: Clock
) -> None:
    sam = Player(service, NUMBER, channel=Channel.SMS)
    tia, ula = Player(service, "777"), Player(service, "778")
    for person in (sam, tia, ula):
        await person.onboard()
    await tia.command("idea", "Solar panels on the school roof")
    await ula.command("idea", "Compost bins for the canteen waste")

    def approve(session: Session) -> None:
        challenges = ChallengeRepository(session)
        for idea in challenges.ideas("green_school"):
            challenges.moderate(idea_id=idea.id, status="approved", now=clock.now)
        challenges.set_status("green_school", VOTING)

    await db.write(approve)
    clock.now = DEADLINE + timedelta(hours=1)
    ballot = await sam.command("vote")
    solar = next(line for line in ballot.splitlines() if "Solar" in line)
    assert (await sam.say(solar.split(".")[0])).startswith("Thank you")

    await tia.command("phone")
    await tia.send(InboundKind.CONTACT, NUMBER)
    # Voting for one's own idea is not allowed: that vote is gone, and the person may vote
    # again, on a ballot without their idea.
    ballot = await tia.command("vote")
    assert "Solar" not in ballot and "Compost" in ballot
    assert (await _vote_by_button(tia, "Compost")).startswith("Thank you for your vote")
    results = await db.read(lambda s: ChallengeRepository(s).results("green_school"))
    assert [(idea.text.split()[0], idea.votes) for idea in results] == [
        ("Compost", 1),
        ("Solar", 0),
    ]


async def test_two_ideas_for_one_each_stay_and_neither_is_on_the_ballot(
    service: ConversationService, db: Database, clock: Clock
) -> None:
    sam = Player(service, NUMBER, channel=Channel.SMS)
    tia, ula = Player(service, "777"), Player(service, "778")
    for person in (sam, tia, ula):
        await person.onboard()
    await sam.command("idea", "A rain barrel for the school garden")
    await tia.command("idea", "Solar panels on the school roof")
    await ula.command("idea", "Compost bins for the canteen waste")
    await tia.command("phone")
    await tia.send(InboundKind.CONTACT, NUMBER)
    assert await tia.command("idea", "Yet another idea of mine") == (
        "You have sent your idea for this challenge. Thank you!"
    )

    def approve(session: Session) -> None:
        challenges = ChallengeRepository(session)
        for idea in challenges.ideas("green_school"):
            challenges.moderate(idea_id=idea.id, status="approved", now=clock.now)
        challenges.set_status("green_school", VOTING)

    await db.write(approve)
    survivor = await db.read(
        lambda s: RespondentRepository(s).find(channel="telegram", address="777")
    )
    assert survivor is not None
    mine = await db.read(
        lambda s: {
            ChallengeRepository(s).idea(i).text.split()[0]  # type: ignore[union-attr]
            for i in ChallengeRepository(s).own_idea_ids("green_school", survivor.id)
        }
    )
    assert mine == {"A", "Solar"}
    clock.now = DEADLINE + timedelta(hours=1)
    ballot = await tia.command("vote")
    assert "Compost" in ballot and "Solar" not in ballot and "rain barrel" not in ballot


async def test_quiz_attempts_best_rule_active_plays_badges_and_days(db: Database) -> None:
    """At the storage level: the better attempt counts for a 'best' quiz, one play goes on
    per quiz, a day is answered once, a badge keeps its first date."""
    quiz = yaml.safe_load((DATA / "quiz_sample.yaml").read_text(encoding="utf-8"))
    quiz.update(id="best_quiz", replay="best")
    parsed = parse_quiz(quiz, source="best_quiz.yaml")
    monday = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    earlier, later = monday, monday + timedelta(days=8)  # two weeks: W48 and W49

    def setup(session: Session) -> tuple[int, int, int, int]:
        quizzes = QuizRepository(session)
        quizzes.save_version(quiz=parsed)
        version_id = session.execute(select(QuizVersion.id)).scalar_one()
        into, other = _person(session, "telegram", "1"), _person(session, "sms", "+2")
        attempts = {}
        for person, moment, right, duration in (
            (into, earlier, 2, 1000),
            (other, later, 3, 9000),
        ):
            attempt = quizzes.start_attempt(
                quiz_id="best_quiz",
                version_id=version_id,
                respondent_id=person,
                channel="telegram",
                now=moment,
            )
            for index, question in enumerate(parsed.questions):
                quizzes.record_answer(
                    attempt_id=attempt,
                    respondent_id=person,
                    quiz_id="best_quiz",
                    question_id=question.id,
                    goal=question.goal,
                    chosen="1",
                    correct=index < right,
                    late=False,
                    answered_at=moment,
                    elapsed_ms=duration // 3,
                )
            quizzes.finish_attempt(
                attempt_id=attempt, replay=parsed.replay, now=moment, zone=ZoneInfo("Asia/Baku")
            )
            attempts[person] = attempt
        # Both left a play of it unfinished, too.
        mine = quizzes.start_attempt(
            quiz_id="best_quiz",
            version_id=version_id,
            respondent_id=into,
            channel="telegram",
            now=later,
        )
        quizzes.start_attempt(
            quiz_id="best_quiz",
            version_id=version_id,
            respondent_id=other,
            channel="sms",
            now=later,
        )
        for person, days in ((into, (1, 2)), (other, (2, 3))):
            for day in days:
                quizzes.record_daily(
                    respondent_id=person,
                    day=datetime(2026, 11, day + 22).date(),
                    question_id="q",
                    goal=2,
                    correct=person == other,
                )
        session.execute(
            insert(Badge),
            [
                {"respondent_id": into, "badge": "first_quiz", "earned_at": later},
                {"respondent_id": other, "badge": "first_quiz", "earned_at": earlier},
                {"respondent_id": other, "badge": "goal_2", "earned_at": earlier},
            ],
        )
        return into, other, attempts[other], mine

    into, other, better, mine = await db.write(setup)
    await db.write(
        lambda s: RespondentRepository(s).link_identity(
            respondent_id=into, channel="sms", address="+2", zone=ZoneInfo("Asia/Baku")
        )
    )

    def check(session: Session) -> None:
        attempts = list(
            session.scalars(select(QuizAttempt).where(QuizAttempt.respondent_id == into))
        )
        assert len(attempts) == 4
        assert RespondentRepository(session).get(respondent_id=other) is None
        assert [a.id for a in attempts if a.counted] == [better]
        assert [a.id for a in attempts if a.status == "active"] == [mine]
        scores = dict(
            session.execute(
                select(PlayerScore.period, PlayerScore.score).where(
                    PlayerScore.respondent_id == into
                )
            ).all()
        )
        # The W48 row of the attempt that is practice now holds nothing.
        assert scores == {ALL_TIME: 3, "2026-W48": 0, "2026-W49": 3}
        quizzes = QuizRepository(session)
        assert quizzes.streak(respondent_id=into, today=datetime(2026, 11, 25).date()) == 3
        days = session.execute(
            select(DailyAnswer.day, DailyAnswer.correct).where(DailyAnswer.respondent_id == into)
        ).all()
        # The 24th was answered by both: the survivor's answer stands.
        assert sorted((d.day, d.correct) for d in days) == [
            (datetime(2026, 11, 23).date(), False),
            (datetime(2026, 11, 24).date(), False),
            (datetime(2026, 11, 25).date(), True),
        ]
        badges = dict(
            session.execute(
                select(Badge.badge, Badge.earned_at).where(Badge.respondent_id == into)
            ).all()
        )
        # Each dated when first earned; the goals of the merged answers are awarded too.
        assert (badges["first_quiz"], badges["goal_2"]) == (earlier, earlier)
        assert {"goal_1", "goal_7", "goal_17"} <= set(badges)

    await db.read(check)


async def test_event_answers_keep_a_place_and_free_a_second_one(db: Database) -> None:
    campaign = load_campaign_file(REPO / "campaigns" / "ganja_town_hall.yaml")

    def setup(session: Session) -> dict[str, int]:
        CampaignRepository(session).save(campaign=campaign)
        people = {
            "into": _person(session, "telegram", "1"),
            "other": _person(session, "sms", "+2"),
            "waiting": _person(session, "telegram", "3"),
        }
        events = EventRepository(session)
        # Capacity 2: both of the same person took a place; the next one waits.
        for name in ("other", "into", "waiting"):
            events.answer(
                campaign_id=campaign.id,
                respondent_id=people[name],
                response="going",
                capacity=2,
            )
        return people

    people = await db.write(setup)
    await db.write(
        lambda s: RespondentRepository(s).link_identity(
            respondent_id=people["into"], channel="sms", address="+2"
        )
    )
    rows = await db.read(
        lambda s: {
            r.respondent_id: (r.response, r.waitlisted) for r in s.scalars(select(EventRsvp))
        }
    )
    # One person, one place; the place of their second answer went to the one waiting.
    assert rows == {people["into"]: ("going", False), people["waiting"]: ("going", False)}


async def test_a_ban_keeps_its_earlier_date_and_covers_what_moved(db: Database) -> None:
    from storage.moderation import ModerationRepository

    earlier = datetime(2026, 11, 1, tzinfo=UTC)
    later = datetime(2026, 11, 20, tzinfo=UTC)
    document = yaml.safe_load((REPO / "challenges" / "green_school.yaml").read_text("utf-8"))
    challenge = parse_challenge(document, source="green_school.yaml")

    def setup(session: Session) -> tuple[int, int, int]:
        into, other = _person(session, "telegram", "1"), _person(session, "sms", "+2")
        challenges = ChallengeRepository(session)
        challenges.save(challenge)
        idea = challenges.submit(
            challenge=challenge, respondent_id=other, text="A rain barrel", now=earlier
        )
        challenges.moderate(idea_id=idea, status="approved", now=earlier)
        PlayerRepository(session).set_nickname(respondent_id=other, nickname="Sam", key="sam")
        session.execute(
            insert(PlayerScore),
            {"respondent_id": other, "period": ALL_TIME, "score": 3, "visible": True},
        )
        ModerationRepository(session).ban(respondent_id=into, now=later)
        return into, other, idea

    into, _other, idea = await db.write(setup)
    await db.write(
        lambda s: RespondentRepository(s).link_identity(
            respondent_id=into, channel="sms", address="+2"
        )
    )

    def check(session: Session) -> None:
        idea_row = ChallengeRepository(session).idea(idea)
        assert idea_row is not None and idea_row.status == "rejected"
        assert LeaderboardRepository(session).page(period=ALL_TIME) == []
        survivor = RespondentRepository(session).get(respondent_id=into)
        assert survivor is not None and survivor.banned_at == later

    await db.read(check)

    # Both banned: the earlier ban is the one that stands.
    def second_pair(session: Session) -> int:
        into, other = _person(session, "telegram", "5"), _person(session, "sms", "+6")
        ModerationRepository(session).ban(respondent_id=into, now=later)
        ModerationRepository(session).ban(respondent_id=other, now=earlier)
        RespondentRepository(session).link_identity(respondent_id=into, channel="sms", address="+6")
        return into

    survivor_id = await db.write(second_pair)
    survivor = await db.read(lambda s: RespondentRepository(s).get(respondent_id=survivor_id))
    assert survivor is not None and survivor.banned_at == earlier
