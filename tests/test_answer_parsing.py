"""Tolerant parsing: what people really type, in three languages."""

from __future__ import annotations

import pytest

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
    fold,
    is_skip_word,
    parse_answer,
)
from polls.survey import Choice, Question, QuestionKind

REGIONS = Question(
    id="region",
    kind=QuestionKind.SINGLE_CHOICE,
    text={"en": "Region?"},
    choices=(
        Choice("baku", {"az": "Bakı", "ru": "Баку", "en": "Baku"}),
        Choice("ganja", {"az": "Gəncə-Daşkəsən", "ru": "Гянджа-Дашкесан", "en": "Ganja-Dashkasan"}),
        Choice("shaki", {"az": "Şəki-Zaqatala", "ru": "Шеки-Загатала", "en": "Shaki-Zagatala"}),
    ),
)
GOALS = Question(
    id="goals",
    kind=QuestionKind.MULTIPLE_CHOICE,
    text={"en": "Goals?"},
    min_picks=1,
    max_picks=2,
    choices=(
        Choice("education", {"az": "Keyfiyyətli təhsil", "en": "Quality Education"}),
        Choice("health", {"az": "Sağlamlıq", "en": "Good Health"}),
        Choice("climate", {"az": "İqlim", "en": "Climate Action"}),
    ),
)
MINUTES = Question(
    id="minutes", kind=QuestionKind.NUMBER, text={"en": "Minutes?"}, minimum=0, maximum=600
)
PRICE = Question(
    id="price", kind=QuestionKind.NUMBER, text={"en": "Price?"}, integer=False, minimum=0
)
RATING = Question(id="rating", kind=QuestionKind.RATING, text={"en": "Rate"}, minimum=0, maximum=10)
YES_NO = Question(id="yn", kind=QuestionKind.YES_NO, text={"en": "Yes?"})
IDEA = Question(id="idea", kind=QuestionKind.TEXT, text={"en": "Idea?"}, max_length=10)


@pytest.mark.parametrize(
    ("question", "typed", "language", "expected"),
    [
        (REGIONS, "1", "en", "baku"),
        (REGIONS, " 2 ", "en", "ganja"),
        (REGIONS, "3.", "en", "shaki"),
        (REGIONS, "2)", "en", "ganja"),
        (REGIONS, "BAKI", "az", "baku"),
        (REGIONS, "baki", "az", "baku"),
        (REGIONS, "Bakı", "az", "baku"),
        (REGIONS, "баку", "ru", "baku"),
        (REGIONS, "seki-zaqatala", "az", "shaki"),
        (REGIONS, "gənc", "az", "ganja"),
        (REGIONS, "Baku!", "en", "baku"),
        (GOALS, "1,3", "en", ["education", "climate"]),
        (GOALS, "3 1", "en", ["education", "climate"]),
        (GOALS, "1; 2", "en", ["education", "health"]),
        (GOALS, "climate action, quality education", "en", ["education", "climate"]),
        (GOALS, "İQLİM", "az", ["climate"]),
        (GOALS, "1,1", "en", ["education"]),
        (MINUTES, "45", "en", 45),
        (MINUTES, " 1 0 ", "en", 10),
        (MINUTES, "600", "en", 600),
        (PRICE, "12,5", "az", 12.5),
        (PRICE, "12.5", "en", 12.5),
        (PRICE, "12,5", "en", 12.5),
        (PRICE, "1 000,5", "ru", 1000.5),
        (RATING, "0", "en", 0),
        (RATING, "10", "en", 10),
        (RATING, "7.", "en", 7),
        (YES_NO, "Yes", "en", "yes"),
        (YES_NO, "hə", "az", "yes"),
        (YES_NO, "BƏLİ", "az", "yes"),
        (YES_NO, "да", "ru", "yes"),
        (YES_NO, "1", "en", "yes"),
        (YES_NO, "yox", "az", "no"),
        (YES_NO, "Нет", "ru", "no"),
        (YES_NO, "2", "en", "no"),
        (IDEA, "  trees  ", "en", "trees"),
    ],
    ids=lambda v: v.id if isinstance(v, Question) else repr(v),
)
def test_accepts_what_people_type(
    question: Question, typed: str, language: str, expected: object
) -> None:
    assert parse_answer(question, typed, language) == expected


@pytest.mark.parametrize(
    ("question", "typed", "reason"),
    [
        (REGIONS, "4", NOT_A_CHOICE),
        (REGIONS, "0", NOT_A_CHOICE),
        (REGIONS, "moscow", NOT_A_CHOICE),
        (REGIONS, "", NOT_A_CHOICE),
        (GOALS, "1,2,3", TOO_MANY),
        (GOALS, ",", TOO_FEW),
        (GOALS, "1,9", NOT_A_CHOICE),
        (MINUTES, "forty", NOT_A_NUMBER),
        (MINUTES, "4.5", NOT_WHOLE),
        (MINUTES, "601", OUT_OF_RANGE),
        (MINUTES, "-1", OUT_OF_RANGE),
        (RATING, "11", OUT_OF_RANGE),
        (RATING, "5.5", OUT_OF_RANGE),
        (YES_NO, "maybe", NOT_YES_NO),
        (IDEA, "   ", EMPTY),
        (IDEA, "a" * 11, TOO_LONG),
    ],
    ids=lambda v: v.id if isinstance(v, Question) else repr(v),
)
def test_refuses_with_a_reason(question: Question, typed: str, reason: str) -> None:
    result = parse_answer(question, typed, "en")
    assert isinstance(result, Invalid)
    assert result.reason == reason


def test_range_is_in_the_reason() -> None:
    result = parse_answer(MINUTES, "999", "en")
    assert isinstance(result, Invalid)
    assert result.params == {"min": "0", "max": "600"}


def test_fold_treats_azerbaijani_letters_as_their_latin_twins() -> None:
    assert fold("  Şəki  İSMAYILLI ") == fold("seki ismayilli") == "seki ismayilli"
    assert fold("Ёлка") == fold("елка")
    assert fold("18–24") == fold("18-24") == fold("18—24")


@pytest.mark.parametrize("word", ["skip", "SKIP", "keç", "kec", "Пропустить", "-"])
def test_skip_words(word: str) -> None:
    assert is_skip_word(word)
    assert not is_skip_word("1")
