"""SMS pieces without a network: keywords, phone numbers, numbered prompts, SMS bodies."""

from __future__ import annotations

import pytest

from outreach.sms.rendering import TWILIO_BODY_LIMIT, sms_bodies
from polls import dialogue
from polls.dialogue import Style
from polls.i18n import translator
from polls.keywords import Keyword, Keywords
from polls.messages import Outbound
from polls.phone import InvalidPhoneNumber, normalize_phone
from polls.sms_text import Encoding, sms_cost
from polls.survey_loader import load_survey_file
from tests.conftest import EXAMPLE_SURVEYS

KEYWORDS = Keywords()


@pytest.mark.parametrize(
    ("text", "keyword", "argument"),
    [
        ("STOP", Keyword.STOP, ""),
        (" stop. ", Keyword.STOP, ""),
        ("Unsubscribe", Keyword.STOP, ""),
        ("OPTOUT", Keyword.STOP, ""),
        ("dayan", Keyword.STOP, ""),
        ("СТОП", Keyword.STOP, ""),
        ("Стоп!", Keyword.STOP, ""),
        ("JOIN", Keyword.JOIN, ""),
        ("START", Keyword.JOIN, ""),
        ("başla", Keyword.JOIN, ""),
        ("BASLA", Keyword.JOIN, ""),
        ("старт", Keyword.JOIN, ""),
        ("JOIN youth_priorities", Keyword.JOIN, "youth_priorities"),
        ("HELP", Keyword.HELP, ""),
        ("info", Keyword.HELP, ""),
        ("KÖMƏK", Keyword.HELP, ""),
        ("komek", Keyword.HELP, ""),
        ("помощь", Keyword.HELP, ""),
        ("POMOSHCH", Keyword.HELP, ""),
    ],
    ids=str,
)
def test_keywords(text: str, keyword: Keyword, argument: str) -> None:
    match = KEYWORDS.match(text)
    assert match is not None and match.keyword is keyword and match.argument == argument


@pytest.mark.parametrize(
    "text",
    ["please stop", "stop it now", "help me", "yes", "1", "", "STOP youth_priorities", "JOIN y@s"],
    ids=repr,
)
def test_not_keywords(text: str) -> None:
    assert KEYWORDS.match(text) is None


def test_keywords_are_configurable() -> None:
    custom = Keywords({Keyword.STOP: ["ENOUGH"], Keyword.JOIN: ["GO"], Keyword.HELP: ["?"]})
    assert custom.match("enough") is not None and custom.match("STOP") is None


def test_twilio_handles_only_its_own_words() -> None:
    stop = KEYWORDS.match("STOP")
    dayan = KEYWORDS.match("DAYAN")
    assert stop is not None and stop.handled_by_twilio
    assert dayan is not None and not dayan.handled_by_twilio


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+994501234567", "+994501234567"),
        ("994501234567", "+994501234567"),
        ("050 123 45 67", "+994501234567"),
        ("(050) 123-45-67", "+994501234567"),
        ("+1 415 555 2671", "+14155552671"),
    ],
    ids=str,
)
def test_numbers_become_e164(raw: str, expected: str) -> None:
    assert normalize_phone(raw, "AZ") == expected


@pytest.mark.parametrize("raw", ["", "12", "not a number", "+99450123"], ids=repr)
def test_invalid_numbers_are_refused_clearly(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumber, match="number"):
        normalize_phone(raw, "AZ")


SURVEY = load_survey_file(EXAMPLE_SURVEYS / "public_services.yaml")


def _prompt_at(position: int, language: str) -> str:
    state = dialogue.SurveyState(SURVEY.id, "t", position)
    prompt = dialogue.question_prompt(SURVEY, state, translator(language), style=Style.NUMBERED)
    assert prompt is not None and not prompt.buttons
    return prompt.text


def test_numbered_prompts_list_the_choices_and_say_how_to_reply() -> None:
    single = _prompt_at(0, "en")
    assert "\n1. " in single and "\n7. " in single and "Reply a number from 1 to 7." in single
    assert "Reply YES or NO." in _prompt_at(3, "en")
    assert "Reply with up to 2 numbers, e.g. 1,3." in _prompt_at(4, "en")
    optional = _prompt_at(5, "en")
    assert "Reply SKIP to skip." in optional


def test_numbered_prompts_in_azerbaijani_use_words_the_parser_knows() -> None:
    text = _prompt_at(3, "az")
    assert "BƏLİ" in text and "XEYR" in text


def test_replies_go_out_as_one_sms_when_they_fit() -> None:
    bodies = sms_bodies(
        [Outbound("Thank you!"), Outbound("redraw", updates_pressed=True), Outbound("Results")],
        language="en",
    )
    assert bodies == ["Thank you!\n\nResults"]


def test_long_replies_are_split_within_twilios_limit() -> None:
    long = "\n".join(f"line {i} " + "x" * 60 for i in range(60))
    bodies = sms_bodies([Outbound(long)], language="en")
    assert len(bodies) > 1 and all(len(b) <= TWILIO_BODY_LIMIT for b in bodies)
    assert "".join(b.replace("\n", "") for b in bodies) == long.replace("\n", "")


def test_transliterated_replies_are_gsm7() -> None:
    bodies = sms_bodies([Outbound(_prompt_at(0, "az"))], language="az", gsm_letters=True)
    assert sms_cost(bodies[0]).encoding is Encoding.GSM7
    assert sms_cost(_prompt_at(0, "az")).encoding is Encoding.UCS2
