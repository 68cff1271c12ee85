"""Tolerant parsing of typed answers, the same for Telegram and SMS.

People type ``1``, ``1.``, `` 1 ``, ``EDUCATION``, ``təhsil`` or ``Bakı`` as
``BAKI``; they write decimals with a comma and answer yes in their own language.
Every parser returns either the answer value or an :class:`Invalid` that says
why, so the dialogue can re-prompt precisely.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from babel.numbers import NumberFormatError, parse_decimal

from polls.survey import NO, YES, AnswerValue, Question, QuestionKind

# Words a person may type for yes and no, folded (see ``fold``). Keep short.
YES_WORDS = frozenset(
    {
        "yes",
        "y",
        "yeah",
        "yep",
        "ok",
        "okay",
        "he",
        "hee",
        "beli",
        "ha",
        "da",
        "да",
        "д",
        "ага",
        "конечно",
    }
)
NO_WORDS = frozenset({"no", "n", "nope", "yox", "xeyr", "yo", "нет", "н", "не", "net"})
# With the transliterated forms a GSM-7 SMS shows (ПРОПУСТИТЬ as PROPUSTIT).
SKIP_WORDS = frozenset(
    {"skip", "kec", "otur", "пропустить", "пропуск", "далее", "propustit", "propusk", "dalee", "-"}
)

_FOLD_EXTRA = str.maketrans(
    {"ı": "i", "ə": "e", "ё": "е", "–": "-", "—": "-", "−": "-", "‐": "-", "‑": "-"}
)
_CHOICE_NUMBER = re.compile(r"^\s*[#№]?\s*(\d{1,3})\s*[.)]?\s*$")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")


@functools.lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """A form for comparing what people type: case, accents, ı/i and ə/e ignored.

    ``Bakı``, ``BAKI`` and ``baki`` fold alike, as do ``Təhsil`` and ``tehsil``
    (people on phones without an Azerbaijani keyboard type the Latin letters),
    and ``18-24`` and ``18–24`` (a phone types a hyphen, labels use a dash).
    """
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _SPACES.sub(" ", text.translate(_FOLD_EXTRA)).strip()


@dataclass(frozen=True)
class Invalid:
    """Why an answer was not accepted; ``params`` fill the re-prompt text."""

    reason: str
    params: dict[str, str | int | float] = field(default_factory=dict)


# Reasons, used by the dialogue to choose the re-prompt.
NOT_A_CHOICE = "not_a_choice"
TOO_FEW = "too_few"
TOO_MANY = "too_many"
NOT_A_NUMBER = "not_a_number"
NOT_WHOLE = "not_whole"
OUT_OF_RANGE = "out_of_range"
EMPTY = "empty"
TOO_LONG = "too_long"
NOT_YES_NO = "not_yes_no"

ParseResult = AnswerValue | Invalid


def is_skip_word(text: str) -> bool:
    return fold(text) in SKIP_WORDS


def parse_answer(question: Question, text: str, language: str = "en") -> ParseResult:
    """Parse what a person typed as an answer to ``question``."""
    kind = question.kind
    if kind is QuestionKind.SINGLE_CHOICE:
        return parse_single_choice(question, text)
    if kind is QuestionKind.MULTIPLE_CHOICE:
        return parse_multiple_choice(question, text)
    if kind is QuestionKind.YES_NO:
        return parse_yes_no(text)
    if kind is QuestionKind.RATING:
        return parse_rating(question, text, language)
    if kind is QuestionKind.NUMBER:
        return parse_number(question, text, language)
    return parse_text(question, text)


def _match_choice(question: Question, token: str) -> str | None:
    """The value of the choice ``token`` names, by number, label or value."""
    number = _CHOICE_NUMBER.match(token)
    if number:
        index = int(number.group(1)) - 1
        return question.choices[index].value if 0 <= index < len(question.choices) else None
    wanted = fold(token).strip(" .,!")
    if not wanted:
        return None
    for choice in question.choices:
        if wanted == fold(choice.value) or any(
            wanted == fold(label) for label in choice.label.values()
        ):
            return choice.value
    # A unique prefix of three or more letters is enough ("educ" for Education).
    if len(wanted) >= 3:
        hits = {
            c.value
            for c in question.choices
            for label in c.label.values()
            if fold(label).startswith(wanted)
        }
        if len(hits) == 1:
            return hits.pop()
    return None


def parse_single_choice(question: Question, text: str) -> ParseResult:
    value = _match_choice(question, text)
    if value is None:
        return Invalid(NOT_A_CHOICE, {"count": len(question.choices)})
    return value


def _split_picks(text: str) -> list[str]:
    """``1,3``, ``1 3``, ``1;3`` or ``education, health`` into their parts."""
    parts = [p for p in re.split(r"[,;\n]+", text) if p.strip()]
    if len(parts) == 1 and re.fullmatch(r"[\d\s.)]+", text.strip()):
        parts = text.split()
    return [p.strip() for p in parts]


def parse_multiple_choice(question: Question, text: str) -> ParseResult:
    picked: list[str] = []
    for part in _split_picks(text):
        value = _match_choice(question, part)
        if value is None:
            return Invalid(NOT_A_CHOICE, {"count": len(question.choices)})
        if value not in picked:
            picked.append(value)
    return check_pick_count(question, picked)


def check_pick_count(question: Question, picked: list[str]) -> ParseResult:
    """Multiple choice picks within the question's bounds, in choice order."""
    most = question.max_picks or len(question.choices)
    if len(picked) < max(question.min_picks, 1):
        return Invalid(TOO_FEW, {"min": max(question.min_picks, 1)})
    if len(picked) > most:
        return Invalid(TOO_MANY, {"max": most})
    order = [c.value for c in question.choices]
    return sorted(picked, key=order.index)


def parse_yes_no(text: str) -> ParseResult:
    word = fold(text).strip(" .!,")
    if word in YES_WORDS or word == "1":
        return YES
    if word in NO_WORDS or word == "2":
        return NO
    return Invalid(NOT_YES_NO)


def _to_decimal(text: str, language: str) -> Decimal | None:
    """A number as the person's locale writes it, or with either decimal mark."""
    compact = _SPACES.sub("", text.strip())
    if not compact:
        return None
    try:
        return parse_decimal(compact, locale=language, strict=True)
    except (NumberFormatError, ValueError):
        pass
    if re.fullmatch(r"[-+]?\d+([.,]\d+)?", compact):
        try:
            return Decimal(compact.replace(",", "."))
        except InvalidOperation:
            return None
    return None


def _range_params(question: Question) -> dict[str, str | int | float]:
    params: dict[str, str | int | float] = {}
    if question.minimum is not None:
        params["min"] = format_number(question.minimum)
    if question.maximum is not None:
        params["max"] = format_number(question.maximum)
    return params


def format_number(value: float | int) -> str:
    """``5.0`` as ``5``; other numbers as they are."""
    return str(int(value)) if float(value).is_integer() else str(value)


def parse_number(question: Question, text: str, language: str) -> ParseResult:
    number = _to_decimal(text, language)
    if number is None:
        return Invalid(NOT_A_NUMBER, _range_params(question))
    if question.integer and number != number.to_integral_value():
        return Invalid(NOT_WHOLE, _range_params(question))
    if (question.minimum is not None and number < Decimal(str(question.minimum))) or (
        question.maximum is not None and number > Decimal(str(question.maximum))
    ):
        return Invalid(OUT_OF_RANGE, _range_params(question))
    return int(number) if question.integer else float(number)


def parse_rating(question: Question, text: str, language: str) -> ParseResult:
    points = question.rating_values()
    number = _to_decimal(text.strip().rstrip(".)"), language)
    if number is None or number != number.to_integral_value() or int(number) not in points:
        return Invalid(OUT_OF_RANGE, {"min": points[0], "max": points[-1]})
    return int(number)


def parse_text(question: Question, text: str) -> ParseResult:
    cleaned = text.strip()
    if not cleaned:
        return Invalid(EMPTY, {"max": question.max_length})
    if len(cleaned) > question.max_length:
        return Invalid(TOO_LONG, {"max": question.max_length, "length": len(cleaned)})
    return cleaned
