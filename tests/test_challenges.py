"""Idea challenges end to end: participants in the conversation, staff through the CLI."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from outreach.conversation import ConversationConfig, ConversationService
from outreach.quiz_catalogue import QuizCatalogue
from outreach.survey_catalogue import SurveyCatalogue
from polls.campaign import load_campaign_file
from polls.challenge import ChallengeFileError, load_challenge_file, load_challenge_text
from polls.messages import Channel
from polls.onboarding import DEFAULT_REGIONS
from storage.challenges import ChallengeRepository, challenge_tag
from storage.database import Database
from tests.test_campaigns_e2e import cli_run
from tests.test_quiz_play import Clock, Player

pytestmark = pytest.mark.storage

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "challenges" / "green_school.yaml"
DEADLINE = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
"""In the past for the staff commands (which read the real clock) ..."""
BEFORE = DEADLINE - timedelta(days=3)
"""... while the participants' clock starts before it."""


@pytest.fixture
def challenge_file(tmp_path: Path) -> Path:
    document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    document["deadline"] = DEADLINE.isoformat()
    document["voting_closes_at"] = (DEADLINE + timedelta(days=30)).isoformat()
    path = tmp_path / "green_school.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def clock() -> Clock:
    return Clock(BEFORE)


@pytest.fixture
async def service(db: Database, clock: Clock) -> AsyncIterator[ConversationService]:
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
        quizzes=QuizCatalogue(db),
    )


def test_the_example_challenge_is_valid() -> None:
    challenge = load_challenge_file(EXAMPLE)
    assert challenge.id == "green_school" and challenge.one_per_person
    assert set(challenge.prompt) == {"az", "ru", "en"}


def test_a_broken_challenge_file_names_the_field_and_the_fix() -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace("max_length: 500", "max_length: 5000")
    text = text.replace("deadline:", "dedline:")
    with pytest.raises(ChallengeFileError) as caught:
        load_challenge_text(text, source="green.yaml")
    messages = [str(problem) for problem in caught.value.problems]
    assert any("unknown field 'dedline': did you mean 'deadline'?" in m for m in messages)
    assert any("max_length" in m and "50 to 1000" in m for m in messages)
    assert all(m.startswith("green.yaml") for m in messages)


async def test_ideas_moderation_voting_and_results(
    service: ConversationService,
    db: Database,
    database_url: str,
    clock: Clock,
    challenge_file: Path,
    tmp_path: Path,
) -> None:
    assert "opened" in await cli_run(database_url, "challenge", "open", str(challenge_file))
    people = {name: Player(service, address) for name, address in [("ana", "11"), ("bo", "12")]}
    people["cy"] = Player(service, "+994501234567", channel=Channel.SMS)
    people["dee"] = Player(service, "14")
    for person in people.values():
        await person.onboard()

    prompt = await people["ana"].command("idea")
    assert prompt.startswith("💡 Ideas for a greener school\nWhat one change")
    assert prompt.endswith("Send your idea in one message, up to 500 characters.")
    assert (await people["ana"].say("Solar panels on the school roof")).startswith("Thank you!")
    # One idea each; the second is refused politely, nothing is stored.
    again = await people["ana"].command("idea", "And a second idea about water")
    assert again == "You have sent your idea for this challenge. Thank you!"
    # Contact details are refused, for the author's safety.
    await people["bo"].command("idea")
    unsafe = await people["bo"].say("Call me on +994 50 555 12 34 about compost bins")
    assert "without names, phone numbers" in unsafe
    too_long = await people["bo"].say("x" * 501)
    assert "Your idea has 501 characters; the limit is 500." in too_long
    assert (await people["bo"].say("Compost bins for the canteen waste")).startswith("Thank you!")
    # By SMS: the keyword, then the idea as a text.
    sms_prompt = await people["cy"].command("idea")
    assert not sms_prompt.startswith("💡") and "up to 500 characters" in sms_prompt
    assert (await people["cy"].say("A school garden with a rain barrel")).startswith("Thank you!")
    assert await people["dee"].command("idea", "Idiots run this school, total rubbish")

    ideas = await cli_run(database_url, "challenge", "ideas", "green_school", "--status", "pending")
    assert "4 idea(s)." in ideas and "Solar panels" in ideas
    assert "+994" not in ideas  # staff read ideas, never who sent them
    by_text = await db.read(
        lambda s: {i.text.split()[0]: i.id for i in ChallengeRepository(s).ideas("green_school")}
    )
    await cli_run(
        database_url,
        "challenge",
        "approve",
        str(by_text["Solar"]),
        str(by_text["Compost"]),
        str(by_text["A"]),
    )
    assert "muted for 7 day(s)" in await cli_run(
        database_url, "challenge", "mute", str(by_text["Idiots"])
    )
    # Muted: no new idea, no new nickname.
    assert await people["dee"].command("nickname", "Dee_2030") == (
        "You cannot change your nickname at the moment."
    )

    # Voting opens after the deadline.
    clock.now = DEADLINE + timedelta(hours=2)
    assert "Voting is open on 3 ideas" in await cli_run(
        database_url, "challenge", "voting", "green_school"
    )
    await people["ana"].command("vote")
    ballot = people["ana"].last
    text = ballot[0].text
    assert "Solar panels" not in text  # never one's own idea
    assert "Compost bins" in text and "school garden" in text
    numbers = [b.label for b in ballot[0].flat_buttons]
    assert numbers == ["1", "2"]
    compost = "1" if text.index("Compost") < text.index("garden") else "2"
    thanks = await people["ana"].press(compost)
    assert thanks[0].text.startswith("Thank you for your vote!")
    # One vote each.
    assert await people["ana"].command("vote") == "You have voted in this challenge. Thank you!"
    # By SMS: a numbered ballot, answered with a number.
    sms_ballot = await people["cy"].command("vote")
    assert "A school garden" not in sms_ballot and sms_ballot.endswith(
        "Reply the number of an idea."
    )
    lines = sms_ballot.splitlines()
    compost_line = next(line for line in lines if "Compost" in line)
    assert (await people["cy"].say(compost_line.split(".")[0])).startswith("Thank you")
    dee_ballot = await people["dee"].command("vote")  # muted, yet may vote
    garden = next(line for line in dee_ballot.splitlines() if "garden" in line).split(".")[0]
    await people["dee"].press(garden)

    # Staff close the vote and get the results as a campaign to the participants.
    out = tmp_path / "results.yaml"
    assert "The vote is closed." in await cli_run(
        database_url, "challenge", "announce", "green_school", "--out", str(out)
    )
    campaign = load_campaign_file(out)
    assert campaign.audience.tags == (challenge_tag("green_school"),)
    results_en = campaign.text_for("en")
    assert results_en.splitlines()[1:] == [
        "1. Compost bins for the canteen waste (2 votes)",
        "2. A school garden with a rain barrel (1 vote)",
        "3. Solar panels on the school roof (0 votes)",
    ]
    assert "Idiots" not in results_en
    assert set(campaign.languages) == {"az", "ru", "en"}
    # Participants see the same results with /vote once it is closed.
    assert (await people["bo"].command("vote")).startswith("Results: Ideas for a greener school")
    participants = await db.read(lambda s: ChallengeRepository(s).participants("green_school"))
    assert participants == 4


async def test_banned_authors_leave_the_leaderboards(
    service: ConversationService, db: Database, database_url: str, challenge_file: Path
) -> None:
    await cli_run(database_url, "challenge", "open", str(challenge_file))
    eve = Player(service, "21")
    await eve.onboard()
    await eve.command("idea", "Something hateful about a classmate")
    idea_id = await db.read(lambda s: ChallengeRepository(s).ideas("green_school")[0].id)
    assert "is banned" in await cli_run(database_url, "challenge", "ban", str(idea_id))
    assert await eve.command("idea", "Another try at it") == "You cannot send ideas at the moment."


async def test_staff_create_teams_with_codes(database_url: str) -> None:
    created = await cli_run(database_url, "teams", "create", "School 42", "--region", "Baku")
    code = created.split("Its code: ")[1].split()[0]
    assert len(code) == 6 and not set(code) & set("01OI")
    listing = await cli_run(database_url, "teams", "list")
    assert "School 42" in listing and code in listing and "baku" in listing


async def test_quiz_files_are_validated_by_the_cli(database_url: str, tmp_path: Path) -> None:
    assert "All quizzes are valid." in await cli_run(
        database_url, "quizzes", "validate", str(REPO / "quizzes")
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\n", encoding="utf-8")
    result = await asyncio.to_thread(_invoke, ["quizzes", "validate", str(broken)], database_url)
    assert result.exit_code != 0 and "broken.yaml" in result.output
    loaded = await cli_run(database_url, "quizzes", "load", str(REPO / "quizzes"))
    assert "sdg_people: version 1 (stored as a new version)" in loaded


def _invoke(arguments: list[str], database_url: str) -> object:
    from click.testing import CliRunner

    from outreach.cli import main

    return CliRunner().invoke(main, arguments, env={"DATABASE_URL": database_url})
