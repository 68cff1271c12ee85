"""The dialogue rules, without any channel or database."""

from __future__ import annotations

import pytest

from polls import dialogue
from polls.i18n import translator
from polls.messages import InboundKind
from polls.survey_loader import load_survey_text

SURVEY = load_survey_text(
    """
id: demo
title: {en: Demo}
languages: [en]
questions:
  - id: goals
    kind: multiple_choice
    text: {en: "Which goals?"}
    max_picks: 2
    choices:
      - {value: education, label: {en: Education}}
      - {value: health, label: {en: Health}}
      - {value: climate, label: {en: Climate}}
  - id: used
    kind: yes_no
    text: {en: "Did you use a clinic?"}
  - id: rating
    kind: rating
    text: {en: "How was it?"}
    ask_if: {question: used, equals: "yes"}
  - id: minutes
    kind: number
    text: {en: "Minutes to the clinic?"}
    min: 0
    max: 600
  - id: idea
    kind: text
    text: {en: "An idea?"}
    required: false
    max_length: 50
""",
    source="demo.yaml",
)
EN = translator("en")


def text(state: dialogue.SurveyState, typed: str, **kwargs: object) -> dialogue.Transition:
    return dialogue.apply_input(SURVEY, state, InboundKind.TEXT, typed, **kwargs)  # type: ignore[arg-type]


def press(state: dialogue.SurveyState, payload: str) -> dialogue.Transition:
    return dialogue.apply_input(SURVEY, state, InboundKind.BUTTON, payload)


def payloads(state: dialogue.SurveyState) -> dict[str, str]:
    prompt = dialogue.question_prompt(SURVEY, state, EN)
    assert prompt is not None
    return {b.label: b.payload for b in prompt.flat_buttons}


def test_whole_survey_typed_with_skip_logic() -> None:
    state = dialogue.start(SURVEY)
    step = text(state, "1,3")
    assert step.recorded == ["education", "climate"]
    step = text(step.state, "no")
    assert step.recorded == "no"
    # "rating" is only asked of people who used a clinic.
    assert dialogue.current_question(SURVEY, step.state).id == "minutes"  # type: ignore[union-attr]
    step = text(step.state, "30")
    assert step.recorded == 30
    step = text(step.state, "skip")
    assert step.skipped and step.finished
    assert step.state.answers == {"goals": ["education", "climate"], "used": "no", "minutes": 30}


def test_condition_met_asks_the_question() -> None:
    step = text(text(dialogue.start(SURVEY), "1").state, "yes")
    assert dialogue.current_question(SURVEY, step.state).id == "rating"  # type: ignore[union-attr]


def test_two_reprompts_then_move_on_politely() -> None:
    state = text(dialogue.start(SURVEY), "1").state
    state = text(state, "yes").state
    first = text(state, "purple")
    assert first.invalid is not None and not first.gave_up
    messages = dialogue.render(SURVEY, first, EN)
    assert messages[0].text.startswith("Please choose a number from 1 to 5.")
    assert "3/5 How was it?" in messages[0].text
    second = text(first.state, "nine")
    assert second.invalid is not None and not second.gave_up
    third = text(second.state, "zero")
    assert third.gave_up and third.recorded is None
    rendered = [m.text for m in dialogue.render(SURVEY, third, EN)]
    assert rendered[0] == "Let's move on."
    assert rendered[1].startswith("4/5 Minutes to the clinic?")


def test_never_gives_up_when_told_not_to() -> None:
    state = dialogue.start(SURVEY)
    for _ in range(5):
        step = text(state, "nonsense", max_reprompts=None)
        assert not step.gave_up
        state = step.state
    assert state.position == 0


def test_multiple_choice_with_buttons_toggles_then_done() -> None:
    state = dialogue.start(SURVEY)
    buttons = payloads(state)
    step = press(state, buttons["Education"])
    assert step.toggled and step.state.picks == ["education"]
    redraw = dialogue.render(SURVEY, step, EN)
    assert redraw[0].updates_pressed
    assert "✅ Education" in [b.label for b in redraw[0].flat_buttons]
    step = press(step.state, buttons["Health"])
    refused = press(step.state, buttons["Climate"])
    assert refused.invalid is not None and refused.state.picks == ["education", "health"]
    untoggled = press(step.state, buttons["Education"])
    assert untoggled.state.picks == ["health"]
    done = press(untoggled.state, buttons["Done"])
    assert done.recorded == ["health"]
    messages = dialogue.render(SURVEY, done, EN)
    assert messages[0].updates_pressed and messages[0].text.endswith("✔ Health")
    assert messages[1].text.startswith("2/5 Did you use a clinic?")


def test_done_with_nothing_picked_asks_again() -> None:
    state = dialogue.start(SURVEY)
    step = press(state, payloads(state)["Done"])
    assert step.invalid is not None and step.invalid.reason == "too_few"
    assert step.state.position == 0


def test_button_from_an_earlier_question_or_session_is_stale() -> None:
    state = dialogue.start(SURVEY)
    old = payloads(state)["Education"]
    moved = text(state, "1").state
    assert press(moved, old).stale
    other_session = dialogue.start(SURVEY)
    assert press(other_session, payloads(moved)["Yes"]).stale
    assert not dialogue.owns_payload(other_session, old)


def test_optional_question_has_skip_button() -> None:
    state = dialogue.start(SURVEY)
    for typed in ("1", "no", "5"):
        state = text(state, typed).state
    assert "Skip" in payloads(state)
    step = press(state, payloads(state)["Skip"])
    assert step.skipped and step.finished


def test_state_survives_a_round_trip_through_json() -> None:
    state = text(dialogue.start(SURVEY), "2").state
    state = press(state, payloads(state)["Yes"]).state
    restored = dialogue.SurveyState.from_dict(state.to_dict())
    assert restored == state
    assert text(restored, "4").recorded == 4


def test_payloads_fit_telegram() -> None:
    state = dialogue.start(SURVEY)
    assert all(len(p.encode()) <= 64 for p in payloads(state).values())


@pytest.mark.parametrize("language", ["az", "ru", "en"])
def test_prompts_are_worded_in_the_persons_language(language: str) -> None:
    state = text(text(dialogue.start(SURVEY), "1").state, "no").state
    prompt = dialogue.question_prompt(SURVEY, state, translator(language))
    assert prompt is not None
    hint = translator(language)("Type a number from {min} to {max}.").format(min=0, max=600)
    assert hint in prompt.text
