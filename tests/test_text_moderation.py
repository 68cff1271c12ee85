"""Free-text answers moderated by staff: answers from the real conversation, the real CLI.

Staff read answers by number with contact details masked and never their author;
approving lets text out in exports, rejecting keeps it in; mute and ban act on
the author through the answer, with the same consequences as for ideas.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from outreach.cli import main as cli
from outreach.conversation import ConversationConfig, ConversationService
from outreach.quiz_catalogue import QuizCatalogue
from outreach.survey_catalogue import SurveyCatalogue, survey_files
from polls.messages import Channel
from polls.onboarding import DEFAULT_REGIONS
from storage.database import Database
from storage.models import Answer, PlayerScore, Respondent
from tests.conftest import EXAMPLE_SURVEYS
from tests.test_campaigns_e2e import cli_run
from tests.test_quiz_play import DATA, Clock, Player

pytestmark = pytest.mark.storage

SURVEY = "public_services"
QUESTION = "suggestion"
KIND_WORDS = "More evening buses to the district clinic"
WITH_CONTACTS = "Call me on +994 50 555 12 34 or write to @bo_baku about the ASAN queue"
ABUSIVE = "The clerks are idiots, total rubbish"
HATEFUL = "Something hateful about the nurse"
UNREAD = "Water comes to our village twice a week"
OFF_TOPIC = "Who won the football yesterday?"


@pytest.fixture
async def service(db: Database) -> AsyncIterator[ConversationService]:
    catalogue = SurveyCatalogue(db)
    await catalogue.load_files(survey_files(EXAMPLE_SURVEYS))
    quizzes = QuizCatalogue(db)
    await quizzes.load_files([DATA / "quiz_sample.yaml"])
    yield ConversationService(
        db,
        catalogue,
        ConversationConfig(
            languages=("az", "ru", "en"),
            default_language="az",
            regions=DEFAULT_REGIONS,
            pseudonym_secret="x" * 40,
        ),
        clock=Clock(),
        quizzes=quizzes,
    )


async def take_public_services(person: Player, suggestion: str) -> str:
    """Onboard through the survey's link, answer every question, write ``suggestion``."""
    await person.command("start", SURVEY)
    for answer in ("English", "1", "Baku", "18–24"):
        await person.say(answer)
    if person.channel is Channel.TELEGRAM:
        await person.say("Prefer not to say")
    for answer in ("1", "4", "25", "yes", "1, 3"):
        await person.say(answer)
    return await person.say(suggestion)


async def invoke(database_url: str, *arguments: str, answer: str | None = None) -> Result:
    """The CLI allowed to fail, optionally answering its confirmation prompt."""
    return await asyncio.to_thread(
        CliRunner().invoke, cli, list(arguments), input=answer, env={"DATABASE_URL": database_url}
    )


async def text_answers(db: Database) -> dict[str, tuple[int, str | None, int]]:
    """Each free-text answer by its text: (answer id, text_status, respondent id)."""
    rows = await db.read(
        lambda s: s.execute(
            select(Answer.text, Answer.id, Answer.text_status, Answer.respondent_id).where(
                Answer.kind == "text"
            )
        ).all()
    )
    return {row.text: (row.id, row.text_status, row.respondent_id) for row in rows}


async def respondent(db: Database, respondent_id: int) -> Any:
    return await db.read(lambda s: s.get(Respondent, respondent_id))


def exported_texts(path: Path) -> dict[str, str]:
    """The free-text rows of a CSV export: response (or why withheld) by row id."""
    with path.open(encoding="utf-8-sig", newline="") as file:
        return {
            row["row_id"]: row["response"] or f"<{row['text_withheld']}>"
            for row in csv.DictReader(file)
            if row["question_kind"] == "text"
        }


async def test_staff_moderate_free_text_and_only_approved_text_is_exported(
    service: ConversationService, db: Database, database_url: str, tmp_path: Path
) -> None:
    ana = Player(service, "31")
    bo = Player(service, "+994501112233", channel=Channel.SMS)
    cy = Player(service, "33")
    dee = Player(service, "34")
    eve = Player(service, "35")
    fin = Player(service, "36")
    for person, suggestion in [
        (ana, KIND_WORDS),
        (bo, WITH_CONTACTS),
        (cy, ABUSIVE),
        (dee, HATEFUL),
        (eve, UNREAD),
        (fin, OFF_TOPIC),
    ]:
        assert "Thank you" in await take_public_services(person, suggestion)
    # Dee is on the leaderboards.
    assert "You are" in await dee.command("nickname", "Dee_2030")
    await dee.play_sample(right=3)
    assert "Dee_2030" in await ana.command("top")

    stored = await text_answers(db)
    assert {status for _id, status, _author in stored.values()} == {None}
    ids = {text: str(answer_id) for text, (answer_id, _s, _a) in stored.items()}
    authors = {text: author for text, (_id, _s, author) in stored.items()}

    # Staff read them by number: contact details masked, nobody named or reachable.
    listing = await cli_run(database_url, "texts", "list", SURVEY, "--status", "pending")
    assert "6 answer(s)." in listing
    assert "buses" in listing and "village" in listing  # words: long text wraps in the table
    assert "[number]" in listing and "[handle]" in listing
    for secret in ("555 12 34", "5551234", "bo_baku", "+994", "501112233", "sms", "telegram"):
        assert secret not in listing
    header = next(line for line in listing.splitlines() if "answer" in line)
    columns = [cell.strip() for cell in header.split("┃") if cell.strip()]
    assert columns == ["answer", "question", "sent", "state", "text"]  # no author, no channel
    assert f"│ {ids[WITH_CONTACTS]} " in listing
    short = await cli_run(database_url, "texts", "list", SURVEY, "--limit", "2")
    assert "2 of 6 answer(s)" in short and "village" not in short

    # Approve and reject by number.
    approved = await cli_run(database_url, "texts", "approve", ids[KIND_WORDS], ids[WITH_CONTACTS])
    assert "2 answer(s) approved." in approved
    rejected = await cli_run(database_url, "texts", "reject", ids[OFF_TOPIC])
    assert "1 answer(s) rejected." in rejected
    # Mute through an answer: it is rejected, its author may not change their nickname.
    muted = await cli_run(database_url, "texts", "mute", ids[ABUSIVE], "--days", "3")
    assert f"Answer {ids[ABUSIVE]} rejected; its author is muted for 3 day(s)." in muted
    cy_row = await respondent(db, authors[ABUSIVE])
    assert cy_row.muted_until is not None and cy_row.banned_at is None
    assert await cy.command("nickname", "Cy_2030") == (
        "You cannot change your nickname at the moment."
    )
    # Ban through an answer: off the leaderboards, every text of theirs rejected.
    banned = await cli_run(database_url, "texts", "ban", ids[HATEFUL])
    assert "is banned" in banned
    assert (await respondent(db, authors[HATEFUL])).banned_at is not None
    assert "Dee_2030" not in await ana.command("top")
    visible = await db.read(
        lambda s: list(
            s.scalars(
                select(PlayerScore.visible).where(PlayerScore.respondent_id == authors[HATEFUL])
            )
        )
    )
    assert visible and not any(visible)

    # What a banned person writes later is stored already rejected; their survey goes on.
    await dee.command("start", "youth_priorities")
    for answer in ("4, 13", "1", "3", "yes"):
        await dee.say(answer)
    assert "Thank you" in await dee.say("Another hateful remark")
    stored = await text_answers(db)
    assert stored["Another hateful remark"][1] == "rejected"
    assert stored[HATEFUL][1] == "rejected"
    # ... and staff cannot approve it by mistake.
    refused = await invoke(
        database_url, "texts", "approve", str(stored["Another hateful remark"][0])
    )
    assert refused.exit_code != 0 and "their author is banned" in refused.output
    assert {text: status for text, (_id, status, _a) in stored.items()} == {
        KIND_WORDS: "approved",
        WITH_CONTACTS: "approved",
        ABUSIVE: "rejected",
        HATEFUL: "rejected",
        UNREAD: None,
        OFF_TOPIC: "rejected",
        "Another hateful remark": "rejected",
    }
    rejected_listing = await cli_run(database_url, "texts", "list", SURVEY, "--status", "rejected")
    assert "3 answer(s)." in rejected_listing and "idiots" in rejected_listing

    # The export lets out only the approved text, masked.
    out = tmp_path / "answers.csv"
    await cli_run(database_url, "export", SURVEY, "--format", "csv", "--out", str(out))
    assert exported_texts(out) == {
        ids[KIND_WORDS]: KIND_WORDS,
        ids[WITH_CONTACTS]: "Call me on [number] or write to [handle] about the ASAN queue",
        ids[ABUSIVE]: "<rejected>",
        ids[HATEFUL]: "<rejected>",
        ids[UNREAD]: "<unmoderated>",
        ids[OFF_TOPIC]: "<rejected>",
    }

    # Approving everything still unread asks first; saying no changes nothing.
    declined = await invoke(
        database_url, "texts", "approve-all", SURVEY, "--question", QUESTION, answer="n\n"
    )
    assert (
        declined.exit_code != 0 and "Approve 1 pending answer(s) to suggestion" in declined.output
    )
    assert (await text_answers(db))[UNREAD][1] is None
    confirmed = await invoke(
        database_url, "texts", "approve-all", SURVEY, "--question", QUESTION, answer="y\n"
    )
    assert confirmed.exit_code == 0 and "1 answer(s) to suggestion approved." in confirmed.output
    assert (await text_answers(db))[UNREAD][1] == "approved"
    assert "No pending answers" in await cli_run(
        database_url, "texts", "approve-all", SURVEY, "--question", QUESTION, "--yes"
    )
    await cli_run(database_url, "export", SURVEY, "--format", "csv", "--out", str(out))
    assert exported_texts(out)[ids[UNREAD]] == UNREAD


async def test_mistyped_numbers_and_questions_change_nothing(
    service: ConversationService, db: Database, database_url: str
) -> None:
    ana = Player(service, "41")
    await take_public_services(ana, KIND_WORDS)
    ((answer_id, _status, _author),) = (await text_answers(db)).values()
    choice_id = await db.read(
        lambda s: s.scalar(select(Answer.id).where(Answer.question_id == "last_service"))
    )

    for arguments in [
        ("texts", "approve", str(answer_id), "999999"),  # one wrong number: none approved
        ("texts", "reject", str(choice_id)),  # not a free-text answer
        ("texts", "mute", "999999"),
        ("texts", "ban", "999999"),
    ]:
        result = await invoke(database_url, *arguments)
        assert result.exit_code != 0 and "no free-text answer" in result.output, arguments
    assert (await text_answers(db))[KIND_WORDS][1] is None

    wrong_question = await invoke(
        database_url, "texts", "approve-all", SURVEY, "--question", "satisfaction", "--yes"
    )
    assert wrong_question.exit_code != 0
    assert "not a free-text question of public_services" in wrong_question.output
    assert "suggestion" in wrong_question.output
    no_survey = await invoke(database_url, "texts", "list", "no_such_survey")
    assert no_survey.exit_code != 0 and "no survey 'no_such_survey'" in no_survey.output
    assert (await text_answers(db))[KIND_WORDS][1] is None


async def test_a_ban_through_an_idea_rejects_free_text_too(
    service: ConversationService, db: Database, database_url: str
) -> None:
    """``challenge ban`` and ``texts ban`` act through the same ModerationRepository."""
    from storage.challenges import ChallengeRepository
    from tests.test_challenges import EXAMPLE

    await cli_run(database_url, "challenge", "open", str(EXAMPLE))
    fay = Player(service, "51")
    await take_public_services(fay, HATEFUL)
    await fay.command("idea", "An idea with hate in it")
    idea_id = await db.read(lambda s: ChallengeRepository(s).ideas("green_school")[0].id)
    await cli_run(database_url, "challenge", "ban", str(idea_id))
    assert (await text_answers(db))[HATEFUL][1] == "rejected"
