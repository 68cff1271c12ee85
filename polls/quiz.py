"""Quiz files: one YAML document in, one :class:`Quiz` out.

A quiz is a set of SDG questions with right answers, for young people on
Telegram (and by SMS): one right option or several, an explanation shown after
the answer and the source of the fact. Files are validated like survey files
(``polls.survey_loader``, whose machinery this module reuses): every problem is
collected, each with the file, a path such as ``questions[4].options[2].ru``,
the YAML line and what to do.

The format, briefly::

    id: sdg_basics                   # [a-z0-9][a-z0-9_-]{0,39}
    title: {az: ..., ru: ..., en: ...}  # at most 100 characters
    languages: [az, ru, en]          # every localized text needs exactly these
    goals: [1, 2, 3]                 # optional: the SDGs covered (1..17); absent, taken
                                     # from the questions (in goal order)
    replay: best                     # first (default: only the first attempt counts)
                                     # or best (the best attempt counts)
    time_limit_seconds: 30           # optional default per question, 5 to 600
    opens_at: 2026-12-01T09:00:00+04:00  # optional, with a time zone offset
    closes_at: 2026-12-31T18:00:00+04:00 # optional, after opens_at
    daily: false                     # optional: true for a "question of the day" bank
    questions:                       # 1 to 200
      - id: poverty_line             # [a-z][a-z0-9_]{0,30}, unique
        goal: 1                      # the SDG the question is about, 1 to 17
        difficulty: easy             # easy, medium or hard
        text: {az: ..., ru: ..., en: ...}         # at most 300 characters (SMS too)
        options:                     # 2 to 10, at most 100 characters each, all different
          - {az: ..., ru: ..., en: ...}
          - {az: ..., ru: ..., en: ...}
        correct: [2]                 # the right options, counted from 1; not all of them
        explanation: {az: ..., ru: ..., en: ...}  # at most 200 characters
        source: "UN SDG Report 2023, Goal 1"      # a URL or a citation, at most 300
        time_limit_seconds: 20       # optional, overrides the quiz's, 5 to 600

In the model, :attr:`QuizQuestion.correct` holds 0-based option indices.
``Quiz.raw`` is a JSON-serialisable copy of the validated document (date-times as
ISO-8601 strings); ``parse_quiz(quiz.raw)`` gives an equal quiz.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from polls.errors import OutreachError
from polls.survey import LocalizedText, localize
from polls.survey_loader import (
    LABEL_LIMIT,
    QUESTION_ID,
    SDG_GOALS,
    SURVEY_ID,
    TITLE_LIMIT,
    DocumentChecker,
    SurveyFileError,
    SurveyProblem,
    closest,
    describe,
    join_path,
    jsonable,
    listing,
    read_file_text,
    read_yaml,
)

__all__ = [
    "Difficulty",
    "Quiz",
    "QuizFileError",
    "QuizQuestion",
    "Replay",
    "load_quiz_file",
    "load_quiz_text",
    "parse_quiz",
    "validate_quiz_files",
]

QUIZ_ID = SURVEY_ID
MIN_QUESTIONS, MAX_QUESTIONS = 1, 200
MIN_OPTIONS, MAX_OPTIONS = 2, 10
QUESTION_TEXT_LIMIT = 300
"""A question goes by SMS too: keep it short."""
OPTION_LIMIT = LABEL_LIMIT
EXPLANATION_LIMIT = 200
SOURCE_LIMIT = 300
MIN_TIME_LIMIT, MAX_TIME_LIMIT = 5, 600

_QUIZ_FIELDS = (
    "id",
    "title",
    "languages",
    "goals",
    "replay",
    "time_limit_seconds",
    "opens_at",
    "closes_at",
    "daily",
    "questions",
)
_QUESTION_FIELDS = (
    "id",
    "goal",
    "difficulty",
    "text",
    "options",
    "correct",
    "explanation",
    "source",
    "time_limit_seconds",
)
_QUIZ_ID_RULE = (
    "use 1 to 40 lowercase latin letters, digits, '-' or '_', starting with a letter or digit"
)
_QUESTION_ID_RULE = "use 1 to 31 lowercase latin letters, digits or '_', starting with a letter"


# --------------------------------------------------------------------------- the model


class Difficulty(StrEnum):
    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


class Replay(StrEnum):
    """Which attempt counts when a person takes a quiz again."""

    FIRST = "first"
    """Only the first attempt counts (the default): fair for leaderboards."""
    BEST = "best"
    """The best attempt counts: for practice."""


_REPLAY_MEANINGS = {
    Replay.FIRST: "only the first attempt counts",
    Replay.BEST: "the best attempt counts",
}


@dataclass(frozen=True)
class QuizQuestion:
    id: str
    goal: int
    """The SDG (1 to 17) the question is about."""
    difficulty: Difficulty
    text: LocalizedText
    options: tuple[LocalizedText, ...]
    correct: frozenset[int]
    """The right options, as 0-based indices into ``options`` (the file counts from 1)."""
    explanation: LocalizedText
    source: str
    """Where the fact comes from: a URL or a citation."""
    time_limit_seconds: int | None = None
    """This question's own limit; :meth:`Quiz.time_limit` falls back to the quiz's."""

    def is_correct(self, option_index: int) -> bool:
        """Whether the option at this 0-based index is a right answer."""
        return option_index in self.correct

    @property
    def multiple(self) -> bool:
        """More than one option is right (the person picks them all)."""
        return len(self.correct) > 1


@dataclass(frozen=True)
class Quiz:
    id: str
    title: LocalizedText
    languages: tuple[str, ...]
    questions: tuple[QuizQuestion, ...]
    goals: tuple[int, ...] = ()
    """The SDGs covered: as listed in the file, else those of the questions, in order."""
    replay: Replay = Replay.FIRST
    time_limit_seconds: int | None = None
    """The default limit per question, if any."""
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    daily: bool = False
    """A bank for "the question of the day" (see :meth:`question_of_the_day`)."""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """The validated source document; ``parse_quiz(raw)`` gives an equal quiz."""

    def question(self, question_id: str) -> QuizQuestion | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def is_open(self, now: datetime) -> bool:
        if self.opens_at is not None and now < self.opens_at:
            return False
        return not (self.closes_at is not None and now >= self.closes_at)

    def time_limit(self, question: QuizQuestion) -> int | None:
        """Seconds to answer ``question``: its own limit, else the quiz's, else None (no limit)."""
        if question.time_limit_seconds is not None:
            return question.time_limit_seconds
        return self.time_limit_seconds

    def title_for(self, language: str) -> str:
        """The title in ``language``, else in the first listed language."""
        return localize(self.title, language, self.languages)

    def question_of_the_day(self, day: date) -> QuizQuestion:
        """The question for ``day`` (the participants' local date), the same on every run.

        The questions are put in a fixed order that mixes the goals (by a hash of
        the quiz and question ids, not Python's per-process ``hash``), and the
        days walk through it: every question comes once in ``len(questions)``
        consecutive days, then the cycle repeats. Adding a question moves only
        the days after its place in that order.
        """
        return self._daily_order()[day.toordinal() % len(self.questions)]

    def _daily_order(self) -> tuple[QuizQuestion, ...]:
        def rank(question: QuizQuestion) -> bytes:
            return hashlib.sha256(f"{self.id}/{question.id}".encode()).digest()

        return tuple(sorted(self.questions, key=rank))

    @property
    def content_hash(self) -> str:
        """Identifies a version: equal documents give equal hashes."""
        canonical = json.dumps(self.raw, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()


class QuizFileError(OutreachError):
    """A quiz file that cannot be used; ``problems`` lists everything wrong with it."""

    def __init__(self, problems: Iterable[SurveyProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.problems,))


# --------------------------------------------------------------------------- public API


def parse_quiz(
    data: object, *, source: str = "<quiz>", lines: Mapping[str, int] | None = None
) -> Quiz:
    """Validate an already-loaded document (a YAML mapping or ``Quiz.raw``).

    ``lines`` maps paths to YAML line numbers; problems at a path without a line
    get the line of the nearest enclosing path that has one.
    Raises :class:`QuizFileError` listing every problem.
    """
    return _parse(data, source, lines, [])


def load_quiz_text(text: str, *, source: str) -> Quiz:
    """Parse YAML text into a quiz; ``source`` names it in problems."""
    return _load_text(text, source)[0]


def load_quiz_file(path: str | os.PathLike[str]) -> Quiz:
    """Read and parse a UTF-8 quiz file."""
    source = os.fspath(path)
    return _load_text(_read(source), source)[0]


def validate_quiz_files(paths: Iterable[str | os.PathLike[str]]) -> list[SurveyProblem]:
    """Every problem in the given files (directories: their ``*.yaml``/``*.yml`` files).

    Also reports a quiz id used by more than one file. A file named twice is read once.
    """
    problems: list[SurveyProblem] = []
    owners: dict[str, str] = {}
    seen: set[Path] = set()
    for path in paths:
        for file in _expand(os.fspath(path), problems):
            key = Path(file).resolve()
            if key in seen:
                continue
            seen.add(key)
            try:
                quiz, lines = _load_text(_read(file), file)
            except QuizFileError as exc:
                problems.extend(exc.problems)
                continue
            first = owners.setdefault(quiz.id, file)
            if first != file:
                problems.append(
                    SurveyProblem(
                        file,
                        "id",
                        f"quiz id {quiz.id!r} is already used by {first}: "
                        "give each quiz its own id",
                        lines.get("id"),
                    )
                )
    return problems


# --------------------------------------------------------------------------- files


def _expand(name: str, problems: list[SurveyProblem]) -> list[str]:
    """``name`` itself, or for a directory its quiz files, sorted."""
    folder = Path(name)
    if not folder.is_dir():
        return [name]
    found = sorted(
        str(folder / child.name)
        for child in folder.iterdir()
        if child.suffix in (".yaml", ".yml") and child.is_file()
    )
    if not found:
        problems.append(
            SurveyProblem(
                name, "", "no .yaml or .yml files in this directory: check the path or add quizzes"
            )
        )
    return found


def _read(source: str) -> str:
    try:
        return read_file_text(source)
    except SurveyFileError as exc:
        raise QuizFileError(exc.problems) from exc


def _load_text(text: str, source: str) -> tuple[Quiz, Mapping[str, int]]:
    try:
        data, lines, problems = read_yaml(text, source, what="quiz")
    except SurveyFileError as exc:
        raise QuizFileError(exc.problems) from exc
    return _parse(data, source, lines, problems), lines


# --------------------------------------------------------------------------- validation


def _parse(
    data: object, source: str, lines: Mapping[str, int] | None, problems: list[SurveyProblem]
) -> Quiz:
    checker = _QuizChecker(source, lines, problems)
    quiz = checker.quiz(data)
    if checker.problems or quiz is None:
        raise QuizFileError(sorted(checker.problems, key=lambda p: p.line or 0))
    return quiz


def _same_text(text: str) -> str:
    """What two option texts are compared by: case and spacing do not make them differ."""
    return " ".join(text.casefold().split())


class _QuizChecker(DocumentChecker):
    def quiz(self, data: object) -> Quiz | None:
        if data is None:
            self.problem("", "the quiz is empty: write its id, title, languages and questions")
            return None
        if not isinstance(data, Mapping):
            self.problem(
                "",
                f"the quiz must be a mapping of fields, found {describe(data)}: "
                "write 'id:', 'title:', 'languages:' and 'questions:' at the top level",
            )
            return None
        doc: Mapping[object, object] = data
        self.keys(doc, "", _QUIZ_FIELDS)
        self.languages = languages = self.survey_languages(doc)
        quiz_id = self.field(
            doc,
            "id",
            "",
            lambda v, p: self.ident(v, p, QUIZ_ID, "quiz id", _QUIZ_ID_RULE),
            f"add an id such as 'sdg_basics' ({_QUIZ_ID_RULE[4:]})",
        )
        title = self.field(
            doc,
            "title",
            "",
            lambda v, p: self.localized(v, p, TITLE_LIMIT),
            "add a title with a text for each language",
        )
        listed_goals = self.listed_goals(doc.get("goals"))
        replay = self.field(doc, "replay", "", self.replay) or Replay.FIRST
        time_limit = self.field(doc, "time_limit_seconds", "", self.time_limit)
        opens_at = self.field(doc, "opens_at", "", self.moment)
        closes_at = self.field(doc, "closes_at", "", self.moment)
        if opens_at is not None and closes_at is not None and closes_at <= opens_at:
            self.problem(
                "closes_at",
                f"closes_at ({closes_at.isoformat()}) is not after opens_at "
                f"({opens_at.isoformat()}): make the quiz close after it opens",
            )
        daily = self.flag(doc.get("daily"), "daily", False)
        questions = self.quiz_questions(doc)
        goals = listed_goals
        if questions is not None and doc.get("goals") is None:
            goals = tuple(sorted({q.goal for q in questions}))
        elif questions is not None and listed_goals is not None:
            self.goal_coverage(listed_goals, questions)
        if (
            self.problems
            or quiz_id is None
            or title is None
            or languages is None
            or questions is None
            or goals is None
        ):
            return None
        return Quiz(
            id=quiz_id,
            title=title,
            languages=languages,
            questions=questions,
            goals=goals,
            replay=replay,
            time_limit_seconds=time_limit,
            opens_at=opens_at,
            closes_at=closes_at,
            daily=daily,
            raw=jsonable(doc),
        )

    # ---- quiz fields

    def listed_goals(self, value: object) -> tuple[int, ...] | None:
        """The goals the file lists; None when it lists none (they are then derived)."""
        if value is None:
            return None
        if isinstance(value, list | tuple) and not value:
            self.problem(
                "goals",
                "goals is empty: list the SDG numbers the quiz covers, such as [1, 2], "
                "or remove goals to take them from the questions",
            )
            return None
        before = len(self.problems)
        goals = self.goals(value)
        return goals if len(self.problems) == before else None

    def goal_coverage(self, listed: tuple[int, ...], questions: tuple[QuizQuestion, ...]) -> None:
        """The listed goals and the questions' goals must be the same set."""
        shown = ", ".join(str(goal) for goal in listed)
        for index, question in enumerate(questions):
            if question.goal not in listed:
                self.problem(
                    f"questions[{index}].goal",
                    f"goal {question.goal} is not in the quiz's goals ({shown}): "
                    f"add {question.goal} to goals, or remove goals to take them "
                    "from the questions",
                )
        asked = {question.goal for question in questions}
        for index, goal in enumerate(listed):
            if goal not in asked:
                self.problem(
                    f"goals[{index}]",
                    f"no question is about goal {goal}: add one (goal: {goal}) "
                    "or remove it from goals",
                )

    def replay(self, value: object, path: str) -> Replay | None:
        given = self.text(value, path)
        if given is None:
            return None
        try:
            return Replay(given)
        except ValueError:
            pass
        choices = "; ".join(f"{r.value}: {meaning}" for r, meaning in _REPLAY_MEANINGS.items())
        suggestion = closest(given, [r.value for r in Replay])
        hint = f"did you mean {suggestion!r}? " if suggestion else ""
        self.problem(
            path, f"unknown replay {given!r}: {hint}use one of {listing(Replay)} ({choices})"
        )
        return None

    def time_limit(self, value: object, path: str) -> int | None:
        seconds = self.whole(value, path)
        if seconds is None:
            return None
        if not MIN_TIME_LIMIT <= seconds <= MAX_TIME_LIMIT:
            self.problem(
                path,
                f"time_limit_seconds must be {MIN_TIME_LIMIT} to {MAX_TIME_LIMIT}, found "
                f"{seconds}: use the seconds a person has to answer, or remove it for no limit",
            )
            return None
        return seconds

    # ---- questions

    def quiz_questions(self, doc: Mapping[object, object]) -> tuple[QuizQuestion, ...] | None:
        value = self.get(doc, "questions", "", "add a list of questions (at least one)")
        if value is None:
            return None
        items = self.items(value, "questions", "one '- id: ...' entry per question")
        if items is None:
            return None
        if len(items) < MIN_QUESTIONS:
            self.problem("questions", "there are no questions: add at least one")
            return None
        if len(items) > MAX_QUESTIONS:
            self.problem(
                "questions",
                f"{len(items)} questions, the limit is {MAX_QUESTIONS}: "
                "remove some or split the quiz in two",
            )
        before = len(self.problems)
        used: dict[str, int] = {}
        questions: list[QuizQuestion] = []
        for index, item in enumerate(items):
            question = self.quiz_question(item, index, used)
            if question is not None:
                questions.append(question)
        return tuple(questions) if len(self.problems) == before else None

    def quiz_question(self, item: object, index: int, used: dict[str, int]) -> QuizQuestion | None:
        path = f"questions[{index}]"
        q = self.mapping(
            item,
            path,
            "a question (a mapping with id, goal, text, options and correct)",
            "'- id: ...' with 'goal: ...', 'text: ...' and 'options: ...' below it",
        )
        if q is None:
            return None
        before = len(self.problems)
        self.keys(q, path, _QUESTION_FIELDS)
        question_id = self.field(
            q,
            "id",
            path,
            lambda v, p: self.ident(v, p, QUESTION_ID, "question id", _QUESTION_ID_RULE),
            f"add an id such as 'poverty_line' ({_QUESTION_ID_RULE[4:]})",
        )
        if question_id is not None and question_id in used:
            self.problem(
                f"{path}.id",
                f"duplicate question id {question_id!r} (already used by "
                f"questions[{used[question_id]}]): give each question its own id",
            )
        elif question_id is not None:
            used[question_id] = index
        goal = self.field(
            q, "goal", path, self.goal, "add the SDG the question is about, a number from 1 to 17"
        )
        difficulty = self.field(
            q,
            "difficulty",
            path,
            self.difficulty,
            f"add a difficulty, one of {listing(Difficulty)}",
        )
        text = self.field(
            q,
            "text",
            path,
            lambda v, p: self.localized(v, p, QUESTION_TEXT_LIMIT),
            "add the question's text for each language",
        )
        options, count = self.options(q, path)
        correct = self.correct(q, path, count)
        explanation = self.field(
            q,
            "explanation",
            path,
            lambda v, p: self.localized(v, p, EXPLANATION_LIMIT),
            "add a short explanation of the right answer, for each language",
        )
        source = self.field(
            q,
            "source",
            path,
            self.fact_source,
            "say where the fact comes from: a URL or a citation such as "
            '"UN SDG Report 2023, Goal 1"',
        )
        time_limit = self.field(q, "time_limit_seconds", path, self.time_limit)
        if (
            len(self.problems) != before
            or question_id is None
            or goal is None
            or difficulty is None
            or text is None
            or options is None
            or correct is None
            or explanation is None
            or source is None
        ):
            return None
        return QuizQuestion(
            id=question_id,
            goal=goal,
            difficulty=difficulty,
            text=text,
            options=options,
            correct=correct,
            explanation=explanation,
            source=source,
            time_limit_seconds=time_limit,
        )

    def goal(self, value: object, path: str) -> int | None:
        goal = self.whole(value, path)
        if goal is None:
            return None
        if goal not in SDG_GOALS:
            self.problem(
                path,
                f"goal must be an SDG number from 1 to 17, found {goal}: "
                "use the number of the goal the question is about",
            )
            return None
        return goal

    def difficulty(self, value: object, path: str) -> Difficulty | None:
        given = self.text(value, path)
        if given is None:
            return None
        try:
            return Difficulty(given)
        except ValueError:
            pass
        suggestion = closest(given, [d.value for d in Difficulty])
        hint = f"did you mean {suggestion!r}? " if suggestion else ""
        self.problem(path, f"unknown difficulty {given!r}: {hint}use one of {listing(Difficulty)}")
        return None

    def options(
        self, q: Mapping[object, object], path: str
    ) -> tuple[tuple[LocalizedText, ...] | None, int | None]:
        """The options (None if any is wrong) and how many are given (None if unknown)."""
        value = self.get(
            q, "options", path, f"add a list of {MIN_OPTIONS} to {MAX_OPTIONS} answer options"
        )
        if value is None:
            return None, None
        options_path = f"{path}.options"
        items = self.items(value, options_path, "one '- {az: ..., ru: ..., en: ...}' per option")
        if items is None:
            return None, None
        before = len(self.problems)
        if len(items) < MIN_OPTIONS:
            self.problem(
                options_path,
                f"a quiz question needs at least {MIN_OPTIONS} options, found {len(items)}: "
                "add more options",
            )
        elif len(items) > MAX_OPTIONS:
            self.problem(
                options_path,
                f"{len(items)} options, the limit is {MAX_OPTIONS}: remove some "
                "(they have to fit in a message and on a phone screen)",
            )
        options: list[LocalizedText] = []
        first_seen: dict[tuple[str, str], int] = {}
        for index, item in enumerate(items):
            item_path = f"{options_path}[{index}]"
            option = self.localized(item, item_path, OPTION_LIMIT)
            if option is None:
                continue
            options.append(option)
            for code, text in option.items():
                earlier = first_seen.setdefault((code, _same_text(text)), index)
                if earlier != index:
                    self.problem(
                        join_path(item_path, code),
                        f"the same {code!r} text as options[{earlier}] ({describe(text)}): "
                        "make each option different",
                    )
        if len(self.problems) != before:
            return None, len(items)
        return tuple(options), len(items)

    def correct(
        self, q: Mapping[object, object], path: str, count: int | None
    ) -> frozenset[int] | None:
        """The right options as 0-based indices; the file counts them from 1."""
        value = self.get(
            q,
            "correct",
            path,
            "list the number of the right option, counted from 1, such as [2]",
        )
        if value is None:
            return None
        correct_path = f"{path}.correct"
        items = self.items(value, correct_path, "a list of option numbers such as [2]")
        if items is None:
            return None
        if not items:
            self.problem(
                correct_path,
                "correct is empty: list the number of at least one right option, "
                "counted from 1, such as [2]",
            )
            return None
        before = len(self.problems)
        numbers: dict[int, int] = {}
        for index, item in enumerate(items):
            item_path = f"{correct_path}[{index}]"
            number = self.whole(item, item_path)
            if number is None:
                continue
            if number in numbers:
                self.problem(
                    item_path,
                    f"option {number} is listed twice (also correct[{numbers[number]}]): "
                    "remove the repeat",
                )
            elif number < 1:
                self.problem(
                    item_path,
                    f"options are counted from 1, found {number}: "
                    "use 1 for the first option, 2 for the second and so on",
                )
            elif count is not None and number > count:
                self.problem(
                    item_path,
                    f"there is no option {number}, the question has {count} options: "
                    f"use a number from 1 to {count} (counted from 1)",
                )
            else:
                numbers[number] = index
        if len(self.problems) != before:
            return None
        if count is not None and len(numbers) >= count:
            self.problem(
                correct_path,
                f"all {count} options are marked correct, so any answer would win: "
                "leave at least one wrong option",
            )
            return None
        return frozenset(number - 1 for number in numbers)

    def fact_source(self, value: object, path: str) -> str | None:
        given = self.text(value, path)
        if given is None:
            return None
        source = given.strip()
        if not source:
            self.problem(
                path,
                "the source is empty: say where the fact comes from, a URL or a citation",
            )
        elif "\n" in source or "\r" in source:
            self.problem(path, "the source has a line break: keep it on one line")
        elif len(source) > SOURCE_LIMIT:
            self.problem(
                path,
                f"too long: {len(source)} characters, the limit is {SOURCE_LIMIT}: "
                "shorten it, a URL or a short citation is enough",
            )
        elif source.casefold().startswith(("http:", "https:", "www.")) and not _web_address(source):
            self.problem(
                path,
                f"{describe(source)} is not a complete web address: write the full URL, "
                "such as https://unstats.un.org/sdgs/report/2023/, or a citation",
            )
        else:
            return source
        return None


def _web_address(text: str) -> bool:
    if any(ch.isspace() for ch in text):
        return False
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and "." in parts.netloc
