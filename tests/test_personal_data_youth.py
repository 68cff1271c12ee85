"""/mydata and /forget for young people: quizzes, teams, ideas, votes, labels, events.

One person plays a quiz under a nickname, joins a team, answers the question of the day,
sends an idea that others vote for, votes, answers an event and gets campaign messages.
``/mydata`` shows all of it (on Telegram, and by SMS in a few GSM-7 segments); "Delete
my identity" takes away what names them or is in their words, and they leave the
leaderboards and ballots; "Delete everything" leaves no row that points at them. The
others' results move as the README's "What /forget does" says.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from outreach.conversation import ConversationService
from outreach.sms.rendering import sms_bodies
from outreach.sms.webhooks import inbound_sms
from polls.campaign import load_campaign_text
from polls.keywords import Keyword, Keywords
from polls.messages import Channel, InboundKind
from polls.sms_text import Encoding, sms_cost, transliterate
from storage.campaigns import CampaignRepository
from storage.challenges import APPROVED, VOTING, ChallengeRepository
from storage.database import Database
from storage.models import (
    Base,
    ChannelIdentity,
    EventRsvp,
    IdeaVote,
    OutboundMessage,
    OutboxMessage,
    QuizAttempt,
    Respondent,
    RespondentTag,
    SurveySession,
)
from storage.moderation import ModerationRepository
from storage.quizzes import ALL_TIME, LeaderboardRepository, TeamRepository
from storage.respondents import IDENTITY_ERASURE, MERGED_TABLES
from tests.test_quiz_play import DATA, Clock, Player
from tests.youth_service import youth_service

pytestmark = pytest.mark.storage

REPO = Path(__file__).resolve().parent.parent
DEADLINE = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
"""Ideas until Wednesday noon, then the vote (the clock starts on Monday)."""
EVENT = "forum"
SOLAR = "Solar panels on the school roof"
COMPOST = "Compost bins for the canteen waste"
GARDEN = "A school garden with a rain barrel"


@pytest.fixture
def clock() -> Clock:
    return Clock()  # Monday 23 November 2026, 09:00 UTC


@pytest.fixture
async def service(db: Database, clock: Clock) -> AsyncIterator[ConversationService]:
    yield await youth_service(
        db,
        clock,
        [DATA / "quiz_sample.yaml", DATA / "daily_sample.yaml"],
        challenge_deadline=DEADLINE,
    )


EVENT_FILE = """
id: forum
kind: event
name: Youth SDG forum
languages: [az, ru, en]
text: {az: "Forum", ru: "Форум", en: "Youth forum on the goals"}
event:
  starts_at: 2026-12-10T15:00:00+04:00
  capacity: 1
"""


@dataclass
class Story:
    ada: Player
    bo: Player
    cy: Player
    ada_id: int
    bo_id: int
    cy_id: int
    ideas: dict[str, int]


async def _vote_by_button(player: Player, idea_text: str) -> str:
    ballot = await player.command("vote")
    line = next(line for line in ballot.splitlines() if idea_text in line)
    return "\n".join(m.text for m in await player.press(line.split(".")[0]))


async def _id_of(db: Database, player: Player) -> int:
    found = await db.read(
        lambda s: s.scalar(
            select(ChannelIdentity.respondent_id).where(ChannelIdentity.address == player.address)
        )
    )
    assert found is not None
    return int(found)


async def tell_the_story(service: ConversationService, db: Database, clock: Clock) -> Story:
    """Ada does everything young people can do; Bo and Cy play, send ideas and vote."""
    code = await db.write(lambda s: TeamRepository(s).create(name="School 42", region=None))
    ada, bo, cy = Player(service, "601"), Player(service, "602"), Player(service, "603")
    for person in (ada, bo, cy):
        await person.onboard()
    # Monday: half a survey (its free text is what she would write next), a team, a
    # nickname, the sample quiz, the question of the day.
    await ada.command("start", "youth_priorities")
    await ada.say("4, 13")
    assert await ada.command("team", code) == "You joined School 42."
    assert "You are Ada_2030" in await ada.command("nickname", "Ada_2030")
    await ada.play_sample(right=2)  # leaves the survey paused, its place kept
    opened = await ada.command("quiz", "daily_sample")
    await ada.press("Goal 2" if "Zero hunger" in opened else "Goal 6")
    await bo.command("nickname", "Bo_2030")
    await bo.play_sample(right=3)
    # Ideas, approved; then the vote: Bo and Cy vote for Ada's idea, Ada for Bo's.
    for person, text in ((ada, SOLAR), (bo, COMPOST), (cy, GARDEN)):
        assert (await person.command("idea", text)).startswith("Thank you!")

    def approve(session: Session) -> dict[str, int]:
        challenges = ChallengeRepository(session)
        ids = {}
        for idea in challenges.ideas("green_school"):
            challenges.moderate(idea_id=idea.id, status=APPROVED, now=clock.now)
            ids[idea.text] = idea.id
        challenges.set_status("green_school", VOTING)
        return ids

    ideas = await db.write(approve)
    clock.now = DEADLINE + timedelta(hours=1)
    for voter in (bo, cy):
        assert (await _vote_by_button(voter, SOLAR)).startswith("Thank you for your vote")
    assert (await _vote_by_button(ada, COMPOST)).startswith("Thank you for your vote")
    # An event with one place: Ada has it, Bo waits. Staff label Ada; a campaign
    # reached her once, and a second message waits to leave.
    campaign = load_campaign_text(EVENT_FILE, source="forum.yaml")
    await db.write(lambda s: CampaignRepository(s).save(campaign=campaign))
    await ada.send(InboundKind.BUTTON, f"rsvp:{EVENT}:going")
    await bo.send(InboundKind.BUTTON, f"rsvp:{EVENT}:going")
    ada_id, bo_id, cy_id = [await _id_of(db, p) for p in (ada, bo, cy)]

    def staff_side(session: Session) -> None:
        session.execute(insert(RespondentTag), {"respondent_id": ada_id, "tag": "school42"})
        campaigns = CampaignRepository(session)
        runs = [
            campaigns.create_run(campaign_id=EVENT, due_at=clock.now + timedelta(days=day))
            for day in (0, 1)
        ]
        campaigns.add_outbox(
            rows=[
                {
                    "run_id": run_id,
                    "campaign_id": EVENT,
                    "respondent_id": ada_id,
                    "channel": "telegram",
                    "address": ada.address,
                    "language": "en",
                    "status": status,
                    "not_before": clock.now,
                    "attempts": 0,
                    "updated_at": clock.now,
                }
                for run_id, status in zip(runs, ("sent", "pending"), strict=True)
            ]
        )
        session.execute(
            insert(OutboundMessage),
            {"channel": "telegram", "address": ada.address, "status": "sent"},
        )

    await db.write(staff_side)
    return Story(ada, bo, cy, ada_id, bo_id, cy_id, ideas)


def rows_of(session: Session, respondent_id: int) -> dict[str, int]:
    """Per table of ``MERGED_TABLES``, how many rows point at the person (the tables with none
    left out)."""
    found = {}
    for name in sorted(MERGED_TABLES):
        table = Base.metadata.tables[name]
        count = session.scalar(
            select(func.count()).select_from(table).where(table.c.respondent_id == respondent_id)
        )
        if count:
            found[name] = int(count)
    return found


def votes_by_idea(session: Session) -> dict[int, int]:
    rows = session.execute(select(IdeaVote.idea_id, func.count()).group_by(IdeaVote.idea_id))
    return {int(idea): int(count) for idea, count in rows}


def test_every_table_has_a_rule_for_deleting_an_identity() -> None:
    assert set(IDENTITY_ERASURE) == MERGED_TABLES


# ---------------------------------------------------------------- seeing it


async def test_my_data_shows_quizzes_team_ideas_votes_labels_and_events(
    service: ConversationService, db: Database, clock: Clock
) -> None:
    story = await tell_the_story(service, db, clock)
    texts = [m.text for m in (await story.ada.send(InboundKind.COMMAND, "mydata")).messages]
    shown = "\n".join(texts)
    for expected in (
        "Telegram: 601",
        "Which Sustainable Development Goals",  # the survey, as before
        "Nickname: Ada_2030",
        "Team: School 42",
        "Sample quiz: played 1 time, score 2/3",
        "Question of the day: 1 day, 1 right, streak 0",  # answered on Monday; now Wednesday
        "Badges: First quiz, Goals: ",
        f"Idea for Ideas for a greener school (approved): {SOLAR}",
        f"Your vote in Ideas for a greener school: {COMPOST}",
        "Labels: ch-green_school, school42",
        "Event on 2026-12-10 15:00: going",
        "Messages from our campaigns: 2",
    ):
        assert expected in shown, expected
    assert texts[-1].endswith("To delete your data, send /forget.")
    # Bo waits for the one place; hidden from the boards, the nickname says so; a mute
    # under the code of conduct is held about him too.
    await story.bo.command("hide")
    until = clock.now + timedelta(days=7)
    await db.write(lambda s: ModerationRepository(s).mute(respondent_id=story.bo_id, until=until))
    bo_data = await story.bo.command("mydata")
    assert "Ideas and nickname changes paused until 2026-12-02 17:00" in bo_data  # Baku time
    assert "Event on 2026-12-10 15:00: on the waiting list" in bo_data
    assert "Nickname: Bo_2030 (hidden from leaderboards)" in bo_data
    assert "Sample quiz: played 1 time, score 3/3" in bo_data


async def test_my_data_by_sms_is_compact_gsm7_and_forget_asks_by_number(
    service: ConversationService, db: Database, clock: Clock
) -> None:
    dee = Player(service, "+994501112233", channel=Channel.SMS)
    await dee.onboard()
    await dee.command("nickname", "Dee_2030")
    await dee.command("quiz", "sample_quiz")
    for answer in ("2", "1 3", "2"):  # all right, by numbers
        await dee.say(answer)
    reply = await dee.send(InboundKind.COMMAND, "mydata")
    assert reply.transliterate  # GSM-7: half the segments of Azerbaijani or Russian letters
    (text,) = [m.text for m in reply.messages]
    assert "•" not in text and "\n\n" not in text
    assert "Language: English; Region: Baku; Age: 18–24" in text
    assert "Nickname: Dee_2030" in text and "Sample quiz: played 1 time, score 3/3" in text
    assert text.endswith("To delete your data, reply FORGET.")
    bodies = sms_bodies(reply.messages, language="en", gsm_letters=True)
    costs = [sms_cost(body) for body in bodies]
    assert all(cost.encoding is Encoding.GSM7 for cost in costs)
    assert sum(cost.segments for cost in costs) <= 3
    # The same in Russian stays GSM-7 too, in a handful of segments.
    await dee.command("language")
    await dee.send(InboundKind.BUTTON, "lang:ru")
    russian = await dee.send(InboundKind.COMMAND, "mydata")
    body = transliterate("\n".join(m.text for m in russian.messages), "ru")
    assert sms_cost(body).encoding is Encoding.GSM7 and sms_cost(body).segments <= 4
    await dee.send(InboundKind.BUTTON, "lang:en")

    # FORGET asks which erasure, by number; anything but 1 or 2 deletes nothing.
    menu = await dee.command("forget")
    assert menu.startswith("Delete your data? Reply 1 to delete your identity")
    assert not dee.last[0].buttons
    assert await dee.say("3") == "Nothing was deleted."
    await dee.say("1")  # no longer asked: an ordinary reply, nothing is deleted
    assert await db.read(lambda s: s.scalar(select(func.count(ChannelIdentity.id)))) == 1
    await dee.command("forget")
    done = await dee.say("1")
    assert done == "Done: your data has been deleted. Reply START to take part again."
    assert await db.read(lambda s: s.scalar(select(func.count(ChannelIdentity.id)))) == 0


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("MYDATA", Keyword.MYDATA),
        ("mydata", Keyword.MYDATA),
        ("Məlumat", Keyword.MYDATA),
        ("ДАННЫЕ", Keyword.MYDATA),
        ("FORGET", Keyword.FORGET),
        ("sil", Keyword.FORGET),
        ("SIL", Keyword.FORGET),
        ("Удалить", Keyword.FORGET),
        ("UDALIT", Keyword.FORGET),  # as a transliterated SMS shows it
        ("forget me please", None),
    ],
    ids=lambda value: str(value),
)
def test_sms_words_for_seeing_and_deleting_ones_data(text: str, keyword: Keyword | None) -> None:
    match = Keywords().match(text)
    assert (match.keyword if match else None) is keyword
    if keyword is not None:
        inbound = inbound_sms("+994501112233", text, "SM1", Keywords())
        assert (inbound.kind, inbound.text) == (InboundKind.COMMAND, keyword.value)


# ---------------------------------------------------------------- deleting it


async def test_delete_my_identity_removes_names_words_and_places(
    service: ConversationService, db: Database, clock: Clock
) -> None:
    story = await tell_the_story(service, db, clock)
    solar, compost = story.ideas[SOLAR], story.ideas[COMPOST]
    assert await db.read(votes_by_idea) == {solar: 2, compost: 1}
    board = await story.bo.command("top")
    assert "Ada_2030" in board and "You: 1 of 2" in board

    await story.ada.command("forget")
    await story.ada.press("Delete my identity")

    def check(session: Session) -> None:
        # What names her or is in her words is gone; statistics stay, leading to no one.
        assert rows_of(session, story.ada_id) == {
            "survey_sessions": 1,
            "answers": 1,  # "4, 13": a choice
            "quiz_attempts": 1,
            "quiz_answers": 3,
            "daily_answers": 1,
            "idea_votes": 1,  # her vote for Bo's idea
            "outbox": 2,
        }
        person = session.get(Respondent, story.ada_id)
        assert person is not None and person.erased_at is not None
        assert person.region == "baku" and person.dialogue is None
        paused = session.scalars(select(SurveySession)).one()
        assert (paused.status, paused.state) == ("abandoned", None)
        assert session.scalar(select(QuizAttempt.status)) == "finished"
        # Her idea left the vote with the votes Bo and Cy gave it; her vote stays.
        assert votes_by_idea(session) == {compost: 1}
        assert [i.text for i in ChallengeRepository(session).ideas("green_school")] == [
            COMPOST,
            GARDEN,
        ]
        # Her place at the event went to Bo, who was waiting.
        rsvps = session.execute(select(EventRsvp.respondent_id, EventRsvp.waitlisted)).all()
        assert [tuple(r) for r in rsvps] == [(story.bo_id, False)]
        # Campaign messages keep their figures, not her address; the one waiting never goes.
        outbox = session.execute(select(OutboxMessage.status, OutboxMessage.address)).all()
        assert sorted(tuple(r) for r in outbox) == [("sent", ""), ("skipped", "")]
        assert session.scalars(select(OutboundMessage.address)).all() == [""]
        # Off every leaderboard.
        boards = LeaderboardRepository(session)
        assert [r.nickname for r in boards.page(period=ALL_TIME)] == ["Bo_2030"]

    await db.read(check)
    board = await story.bo.command("top")
    assert "Ada_2030" not in board and "You: 1 of 1" in board
    # Bo's vote went with the idea: while the vote is open, Bo may vote again, and the
    # ballot no longer has Ada's idea. Cy's ballot neither.
    ballot = await story.bo.command("vote")
    assert GARDEN in ballot and SOLAR not in ballot
    assert SOLAR not in await story.cy.command("vote")
    # Ada is a stranger now: /mydata begins again from the start.
    assert "Choose your language" in await story.ada.command("mydata")


async def test_delete_everything_leaves_no_row_that_points_at_the_person(
    service: ConversationService, db: Database, clock: Clock
) -> None:
    story = await tell_the_story(service, db, clock)
    compost = story.ideas[COMPOST]
    await story.ada.command("forget")
    await story.ada.press("Delete everything")

    def check(session: Session) -> None:
        assert rows_of(session, story.ada_id) == {}
        assert session.get(Respondent, story.ada_id) is None
        # Her idea went with the votes for it; her own vote went: Bo's idea has one fewer.
        assert votes_by_idea(session) == {}
        assert compost in {i.id for i in ChallengeRepository(session).ideas("green_school")}
        rsvps = session.execute(select(EventRsvp.respondent_id, EventRsvp.waitlisted)).all()
        assert [tuple(r) for r in rsvps] == [(story.bo_id, False)]
        assert session.scalars(select(OutboundMessage.address)).all() == [""]
        # The others are all there.
        assert rows_of(session, story.bo_id) and rows_of(session, story.cy_id)

    await db.read(check)
