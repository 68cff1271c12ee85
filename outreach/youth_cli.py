"""Staff commands for the youth programme: teams, quiz files, idea challenges.

``outreach teams``, ``outreach quizzes`` and ``outreach challenge``. Staff see
ideas by number and text, never by author; moderation acts through the idea.
Results go out as an ordinary campaign file staff review, preview (audience,
SMS cost) and schedule like any other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from polls.challenge import ChallengeFileError, load_challenge_file
from polls.errors import OutreachError
from polls.i18n import translator
from polls.onboarding import region_value
from polls.quiz import validate_quiz_files
from storage.challenges import (
    APPROVED,
    CLOSED,
    OPEN,
    PENDING,
    REJECTED,
    VOTING,
    ChallengeError,
    ChallengeRepository,
    challenge_tag,
)
from storage.database import Database
from storage.models import Player
from storage.moderation import ModerationRepository
from storage.quizzes import TeamRepository

console = Console()
errors = Console(stderr=True)
_T = TypeVar("_T")


def _run(work: Callable[[Database], Awaitable[_T]]) -> _T:
    """``work`` against the migrated database; a challenge error in staff's words."""
    from outreach.cli import run_on_database

    def explain(error: OutreachError) -> str:
        if isinstance(error, ChallengeError):
            return _CHALLENGE_ERRORS.get(error.reason, error.reason)
        return str(error)

    return run_on_database(work, explain=explain)


def _write(fn: Callable[[Session], _T]) -> Callable[[Database], Awaitable[_T]]:
    return lambda database: database.write(fn)


def _read(fn: Callable[[Session], _T]) -> Callable[[Database], Awaitable[_T]]:
    return lambda database: database.read(fn)


_CHALLENGE_ERRORS = {
    "no_idea": "no such idea: see the numbers with `outreach challenge ideas CHALLENGE`",
}


# ------------------------------------------------------------------ teams


@click.group()
def teams() -> None:
    """Schools and youth clubs: players join one with its code (/team CODE)."""


@teams.command("create")
@click.argument("name")
@click.option("--region", default=None, help="The team's region (as in REGIONS).")
def teams_create(name: str, region: str | None) -> None:
    """Create a team and print the code its members send."""
    code = _run(
        _write(
            lambda s: TeamRepository(s).create(
                name=name.strip(), region=region_value(region) if region else None
            )
        )
    )
    console.print(f"Team {name!r} created. Its code: [bold]{code}[/bold]")
    console.print(f"Members send /team {code} on Telegram, or TEAM {code} by SMS.")


@teams.command("list")
def teams_list() -> None:
    """Every team with its code, region and number of players."""

    def read(session: Session) -> list[tuple[Any, int]]:
        counted = select(Player.team_id, func.count()).group_by(Player.team_id)
        members = {team_id: count for team_id, count in session.execute(counted)}
        return [(team, members.get(team["id"], 0)) for team in TeamRepository(session).all()]

    rows = _run(_read(read))
    table = Table(title_justify="left")
    for column in ("team", "code", "region", "players"):
        table.add_column(column)
    for team, count in rows:
        table.add_row(team["name"], team["code"], team["region"] or "", str(count))
    console.print(table)


# ------------------------------------------------------------------ quizzes


@click.group()
def quizzes() -> None:
    """Quiz files."""


@quizzes.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def quizzes_validate(paths: tuple[Path, ...]) -> None:
    """Check quiz files (or folders of them) and list every problem."""
    problems = validate_quiz_files(paths)
    for problem in problems:
        errors.print(str(problem), highlight=False, markup=False)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) found")
    console.print("All quizzes are valid.")


@quizzes.command("load")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def quizzes_load(paths: tuple[Path, ...]) -> None:
    """Store quiz files as new versions (default: every file in QUIZZES_DIR)."""
    from outreach.cli import load_settings
    from outreach.quiz_catalogue import QuizCatalogue
    from outreach.survey_catalogue import survey_files

    files: list[Path] = []
    for path in paths or (load_settings().quizzes_dir,):
        files.extend(survey_files(path) if path.is_dir() else [path])
    loaded = _run(lambda database: QuizCatalogue(database).load_files(files))
    for quiz_id, version, created in loaded:
        state = "stored as a new version" if created else "unchanged"
        console.print(f"{quiz_id}: version {version} ({state})")


# ------------------------------------------------------------------ challenges


@click.group()
def challenge() -> None:
    """Idea challenges: open, moderate, put to the vote, announce."""


@challenge.command("open")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def challenge_open(path: Path) -> None:
    """Open a challenge from its file (or update an open one's texts)."""
    try:
        loaded = load_challenge_file(path)
    except ChallengeFileError as error:
        for problem in error.problems:
            errors.print(str(problem), highlight=False, markup=False)
        raise click.ClickException(f"{len(error.problems)} problem(s) found") from None
    created = _run(_write(lambda s: ChallengeRepository(s).save(loaded)))
    state = "opened" if created else "updated"
    console.print(f"Challenge {loaded.id} {state}: ideas until {loaded.deadline.isoformat()}.")
    console.print("Participants send /idea on Telegram, or IDEA by SMS.")


@challenge.command("list")
def challenge_list() -> None:
    """Challenges with their phase and counts."""

    def read(session: Session) -> list[tuple[Any, dict[str, int], int, int]]:
        repository = ChallengeRepository(session)
        rows = []
        for stored in repository.all():
            ideas = repository.ideas(stored.challenge.id)
            counts = {status: 0 for status in (PENDING, APPROVED, REJECTED)}
            for idea in ideas:
                counts[idea.status] = counts.get(idea.status, 0) + 1
            votes = sum(idea.votes for idea in ideas)
            rows.append((stored, counts, votes, repository.participants(stored.challenge.id)))
        return rows

    table = Table(title_justify="left")
    for column in ("challenge", "phase", "deadline", "pending", "approved", "rejected", "votes"):
        table.add_column(column)
    for stored, counts, votes, _participants in _run(_read(read)):
        table.add_row(
            stored.challenge.id,
            stored.status,
            stored.challenge.deadline.isoformat(timespec="minutes"),
            str(counts[PENDING]),
            str(counts[APPROVED]),
            str(counts[REJECTED]),
            str(votes),
        )
    console.print(table)


@challenge.command("ideas")
@click.argument("challenge_id")
@click.option(
    "--status",
    type=click.Choice([PENDING, APPROVED, REJECTED]),
    default=None,
    help="Only ideas in this state (pending: awaiting moderation).",
)
def challenge_ideas(challenge_id: str, status: str | None) -> None:
    """The ideas sent, by number: read them, then approve or reject."""

    def read(session: Session) -> list[Any]:
        repository = ChallengeRepository(session)
        if repository.get(challenge_id) is None:
            raise OutreachError(f"no challenge {challenge_id!r}: open it with `challenge open`")
        return repository.ideas(challenge_id, status=status)

    table = Table(title_justify="left", show_lines=True)
    for column in ("idea", "state", "votes", "sent", "text"):
        table.add_column(column)
    rows = _run(_read(read))
    for idea in rows:
        sent = idea.created_at.strftime("%Y-%m-%d %H:%M")
        # Text, not markup: "[...]" in an idea is shown as written, not taken for a style.
        table.add_row(str(idea.id), idea.status, str(idea.votes), sent, Text(idea.text))
    console.print(table)
    console.print(f"{len(rows)} idea(s).")


def _moderate(idea_ids: tuple[int, ...], status: str) -> None:
    def write(session: Session) -> None:
        repository = ChallengeRepository(session)
        for idea_id in idea_ids:
            repository.moderate(idea_id=idea_id, status=status, now=datetime.now(UTC))

    _run(_write(write))
    console.print(f"{len(idea_ids)} idea(s) {status}.")


@challenge.command("approve")
@click.argument("idea_ids", nargs=-1, required=True, type=int)
def challenge_approve(idea_ids: tuple[int, ...]) -> None:
    """Approve ideas: they go to the vote, shown without their author."""
    _moderate(idea_ids, APPROVED)


@challenge.command("reject")
@click.argument("idea_ids", nargs=-1, required=True, type=int)
def challenge_reject(idea_ids: tuple[int, ...]) -> None:
    """Reject ideas: off topic, or against the code of conduct."""
    _moderate(idea_ids, REJECTED)


@challenge.command("mute")
@click.argument("idea_id", type=int)
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 365))
def challenge_mute(idea_id: int, days: int) -> None:
    """Reject the idea and stop its author sending ideas or nicknames for some days."""
    now = datetime.now(UTC)

    def write(session: Session) -> None:
        challenges = ChallengeRepository(session)
        author = challenges.author_of(idea_id=idea_id)
        challenges.moderate(idea_id=idea_id, status=REJECTED, now=now)
        ModerationRepository(session).mute(respondent_id=author, until=now + timedelta(days))

    _run(_write(write))
    console.print(f"Idea {idea_id} rejected; its author is muted for {days} day(s).")


@challenge.command("ban")
@click.argument("idea_id", type=int)
def challenge_ban(idea_id: int) -> None:
    """Ban the idea's author: all their ideas and free text rejected, off leaderboards."""

    def write(session: Session) -> None:
        author = ChallengeRepository(session).author_of(idea_id=idea_id)
        ModerationRepository(session).ban(respondent_id=author, now=datetime.now(UTC))

    _run(_write(write))
    console.print(
        f"The author of idea {idea_id} is banned; all their ideas and free-text answers "
        "are rejected."
    )


@challenge.command("voting")
@click.argument("challenge_id")
def challenge_voting(challenge_id: str) -> None:
    """Put the approved ideas to the vote (when the deadline has passed)."""

    def write(session: Session) -> int:
        repository = ChallengeRepository(session)
        stored = repository.get(challenge_id)
        if stored is None:
            raise OutreachError(f"no challenge {challenge_id!r}")
        if stored.status != OPEN:
            raise OutreachError(f"challenge {challenge_id} is {stored.status}, not open")
        if stored.challenge.accepts_ideas(datetime.now(UTC)):
            raise OutreachError(
                f"ideas are taken until {stored.challenge.deadline.isoformat()}: "
                "open the vote after the deadline"
            )
        pending = len(repository.ideas(challenge_id, status=PENDING))
        if pending:
            raise OutreachError(
                f"{pending} idea(s) still await moderation: approve or reject them first"
            )
        approved = len(repository.ideas(challenge_id, status=APPROVED))
        if approved < 2:
            raise OutreachError(f"{approved} approved idea(s): a vote needs at least 2")
        repository.set_status(challenge_id, VOTING)
        return approved

    approved = _run(_write(write))
    console.print(f"Voting is open on {approved} ideas: /vote on Telegram, VOTE by SMS.")


@challenge.command("announce")
@click.argument("challenge_id")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The campaign file to write (default: CHALLENGE-results.yaml).",
)
def challenge_announce(challenge_id: str, out: Path | None) -> None:
    """Close the vote and write the results as a campaign to everyone who took part."""
    from outreach.challenge_flow import results_text

    def write(session: Session) -> dict[str, Any]:
        repository = ChallengeRepository(session)
        stored = repository.get(challenge_id)
        if stored is None:
            raise OutreachError(f"no challenge {challenge_id!r}")
        if stored.status == OPEN:
            raise OutreachError(f"challenge {challenge_id} has no vote yet: run `voting` first")
        repository.set_status(challenge_id, CLOSED)
        results = repository.results(challenge_id)
        found = stored.challenge
        texts = {
            language: results_text(found.title_for(language), results, translator(language))
            for language in found.languages
        }
        return {
            "id": f"{challenge_id}-results"[:40],
            "kind": "announcement",
            "name": f"Results: {found.title_for('en')}"[:100],
            "languages": list(found.languages),
            "text": texts,
            "audience": {"tags": [challenge_tag(challenge_id)]},
            "schedule": {
                "at": (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0).isoformat()
            },
        }

    document = _run(_write(write))
    path = out or Path(f"{challenge_id}-results.yaml")
    header = "# The results, to everyone who sent an idea or voted. Review, then create it.\n"
    path.write_text(
        header + yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    console.print(f"The vote is closed. Results campaign written to {path}.")
    console.print(
        f"Next: outreach campaign create {path} && outreach campaign preview {document['id']}"
        f" && outreach campaign schedule {document['id']}",
        highlight=False,
    )
