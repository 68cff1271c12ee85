"""The survey file loader: valid files become surveys, broken ones list every problem."""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from polls.survey import Choice, Condition, Question, QuestionKind, Survey
from polls.survey_loader import (
    SurveyFileError,
    SurveyProblem,
    load_survey_file,
    load_survey_text,
    parse_survey,
    validate_survey_files,
)

BAKU = timezone(timedelta(hours=4))

VALID_YAML = """\
id: youth-priorities-2026
title:
  az: Gənclərin prioritetləri
  ru: Приоритеты молодёжи
  en: Youth priorities
languages: [az, ru, en]
goals: [4, 8, 16]
priority_areas: [inclusive_growth, institutions]
opens_at: 2026-12-01T09:00:00+04:00
closes_at: "2026-12-31T18:00:00+04:00"
show_results: true
intro:
  az: "  Salam!  "
  ru: Здравствуйте!
  en: Hello!
thanks: {az: Təşəkkürlər, ru: Спасибо, en: Thank you}
questions:
  - id: topic
    kind: single_choice
    text:
      az: Hansı mövzu?
      ru: Какая тема?
      en: Which topic?
    choices:
      - {value: education, label: {az: Təhsil, ru: Образование, en: Education}}
      - {value: health, label: {az: Səhiyyə, ru: Здоровье, en: Health}}
      - {value: jobs, label: {az: İş, ru: Работа, en: Jobs}}
  - id: areas
    kind: multiple_choice
    required: false
    max_picks: 2
    text: {az: Sahələr, ru: Области, en: Areas}
    ask_if: {question: topic, any_of: [education, jobs]}
    choices:
      - {value: schools, label: {az: Məktəblər, ru: Школы, en: Schools}}
      - {value: universities, label: {az: Universitetlər, ru: Университеты, en: Universities}}
      - {value: training, label: {az: Təlim, ru: Обучение, en: Training}}
  - id: age
    kind: number
    min: 14
    max: 35
    text: {az: Yaşınız, ru: Ваш возраст, en: Your age}
  - id: hours
    kind: number
    integer: false
    min: 0
    max: 24.5
    text: {az: Saatlar, ru: Часы, en: Hours}
    ask_if: {question: age, at_least: 18, at_most: 30}
  - id: volunteer
    kind: yes_no
    text: {az: Könüllüsünüz, ru: Вы волонтёр, en: Do you volunteer}
    ask_if: {question: topic, none_of: [health]}
  - id: satisfaction
    kind: rating
    min: 0
    max: 10
    min_label: {az: Heç, ru: Совсем нет, en: Not at all}
    max_label: {az: Çox, ru: Очень, en: Very}
    text: {az: Məmnunluq, ru: Удовлетворённость, en: Satisfaction}
    ask_if: {question: volunteer, equals: yes}
  - id: comment
    kind: text
    required: false
    max_length: 300
    text: {az: Şərh, ru: Комментарий, en: Comment}
    ask_if: {question: satisfaction, at_most: 4}
  - id: recommend
    kind: rating
    text: {az: Tövsiyə, ru: Рекомендация, en: Recommend}
    ask_if: {question: satisfaction, any_of: [9, "10"]}
"""


def tri(az: str, ru: str, en: str) -> dict[str, str]:
    return {"az": az, "ru": ru, "en": en}


EXPECTED = Survey(
    id="youth-priorities-2026",
    title=tri("Gənclərin prioritetləri", "Приоритеты молодёжи", "Youth priorities"),
    languages=("az", "ru", "en"),
    goals=(4, 8, 16),
    priority_areas=("inclusive_growth", "institutions"),
    opens_at=datetime(2026, 12, 1, 9, tzinfo=BAKU),
    closes_at=datetime(2026, 12, 31, 18, tzinfo=BAKU),
    show_results=True,
    intro=tri("Salam!", "Здравствуйте!", "Hello!"),
    thanks=tri("Təşəkkürlər", "Спасибо", "Thank you"),
    questions=(
        Question(
            id="topic",
            kind=QuestionKind.SINGLE_CHOICE,
            text=tri("Hansı mövzu?", "Какая тема?", "Which topic?"),
            choices=(
                Choice("education", tri("Təhsil", "Образование", "Education")),
                Choice("health", tri("Səhiyyə", "Здоровье", "Health")),
                Choice("jobs", tri("İş", "Работа", "Jobs")),
            ),
        ),
        Question(
            id="areas",
            kind=QuestionKind.MULTIPLE_CHOICE,
            text=tri("Sahələr", "Области", "Areas"),
            required=False,
            ask_if=Condition(question="topic", any_of=("education", "jobs")),
            choices=(
                Choice("schools", tri("Məktəblər", "Школы", "Schools")),
                Choice("universities", tri("Universitetlər", "Университеты", "Universities")),
                Choice("training", tri("Təlim", "Обучение", "Training")),
            ),
            min_picks=0,
            max_picks=2,
        ),
        Question(
            id="age",
            kind=QuestionKind.NUMBER,
            text=tri("Yaşınız", "Ваш возраст", "Your age"),
            minimum=14,
            maximum=35,
            integer=True,
        ),
        Question(
            id="hours",
            kind=QuestionKind.NUMBER,
            text=tri("Saatlar", "Часы", "Hours"),
            ask_if=Condition(question="age", at_least=18, at_most=30),
            minimum=0,
            maximum=24.5,
            integer=False,
        ),
        Question(
            id="volunteer",
            kind=QuestionKind.YES_NO,
            text=tri("Könüllüsünüz", "Вы волонтёр", "Do you volunteer"),
            ask_if=Condition(question="topic", none_of=("health",)),
        ),
        Question(
            id="satisfaction",
            kind=QuestionKind.RATING,
            text=tri("Məmnunluq", "Удовлетворённость", "Satisfaction"),
            ask_if=Condition(question="volunteer", any_of=("yes",)),
            minimum=0,
            maximum=10,
            integer=True,
            min_label=tri("Heç", "Совсем нет", "Not at all"),
            max_label=tri("Çox", "Очень", "Very"),
        ),
        Question(
            id="comment",
            kind=QuestionKind.TEXT,
            text=tri("Şərh", "Комментарий", "Comment"),
            required=False,
            ask_if=Condition(question="satisfaction", at_most=4),
            max_length=300,
        ),
        Question(
            id="recommend",
            kind=QuestionKind.RATING,
            text=tri("Tövsiyə", "Рекомендация", "Recommend"),
            ask_if=Condition(question="satisfaction", any_of=("9", "10")),
            minimum=1,
            maximum=5,
            integer=True,
        ),
    ),
)


def problems_in(text: str, source: str = "survey.yaml") -> list[SurveyProblem]:
    with pytest.raises(SurveyFileError) as caught:
        load_survey_text(text, source=source)
    return caught.value.problems


def line_of(text: str, fragment: str) -> int:
    """The 1-based line holding ``fragment``, which must occur exactly once."""
    found = [number for number, line in enumerate(text.splitlines(), 1) if fragment in line]
    assert len(found) == 1, found
    return found[0]


# --------------------------------------------------------------------------- valid files


def test_valid_survey_in_all_kinds_parses_to_the_expected_dataclasses() -> None:
    survey = load_survey_text(VALID_YAML, source="surveys/youth.yaml")

    assert survey == EXPECTED
    # Equality of numbers would hide a float where an int belongs.
    rating = survey.questions[5]
    assert (type(rating.minimum), type(rating.maximum)) == (int, int)
    assert rating.rating_values() == list(range(11))
    assert survey.questions[1].max_picks == 2
    assert survey.question("recommend") is survey.questions[7]


def test_defaults_apply_when_optional_fields_are_left_out() -> None:
    survey = load_survey_text(
        """\
id: "2026"
title: {en: Short}
languages: [en]
questions:
  - id: pick
    kind: multiple_choice
    text: {en: Pick}
    choices:
      - {value: a, label: {en: A}}
      - {value: b, label: {en: B}}
  - {id: free, kind: text, text: {en: Say}}
  - {id: stars, kind: rating, text: {en: Stars}}
""",
        source="s.yaml",
    )

    pick, free, stars = survey.questions
    assert (survey.goals, survey.priority_areas, survey.show_results) == ((), (), False)
    assert (survey.opens_at, survey.closes_at, survey.intro, survey.thanks) == (None,) * 4
    assert (pick.required, pick.min_picks, pick.max_picks) == (True, 1, 2)
    assert free.max_length == 500
    assert (stars.minimum, stars.maximum, stars.integer) == (1, 5, True)


def test_raw_round_trips_to_an_equal_survey() -> None:
    survey = load_survey_text(VALID_YAML, source="surveys/youth.yaml")

    stored = json.loads(json.dumps(survey.raw))  # what a database column gives back
    reloaded = parse_survey(stored, source="<stored>")

    assert reloaded == survey
    assert reloaded.raw == survey.raw
    assert reloaded.content_hash == survey.content_hash
    assert stored["opens_at"] == "2026-12-01T09:00:00+04:00"
    assert stored["closes_at"] == "2026-12-31T18:00:00+04:00"
    # Everything else is kept as written, including YAML's reading of `equals: yes`.
    assert stored["intro"]["az"] == "  Salam!  "
    assert stored["questions"][5]["ask_if"] == {"question": "volunteer", "equals": True}


def test_unquoted_utc_time_is_kept_with_its_offset() -> None:
    text = VALID_YAML.replace("2026-12-01T09:00:00+04:00", "2026-12-01T05:00:00Z")
    survey = load_survey_text(text, source="s.yaml")

    assert survey.opens_at == datetime(2026, 12, 1, 5, tzinfo=UTC)
    assert survey.raw["opens_at"] == "2026-12-01T05:00:00+00:00"
    assert parse_survey(survey.raw) == survey


# --------------------------------------------------------------------------- broken documents


def base() -> dict[str, Any]:
    """A small valid survey as a document, to be broken one way per test."""

    def label(text: str) -> dict[str, str]:
        return tri(text, text, text)

    return {
        "id": "base",
        "title": label("Base"),
        "languages": ["az", "ru", "en"],
        "questions": [
            {
                "id": "topic",
                "kind": "single_choice",
                "text": label("Topic"),
                "choices": [
                    {"value": "education", "label": label("Education")},
                    {"value": "health", "label": label("Health")},
                ],
            },
            {
                "id": "areas",
                "kind": "multiple_choice",
                "text": label("Areas"),
                "choices": [
                    {"value": "schools", "label": label("Schools")},
                    {"value": "clinics", "label": label("Clinics")},
                    {"value": "parks", "label": label("Parks")},
                ],
            },
            {"id": "score", "kind": "rating", "text": label("Score")},
            {"id": "consent", "kind": "yes_no", "text": label("Consent")},
            {"id": "age", "kind": "number", "text": label("Age")},
            {"id": "comment", "kind": "text", "text": label("Comment")},
        ],
    }


def test_the_base_document_is_valid() -> None:
    assert len(parse_survey(base()).questions) == 6


Edit = Callable[[dict[str, Any]], object]


def q(index: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def get(doc: dict[str, Any]) -> dict[str, Any]:
        question: dict[str, Any] = doc["questions"][index]
        return question

    return get


def put(target: Callable[[dict[str, Any]], dict[str, Any]], **fields: object) -> Edit:
    return lambda doc: target(doc).update(fields)


def top(**fields: object) -> Edit:
    return lambda doc: doc.update(fields)


BROKEN: list[tuple[str, Edit, str, str]] = [
    # (id, edit, path, message fragment)
    (
        "missing-language-text",
        lambda d: d["questions"][1]["choices"][0]["label"].pop("ru"),
        "questions[1].choices[0].label.ru",
        "missing Russian (ru) text: add a 'ru' entry",
    ),
    (
        "text-in-unlisted-language",
        lambda d: d["title"].update(kk="Base"),
        "title.kk",
        "'kk' is not in languages: add it to languages or remove this entry",
    ),
    (
        "whitespace-only-text",
        lambda d: d["questions"][0]["text"].update(en="   "),
        "questions[0].text.en",
        "empty English (en) text: write the text",
    ),
    (
        "title-too-long",
        lambda d: d["title"].update(ru="x" * 101),
        "title.ru",
        "101 characters, the limit is 100",
    ),
    (
        "localized-text-as-plain-string",
        top(title="Base"),
        "title",
        "expected a text for each language, found 'Base': write it as {az: ..., ru: ..., en: ...}",
    ),
    (
        "unknown-key-with-suggestion",
        lambda d: d["questions"][0].update(choises=d["questions"][0].pop("choices")),
        "questions[0].choises",
        "unknown field 'choises': did you mean 'choices'?",
    ),
    (
        "unknown-top-level-key",
        top(question=[]),
        "question",
        "did you mean 'questions'?",
    ),
    (
        "unknown-key-without-suggestion",
        put(q(3), colour="red"),
        "questions[3].colour",
        "unknown field 'colour': remove it",
    ),
    (
        "key-of-another-kind",
        put(q(3), max_length=10),
        "questions[3].max_length",
        "'max_length' is not used by yes_no questions (only by text): remove it",
    ),
    (
        "duplicate-question-id",
        put(q(4), id="topic"),
        "questions[4].id",
        "duplicate question id 'topic' (already used by questions[0])",
    ),
    (
        "bad-question-id",
        put(q(2), id="Score"),
        "questions[2].id",
        "invalid question id 'Score': use 1 to 31 lowercase latin letters",
    ),
    (
        "bad-survey-id",
        top(id="Youth survey"),
        "id",
        "invalid survey id 'Youth survey': use 1 to 40 lowercase latin letters",
    ),
    (
        "survey-id-too-long",
        top(id="a" * 41),
        "id",
        "invalid survey id",
    ),
    (
        "missing-survey-id",
        lambda d: d.pop("id"),
        "id",
        "missing id: add an id such as",
    ),
    (
        "unknown-kind",
        put(q(0), kind="single"),
        "questions[0].kind",
        "unknown kind 'single': did you mean 'single_choice'?",
    ),
    (
        "wrong-type-whole-number",
        put(q(2), max="three"),
        "questions[2].max",
        "expected a whole number, found 'three'",
    ),
    (
        "ask-if-looks-forward",
        put(q(1), ask_if={"question": "consent", "equals": "yes"}),
        "questions[1].ask_if.question",
        "ask_if can only look back: question 'consent' comes later (questions[3])",
    ),
    (
        "ask-if-unknown-question",
        put(q(3), ask_if={"question": "topik", "equals": "health"}),
        "questions[3].ask_if.question",
        "no question with id 'topik': did you mean 'topic'?",
    ),
    (
        "ask-if-on-itself",
        put(q(3), ask_if={"question": "consent", "equals": "yes"}),
        "questions[3].ask_if.question",
        "cannot depend on its own answer",
    ),
    (
        "ask-if-bad-choice-value",
        put(q(3), ask_if={"question": "topic", "equals": "helth"}),
        "questions[3].ask_if.equals",
        "'helth' is not a value of question 'topic': did you mean 'health'?",
    ),
    (
        "ask-if-bad-value-in-list",
        put(q(3), ask_if={"question": "areas", "any_of": ["schools", "roads"]}),
        "questions[3].ask_if.any_of[1]",
        "'roads' is not a value of question 'areas': use one of schools, clinics, parks",
    ),
    (
        "ask-if-yes-no-value",
        put(q(4), ask_if={"question": "consent", "equals": "maybe"}),
        "questions[4].ask_if.equals",
        "use yes or no",
    ),
    (
        "ask-if-rating-point-outside-scale",
        put(q(3), ask_if={"question": "score", "any_of": [6]}),
        "questions[3].ask_if.any_of[0]",
        "the number 6 is not a value of question 'score': use a whole number from 1 to 5",
    ),
    (
        "ask-if-equals-and-any-of",
        put(q(3), ask_if={"question": "topic", "equals": "health", "any_of": ["education"]}),
        "questions[3].ask_if.equals",
        "use equals or any_of, not both",
    ),
    (
        "ask-if-without-test",
        put(q(3), ask_if={"question": "topic"}),
        "questions[3].ask_if",
        "ask_if needs a condition: add equals, any_of, none_of, at_least or at_most",
    ),
    (
        "ask-if-at-least-on-choice",
        put(q(3), ask_if={"question": "topic", "at_least": 2}),
        "questions[3].ask_if.at_least",
        "at_least only works with number and rating questions, 'topic' is a single_choice",
    ),
    (
        "ask-if-at-least-above-at-most",
        put(q(3), ask_if={"question": "score", "at_least": 4, "at_most": 2}),
        "questions[3].ask_if.at_most",
        "at_most (2) is less than at_least (4)",
    ),
    (
        "ask-if-at-least-above-scale",
        put(q(3), ask_if={"question": "score", "at_least": 6}),
        "questions[3].ask_if.at_least",
        "more than the highest possible answer (5)",
    ),
    (
        "ask-if-equals-on-number",
        put(q(5), ask_if={"question": "age", "equals": 18}),
        "questions[5].ask_if.equals",
        "equals does not work with number questions",
    ),
    (
        "ask-if-on-text",
        lambda d: d["questions"].append(
            {
                "id": "after",
                "kind": "yes_no",
                "text": tri("A", "A", "A"),
                "ask_if": {"question": "comment", "any_of": ["x"]},
            }
        ),
        "questions[6].ask_if.question",
        "ask_if cannot depend on a text question ('comment')",
    ),
    (
        "naive-datetime",
        top(opens_at=datetime(2026, 12, 1, 9)),
        "opens_at",
        "has no time zone: add a time zone offset, for example 2026-12-01T09:00:00+04:00",
    ),
    (
        "naive-datetime-string",
        top(closes_at="2026-12-01T09:00:00"),
        "closes_at",
        "add a time zone offset",
    ),
    (
        "bare-date",
        top(opens_at=date(2026, 12, 1)),
        "opens_at",
        "a date without a time (2026-12-01): give a date and time with a time zone offset",
    ),
    (
        "not-a-datetime",
        top(opens_at="next monday"),
        "opens_at",
        "expected a date and time, found 'next monday'",
    ),
    (
        "closes-before-opens",
        top(opens_at="2026-12-02T00:00:00+04:00", closes_at="2026-12-01T00:00:00+04:00"),
        "closes_at",
        "is not after opens_at",
    ),
    (
        "min-picks-above-max-picks",
        put(q(1), min_picks=3, max_picks=2),
        "questions[1].min_picks",
        "min_picks (3) is more than max_picks (2): lower min_picks or raise max_picks",
    ),
    (
        "max-picks-above-choices",
        put(q(1), max_picks=4),
        "questions[1].max_picks",
        "max_picks (4) is more than the number of choices (3)",
    ),
    (
        "picks-on-single-choice",
        put(q(0), max_picks=1),
        "questions[0].max_picks",
        "is not used by single_choice questions",
    ),
    (
        "rating-with-12-points",
        put(q(2), min=0, max=11),
        "questions[2].max",
        "a rating scale has 2 to 11 points, this one has 12 (0 to 11)",
    ),
    (
        "rating-upside-down",
        put(q(2), min=5, max=1),
        "questions[2].max",
        "max (1) must be more than min (5)",
    ),
    (
        "number-bound-not-whole",
        put(q(4), min=0.5),
        "questions[4].min",
        "min must be a whole number because integer is true",
    ),
    (
        "number-min-above-max",
        put(q(4), min=10, max=1),
        "questions[4].max",
        "max (1) is less than min (10)",
    ),
    (
        "text-max-length-out-of-range",
        put(q(5), max_length=5000),
        "questions[5].max_length",
        "max_length must be 1 to 2000, found 5000",
    ),
    (
        "one-choice-only",
        lambda d: d["questions"][0]["choices"].pop(),
        "questions[0].choices",
        "needs at least 2 choices, found 1",
    ),
    (
        "duplicate-choice-value",
        lambda d: d["questions"][1]["choices"][2].update(value="schools"),
        "questions[1].choices[2].value",
        "duplicate value 'schools' (already used by choices[0])",
    ),
    (
        "choice-without-value",
        lambda d: d["questions"][0]["choices"][0].pop("value"),
        "questions[0].choices[0].value",
        "add a value, a short stable id such as 'education'",
    ),
    (
        "choice-written-as-text",
        lambda d: d["questions"][0]["choices"].__setitem__(1, "Health"),
        "questions[0].choices[1]",
        "expected a choice with a value and a label, found 'Health'",
    ),
    (
        "non-bool-show-results",
        top(show_results="yes"),
        "show_results",
        "expected true or false, found 'yes': write true or false without quotes",
    ),
    (
        "non-bool-required",
        put(q(0), required=1),
        "questions[0].required",
        "expected true or false, found the number 1",
    ),
    (
        "goal-out-of-range",
        top(goals=[4, 18]),
        "goals[1]",
        "goals are SDG numbers, 1 to 17, found 18",
    ),
    (
        "goal-repeated",
        top(goals=[4, 4]),
        "goals[1]",
        "goal 4 is listed twice (also goals[0])",
    ),
    (
        "priority-area-not-a-slug",
        top(priority_areas=["Inclusive growth"]),
        "priority_areas[0]",
        "invalid priority area 'Inclusive growth'",
    ),
    (
        "language-code-invalid",
        top(languages=["az", "Russian", "en"]),
        "languages[1]",
        "invalid language code 'Russian'",
    ),
    (
        "language-repeated",
        top(languages=["az", "ru", "en", "ru"]),
        "languages[3]",
        "'ru' is listed twice (also languages[1])",
    ),
    (
        "languages-empty",
        top(languages=[]),
        "languages",
        "languages is empty",
    ),
    (
        "no-questions",
        top(questions=[]),
        "questions",
        "there are no questions: add at least one",
    ),
    (
        "too-many-questions",
        lambda d: d["questions"].extend(
            {"id": f"q{n}", "kind": "yes_no", "text": tri("Q", "Q", "Q")} for n in range(45)
        ),
        "questions",
        "51 questions, the limit is 50",
    ),
    (
        "question-not-a-mapping",
        lambda d: d["questions"].append("How old are you?"),
        "questions[6]",
        "expected a question (a mapping with id, kind and text), found 'How old are you?'",
    ),
]


@pytest.mark.parametrize(
    ("edit", "path", "fragment"), [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN]
)
def test_broken_document_reports_where_and_what(edit: Edit, path: str, fragment: str) -> None:
    doc = base()
    edit(doc)

    with pytest.raises(SurveyFileError) as caught:
        parse_survey(doc, source="broken.yaml")

    found = [p for p in caught.value.problems if p.path == path]
    assert found, [str(p) for p in caught.value.problems]
    assert any(fragment in p.message for p in found), [p.message for p in found]
    assert all(p.file == "broken.yaml" for p in caught.value.problems)


@pytest.mark.parametrize(
    "data",
    [["id: x"], "just text", 42, None],
    ids=["list", "string", "number", "empty"],
)
def test_root_that_is_not_a_mapping_is_rejected(data: object) -> None:
    with pytest.raises(SurveyFileError) as caught:
        parse_survey(data)

    [problem] = caught.value.problems
    assert problem.path == ""
    assert "the survey" in problem.message and "write" in problem.message


def test_every_message_says_what_to_do() -> None:
    for _, edit, _, _ in BROKEN:
        doc = base()
        edit(doc)
        with pytest.raises(SurveyFileError) as caught:
            parse_survey(doc)
        for problem in caught.value.problems:
            assert ": " in problem.message, problem.message
            assert problem.message[0].islower() or problem.message[0] in "'0123456789", problem


def test_the_document_is_not_changed_by_parsing() -> None:
    doc = base()
    doc["questions"][3]["ask_if"] = {"question": "consent", "equals": True}
    before = copy.deepcopy(doc)

    with pytest.raises(SurveyFileError):
        parse_survey(doc)

    assert doc == before


# --------------------------------------------------------------------------- YAML specifics


def test_yaml_syntax_error_has_its_line() -> None:
    text = "id: x\ntitle: {en: X}\nlanguages: [en\nquestions: []\n"

    [problem] = problems_in(text)

    assert problem.path == ""
    assert problem.line == 4
    assert problem.message.startswith("invalid YAML: ")
    assert str(problem).startswith("survey.yaml:4: invalid YAML: ")


def test_yaml_root_that_is_a_list_is_rejected() -> None:
    [problem] = problems_in("- id: x\n- id: y\n")

    assert (problem.path, problem.line) == ("", 1)
    assert "must be a mapping of fields, found a list" in problem.message


def test_empty_file_is_reported() -> None:
    [problem] = problems_in("# nothing yet\n")

    assert "the survey is empty" in problem.message


def test_two_documents_in_one_file_are_reported() -> None:
    [problem] = problems_in(VALID_YAML + "---\nid: second\n")

    assert problem.line == len(VALID_YAML.splitlines()) + 1
    assert "keep one survey per file" in problem.message


def test_impossible_date_is_a_problem_with_its_line() -> None:
    text = VALID_YAML.replace("2026-12-01T09:00:00+04:00", "2026-02-30T09:00:00+04:00")

    [problem] = problems_in(text)

    assert problem.line == line_of(text, "opens_at:")
    assert "'2026-02-30T09:00:00+04:00' is not a valid date or time" in problem.message


def test_unquoted_naive_time_and_date_in_yaml() -> None:
    text = VALID_YAML.replace("2026-12-01T09:00:00+04:00", "2026-12-01 09:00:00").replace(
        '"2026-12-31T18:00:00+04:00"', "2026-12-31"
    )

    problems = {p.path: p for p in problems_in(text)}

    assert problems["opens_at"].line == line_of(text, "opens_at:")
    assert "add a time zone offset, for example 2026-12-01T09:00:00+04:00" in (
        problems["opens_at"].message
    )
    assert "a date without a time (2026-12-31)" in problems["closes_at"].message


def test_unquoted_no_is_explained() -> None:
    text = VALID_YAML.replace("languages: [az, ru, en]", "languages: [az, ru, no]")

    problems = problems_in(text)

    languages = [p for p in problems if p.path == "languages[2]"]
    assert len(languages) == 1
    assert "found false" in languages[0].message
    assert "put the text in quotes" in languages[0].message


def test_yes_no_condition_accepts_yaml_booleans() -> None:
    text = VALID_YAML.replace(
        "{question: volunteer, equals: yes}", "{question: volunteer, none_of: [no]}"
    )

    survey = load_survey_text(text, source="s.yaml")

    assert survey.questions[5].ask_if == Condition(question="volunteer", none_of=("no",))


def test_repeated_key_is_reported_because_yaml_would_drop_one() -> None:
    text = VALID_YAML.replace(
        "    kind: yes_no\n", "    kind: yes_no\n    required: off\n    required: on\n"
    )

    [problem] = problems_in(text)

    assert problem.path == "questions[4].required"
    assert problem.line == line_of(text, "required: on")
    assert f"first on line {line_of(text, 'required: off')}" in problem.message


def test_line_of_a_nested_error() -> None:
    text = VALID_YAML.replace(
        "{value: schools, label: {az: Məktəblər, ru: Школы, en: Schools}}",
        "value: schools\n        label:\n          az: Məktəblər\n          en: Schools",
    )

    [problem] = problems_in(text, source="surveys/youth.yaml")

    assert problem.path == "questions[1].choices[0].label.ru"
    # The missing entry has no line of its own: the line of its mapping's key.
    assert problem.line == line_of(text, "        label:") == 36
    assert str(problem) == (
        "surveys/youth.yaml:36: questions[1].choices[0].label.ru: "
        "missing Russian (ru) text: add a 'ru' entry"
    )


def test_line_of_an_unknown_key() -> None:
    text = VALID_YAML.replace("    max_length: 300\n", "    max_lenght: 300\n")

    [problem] = problems_in(text)

    assert problem.path == "questions[6].max_lenght"
    assert problem.line == line_of(text, "max_lenght")
    assert "did you mean 'max_length'?" in problem.message


def test_several_problems_are_all_reported_in_file_order() -> None:
    text = (
        VALID_YAML.replace("id: youth-priorities-2026", "id: Youth!")
        .replace("show_results: true", 'show_results: "true"')
        .replace("kind: single_choice", "kind: single")
        .replace("{question: topic, none_of: [health]}", "{question: topic, none_of: [helth]}")
        .replace("    max: 24.5\n", "    max: 24.5\n    maximum: 30\n")
    )

    with pytest.raises(SurveyFileError) as caught:
        load_survey_text(text, source="s.yaml")

    problems = caught.value.problems
    assert [p.path for p in problems] == [
        "id",
        "show_results",
        "questions[0].kind",
        "questions[3].maximum",
        # 'topic' has no valid kind, so its values cannot be checked: no problem there.
    ]
    assert [p.line for p in problems] == sorted(p.line or 0 for p in problems)
    assert str(caught.value).splitlines() == [str(p) for p in problems]


def test_lines_given_to_parse_survey_fall_back_to_the_nearest_known_path() -> None:
    doc = base()
    doc["questions"][1]["choices"][0]["label"].pop("ru")

    with pytest.raises(SurveyFileError) as caught:
        parse_survey(doc, source="<stored>", lines={"": 1, "questions[1]": 17})

    [problem] = caught.value.problems
    assert (problem.file, problem.line) == ("<stored>", 17)


def test_survey_file_error_survives_pickling() -> None:
    error = SurveyFileError([SurveyProblem("a.yaml", "id", "bad: fix it", 3)])

    copy_ = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes

    assert copy_.problems == error.problems
    assert str(copy_) == "a.yaml:3: id: bad: fix it"


# --------------------------------------------------------------------------- files


def write_survey(path: Path, survey_id: str) -> None:
    path.write_text(VALID_YAML.replace("youth-priorities-2026", survey_id), encoding="utf-8")


def test_load_survey_file_reads_utf8(tmp_path: Path) -> None:
    path = tmp_path / "youth.yaml"
    write_survey(path, "youth-priorities-2026")

    assert load_survey_file(path) == EXPECTED
    assert load_survey_file(str(path)) == EXPECTED


def test_file_that_is_not_utf8_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("id: x\ntitle: {en: Café}\n".encode("latin-1"))

    with pytest.raises(SurveyFileError) as caught:
        load_survey_file(path)

    [problem] = caught.value.problems
    assert problem.file == str(path)
    assert problem.line == 2
    assert "not UTF-8 text (byte 0xe9" in problem.message
    assert "save it with UTF-8 encoding" in problem.message
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("name", ["missing.yaml", "."], ids=["missing", "directory"])
def test_unreadable_file_names_the_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name

    with pytest.raises(SurveyFileError) as caught:
        load_survey_file(path)

    [problem] = caught.value.problems
    assert problem.file == str(path)
    assert problem.message.startswith("cannot read the file (")
    assert "check the path and permissions" in problem.message


def test_validate_survey_files_reports_duplicate_ids_across_files(tmp_path: Path) -> None:
    write_survey(tmp_path / "a.yaml", "youth")
    write_survey(tmp_path / "b.yml", "youth")
    write_survey(tmp_path / "c.yaml", "other")
    (tmp_path / "notes.txt").write_text("not a survey", encoding="utf-8")

    problems = validate_survey_files([tmp_path])

    [duplicate] = problems
    assert duplicate.file == str(tmp_path / "b.yml")
    assert (duplicate.path, duplicate.line) == ("id", 1)
    assert f"survey id 'youth' is already used by {tmp_path / 'a.yaml'}" in duplicate.message


def test_validate_survey_files_collects_problems_from_every_file(tmp_path: Path) -> None:
    write_survey(tmp_path / "good.yaml", "good")
    (tmp_path / "broken.yaml").write_text("id: [\n", encoding="utf-8")
    (tmp_path / "other.yaml").write_text(VALID_YAML.replace("goals: [4, 8, 16]", "goals: [20]"))
    empty = tmp_path / "empty"
    empty.mkdir()

    problems = validate_survey_files([tmp_path, str(tmp_path / "good.yaml"), empty])

    assert [(Path(p.file).name, p.path) for p in problems] == [
        ("broken.yaml", ""),
        ("other.yaml", "goals[0]"),
        ("empty", ""),
    ]
    assert "no .yaml or .yml files in this directory" in problems[2].message
