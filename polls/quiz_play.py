"""Playing a quiz: the same rules on every channel, as pure functions.

A question is asked with its options (buttons, or numbered lines by SMS); the
first answer counts, and only if it came within the time limit; feedback says
right or wrong with the explanation; at the end, the score, the time and the
right answers. A press on a button of a question already answered (a double
tap, a quick second press) is ignored without a word.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from polls.answer_parsing import fold
from polls.dialogue import Style
from polls.i18n import Translator
from polls.messages import Button, InboundKind, Outbound
from polls.quiz import Quiz, QuizQuestion
from polls.survey import localize

_TOKEN = string.ascii_lowercase + string.digits
_NUMBERS = re.compile(r"[#№]?\s*\d{1,2}(\s*[,;\s]\s*\d{1,2})*")
DONE = "done"
"""The payload tail of the button that submits ticked options."""


@dataclass(frozen=True)
class QuizState:
    quiz_id: str
    version_id: int
    attempt_id: int
    token: str
    """Marks this play's buttons: a press on an older message's button is ignored."""
    position: int
    asked_at: str
    """When the current question was asked (ISO), for its time limit."""
    correct: int = 0
    picked: tuple[int, ...] = ()
    """Options ticked so far on a question with several right answers (Telegram)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "quiz_id": self.quiz_id,
            "version_id": self.version_id,
            "attempt_id": self.attempt_id,
            "token": self.token,
            "position": self.position,
            "asked_at": self.asked_at,
            "correct": self.correct,
            "picked": list(self.picked),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuizState:
        return cls(**{**data, "picked": tuple(data.get("picked", ()))})


def new_state(
    quiz: Quiz,
    version_id: int,
    attempt_id: int,
    now: datetime,
    *,
    position: int = 0,
    correct: int = 0,
) -> QuizState:
    """A play at ``position`` (a resumed play keeps its place), with fresh buttons."""
    token = "".join(secrets.choice(_TOKEN) for _ in range(5))
    return QuizState(quiz.id, version_id, attempt_id, token, position, now.isoformat(), correct)


@dataclass(frozen=True)
class QuizAnswerOutcome:
    """What one input did.

    ``ignored``: a repeat or stale press, answered with silence. ``unclear``: text
    that names no option. ``toggled``: an option ticked or unticked on a question
    with several right answers, not yet an answer.
    """

    state: QuizState
    question: QuizQuestion | None = None
    chosen: frozenset[int] = frozenset()
    correct: bool = False
    late: bool = False
    elapsed_ms: int = 0
    ignored: bool = False
    unclear: bool = False
    toggled: bool = False
    finished: bool = False


def _options_from_text(question: QuizQuestion, text: str) -> frozenset[int] | None:
    """The options a typed answer names: numbers ("2", "1,3", "1 3") or an option's text."""
    numbers = _NUMBERS.fullmatch(text.strip().rstrip(".)"))
    if numbers:
        picked = {int(n) - 1 for n in re.findall(r"\d+", numbers.group(0))}
        if not all(0 <= i < len(question.options) for i in picked):
            return None
        if len(picked) > 1 and not question.multiple:
            return None
        return frozenset(picked)
    wanted = fold(text).strip(" .,!")
    for index, option in enumerate(question.options):
        if any(fold(label) == wanted for label in option.values()):
            return frozenset({index})
    return None


def apply_answer(
    quiz: Quiz, state: QuizState, kind: InboundKind, text: str, now: datetime
) -> QuizAnswerOutcome:
    """Score the input for the current question; move on to the next.

    A question with several right answers scores only when exactly those are
    chosen. An answer after the time limit is recorded but scores nothing.
    """
    if state.position >= len(quiz.questions):
        return QuizAnswerOutcome(state, ignored=True, finished=True)
    question = quiz.questions[state.position]
    if kind is InboundKind.BUTTON:
        parts = text.split(":")
        if len(parts) != 4 or parts[1] != state.token or parts[2] != str(state.position):
            return QuizAnswerOutcome(state, ignored=True)
        if parts[3] == DONE:
            if not question.multiple or not state.picked:
                return QuizAnswerOutcome(state, ignored=True)
            chosen = frozenset(state.picked)
        elif parts[3].isdigit() and int(parts[3]) < len(question.options):
            option = int(parts[3])
            if question.multiple:
                picked = set(state.picked) ^ {option}
                return QuizAnswerOutcome(
                    replace(state, picked=tuple(sorted(picked))), question, toggled=True
                )
            chosen = frozenset({option})
        else:
            return QuizAnswerOutcome(state, ignored=True)
    else:
        found = _options_from_text(question, text)
        if not found:
            return QuizAnswerOutcome(state, question, unclear=True)
        chosen = found
    asked = datetime.fromisoformat(state.asked_at)
    elapsed_ms = max(0, int((now - asked).total_seconds() * 1000))
    limit = quiz.time_limit(question)
    late = limit is not None and elapsed_ms > limit * 1000
    correct = chosen == question.correct and not late
    following = replace(
        state,
        position=state.position + 1,
        asked_at=now.isoformat(),
        correct=state.correct + (1 if correct else 0),
        picked=(),
    )
    return QuizAnswerOutcome(
        following,
        question,
        chosen,
        correct=correct,
        late=late,
        elapsed_ms=elapsed_ms,
        finished=following.position >= len(quiz.questions),
    )


def question_message(
    quiz: Quiz,
    state: QuizState,
    _: Translator,
    style: Style,
    *,
    numbered: bool = True,
    hint: bool = True,
    timed: bool = True,
    before: str = "",
) -> Outbound:
    """The current question: buttons on Telegram, numbered options by SMS.

    ``numbered`` puts "3/10" before it; ``hint`` adds how to reply (by SMS, only
    the first question needs it); ``timed`` says the time limit; ``before`` is
    text to put first (the feedback on the previous answer).
    """
    question = quiz.questions[state.position]
    language = _.language
    options = [localize(o, language, quiz.languages) for o in question.options]
    text = localize(question.text, language, quiz.languages)
    lines = [before] if before else []
    lines.append(f"{state.position + 1}/{len(quiz.questions)} {text}" if numbered else text)
    limit = quiz.time_limit(question)
    if style is Style.NUMBERED:
        lines.extend(f"{i} {o}" for i, o in enumerate(options, start=1))
        if question.multiple:
            lines.append(_("Reply all the right numbers, for example 1,3."))
        elif hint:
            lines.append(_("Reply 1-{max}.").format(max=len(options)))
        return Outbound("\n".join(lines))
    if question.multiple:
        lines.append(_("Tick all the right answers, then press Done."))
    if limit and timed:
        seconds = _.ngettext("You have {seconds} second.", "You have {seconds} seconds.", limit)
        lines.append(seconds.format(seconds=limit))
    return Outbound("\n".join(lines), _buttons(question, state, options, _))


def _buttons(
    question: QuizQuestion, state: QuizState, options: list[str], _: Translator
) -> tuple[tuple[Button, ...], ...]:
    prefix = f"q:{state.token}:{state.position}:"
    rows = [
        (Button(("☑️ " if index in state.picked else "") + label, f"{prefix}{index}"),)
        for index, label in enumerate(options)
    ]
    if question.multiple:
        rows.append((Button(_("Done"), f"{prefix}{DONE}"),))
    return tuple(rows)


def ticked_redraw(quiz: Quiz, outcome: QuizAnswerOutcome, _: Translator) -> Outbound:
    """The question again with the ticks as they now stand (redraws the pressed message)."""
    drawn = question_message(quiz, outcome.state, _, Style.BUTTONS)
    return Outbound(drawn.text, drawn.buttons, updates_pressed=True)


def _options_text(
    quiz: Quiz, question: QuizQuestion, language: str, indices: frozenset[int] | None = None
) -> str:
    """The named options (the right ones by default), in the person's language."""
    chosen = question.correct if indices is None else indices
    return ", ".join(
        localize(question.options[i], language, quiz.languages) for i in sorted(chosen)
    )


def feedback_text(quiz: Quiz, outcome: QuizAnswerOutcome, _: Translator) -> str:
    """Right or wrong, the right answer if it was missed, and what to learn from it."""
    question = outcome.question
    assert question is not None
    language = _.language
    explanation = localize(question.explanation, language, quiz.languages)
    if outcome.late:
        verdict = _("Time is up: this answer does not score.")
    elif outcome.correct:
        return _("Correct!") + f" {explanation}"
    else:
        verdict = _("Not quite.")
    right = _options_text(quiz, question, language)
    return f"{verdict} " + _("The answer: {answer}.").format(answer=right) + f" {explanation}"


def answered_redraw(quiz: Quiz, outcome: QuizAnswerOutcome, _: Translator) -> Outbound:
    """The pressed question without its buttons, showing the choice (Telegram)."""
    question = outcome.question
    assert question is not None and outcome.chosen
    language = _.language
    chosen = _options_text(quiz, question, language, outcome.chosen)
    mark = "✅" if outcome.correct else ("⌛" if outcome.late else "❌")
    asked = localize(question.text, language, quiz.languages)
    return Outbound(f"{asked}\n{mark} {chosen}", updates_pressed=True)


def summary_text(
    quiz: Quiz,
    correct: int,
    duration_ms: int,
    _: Translator,
    *,
    missed: Sequence[str] = (),
) -> str:
    """The score and time; with ``missed`` (question ids), their right answers, one per line."""
    seconds = max(1, round(duration_ms / 1000))
    lines = [
        _("Your score: {correct} of {total}, in {seconds} s.").format(
            correct=correct, total=len(quiz.questions), seconds=seconds
        )
    ]
    language = _.language
    positions = {q.id: i for i, q in enumerate(quiz.questions, start=1)}
    for question_id in sorted(missed, key=lambda q: positions.get(q, 0)):
        question = quiz.question(question_id)
        if question is None:
            continue
        lines.append(f"{positions[question_id]}. {_options_text(quiz, question, language)}")
    if len(lines) > 1:
        lines.insert(1, _("Right answers to the ones you missed:"))
    return "\n".join(lines)


def week_of(moment: datetime, zone: Any) -> str:
    """The ISO week a moment falls in, in the service's time zone: '2026-W48'."""
    year, week, _day = moment.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"
