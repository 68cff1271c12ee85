"""Quiz files: valid ones become quizzes, broken ones list every problem."""

from __future__ import annotations

import copy
import json
import pickle
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from polls.quiz import (
    Difficulty,
    Quiz,
    QuizFileError,
    QuizQuestion,
    Replay,
    load_quiz_file,
    load_quiz_text,
    parse_quiz,
    validate_quiz_files,
)
from polls.survey_loader import SurveyProblem

REPO = Path(__file__).resolve().parent.parent
QUIZZES = REPO / "quizzes"
BAKU = timezone(timedelta(hours=4))

VALID_YAML = """\
id: sdg_basics
title: {az: "DİM əsasları", ru: "Основы ЦУР", en: "SDG basics"}
languages: [az, ru, en]
replay: best
time_limit_seconds: 30
opens_at: 2026-12-01T09:00:00+04:00
closes_at: 2026-12-31T18:00:00+04:00
questions:
  - id: poverty_line
    goal: 1
    difficulty: easy
    text:
      az: "Beynəlxalq ifrat yoxsulluq həddi gündə neçə dollardır?"
      ru: "Какова международная черта крайней бедности в день?"
      en: "What is the international extreme poverty line per day?"
    options:
      - {az: "1 dollar", ru: "1 доллар", en: "1 dollar"}
      - {az: "2,15 dollar", ru: "2,15 доллара", en: "2.15 dollars"}
      - {az: "10 dollar", ru: "10 долларов", en: "10 dollars"}
    correct: [2]
    explanation:
      az: "Dünya Bankı 2022-ci ildən həddi gündə 2,15 dollar götürür."
      ru: "С 2022 года Всемирный банк считает черту в 2,15 доллара в день."
      en: "Since 2022 the World Bank sets the line at $2.15 a day."
    source: "  UN SDG Report 2023, Goal 1  "
    time_limit_seconds: 20
  - id: renewables
    goal: 7
    difficulty: medium
    text:
      az: "Hansılar bərpa olunan enerji mənbəyidir?"
      ru: "Какие источники энергии возобновляемые?"
      en: "Which energy sources are renewable?"
    options:
      - {az: "Günəş", ru: "Солнце", en: "Sun"}
      - {az: "Kömür", ru: "Уголь", en: "Coal"}
      - {az: "Külək", ru: "Ветер", en: "Wind"}
    correct: [1, 3]
    explanation:
      az: "Günəş və külək tükənmir, kömür isə tükənir."
      ru: "Солнце и ветер не иссякают, а уголь иссякает."
      en: "Sun and wind do not run out; coal does."
    source: https://unstats.un.org/sdgs/report/2023/Goal-07/
"""

POVERTY = QuizQuestion(
    id="poverty_line",
    goal=1,
    difficulty=Difficulty.EASY,
    text={
        "az": "Beynəlxalq ifrat yoxsulluq həddi gündə neçə dollardır?",
        "ru": "Какова международная черта крайней бедности в день?",
        "en": "What is the international extreme poverty line per day?",
    },
    options=(
        {"az": "1 dollar", "ru": "1 доллар", "en": "1 dollar"},
        {"az": "2,15 dollar", "ru": "2,15 доллара", "en": "2.15 dollars"},
        {"az": "10 dollar", "ru": "10 долларов", "en": "10 dollars"},
    ),
    correct=frozenset({1}),
    explanation={
        "az": "Dünya Bankı 2022-ci ildən həddi gündə 2,15 dollar götürür.",
        "ru": "С 2022 года Всемирный банк считает черту в 2,15 доллара в день.",
        "en": "Since 2022 the World Bank sets the line at $2.15 a day.",
    },
    source="UN SDG Report 2023, Goal 1",
    time_limit_seconds=20,
)

RENEWABLES = QuizQuestion(
    id="renewables",
    goal=7,
    difficulty=Difficulty.MEDIUM,
    text={
        "az": "Hansılar bərpa olunan enerji mənbəyidir?",
        "ru": "Какие источники энергии возобновляемые?",
        "en": "Which energy sources are renewable?",
    },
    options=(
        {"az": "Günəş", "ru": "Солнце", "en": "Sun"},
        {"az": "Kömür", "ru": "Уголь", "en": "Coal"},
        {"az": "Külək", "ru": "Ветер", "en": "Wind"},
    ),
    correct=frozenset({0, 2}),
    explanation={
        "az": "Günəş və külək tükənmir, kömür isə tükənir.",
        "ru": "Солнце и ветер не иссякают, а уголь иссякает.",
        "en": "Sun and wind do not run out; coal does.",
    },
    source="https://unstats.un.org/sdgs/report/2023/Goal-07/",
)

EXPECTED = Quiz(
    id="sdg_basics",
    title={"az": "DİM əsasları", "ru": "Основы ЦУР", "en": "SDG basics"},
    languages=("az", "ru", "en"),
    questions=(POVERTY, RENEWABLES),
    goals=(1, 7),
    replay=Replay.BEST,
    time_limit_seconds=30,
    opens_at=datetime(2026, 12, 1, 9, tzinfo=BAKU),
    closes_at=datetime(2026, 12, 31, 18, tzinfo=BAKU),
    daily=False,
)


def base() -> dict[str, Any]:
    """The valid document as YAML reads it, to break one thing at a time."""
    doc: dict[str, Any] = yaml.safe_load(VALID_YAML)
    return doc


def option(en: str) -> dict[str, str]:
    return {"az": f"{en} (az)", "ru": f"{en} (ru)", "en": en}


def bank_question(qid: str, goal: int) -> dict[str, Any]:
    return {
        "id": qid,
        "goal": goal,
        "difficulty": "easy",
        "text": option(f"Question {qid}?"),
        "options": [option("Yes"), option("No")],
        "correct": [1],
        "explanation": option("Because."),
        "source": "UN SDG Report 2023",
    }


def problems_in(text: str, source: str = "quiz.yaml") -> list[SurveyProblem]:
    with pytest.raises(QuizFileError) as caught:
        load_quiz_text(text, source=source)
    return caught.value.problems


# --------------------------------------------------------------------------- valid files


def test_valid_quiz_parses_to_the_expected_dataclasses() -> None:
    quiz = load_quiz_text(VALID_YAML, source="sdg_basics.yaml")

    assert quiz == EXPECTED
    assert quiz.question("renewables") == RENEWABLES
    assert quiz.question("nope") is None
    assert isinstance(quiz.questions, tuple) and isinstance(quiz.questions[0].options, tuple)


def test_correct_options_become_0_based_indices() -> None:
    quiz = load_quiz_text(VALID_YAML, source="q.yaml")
    poverty, renewables = quiz.questions

    assert poverty.correct == frozenset({1})
    assert [poverty.is_correct(i) for i in range(3)] == [False, True, False]
    assert [renewables.is_correct(i) for i in range(3)] == [True, False, True]
    assert not poverty.multiple and renewables.multiple


def test_a_question_inherits_the_quizs_time_limit_unless_it_has_its_own() -> None:
    quiz = parse_quiz(base())

    assert quiz.time_limit(quiz.questions[0]) == 20
    assert quiz.time_limit(quiz.questions[1]) == 30

    doc = base()
    del doc["time_limit_seconds"]
    untimed = parse_quiz(doc)
    assert untimed.time_limit(untimed.questions[0]) == 20
    assert untimed.time_limit(untimed.questions[1]) is None


def test_goals_are_derived_from_the_questions_when_not_listed() -> None:
    doc = base()
    doc["questions"].reverse()  # goal 7 first: derived goals are still in goal order

    assert parse_quiz(doc).goals == (1, 7)


def test_listed_goals_are_kept_as_listed() -> None:
    doc = base()
    doc["goals"] = [7, 1]

    assert parse_quiz(doc).goals == (7, 1)


def test_defaults_apply_when_optional_fields_are_left_out() -> None:
    doc = base()
    for key in ("replay", "time_limit_seconds", "opens_at", "closes_at"):
        del doc[key]

    quiz = parse_quiz(doc)

    assert quiz.replay is Replay.FIRST
    assert quiz.time_limit_seconds is None
    assert quiz.opens_at is None and quiz.closes_at is None
    assert quiz.daily is False
    assert quiz.is_open(datetime(2000, 1, 1, tzinfo=BAKU))


def test_is_open_between_opens_at_and_closes_at() -> None:
    quiz = parse_quiz(base())

    assert not quiz.is_open(datetime(2026, 12, 1, 8, 59, tzinfo=BAKU))
    assert quiz.is_open(datetime(2026, 12, 1, 9, tzinfo=BAKU))
    assert not quiz.is_open(datetime(2026, 12, 31, 18, tzinfo=BAKU))


def test_raw_round_trips_to_an_equal_quiz() -> None:
    quiz = load_quiz_text(VALID_YAML, source="q.yaml")

    raw = json.loads(json.dumps(quiz.raw))
    again = parse_quiz(raw)

    assert again == quiz
    assert again.content_hash == quiz.content_hash
    assert raw["opens_at"] == "2026-12-01T09:00:00+04:00"
    assert raw["questions"][1]["correct"] == [1, 3]  # as written: counted from 1


def test_content_hash_changes_with_the_document() -> None:
    doc = base()
    doc["questions"][0]["correct"] = [3]

    assert parse_quiz(doc).content_hash != parse_quiz(base()).content_hash


def test_the_document_is_not_changed_by_parsing() -> None:
    doc = base()
    before = copy.deepcopy(doc)

    parse_quiz(doc)

    assert doc == before


def test_the_quiz_is_immutable() -> None:
    quiz = parse_quiz(base())

    with pytest.raises(AttributeError):
        quiz.id = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        quiz.questions[0].correct = frozenset()  # type: ignore[misc]


# --------------------------------------------------------------------------- question of the day


def daily_bank(size: int) -> Quiz:
    return parse_quiz(
        {
            "id": "daily_bank",
            "title": option("Question of the day"),
            "languages": ["az", "ru", "en"],
            "daily": True,
            "questions": [bank_question(f"q{i}", i % 17 + 1) for i in range(size)],
        }
    )


def test_question_of_the_day_is_stable() -> None:
    day = date(2026, 12, 5)

    first = daily_bank(12).question_of_the_day(day)

    # A new object (as after a restart) gives the same question on the same day.
    assert daily_bank(12).question_of_the_day(day) == first
    assert daily_bank(12).daily is True


def test_question_of_the_day_cycles_through_every_question() -> None:
    bank = daily_bank(12)
    start = date(2026, 12, 5)

    cycle = [bank.question_of_the_day(start + timedelta(days=n)).id for n in range(12)]

    assert sorted(cycle) == sorted(q.id for q in bank.questions)
    assert bank.question_of_the_day(start + timedelta(days=12)).id == cycle[0]
    assert bank.question_of_the_day(start + timedelta(days=13)).id == cycle[1]
    assert cycle[1] != cycle[0]


def test_question_of_the_day_mixes_the_file_order() -> None:
    bank = daily_bank(17)  # one question per goal, in goal order in the file
    start = date(2026, 12, 5)

    goals = [bank.question_of_the_day(start + timedelta(days=n)).goal for n in range(17)]

    assert goals != sorted(goals)


# --------------------------------------------------------------------------- broken files

Edit = Callable[[dict[str, Any]], object]


def q0(edit: Callable[[dict[str, Any]], object]) -> Edit:
    """An edit of the first question."""
    return lambda doc: edit(doc["questions"][0])


BROKEN: list[tuple[str, Edit, str, str]] = [
    (
        "missing-ru-option-text",
        q0(lambda q: q["options"][1].pop("ru")),
        "questions[0].options[1].ru",
        "missing Russian (ru) text: add a 'ru' entry",
    ),
    (
        "correct-out-of-range",
        q0(lambda q: q.update(correct=[4])),
        "questions[0].correct[0]",
        "there is no option 4, the question has 3 options: use a number from 1 to 3",
    ),
    (
        "correct-counted-from-0",
        q0(lambda q: q.update(correct=[0])),
        "questions[0].correct[0]",
        "options are counted from 1, found 0",
    ),
    (
        "correct-repeated",
        q0(lambda q: q.update(correct=[2, 2])),
        "questions[0].correct[1]",
        "option 2 is listed twice (also correct[0]): remove the repeat",
    ),
    (
        "every-option-correct",
        q0(lambda q: q.update(correct=[3, 1, 2])),
        "questions[0].correct",
        "all 3 options are marked correct, so any answer would win",
    ),
    (
        "empty-correct",
        q0(lambda q: q.update(correct=[])),
        "questions[0].correct",
        "correct is empty: list the number of at least one right option",
    ),
    (
        "correct-not-a-list",
        q0(lambda q: q.update(correct="2")),
        "questions[0].correct",
        "expected a list, found '2': write it as a list of option numbers such as [2]",
    ),
    (
        "missing-correct",
        q0(lambda q: q.pop("correct")),
        "questions[0].correct",
        "missing correct: list the number of the right option",
    ),
    (
        "one-option",
        q0(lambda q: q.update(options=q["options"][:1], correct=[1])),
        "questions[0].options",
        "a quiz question needs at least 2 options, found 1: add more options",
    ),
    (
        "eleven-options",
        q0(lambda q: q.update(options=[option(f"Option {n}") for n in range(11)])),
        "questions[0].options",
        "11 options, the limit is 10: remove some",
    ),
    (
        "duplicate-option-texts",
        q0(lambda q: q["options"][2].update(en=" 1  Dollar ")),
        "questions[0].options[2].en",
        "the same 'en' text as options[0] ('1  Dollar'): make each option different",
    ),
    (
        "option-too-long",
        q0(lambda q: q["options"][0].update(az="x" * 101)),
        "questions[0].options[0].az",
        "too long: 101 characters, the limit is 100",
    ),
    (
        "explanation-over-200-characters",
        q0(lambda q: q["explanation"].update(en="x" * 201)),
        "questions[0].explanation.en",
        "too long: 201 characters, the limit is 200: shorten it",
    ),
    (
        "question-text-over-300-characters",
        q0(lambda q: q["text"].update(ru="ж" * 301)),
        "questions[0].text.ru",
        "too long: 301 characters, the limit is 300",
    ),
    (
        "missing-source",
        q0(lambda q: q.pop("source")),
        "questions[0].source",
        "missing source: say where the fact comes from",
    ),
    (
        "blank-source",
        q0(lambda q: q.update(source="   ")),
        "questions[0].source",
        "the source is empty",
    ),
    (
        "incomplete-url-source",
        q0(lambda q: q.update(source="https://")),
        "questions[0].source",
        "is not a complete web address",
    ),
    (
        "goal-18",
        q0(lambda q: q.update(goal=18)),
        "questions[0].goal",
        "goal must be an SDG number from 1 to 17, found 18",
    ),
    (
        "missing-goal",
        q0(lambda q: q.pop("goal")),
        "questions[0].goal",
        "missing goal: add the SDG the question is about",
    ),
    (
        "bad-difficulty",
        q0(lambda q: q.update(difficulty="extreme")),
        "questions[0].difficulty",
        "unknown difficulty 'extreme': use one of easy, medium, hard",
    ),
    (
        "misspelt-difficulty",
        q0(lambda q: q.update(difficulty="meduim")),
        "questions[0].difficulty",
        "did you mean 'medium'? use one of easy, medium, hard",
    ),
    (
        "unknown-question-key-with-suggestion",
        q0(lambda q: q.update(explanaton=q["explanation"])),
        "questions[0].explanaton",
        "unknown field 'explanaton': did you mean 'explanation'?",
    ),
    (
        "unknown-top-key-with-suggestion",
        lambda d: d.update(replays="best"),
        "replays",
        "unknown field 'replays': did you mean 'replay'?",
    ),
    (
        "bad-replay",
        lambda d: d.update(replay="last"),
        "replay",
        "unknown replay 'last': use one of first, best",
    ),
    (
        "question-time-limit-3",
        q0(lambda q: q.update(time_limit_seconds=3)),
        "questions[0].time_limit_seconds",
        "time_limit_seconds must be 5 to 600, found 3",
    ),
    (
        "quiz-time-limit-601",
        lambda d: d.update(time_limit_seconds=601),
        "time_limit_seconds",
        "time_limit_seconds must be 5 to 600, found 601",
    ),
    (
        "duplicate-question-ids",
        lambda d: d["questions"][1].update(id="poverty_line"),
        "questions[1].id",
        "duplicate question id 'poverty_line' (already used by questions[0])",
    ),
    (
        "bad-question-id",
        q0(lambda q: q.update(id="Poverty-Line")),
        "questions[0].id",
        "invalid question id 'Poverty-Line'",
    ),
    (
        "bad-quiz-id",
        lambda d: d.update(id="SDG basics"),
        "id",
        "invalid quiz id 'SDG basics'",
    ),
    (
        "no-questions",
        lambda d: d.update(questions=[]),
        "questions",
        "there are no questions: add at least one",
    ),
    (
        "too-many-questions",
        lambda d: d.update(questions=[bank_question(f"q{i}", 1) for i in range(201)]),
        "questions",
        "201 questions, the limit is 200",
    ),
    (
        "question-goal-not-in-listed-goals",
        lambda d: d.update(goals=[1]),
        "questions[1].goal",
        "goal 7 is not in the quiz's goals (1): add 7 to goals",
    ),
    (
        "listed-goal-without-a-question",
        lambda d: d.update(goals=[1, 7, 13]),
        "goals[2]",
        "no question is about goal 13",
    ),
    (
        "empty-goals",
        lambda d: d.update(goals=[]),
        "goals",
        "goals is empty",
    ),
    (
        "closes-before-it-opens",
        lambda d: d.update(closes_at=d["opens_at"] - timedelta(days=1)),
        "closes_at",
        "is not after opens_at",
    ),
    (
        "daily-not-a-flag",
        lambda d: d.update(daily="yes"),
        "daily",
        "expected true or false, found 'yes'",
    ),
    (
        "unquoted-yes-option",
        q0(lambda q: q["options"][0].update(en=True)),
        "questions[0].options[0].en",
        "put the text in quotes",
    ),
]


@pytest.mark.parametrize(
    ("edit", "path", "fragment"), [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN]
)
def test_broken_document_reports_where_and_what(edit: Edit, path: str, fragment: str) -> None:
    doc = base()
    edit(doc)

    with pytest.raises(QuizFileError) as caught:
        parse_quiz(doc, source="broken.yaml")

    found = [p for p in caught.value.problems if p.path == path]
    assert found, [str(p) for p in caught.value.problems]
    assert any(fragment in p.message for p in found), [p.message for p in found]
    assert all(p.file == "broken.yaml" for p in caught.value.problems)


def test_the_base_document_is_valid() -> None:
    assert parse_quiz(base()) == EXPECTED


def test_every_message_says_what_to_do() -> None:
    for _, edit, _, _ in BROKEN:
        doc = base()
        edit(doc)
        with pytest.raises(QuizFileError) as caught:
            parse_quiz(doc)
        for problem in caught.value.problems:
            assert ": " in problem.message, problem.message
            assert problem.message[0].islower() or problem.message[0] in "'0123456789", problem


def test_every_problem_is_reported_at_once_in_file_order() -> None:
    text = (
        VALID_YAML.replace("replay: best", "replay: bst")
        .replace("goal: 7", "goal: 0")
        .replace("correct: [2]", "correct: [2, 5]")
    )

    problems = problems_in(text)

    assert [p.path for p in problems] == [
        "replay",
        "questions[0].correct[1]",
        "questions[1].goal",
    ]
    assert "did you mean 'best'?" in problems[0].message
    assert [p.line for p in problems] == sorted(p.line or 0 for p in problems)


@pytest.mark.parametrize(
    "data", [["id: x"], "just text", 42, None], ids=["list", "string", "number", "empty"]
)
def test_root_that_is_not_a_mapping_is_rejected(data: object) -> None:
    with pytest.raises(QuizFileError) as caught:
        parse_quiz(data)

    [problem] = caught.value.problems
    assert problem.path == ""
    assert "the quiz" in problem.message and "write" in problem.message


# --------------------------------------------------------------------------- YAML lines and files


def test_problem_names_the_file_the_path_and_the_line() -> None:
    text = VALID_YAML.replace(
        '      - {az: "Kömür", ru: "Уголь", en: "Coal"}',
        '      - az: "Kömür"\n        en: "Coal"',
    )

    [problem] = problems_in(text, source="quizzes/sdg_basics.yaml")

    line = text.splitlines().index('      - az: "Kömür"') + 1
    assert (problem.file, problem.path, problem.line) == (
        "quizzes/sdg_basics.yaml",
        "questions[1].options[1].ru",
        line,
    )
    assert str(problem).startswith(f"quizzes/sdg_basics.yaml:{line}: questions[1].options[1].ru: ")


def test_line_of_an_unknown_key() -> None:
    text = VALID_YAML.replace("    goal: 7\n", "    goal: 7\n    dificulty: hard\n")

    [problem] = problems_in(text)

    assert problem.path == "questions[1].dificulty"
    assert problem.line == text.splitlines().index("    dificulty: hard") + 1
    assert "did you mean 'difficulty'?" in problem.message


def test_repeated_key_is_reported() -> None:
    [problem] = problems_in(VALID_YAML + "replay: first\n")

    assert problem.path == "replay"
    assert "given twice" in problem.message


def test_yaml_syntax_error_speaks_of_quizzes() -> None:
    [problem] = problems_in(VALID_YAML + "---\nid: second\n")

    assert problem.line == len(VALID_YAML.splitlines()) + 1
    assert "keep one quiz per file" in problem.message


def test_quiz_file_error_survives_pickling() -> None:
    error = QuizFileError([SurveyProblem("a.yaml", "replay", "bad: fix it", 2)])

    again = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes

    assert again.problems == error.problems
    assert str(again) == "a.yaml:2: replay: bad: fix it"


def test_load_quiz_file_reads_utf8(tmp_path: Path) -> None:
    path = tmp_path / "sdg_basics.yaml"
    path.write_text(VALID_YAML, encoding="utf-8")

    assert load_quiz_file(path) == EXPECTED


def test_unreadable_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"

    with pytest.raises(QuizFileError) as caught:
        load_quiz_file(path)

    [problem] = caught.value.problems
    assert problem.file == str(path)
    assert "cannot read the file" in problem.message


def test_validate_quiz_files_reports_a_duplicate_id_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID_YAML, encoding="utf-8")
    (tmp_path / "b.yml").write_text(VALID_YAML, encoding="utf-8")
    (tmp_path / "c.yaml").write_text(VALID_YAML.replace("goal: 7", "goal: 18"), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a quiz", encoding="utf-8")

    problems = validate_quiz_files([tmp_path, tmp_path / "a.yaml"])

    assert [(Path(p.file).name, p.path) for p in problems] == [
        ("b.yml", "id"),
        ("c.yaml", "questions[1].goal"),
    ]
    duplicate = problems[0]
    assert f"quiz id 'sdg_basics' is already used by {tmp_path / 'a.yaml'}" in duplicate.message
    assert duplicate.line == 1


def test_validate_quiz_files_accepts_distinct_quizzes(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID_YAML, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(
        VALID_YAML.replace("id: sdg_basics", "id: sdg_more"), encoding="utf-8"
    )

    assert validate_quiz_files([tmp_path]) == []


def test_validate_quiz_files_reports_an_empty_directory(tmp_path: Path) -> None:
    [problem] = validate_quiz_files([tmp_path])

    assert problem.file == str(tmp_path)
    assert "no .yaml or .yml files" in problem.message


# --------------------------------------------------------------------------- the shipped bank


def _bank_files() -> list[Path]:
    if not QUIZZES.is_dir():
        return []
    return sorted(p for p in QUIZZES.iterdir() if p.suffix in (".yaml", ".yml"))


def test_the_shipped_quizzes_validate() -> None:
    files = _bank_files()
    assert files, f"the starter question bank is missing from {QUIZZES}"

    problems = validate_quiz_files(files)

    assert problems == [], "\n".join(str(p) for p in problems)


def test_the_shipped_bank_covers_every_goal_with_sources() -> None:
    files = _bank_files()
    assert files, f"the starter question bank is missing from {QUIZZES}"

    questions = [q for path in files for q in load_quiz_file(path).questions]
    per_goal = Counter(q.goal for q in questions)

    assert len(questions) >= 85
    assert {goal: per_goal[goal] for goal in range(1, 18) if per_goal[goal] < 5} == {}
    assert all(q.source.strip() for q in questions)
