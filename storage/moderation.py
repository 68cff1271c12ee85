"""The code of conduct in the database: muting and banning people, moderating free text.

Staff never see who wrote what. They act on "the author of idea 12" or "the
author of answer 345": the author's respondent id is looked up inside the unit
of work and handed to ``ModerationRepository``, the one place that acts on a
person. A mute holds back their ideas and nickname changes until a time; a ban
is for good: every idea and free-text answer of theirs is rejected and they
leave every leaderboard.

Free-text answers carry ``answers.text_status``: None while nobody has read
them (listed as ``pending``), then ``approved`` or ``rejected``. Only approved
text leaves the database (exports, reports) unless staff ask for more. Staff
read the text with contact details masked (``polls.redaction``), by answer
number, never with its author.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session

from polls.errors import OutreachError
from polls.redaction import mask_personal
from polls.survey import QuestionKind
from storage.models import Answer, Idea, PlayerScore, Respondent, SurveyVersion
from storage.surveys import SurveyRepository

ANSWERS = cast(Table, Answer.__table__)
IDEAS = cast(Table, Idea.__table__)
RESPONDENTS = cast(Table, Respondent.__table__)
SCORES = cast(Table, PlayerScore.__table__)
VERSIONS = cast(Table, SurveyVersion.__table__)

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
"""Moderation states; ``pending`` is a NULL ``text_status`` (nobody has read it yet)."""
_TEXT = QuestionKind.TEXT.value


class ModerationError(OutreachError):
    """A moderation step that cannot be taken; the message says what to do instead."""


class ModerationRepository:
    """What staff do to a person under the code of conduct, by respondent id."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def _connection(self) -> Any:
        return self.session.connection()

    def mute(self, *, respondent_id: int, until: datetime) -> None:
        """No ideas or nickname changes until ``until`` (the latest mute decides)."""
        self._connection.execute(
            update(RESPONDENTS).where(RESPONDENTS.c.id == respondent_id).values(muted_until=until)
        )

    def ban(self, *, respondent_id: int, now: datetime) -> None:
        """Excluded for good: all their ideas and free text rejected, off every leaderboard."""
        connection = self._connection
        connection.execute(
            update(IDEAS)
            .where(IDEAS.c.respondent_id == respondent_id, IDEAS.c.status != REJECTED)
            .values(status=REJECTED, moderated_at=now)
        )
        connection.execute(
            update(ANSWERS)
            .where(
                ANSWERS.c.respondent_id == respondent_id,
                ANSWERS.c.kind == _TEXT,
                ANSWERS.c.text.is_not(None),
            )
            .values(text_status=REJECTED)
        )
        connection.execute(
            update(RESPONDENTS)
            .where(RESPONDENTS.c.id == respondent_id, RESPONDENTS.c.banned_at.is_(None))
            .values(banned_at=now)
        )
        connection.execute(
            update(SCORES).where(SCORES.c.respondent_id == respondent_id).values(visible=False)
        )


@dataclass(frozen=True)
class TextForModeration:
    """A free-text answer as staff read it: by number, contact details masked, no author."""

    answer_id: int
    question_id: str
    answered_at: datetime
    status: str
    masked_text: str


@dataclass(frozen=True)
class TextListing:
    answers: list[TextForModeration]
    total: int
    """How many answers match, beyond the ones listed."""


@dataclass(frozen=True)
class PendingTexts:
    """The unread answers to one question, as counted before staff confirm approving them."""

    count: int
    last_id: int


class TextAnswerRepository:
    """Free-text answers under moderation: listing, approving, rejecting, their author."""

    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def _connection(self) -> Any:
        return self.session.connection()

    def text_questions(self, *, survey_id: str) -> set[str]:
        """Ids of the free-text questions in any stored version of the survey."""
        version_ids = self._connection.execute(
            select(VERSIONS.c.id).where(VERSIONS.c.survey_id == survey_id)
        ).scalars()
        surveys = SurveyRepository(self.session)
        found: set[str] = set()
        survey_seen = False
        for version_id in list(version_ids):
            stored = surveys.by_version_id(version_id=version_id)
            if stored is None:
                continue
            survey_seen = True
            found.update(q.id for q in stored.survey.questions if q.kind is QuestionKind.TEXT)
        if not survey_seen:
            raise ModerationError(
                f"no survey {survey_id!r}: load it with `outreach surveys load` first "
                "(the survey id is the file's `id:`)"
            )
        return found

    def check_question(self, *, survey_id: str, question_id: str) -> None:
        """ModerationError unless ``question_id`` is a free-text question of the survey."""
        questions = self.text_questions(survey_id=survey_id)
        if question_id not in questions:
            known = ", ".join(sorted(questions)) or "none"
            raise ModerationError(
                f"{question_id!r} is not a free-text question of {survey_id} "
                f"(its free-text questions: {known})"
            )

    def for_moderation(
        self,
        *,
        survey_id: str,
        status: str | None = None,
        question_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> TextListing:
        """The survey's free-text answers, oldest first, masked and without their author."""
        self.text_questions(survey_id=survey_id)  # no such survey: a clear error
        conditions = [
            ANSWERS.c.survey_id == survey_id,
            ANSWERS.c.kind == _TEXT,
            ANSWERS.c.text.is_not(None),
        ]
        if question_id is not None:
            conditions.append(ANSWERS.c.question_id == question_id)
        if status == PENDING:
            conditions.append(ANSWERS.c.text_status.is_(None))
        elif status is not None:
            conditions.append(ANSWERS.c.text_status == status)
        total = int(self._connection.execute(select(func.count()).where(*conditions)).scalar() or 0)
        rows = self._connection.execute(
            select(
                ANSWERS.c.id,
                ANSWERS.c.question_id,
                ANSWERS.c.answered_at,
                ANSWERS.c.text_status,
                ANSWERS.c.text,
            )
            .where(*conditions)
            .order_by(ANSWERS.c.id)
            .limit(limit)
            .offset(offset)
        )
        answers = [
            TextForModeration(
                row.id,
                row.question_id,
                row.answered_at,
                row.text_status or PENDING,
                mask_personal(row.text),
            )
            for row in rows
        ]
        return TextListing(answers, total)

    def author_of(self, *, answer_id: int) -> int:
        """The respondent who wrote a free-text answer (never shown: for mute and ban)."""
        author = self._connection.execute(
            select(ANSWERS.c.respondent_id).where(*self._is_text(answer_id))
        ).scalar()
        if author is None:
            raise _no_answer(answer_id)
        return int(author)

    def set_status(self, *, answer_ids: Sequence[int], status: str) -> None:
        """Approve or reject answers; nothing changes if one of them is not free text.

        A banned author's answers stay rejected: approving one is refused.
        """
        if status not in (APPROVED, REJECTED):
            raise ValueError(f"a free-text answer is approved or rejected, not {status!r}")
        wanted = set(answer_ids)
        found = self._connection.execute(
            select(ANSWERS.c.id, RESPONDENTS.c.banned_at)
            .join(RESPONDENTS, RESPONDENTS.c.id == ANSWERS.c.respondent_id)
            .where(
                ANSWERS.c.id.in_(sorted(wanted)),
                ANSWERS.c.kind == _TEXT,
                ANSWERS.c.text.is_not(None),
            )
        ).all()
        missing = wanted - {row.id for row in found}
        if missing:
            raise _no_answer(*sorted(missing))
        banned = sorted(row.id for row in found if row.banned_at is not None)
        if status == APPROVED and banned:
            numbers = ", ".join(str(answer_id) for answer_id in banned)
            raise ModerationError(
                f"answer(s) {numbers} stay rejected: their author is banned. Nothing was changed."
            )
        self._connection.execute(
            update(ANSWERS).where(ANSWERS.c.id.in_(sorted(wanted))).values(text_status=status)
        )

    def pending(self, *, survey_id: str, question_id: str) -> PendingTexts:
        """The unread answers to a question (a banned author's are never pending)."""
        count, last_id = self._connection.execute(
            select(func.count(), func.max(ANSWERS.c.id)).where(
                *self._pending(survey_id, question_id)
            )
        ).one()
        return PendingTexts(int(count), int(last_id or 0))

    def approve_pending(self, *, survey_id: str, question_id: str, up_to_id: int) -> int:
        """Approve the unread answers counted in ``pending`` (none that came later); how many."""
        result = self._connection.execute(
            update(ANSWERS)
            .where(*self._pending(survey_id, question_id), ANSWERS.c.id <= up_to_id)
            .values(text_status=APPROVED)
        )
        return int(result.rowcount)

    @staticmethod
    def _is_text(answer_id: int) -> tuple[Any, ...]:
        return (ANSWERS.c.id == answer_id, ANSWERS.c.kind == _TEXT, ANSWERS.c.text.is_not(None))

    @staticmethod
    def _pending(survey_id: str, question_id: str) -> tuple[Any, ...]:
        banned = select(RESPONDENTS.c.id).where(RESPONDENTS.c.banned_at.is_not(None))
        return (
            ANSWERS.c.survey_id == survey_id,
            ANSWERS.c.question_id == question_id,
            ANSWERS.c.kind == _TEXT,
            ANSWERS.c.text.is_not(None),
            ANSWERS.c.text_status.is_(None),
            ANSWERS.c.respondent_id.not_in(banned),
        )


def _no_answer(*answer_ids: int) -> ModerationError:
    numbers = ", ".join(str(answer_id) for answer_id in answer_ids)
    return ModerationError(
        f"no free-text answer {numbers}: see the numbers with `outreach texts list SURVEY_ID`"
    )
