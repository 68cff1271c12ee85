"""``outreach texts``: staff moderate free-text answers before anything is published.

Staff read answers by number, with phone numbers, @handles, e-mails and links
masked, and never see who wrote them: no name, channel address or respondent
id. Approved text may leave the database (exports, reports); rejected text
never does. As with ideas, staff act on the author through the answer: ``mute``
and ``ban`` have the same consequences as ``outreach challenge mute|ban``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy.orm import Session

from storage.database import Database
from storage.moderation import (
    APPROVED,
    PENDING,
    REJECTED,
    ModerationRepository,
    PendingTexts,
    TextAnswerRepository,
    TextListing,
)

console = Console()
_T = TypeVar("_T")


def _run(work: Callable[[Database], Awaitable[_T]]) -> _T:
    from outreach.cli import run_on_database

    return run_on_database(work)


def _write(fn: Callable[[Session], _T]) -> Callable[[Database], Awaitable[_T]]:
    return lambda database: database.write(fn)


def _read(fn: Callable[[Session], _T]) -> Callable[[Database], Awaitable[_T]]:
    return lambda database: database.read(fn)


@click.group()
def texts() -> None:
    """Free-text answers: read them masked, approve or reject, mute or ban their authors."""


@texts.command("list")
@click.argument("survey_id")
@click.option(
    "--status",
    type=click.Choice([PENDING, APPROVED, REJECTED]),
    default=None,
    help="Only answers in this state (pending: nobody has read them yet).",
)
@click.option("--question", "question_id", default=None, help="Only answers to this question.")
@click.option(
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="At most this many.",
)
def texts_list(survey_id: str, status: str | None, question_id: str | None, limit: int) -> None:
    """Free-text answers by number, oldest first, contact details masked, never their author."""

    def read(session: Session) -> TextListing:
        repository = TextAnswerRepository(session)
        if question_id is not None:
            repository.check_question(survey_id=survey_id, question_id=question_id)
        return repository.for_moderation(
            survey_id=survey_id, status=status, question_id=question_id, limit=limit
        )

    listing = _run(_read(read))
    table = Table(title_justify="left", show_lines=True)
    for column in ("answer", "question", "sent", "state", "text"):
        table.add_column(column)
    for answer in listing.answers:
        table.add_row(
            str(answer.answer_id),
            Text(answer.question_id),
            answer.answered_at.strftime("%Y-%m-%d %H:%M"),
            answer.status,
            Text(answer.masked_text),  # as written: brackets are not markup
        )
    console.print(table)
    shown = len(listing.answers)
    if shown < listing.total:
        console.print(f"{shown} of {listing.total} answer(s); --limit shows more.")
    else:
        console.print(f"{shown} answer(s).")


def _moderate(answer_ids: tuple[int, ...], status: str) -> None:
    _run(_write(lambda s: TextAnswerRepository(s).set_status(answer_ids=answer_ids, status=status)))
    console.print(f"{len(set(answer_ids))} answer(s) {status}.")


@texts.command("approve")
@click.argument("answer_ids", nargs=-1, required=True, type=int)
def texts_approve(answer_ids: tuple[int, ...]) -> None:
    """Approve answers: their text may then appear in exports and reports (masked)."""
    _moderate(answer_ids, APPROVED)


@texts.command("reject")
@click.argument("answer_ids", nargs=-1, required=True, type=int)
def texts_reject(answer_ids: tuple[int, ...]) -> None:
    """Reject answers: off topic, or against the code of conduct; their text never leaves."""
    _moderate(answer_ids, REJECTED)


@texts.command("approve-all")
@click.argument("survey_id")
@click.option("--question", "question_id", required=True, help="The free-text question.")
@click.option("--yes", is_flag=True, help="Approve without asking for confirmation.")
def texts_approve_all(survey_id: str, question_id: str, yes: bool) -> None:
    """Approve every pending answer to one question (only those counted when you confirm)."""

    def read(session: Session) -> PendingTexts:
        repository = TextAnswerRepository(session)
        repository.check_question(survey_id=survey_id, question_id=question_id)
        return repository.pending(survey_id=survey_id, question_id=question_id)

    pending = _run(_read(read))
    if not pending.count:
        console.print(f"No pending answers to {question_id}.", highlight=False)
        return
    if not yes:
        click.confirm(
            f"Approve {pending.count} pending answer(s) to {question_id} of {survey_id} "
            "without reading them one by one?",
            abort=True,
        )
    approved = _run(
        _write(
            lambda s: TextAnswerRepository(s).approve_pending(
                survey_id=survey_id, question_id=question_id, up_to_id=pending.last_id
            )
        )
    )
    console.print(f"{approved} answer(s) to {question_id} approved.", highlight=False)


@texts.command("mute")
@click.argument("answer_id", type=int)
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 365))
def texts_mute(answer_id: int, days: int) -> None:
    """Reject the answer and stop its author sending ideas or nicknames for some days."""
    now = datetime.now(UTC)

    def write(session: Session) -> None:
        answers = TextAnswerRepository(session)
        author = answers.author_of(answer_id=answer_id)
        answers.set_status(answer_ids=[answer_id], status=REJECTED)
        ModerationRepository(session).mute(respondent_id=author, until=now + timedelta(days))

    _run(_write(write))
    console.print(f"Answer {answer_id} rejected; its author is muted for {days} day(s).")


@texts.command("ban")
@click.argument("answer_id", type=int)
def texts_ban(answer_id: int) -> None:
    """Ban the answer's author: all their free text and ideas rejected, off leaderboards."""

    def write(session: Session) -> None:
        author = TextAnswerRepository(session).author_of(answer_id=answer_id)
        ModerationRepository(session).ban(respondent_id=author, now=datetime.now(UTC))

    _run(_write(write))
    console.print(
        f"The author of answer {answer_id} is banned; all their free-text answers and ideas "
        "are rejected."
    )
