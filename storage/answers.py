"""Survey sessions and their answers, and the counts results are made of."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.orm import Session

from polls.survey import AnswerValue, Question, QuestionKind
from storage.models import Answer, AnswerChoice, SurveySession, utcnow


@dataclass
class QuestionCounts:
    """What people answered to one question, across all versions of a survey."""

    answered: int = 0
    choices: dict[str, int] = field(default_factory=dict)
    numbers: list[float] = field(default_factory=list)


def _choice_values(question: Question, value: AnswerValue) -> list[str]:
    if question.kind is QuestionKind.MULTIPLE_CHOICE and isinstance(value, list):
        return value
    if question.kind in (QuestionKind.SINGLE_CHOICE, QuestionKind.YES_NO, QuestionKind.RATING):
        return [str(value)]
    return []


SESSIONS = cast(Table, SurveySession.__table__)
ANSWERS = cast(Table, Answer.__table__)
_INSERT_ANSWER = insert(ANSWERS).returning(ANSWERS.c.id)
_INSERT_CHOICE = insert(cast(Table, AnswerChoice.__table__))


class AnswerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def start_session(
        self, *, respondent_id: int, survey_id: str, survey_version_id: int, channel: str
    ) -> int:
        now = utcnow()
        session_id: int = (
            self.session.connection()
            .execute(
                insert(SESSIONS).returning(SESSIONS.c.id),
                {
                    "respondent_id": respondent_id,
                    "survey_id": survey_id,
                    "survey_version_id": survey_version_id,
                    "channel": channel,
                    "status": "active",
                    "started_at": now,
                    "updated_at": now,
                },
            )
            .scalar_one()
        )
        return session_id

    def end_session(self, *, session_id: int, status: str) -> None:
        """Mark a session ``completed`` or ``abandoned``."""
        now = utcnow()
        self.session.connection().execute(
            update(SESSIONS)
            .where(SESSIONS.c.id == session_id)
            .values(
                status=status,
                updated_at=now,
                completed_at=now if status == "completed" else None,
            )
        )

    def session_for(self, *, respondent_id: int, survey_id: str) -> SurveySession | None:
        """The person's session of this survey, if they began it (there is at most one)."""
        return self.session.scalar(
            select(SurveySession).where(
                SurveySession.respondent_id == respondent_id, SurveySession.survey_id == survey_id
            )
        )

    def pause_session(self, *, session_id: int, state: dict[str, Any]) -> None:
        """Keep the place of a survey the person left for another one."""
        self.session.connection().execute(
            update(SESSIONS)
            .where(SESSIONS.c.id == session_id)
            .values(status="paused", state=state, updated_at=utcnow())
        )

    def resume_session(self, *, session_id: int) -> None:
        self.session.connection().execute(
            update(SESSIONS)
            .where(SESSIONS.c.id == session_id)
            .values(status="active", state=None, updated_at=utcnow())
        )

    def discard_session(self, *, session_id: int) -> None:
        """Forget an unfinished session and its answers, to begin the survey again."""
        self.session.connection().execute(delete(SESSIONS).where(SESSIONS.c.id == session_id))

    def add(
        self,
        *,
        session_id: int,
        respondent_id: int,
        survey_id: str,
        survey_version_id: int,
        question: Question,
        value: AnswerValue,
        channel: str,
        text_status: str | None = None,
    ) -> None:
        """Store one answer; ``text_status`` is a free-text answer's moderation, if decided."""
        connection = self.session.connection()
        text = value if question.kind is QuestionKind.TEXT and isinstance(value, str) else None
        answer_id = connection.execute(
            _INSERT_ANSWER,
            {
                "session_id": session_id,
                "respondent_id": respondent_id,
                "survey_id": survey_id,
                "survey_version_id": survey_version_id,
                "question_id": question.id,
                "kind": question.kind.value,
                "value": value,
                "number": float(value) if isinstance(value, (int, float)) else None,
                "text": text,
                "text_status": text_status if text is not None else None,
                "channel": channel,
                "answered_at": utcnow(),
            },
        ).scalar_one()
        picks = _choice_values(question, value)
        if picks:
            connection.execute(
                _INSERT_CHOICE,
                [
                    {
                        "answer_id": answer_id,
                        "respondent_id": respondent_id,
                        "survey_id": survey_id,
                        "question_id": question.id,
                        "value": picked,
                    }
                    for picked in picks
                ],
            )

    def of_respondent(self, *, respondent_id: int) -> list[Answer]:
        rows = self.session.scalars(
            select(Answer).where(Answer.respondent_id == respondent_id).order_by(Answer.id)
        )
        return list(rows)

    def sessions_of(self, *, respondent_id: int) -> list[SurveySession]:
        rows = self.session.scalars(
            select(SurveySession)
            .where(SurveySession.respondent_id == respondent_id)
            .order_by(SurveySession.id)
        )
        return list(rows)

    def counts(self, *, survey_id: str, channel: str | None = None) -> dict[str, QuestionCounts]:
        """Per question: people who answered, picks per choice value, numbers.

        ``channel`` limits the counts to answers given on that channel.
        """
        result: dict[str, QuestionCounts] = {}
        answered_query = select(Answer.question_id, func.count()).where(
            Answer.survey_id == survey_id
        )
        picks_query = select(AnswerChoice.question_id, AnswerChoice.value, func.count()).where(
            AnswerChoice.survey_id == survey_id
        )
        numbers_query = select(Answer.question_id, Answer.number).where(
            Answer.survey_id == survey_id, Answer.kind == QuestionKind.NUMBER.value
        )
        if channel is not None:
            answered_query = answered_query.where(Answer.channel == channel)
            numbers_query = numbers_query.where(Answer.channel == channel)
            picks_query = picks_query.join(Answer, Answer.id == AnswerChoice.answer_id).where(
                Answer.channel == channel
            )
        for question_id, count in self.session.execute(answered_query.group_by(Answer.question_id)):
            result[question_id] = QuestionCounts(answered=count)
        grouped = picks_query.group_by(AnswerChoice.question_id, AnswerChoice.value)
        for question_id, value, count in self.session.execute(grouped):
            result.setdefault(question_id, QuestionCounts()).choices[value] = count
        for question_id, number in self.session.execute(numbers_query):
            if number is not None:
                result.setdefault(question_id, QuestionCounts()).numbers.append(number)
        return result

    def channels(self, *, survey_id: str) -> list[str]:
        """The channels this survey was answered on."""
        rows = self.session.scalars(
            select(Answer.channel).where(Answer.survey_id == survey_id).distinct()
        )
        return sorted(rows)

    def session_counts(self, *, survey_id: str) -> dict[str, int]:
        """Sessions by status: started (all), completed, abandoned, active."""
        rows = self.session.execute(
            select(SurveySession.status, func.count())
            .where(SurveySession.survey_id == survey_id)
            .group_by(SurveySession.status)
        )
        counts = dict.fromkeys(("active", "paused", "completed"), 0)
        counts.update({status: count for status, count in rows})
        counts["started"] = sum(counts.values())
        return counts
