"""The dialogue rules: from (survey, state, what the person sent) to what happens next.

Pure and channel-neutral. Two steps, so the caller can act between them (the
onboarding changes the person's language before the next prompt is worded):

* :func:`apply_input` decides: record an answer, toggle a pick, re-prompt, give
  up on a question after too many tries, or finish. No words yet.
* :func:`render` words the outcome in the person's language as neutral
  :class:`~polls.messages.Outbound` messages with buttons.

Buttons carry ``<token>:<question index>:<action>``: ASCII, far below
Telegram's 64-byte limit, and the per-session token makes a press on a button
from an earlier survey recognisable as stale.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from babel.lists import format_list

from polls.answer_parsing import (
    EMPTY,
    NOT_A_CHOICE,
    NOT_A_NUMBER,
    NOT_WHOLE,
    NOT_YES_NO,
    OUT_OF_RANGE,
    TOO_FEW,
    TOO_LONG,
    TOO_MANY,
    Invalid,
    check_pick_count,
    format_number,
    is_skip_word,
    parse_answer,
)
from polls.i18n import Translator
from polls.messages import Button, InboundKind, Outbound
from polls.survey import NO, YES, AnswerValue, Question, QuestionKind, Survey, localize


class Style(StrEnum):
    """How a channel shows choices: tappable buttons, or numbered lines to reply to."""

    BUTTONS = "buttons"
    NUMBERED = "numbered"


MAX_REPROMPTS = 2
"""Wrong answers to one question before we move on politely."""

CHECK = "✅ "
_TOKEN_ALPHABET = string.ascii_lowercase + string.digits


def new_token() -> str:
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(6))


@dataclass
class SurveyState:
    """Where a person is in one survey; stored as JSON between messages."""

    survey_id: str
    token: str
    position: int
    answers: dict[str, AnswerValue] = field(default_factory=dict)
    reprompts: int = 0
    picks: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "survey_id": self.survey_id,
            "token": self.token,
            "position": self.position,
            "answers": self.answers,
            "reprompts": self.reprompts,
            "picks": self.picks,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SurveyState:
        return cls(
            survey_id=data["survey_id"],
            token=data["token"],
            position=data["position"],
            answers=dict(data.get("answers", {})),
            reprompts=data.get("reprompts", 0),
            picks=list(data.get("picks", [])),
        )


@dataclass(frozen=True)
class Transition:
    """What :func:`apply_input` decided."""

    state: SurveyState
    question: Question | None = None
    """The question the input was about (None when stale)."""
    recorded: AnswerValue | None = None
    invalid: Invalid | None = None
    gave_up: bool = False
    skipped: bool = False
    toggled: bool = False
    stale: bool = False
    pressed: bool = False
    """The input was a button press (its message can be redrawn)."""

    @property
    def finished(self) -> bool:
        return self.state.position < 0


def _askable(question: Question, answers: dict[str, AnswerValue]) -> bool:
    return question.ask_if is None or question.ask_if.matches(answers.get(question.ask_if.question))


def _advance(survey: Survey, state: SurveyState, start: int) -> SurveyState:
    """The state at the first question from ``start`` whose skip logic lets it be asked."""
    for index in range(start, len(survey.questions)):
        if _askable(survey.questions[index], state.answers):
            return replace(state, position=index, reprompts=0, picks=[])
    return replace(state, position=-1, reprompts=0, picks=[])


def start(survey: Survey, token: str | None = None) -> SurveyState:
    """A fresh state at the first askable question."""
    return _advance(survey, SurveyState(survey.id, token or new_token(), 0), 0)


def current_question(survey: Survey, state: SurveyState) -> Question | None:
    if state.position < 0 or state.position >= len(survey.questions):
        return None
    return survey.questions[state.position]


def _payload(state: SurveyState, action: str) -> str:
    return f"{state.token}:{state.position}:{action}"


def _parse_payload(payload: str) -> tuple[str, int, str] | None:
    parts = payload.split(":")
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1]), parts[2]


def owns_payload(state: SurveyState, payload: str) -> bool:
    """Whether a button press belongs to this survey session."""
    parsed = _parse_payload(payload)
    return parsed is not None and parsed[0] == state.token


def _choice_value(question: Question, index: int) -> str | None:
    values = _button_values(question)
    return values[index] if 0 <= index < len(values) else None


def _button_values(question: Question) -> list[str]:
    if question.kind is QuestionKind.YES_NO:
        return [YES, NO]
    if question.kind is QuestionKind.RATING:
        return [str(v) for v in question.rating_values()]
    return [c.value for c in question.choices]


def _answer_from_button(question: Question, index: int) -> AnswerValue | None:
    value = _choice_value(question, index)
    if value is None:
        return None
    return int(value) if question.kind is QuestionKind.RATING else value


def _record(
    survey: Survey, state: SurveyState, question: Question, value: AnswerValue, pressed: bool
) -> Transition:
    answers = {**state.answers, question.id: value}
    after = _advance(survey, replace(state, answers=answers), state.position + 1)
    return Transition(after, question, recorded=value, pressed=pressed)


def _skip(survey: Survey, state: SurveyState, question: Question, pressed: bool) -> Transition:
    after = _advance(survey, state, state.position + 1)
    return Transition(after, question, skipped=True, pressed=pressed)


def _reject(
    survey: Survey,
    state: SurveyState,
    question: Question,
    invalid: Invalid,
    max_reprompts: int | None,
) -> Transition:
    if max_reprompts is not None and state.reprompts >= max_reprompts:
        after = _advance(survey, state, state.position + 1)
        return Transition(after, question, invalid=invalid, gave_up=True)
    return Transition(replace(state, reprompts=state.reprompts + 1), question, invalid=invalid)


def apply_input(
    survey: Survey,
    state: SurveyState,
    kind: InboundKind,
    text: str,
    *,
    language: str = "en",
    max_reprompts: int | None = MAX_REPROMPTS,
) -> Transition:
    """Decide what a typed answer or a button press does to ``state``.

    ``max_reprompts=None`` never gives up (for steps that cannot be skipped,
    like consent).
    """
    question = current_question(survey, state)
    if question is None:
        return Transition(state, stale=True, pressed=kind is InboundKind.BUTTON)
    if kind is InboundKind.BUTTON:
        return _apply_button(survey, state, question, text, max_reprompts)
    if not question.required and is_skip_word(text):
        return _skip(survey, state, question, pressed=False)
    parsed = parse_answer(question, text, language)
    if isinstance(parsed, Invalid):
        return _reject(survey, state, question, parsed, max_reprompts)
    return _record(survey, state, question, parsed, pressed=False)


def _apply_button(
    survey: Survey,
    state: SurveyState,
    question: Question,
    payload: str,
    max_reprompts: int | None,
) -> Transition:
    parsed = _parse_payload(payload)
    if parsed is None or parsed[0] != state.token or parsed[1] != state.position:
        return Transition(state, stale=True, pressed=True)
    action = parsed[2]
    if action == "s" and not question.required:
        return _skip(survey, state, question, pressed=True)
    if action == "d" and question.kind is QuestionKind.MULTIPLE_CHOICE:
        checked = check_pick_count(question, state.picks)
        if isinstance(checked, Invalid):
            return _reject(survey, state, question, checked, None)
        return _record(survey, state, question, checked, pressed=True)
    if action[:1] in ("c", "t") and action[1:].isdigit():
        index = int(action[1:])
        if question.kind is QuestionKind.MULTIPLE_CHOICE:
            value = _choice_value(question, index)
            if value is None:
                return Transition(state, stale=True, pressed=True)
            picks = [p for p in state.picks if p != value]
            if value not in state.picks:
                most = question.max_picks or len(question.choices)
                if len(state.picks) >= most:
                    return Transition(
                        state, question, invalid=Invalid(TOO_MANY, {"max": most}), pressed=True
                    )
                picks.append(value)
            return Transition(replace(state, picks=picks), question, toggled=True, pressed=True)
        answer = _answer_from_button(question, index)
        if answer is not None:
            return _record(survey, state, question, answer, pressed=True)
    return Transition(state, stale=True, pressed=True)


# ---------------------------------------------------------------- wording


def _question_text(survey: Survey, question: Question, language: str) -> str:
    return localize(question.text, language, survey.languages)


def _hint(survey: Survey, question: Question, _: Translator, style: Style) -> str:
    kind = question.kind
    numbered = style is Style.NUMBERED
    if numbered and kind is QuestionKind.MULTIPLE_CHOICE and question.max_picks == 1:
        kind = QuestionKind.SINGLE_CHOICE  # "up to 1 number, e.g. 1,3" would contradict itself
    if kind is QuestionKind.MULTIPLE_CHOICE:
        most = question.max_picks or len(question.choices)
        least = max(question.min_picks, 1)
        if numbered:
            wording = _.ngettext(
                "Reply with up to {n} number, e.g. 1,3.",
                "Reply with up to {n} numbers, e.g. 1,3.",
                most,
            )
        elif least == most:
            wording = _.ngettext("Pick {n}, then press Done.", "Pick {n}, then press Done.", most)
        else:
            wording = _.ngettext(
                "Pick up to {n}, then press Done.", "Pick up to {n}, then press Done.", most
            )
        return wording.format(n=most)
    if kind is QuestionKind.SINGLE_CHOICE and numbered:
        count = len(question.choices)
        if count <= 5:
            options = format_list([str(i) for i in range(1, count + 1)], "or", _.language)
            return _("Reply {options}.").format(options=options)
        return _("Reply a number from {min} to {max}.").format(min=1, max=count)
    if kind is QuestionKind.YES_NO and numbered:
        return _("Reply YES or NO.")
    if kind is QuestionKind.NUMBER:
        if question.minimum is not None and question.maximum is not None:
            return _("Type a number from {min} to {max}.").format(
                min=format_number(question.minimum), max=format_number(question.maximum)
            )
        return _("Type a number.")
    if kind is QuestionKind.RATING:
        points = question.rating_values()
        ends = ((points[0], question.min_label), (points[-1], question.max_label))
        labels = ", ".join(
            f"{point} = {localize(label, _.language, survey.languages)}"
            for point, label in ends
            if label
        )
        if not numbered:
            return labels
        reply = _("Reply a number from {min} to {max}.").format(min=points[0], max=points[-1])
        return f"{labels}\n{reply}" if labels else reply
    if kind is QuestionKind.TEXT:
        return _("Type your answer (up to {max} characters).").format(max=question.max_length)
    return ""


def _buttons(
    survey: Survey, state: SurveyState, question: Question, _: Translator
) -> tuple[tuple[Button, ...], ...]:
    language = _.language
    rows: list[tuple[Button, ...]] = []
    if question.kind is QuestionKind.YES_NO:
        rows.append(
            (Button(_("Yes"), _payload(state, "c0")), Button(_("No"), _payload(state, "c1")))
        )
    elif question.kind is QuestionKind.RATING:
        points = question.rating_values()
        row = [Button(str(v), _payload(state, f"c{i}")) for i, v in enumerate(points)]
        # Eleven points (0-10) do not fit one row on a phone.
        rows.extend(tuple(row[i : i + 6]) for i in range(0, len(row), 6))
    elif question.kind in (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE):
        multiple = question.kind is QuestionKind.MULTIPLE_CHOICE
        choices = []
        for i, choice in enumerate(question.choices):
            label = localize(choice.label, language, survey.languages)
            if multiple and choice.value in state.picks:
                label = CHECK + label
            choices.append(Button(label, _payload(state, f"{'t' if multiple else 'c'}{i}")))
        # Long lists of short labels go two to a row so they fit on one screen.
        per_row = 2 if len(choices) > 6 and all(len(b.label) <= 18 for b in choices) else 1
        rows.extend(tuple(choices[i : i + per_row]) for i in range(0, len(choices), per_row))
        if multiple:
            rows.append((Button(_("Done"), _payload(state, "d")),))
    if not question.required:
        rows.append((Button(_("Skip"), _payload(state, "s")),))
    return tuple(rows)


def question_prompt(
    survey: Survey,
    state: SurveyState,
    _: Translator,
    *,
    note: str = "",
    style: Style = Style.BUTTONS,
) -> Outbound | None:
    """The current question as a message, with progress and buttons or numbered choices."""
    question = current_question(survey, state)
    if question is None:
        return None
    progress = f"{state.position + 1}/{len(survey.questions)}"
    lines = [note] if note else []
    lines.append(f"{progress} {_question_text(survey, question, _.language)}")
    if style is Style.NUMBERED and question.kind in (
        QuestionKind.SINGLE_CHOICE,
        QuestionKind.MULTIPLE_CHOICE,
    ):
        lines.extend(
            f"{i}. {localize(c.label, _.language, survey.languages)}"
            for i, c in enumerate(question.choices, start=1)
        )
    hint = _hint(survey, question, _, style)
    if hint:
        lines.append(hint)
    if not question.required:
        if style is Style.NUMBERED:
            lines.append(_("Reply SKIP to skip."))
        elif question.kind is QuestionKind.TEXT:
            lines.append(_("Optional: press Skip or type “skip”."))
    if style is Style.NUMBERED:
        return Outbound("\n".join(lines))
    return Outbound("\n".join(lines), _buttons(survey, state, question, _))


def describe_answer(survey: Survey, question: Question, value: AnswerValue, _: Translator) -> str:
    """An answer as the person would read it back."""
    language = _.language
    if question.kind is QuestionKind.YES_NO:
        return _("Yes") if value == YES else _("No")
    if question.kind in (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE):
        values = value if isinstance(value, list) else [str(value)]
        labels = []
        for v in values:
            choice = question.choice(v)
            labels.append(localize(choice.label, language, survey.languages) if choice else v)
        return ", ".join(labels)
    if isinstance(value, float):
        return format_number(value)
    return str(value)


def reprompt_text(invalid: Invalid, _: Translator) -> str:
    """A friendly line saying what was wrong with an answer."""
    p = invalid.params
    texts = {
        NOT_A_CHOICE: _("Sorry, I didn't catch that. Please choose one of the options."),
        NOT_YES_NO: _("Sorry, I didn't catch that. Please answer yes or no."),
        NOT_A_NUMBER: _("Please type a number."),
        NOT_WHOLE: _("Please type a whole number."),
        EMPTY: _("Please type your answer."),
    }
    if invalid.reason in texts:
        return texts[invalid.reason]
    if invalid.reason == OUT_OF_RANGE:
        if "min" in p and "max" in p:
            return _("Please choose a number from {min} to {max}.").format(**p)
        if "min" in p:
            return _("Please type a number of at least {min}.").format(**p)
        return _("Please type a number of at most {max}.").format(**p)
    if invalid.reason == TOO_FEW:
        n = int(p["min"])
        return _.ngettext("Please pick at least {n}.", "Please pick at least {n}.", n).format(n=n)
    if invalid.reason == TOO_MANY:
        n = int(p["max"])
        return _.ngettext("You can pick up to {n}.", "You can pick up to {n}.", n).format(n=n)
    if invalid.reason == TOO_LONG:
        n = int(p["max"])
        return _("That is {length} characters; please keep it under {max}.").format(
            length=p["length"], max=n
        )
    return _("Sorry, I didn't catch that.")


def render(
    survey: Survey, transition: Transition, _: Translator, style: Style = Style.BUTTONS
) -> list[Outbound]:
    """The messages that follow a transition, in the translator's language."""
    state, question = transition.state, transition.question
    if transition.stale:
        return [Outbound(_("That button belongs to an earlier question."))]
    out: list[Outbound] = []
    if transition.toggled:
        prompt = question_prompt(survey, state, _, style=style)
        return [replace(prompt, updates_pressed=True)] if prompt else []
    if transition.invalid and not transition.gave_up:
        note = reprompt_text(transition.invalid, _)
        prompt = question_prompt(survey, state, _, note=note, style=style)
        return [prompt] if prompt else []
    if question is not None and transition.pressed:
        # Redraw the answered question without its buttons, showing the answer.
        answered = (
            describe_answer(survey, question, transition.recorded, _)
            if transition.recorded is not None
            else _("Skipped")
        )
        asked = _question_text(survey, question, _.language)
        out.append(Outbound(f"{asked}\n✔ {answered}", updates_pressed=True))
    if transition.gave_up and transition.invalid:
        out.append(Outbound(_("Let's move on.")))
    prompt = question_prompt(survey, state, _, style=style)
    if prompt is not None:
        out.append(prompt)
    return out


def survey_intro(survey: Survey, _: Translator) -> Outbound:
    title = localize(survey.title, _.language, survey.languages)
    lines = [f"📋 {title}"]
    if survey.intro:
        lines.append(localize(survey.intro, _.language, survey.languages))
    return Outbound("\n".join(lines))


def survey_thanks(survey: Survey, _: Translator) -> Outbound:
    if survey.thanks:
        return Outbound(localize(survey.thanks, _.language, survey.languages))
    return Outbound(_("Thank you! Your answers have been saved."))
