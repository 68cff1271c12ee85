"""Survey definitions: plain, immutable data shared by every channel.

A survey is authored as a YAML file (see ``polls.survey_loader``) and stored as
versions; these classes are what the dialogue rules and the analysis read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

# A text in several languages: {"az": "...", "ru": "...", "en": "..."}.
LocalizedText = Mapping[str, str]

AnswerValue = str | list[str] | int | float
"""What an answer is stored as: a choice value, several choice values, a number or text."""


def localize(text: LocalizedText, language: str, fallbacks: Sequence[str] = ()) -> str:
    """The text in ``language``, else in the first fallback present, else any."""
    for lang in (language, *fallbacks):
        if lang in text:
            return text[lang]
    return next(iter(text.values()), "")


class QuestionKind(StrEnum):
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    NUMBER = "number"
    RATING = "rating"
    YES_NO = "yes_no"
    TEXT = "text"


YES = "yes"
NO = "no"


@dataclass(frozen=True)
class Choice:
    value: str
    label: LocalizedText


@dataclass(frozen=True)
class Condition:
    """Ask a question only if an earlier answer matches.

    ``equals`` and ``any_of`` match choice values (or yes/no); ``at_least`` and
    ``at_most`` match numbers and ratings. For multiple choice, a condition
    matches when any picked value matches.
    """

    question: str
    any_of: tuple[str, ...] = ()
    none_of: tuple[str, ...] = ()
    at_least: float | None = None
    at_most: float | None = None

    def matches(self, answer: AnswerValue | None) -> bool:
        if answer is None:
            return False
        if self.any_of or self.none_of:
            picked = set(answer) if isinstance(answer, list) else {str(answer)}
            if self.any_of and not picked & set(self.any_of):
                return False
            if self.none_of and picked & set(self.none_of):
                return False
        if self.at_least is not None or self.at_most is not None:
            if isinstance(answer, (str, list)):
                return False
            if self.at_least is not None and answer < self.at_least:
                return False
            if self.at_most is not None and answer > self.at_most:
                return False
        return True


@dataclass(frozen=True)
class Question:
    id: str
    kind: QuestionKind
    text: LocalizedText
    choices: tuple[Choice, ...] = ()
    required: bool = True
    ask_if: Condition | None = None
    # multiple choice
    min_picks: int = 1
    max_picks: int | None = None
    # number and rating
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = True
    min_label: LocalizedText | None = None
    max_label: LocalizedText | None = None
    # text
    max_length: int = 500

    def choice(self, value: str) -> Choice | None:
        return next((c for c in self.choices if c.value == value), None)

    @property
    def has_buttons(self) -> bool:
        return self.kind in (
            QuestionKind.SINGLE_CHOICE,
            QuestionKind.MULTIPLE_CHOICE,
            QuestionKind.YES_NO,
            QuestionKind.RATING,
        )

    def rating_values(self) -> list[int]:
        """The points of a rating scale, lowest first."""
        low = 1 if self.minimum is None else int(self.minimum)
        high = 5 if self.maximum is None else int(self.maximum)
        return list(range(low, high + 1))


@dataclass(frozen=True)
class Survey:
    id: str
    title: LocalizedText
    languages: tuple[str, ...]
    questions: tuple[Question, ...]
    goals: tuple[int, ...] = ()
    priority_areas: tuple[str, ...] = ()
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    show_results: bool = False
    sms_transliterate: bool = False
    """Send this survey's SMS in GSM-7 letters (ə -> e, ш -> sh): about half the cost."""
    intro: LocalizedText | None = None
    thanks: LocalizedText | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """The validated source document; stored with each version and re-parsed on load."""

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def is_open(self, now: datetime) -> bool:
        if self.opens_at is not None and now < self.opens_at:
            return False
        return not (self.closes_at is not None and now >= self.closes_at)

    @property
    def content_hash(self) -> str:
        """Identifies a version: equal documents give equal hashes."""
        canonical = json.dumps(self.raw, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()
