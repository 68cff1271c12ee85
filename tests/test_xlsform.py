"""XLSForm import: KoBoToolbox/ODK workbooks become surveys, or say exactly what to change.

The workbooks are made here with openpyxl; row numbers in the expectations are
the ones Excel shows (the header is row 1).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from click.testing import CliRunner

from polls.survey import Condition, QuestionKind
from polls.survey_loader import load_survey_file, load_survey_text, parse_survey
from polls.xlsform import (
    XlsFormError,
    XlsFormProblem,
    convert_xlsform,
    document_to_yaml,
    load_xlsform,
    xlsform_to_document,
)

AZ, RU, EN = "label::Azerbaijani (az)", "label::Russian (ru)", "label::English (en)"
Row = dict[str, Any]


def q(kind: str, name: str | None, az: str, ru: str, en: str, **cells: str) -> Row:
    """A survey sheet row."""
    return {"type": kind, "name": name, AZ: az, RU: ru, EN: en, **cells}


def c(list_name: str, name: str, az: str, ru: str, en: str, **cells: str) -> Row:
    """A choices sheet row."""
    return {"list_name": list_name, "name": name, AZ: az, RU: ru, EN: en, **cells}


SETTINGS: list[Row] = [
    {
        "form_title::Azerbaijani (az)": "Gənclərin səsi",
        "form_title::Russian (ru)": "Голос молодежи",
        "form_title::English (en)": "Youth voice",
        "form_id": "youth-voice-2026",
        "version": "2026031201",
    }
]


def survey_rows() -> list[Row]:
    """A form with every supported type (Excel rows 2 to 11)."""
    welcome = ("Salam! Qısa sorğu.", "Привет! Короткий опрос.", "Hi! Short survey.")
    town = ("İndi şəhər haqqında.", "Теперь о городе.", "Now about your town.")
    either = "selected(${top_goals}, 'education') or selected(${top_goals}, 'jobs')"
    return [
        # 2: the introduction
        q("note", "welcome", *welcome),
        # 3: yes/no
        q("select_one yes_no", "consent", "Razısınız?", "Вы согласны?", "Do you agree?",
          required="yes"),
        # 4
        q("integer", "age", "Neçə yaşınız var?", "Сколько вам лет?", "How old are you?",
          required="yes", relevant="${consent} = 'yes'", constraint=". >= 14 and . <= 35",
          constraint_message="14-35"),
        # 5
        q("select_multiple goals", "top_goals", "Hansı məqsədlər?", "Какие цели?",
          "Which goals?", relevant="${age} >= 18", constraint="count-selected(.) <= 2"),
        # 6
        q("decimal", "hours", "Gündə neçə saat?", "Сколько часов в день?", "Hours a day?",
          constraint=". >= 0 and . <= 24"),
        # 7: a note between questions
        q("note", "about_town", *town),
        # 8
        q("select_one region", "region", "Harada yaşayırsınız?", "Где вы живете?",
          "Where do you live?", required="true()"),
        # 9
        q("text", "idea", "İdeyanız?", "Ваша идея?", "Your idea?", relevant=either,
          constraint="string-length(.) <= 300"),
        # 10
        q("range", "trust", "Nə qədər etibar edirsiniz?", "Насколько вы доверяете?",
          "How much do you trust them?", parameters="start=1 end=5 step=1"),
        # 11: the closing message
        q("note", "bye", "Təşəkkürlər!", "Спасибо!", "Thank you!"),
    ]  # fmt: skip


def choice_rows() -> list[Row]:
    return [
        c("yes_no", "yes", "Bəli", "Да", "Yes"),  # 2
        c("yes_no", "no", "Xeyr", "Нет", "No"),  # 3
        c("goals", "education", "Təhsil", "Образование", "Education"),  # 4
        c("goals", "jobs", "İş", "Работа", "Jobs"),  # 5
        c("goals", "health", "Sağlamlıq", "Здоровье", "Health"),  # 6
        c("region", "baku", "Bakı", "Баку", "Baku"),  # 7
        c("region", "ganja", "Gəncə", "Гянджа", "Ganja"),  # 8
        c("region", "other", "Başqa", "Другой", "Elsewhere"),  # 9
    ]


def save(
    path: Path,
    survey: list[Row],
    choices: list[Row] | None = None,
    settings: list[Row] | None = None,
    **extra_sheets: list[Row],
) -> Path:
    """A workbook with one sheet per list of rows; the header is the union of their keys."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    sheets = {"survey": survey, "choices": choices, "settings": settings, **extra_sheets}
    for name, rows in sheets.items():
        if rows is None:
            continue
        sheet = book.create_sheet(name)
        header = list(dict.fromkeys(key for row in rows for key in row))
        sheet.append(header)
        for row in rows:
            sheet.append([row.get(key) for key in header])
    book.save(path)
    return path


@pytest.fixture
def form(tmp_path: Path) -> Path:
    return save(tmp_path / "youth.xlsx", survey_rows(), choice_rows(), SETTINGS)


def problems_of(path: Path, **options: Any) -> list[XlsFormProblem]:
    with pytest.raises(XlsFormError) as caught:
        convert_xlsform(path, **options)
    assert caught.value.problems
    problems = caught.value.problems
    assert all(isinstance(p, XlsFormProblem) for p in problems)
    return problems  # type: ignore[return-value]


def where(problem: XlsFormProblem) -> tuple[str | None, int | None, str | None]:
    return problem.sheet, problem.row, problem.column


# --------------------------------------------------------------------------- a good form


def test_a_form_with_every_supported_type_becomes_a_survey(form: Path) -> None:
    survey = load_xlsform(form)

    assert survey.id == "youth-voice-2026"
    assert survey.languages == ("az", "ru", "en")
    assert survey.title == {"az": "Gənclərin səsi", "ru": "Голос молодежи", "en": "Youth voice"}
    assert survey.intro == {
        "az": "Salam! Qısa sorğu.",
        "ru": "Привет! Короткий опрос.",
        "en": "Hi! Short survey.",
    }
    assert survey.thanks == {"az": "Təşəkkürlər!", "ru": "Спасибо!", "en": "Thank you!"}
    by_id = {question.id: question for question in survey.questions}
    assert list(by_id) == ["consent", "age", "top_goals", "hours", "region", "idea", "trust"]

    consent = by_id["consent"]
    assert consent.kind is QuestionKind.YES_NO
    assert consent.required
    assert consent.text == {"az": "Razısınız?", "ru": "Вы согласны?", "en": "Do you agree?"}

    age = by_id["age"]
    assert (age.kind, age.integer, age.minimum, age.maximum) == (QuestionKind.NUMBER, True, 14, 35)
    assert age.required
    assert age.ask_if == Condition("consent", any_of=("yes",))

    goals = by_id["top_goals"]
    assert goals.kind is QuestionKind.MULTIPLE_CHOICE
    assert [choice.value for choice in goals.choices] == ["education", "jobs", "health"]
    assert goals.choices[0].label == {"az": "Təhsil", "ru": "Образование", "en": "Education"}
    assert (goals.min_picks, goals.max_picks) == (0, 2)  # not required: may pick none
    assert not goals.required
    assert goals.ask_if == Condition("age", at_least=18)

    hours = by_id["hours"]
    assert (hours.kind, hours.integer, hours.minimum, hours.maximum) == (
        QuestionKind.NUMBER,
        False,
        0,
        24,
    )

    region = by_id["region"]
    assert region.kind is QuestionKind.SINGLE_CHOICE
    assert region.required
    assert [choice.label["ru"] for choice in region.choices] == ["Баку", "Гянджа", "Другой"]
    # The note between questions is shown at the start of the next one.
    assert region.text == {
        "az": "İndi şəhər haqqında.\n\nHarada yaşayırsınız?",
        "ru": "Теперь о городе.\n\nГде вы живете?",
        "en": "Now about your town.\n\nWhere do you live?",
    }

    idea = by_id["idea"]
    assert (idea.kind, idea.max_length, idea.required) == (QuestionKind.TEXT, 300, False)
    assert idea.ask_if == Condition("top_goals", any_of=("education", "jobs"))

    trust = by_id["trust"]
    assert (trust.kind, trust.minimum, trust.maximum) == (QuestionKind.RATING, 1, 5)


def test_what_is_set_aside_is_listed_as_notices(form: Path) -> None:
    notices = {(n.sheet, n.row, n.column): n.message for n in convert_xlsform(form).notices}

    assert "yes/no" in notices[("survey", 3, "type")]
    assert "in its own words" in notices[("survey", 4, "constraint_message")]
    assert "start of the question on row 8" in notices[("survey", 7, "type")]
    assert "not used" in notices[("settings", 2, "version")]


def test_the_document_round_trips_through_the_yaml_loader(form: Path) -> None:
    document = xlsform_to_document(form)
    survey = load_xlsform(form)

    assert parse_survey(document) == survey
    assert load_survey_text(yaml.safe_dump(document, allow_unicode=True), source="x") == survey
    text = document_to_yaml(document, comment="Imported from youth.xlsx")
    assert text.startswith("# Imported from youth.xlsx\nid: youth-voice-2026\n")
    assert load_survey_text(text, source="youth.yaml") == survey
    assert load_survey_text(text, source="youth.yaml").raw == survey.raw


@pytest.mark.parametrize(
    "text",
    [
        "yes",
        "No",
        "12",
        "3.5",
        "a: b",
        "# not a comment",
        "- dash",
        "two\nlines",
        "end \nx",
        "'q'",
    ],
)
def test_any_text_survives_the_yaml_file(tmp_path: Path, text: str) -> None:
    rows = survey_rows()
    rows[3][EN] = text  # the question on row 5
    path = save(tmp_path / "texts.xlsx", rows, choice_rows(), SETTINGS)
    survey = load_xlsform(path)

    again = load_survey_text(document_to_yaml(xlsform_to_document(path)), source="texts.yaml")
    assert again == survey
    assert again.questions[2].text["en"] == text.strip()


def test_uploaded_bytes_are_read_like_a_file(form: Path) -> None:
    survey = load_xlsform(form.read_bytes(), source="Youth voice.xlsx")

    assert survey == load_xlsform(form)


def test_an_id_and_languages_can_be_given(form: Path) -> None:
    conversion = convert_xlsform(form, survey_id="youth_en", languages=["en"])

    assert conversion.survey.id == "youth_en"
    assert conversion.survey.languages == ("en",)
    assert conversion.survey.questions[0].text == {"en": "Do you agree?"}
    unused = {n.column for n in conversion.notices if n.row is None and n.sheet == "survey"}
    assert unused == {AZ, RU}


def test_without_form_id_the_file_name_is_the_id(tmp_path: Path) -> None:
    settings = [{k: v for k, v in SETTINGS[0].items() if k != "form_id"}]
    path = save(tmp_path / "Youth Voice 2026.xlsx", survey_rows(), choice_rows(), settings)

    assert load_xlsform(path).id == "youth_voice_2026"


def test_skip_logic_forms_that_map_onto_ask_if(tmp_path: Path) -> None:
    relevants = {
        "not(selected(${goals}, 'health'))": Condition("goals", none_of=("health",)),
        "selected(${goals}, 'jobs') and not(selected(${goals}, 'health'))": Condition(
            "goals", any_of=("jobs",), none_of=("health",)
        ),
        "${age} > 17 and ${age} < 30": Condition("age", at_least=18, at_most=29),
        "${age}=20": Condition("age", at_least=20, at_most=20),
        "18 <= ${age}": Condition("age", at_least=18),
        "${region} != 'baku'": Condition("region", none_of=("baku",)),
        "${region} = ‘baku’ or ${region} = 'ganja'": Condition("region", any_of=("baku", "ganja")),
        "(${trust} >= 4)": Condition("trust", at_least=4),
        "${trust} = 5": Condition("trust", any_of=("5",)),
    }
    rows = [
        q("integer", "age", "Yaş", "Возраст", "Age", required="yes"),
        q("select_multiple goals", "goals", "M", "Ц", "Goals", required="yes"),
        q("select_one region", "region", "R", "Р", "Region", required="yes"),
        q("range", "trust", "E", "Д", "Trust", parameters="start=1 end=5"),
    ]
    rows += [
        q("text", f"t{index}", "Nə?", "Что?", "What?", relevant=relevant)
        for index, relevant in enumerate(relevants)
    ]
    survey = load_xlsform(save(tmp_path / "skip.xlsx", rows, choice_rows(), SETTINGS))

    assert [question.ask_if for question in survey.questions[4:]] == list(relevants.values())


def test_rows_keep_their_excel_numbers_across_empty_rows(tmp_path: Path) -> None:
    rows = [
        q("text", "first", "A", "Б", "A"),
        {},
        {},
        q("text", "second", "B", "", "B"),  # row 5
    ]
    problems = problems_of(save(tmp_path / "gaps.xlsx", rows, None, SETTINGS))

    assert [where(p) for p in problems] == [("survey", 5, RU)]


# --------------------------------------------------------------------------- problems

Change = Callable[[list[Row], list[Row], list[Row]], None]


def _geopoint(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    survey.insert(5, q("geopoint", "where", "Harada?", "Где?", "Where?"))


def _repeat(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    survey.insert(5, {"type": "begin_repeat", "name": "kids", EN: "Children"})
    survey.insert(7, {"type": "end_repeat"})


def _missing_russian(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    survey[3][RU] = None


def _two_question_relevant(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    survey[3]["relevant"] = "${age} >= 18 and ${consent} = 'yes'"


def _function_relevant(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    survey[3]["relevant"] = "string-length(${age}) > 1"


def _missing_list(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    survey[6]["type"] = "select_one regions"


def _hint(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    survey[4]["hint::English (en)"] = "in years"


def _date(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    survey[4]["type"] = "date"


def _calculate(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    survey.append({"type": "calculate", "name": "score", "calculation": "${age} * 2"})


def _or_other(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    survey[6]["type"] = "select_one region or_other"


def _choice_filter(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    survey[6]["choice_filter"] = "country=${country}"


def _regex_constraint(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    survey[7]["constraint"] = "regex(., '^[a-z]+$')"


def _strict_decimal(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    survey[4]["constraint"] = ". > 0"


def _required_condition(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    survey[4]["required"] = "${age} > 20"


def _interpolation(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    survey[4][EN] = "You are ${age}: how many hours?"


def _bad_name(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    survey[7]["name"] = "Idea"


def _later_question(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    survey[1]["relevant"] = "${region} = 'baku'"


def _long_scale(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    survey[8]["parameters"] = "start=0 end=20"


def _wrong_value(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    survey[7]["relevant"] = "selected(${top_goals}, 'educaton')"


def _too_many_choices(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    choices.extend(c("region", f"r{n}", f"R{n}", f"Р{n}", f"R{n}") for n in range(20))


def _long_choice_label(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    choices[3][EN] = "x" * 120


def _duplicate_choice(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    choices[6]["name"] = "baku"


def _no_russian_title(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    del settings[0]["form_title::Russian (ru)"]


def _plain_title(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    settings[0] = {"form_title": "Youth voice", "form_id": "youth"}


def _kobo_uid(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    settings[0]["form_id"] = "aXz3KbQ9"


def _group(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    survey.insert(3, {"type": "begin_group", "name": "about", "relevant": "${consent}='yes'"})
    survey.insert(6, {"type": "end_group"})


def _unknown_type(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    survey[4]["type"] = "decmal"


def _note_relevant(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    survey[9]["relevant"] = "${consent} = 'yes'"


def _choice_image(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    choices[2]["media::image::English (en)"] = "school.png"


def _select_one_constraint(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    survey[6]["constraint"] = ". != 'other'"


def _equals_on_select_multiple(survey: list[Row], choices: list[Row], settings: list[Row]) -> None:
    survey[7]["relevant"] = "${top_goals} = 'jobs'"


# (change, sheet, row, column, words the message must contain)
BROKEN: list[tuple[Change, str, int | None, str | None, str]] = [
    (_geopoint, "survey", 7, "type", "'geopoint' cannot be asked by SMS or Telegram: remove"),
    (_repeat, "survey", 7, "type", "repeats are not supported"),
    (_missing_russian, "survey", 5, RU, "missing Russian (ru) text: write the question in Russian"),
    (_two_question_relevant, "survey", 5, "relevant", "depends on 2 questions (age, consent)"),
    (_function_relevant, "survey", 5, "relevant", "string-length() is not supported"),
    (
        _missing_list,
        "survey",
        8,
        "type",
        "no choice list 'regions' on the choices sheet: did you mean 'region'?",
    ),
    (_date, "survey", 6, "type", "'date' cannot be asked by SMS or Telegram: change it to integer"),
    (_calculate, "survey", 12, "type", "'calculate' cannot be asked"),
    (_or_other, "survey", 8, "type", "'or_other' is not supported"),
    (_choice_filter, "survey", 8, "choice_filter", "choice filters (cascading selects)"),
    (_regex_constraint, "survey", 9, "constraint", "the function regex() is not supported"),
    (_strict_decimal, "survey", 6, "constraint", "use >= instead of > for decimal numbers"),
    (_required_condition, "survey", 6, "required", "write yes or no"),
    (_interpolation, "survey", 6, EN, "${age} would show an earlier answer"),
    (_bad_name, "survey", 9, "name", "invalid question id 'Idea'"),
    (
        _later_question,
        "survey",
        3,
        "relevant",
        "'region' comes later (the question on survey sheet row 8)",
    ),
    (_long_scale, "survey", 10, "parameters", "this one has 21 (0 to 20)"),
    (_wrong_value, "survey", 9, "relevant", "did you mean 'education'?"),
    (_too_many_choices, "survey", 8, "type", "23 choices, the limit is 20"),
    (_long_choice_label, "choices", 5, EN, "too long: 120 characters, the limit is 100"),
    (_duplicate_choice, "choices", 8, "name", "'baku' (already used by choices sheet row 7)"),
    (
        _no_russian_title,
        "settings",
        None,
        None,
        "add the columns form_title::Azerbaijani (az), form_title::Ru",
    ),
    (_kobo_uid, "settings", 2, "form_id", "'aXz3KbQ9' cannot be the survey id"),
    (_group, "survey", 5, "type", "copy the group's relevant to each of them"),
    (_unknown_type, "survey", 6, "type", "unknown type 'decmal': did you mean 'decimal'?"),
    (
        _note_relevant,
        "survey",
        11,
        "relevant",
        "a note at the end of the survey is shown to everyone",
    ),
    (_choice_image, "choices", 4, "media::image::English (en)", "cannot be sent with choices"),
    (
        _select_one_constraint,
        "survey",
        8,
        "constraint",
        "constraints are not supported on select_one",
    ),
    (
        _equals_on_select_multiple,
        "survey",
        9,
        "relevant",
        "test its answers with selected(${top_goals}",
    ),
]


@pytest.mark.parametrize(
    ("change", "sheet", "row", "column", "words"),
    BROKEN,
    ids=[change.__name__.strip("_") for change, *_ in BROKEN],
)
def test_each_problem_names_sheet_row_column_and_the_fix(
    tmp_path: Path,
    change: Change,
    sheet: str,
    row: int | None,
    column: str | None,
    words: str,
) -> None:
    survey, choices, settings = survey_rows(), choice_rows(), [dict(SETTINGS[0])]
    change(survey, choices, settings)
    path = save(tmp_path / "broken.xlsx", survey, choices, settings)

    problems = problems_of(path)

    matching = [p for p in problems if where(p) == (sheet, row, column)]
    assert matching, f"nothing at {(sheet, row, column)}: {[str(p) for p in problems]}"
    assert any(words in p.message for p in matching), [str(p) for p in matching]
    assert all(p.file == str(path) for p in problems)
    label = (
        f"{sheet} sheet"
        + (f", row {row}" if row else "")
        + (f", column {column}" if column else "")
    )
    assert str(matching[0]).startswith(f"{path}: {label}: ")


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    survey, choices, settings = survey_rows(), choice_rows(), [dict(SETTINGS[0])]
    for change in (_missing_russian, _date, _missing_list, _regex_constraint, _geopoint):
        change(survey, choices, settings)
    path = save(tmp_path / "many.xlsx", survey, choices, settings)

    problems = problems_of(path)

    assert [where(p) for p in problems] == [
        ("survey", 5, RU),
        ("survey", 6, "type"),
        ("survey", 7, "type"),
        ("survey", 9, "type"),
        ("survey", 10, "constraint"),
    ]


def test_a_relevant_on_a_question_that_cannot_be_imported_points_at_it(tmp_path: Path) -> None:
    survey, choices, settings = survey_rows(), choice_rows(), SETTINGS
    survey[2]["type"] = "date"  # age, row 4
    path = save(tmp_path / "dropped.xlsx", survey, choices, settings)

    problems = {where(p): p.message for p in problems_of(path)}

    assert "'date' cannot be asked" in problems[("survey", 4, "type")]
    assert (
        "depends on 'age' (row 4), which cannot be imported" in problems[("survey", 5, "relevant")]
    )


def test_a_choices_sheet_without_a_language_is_one_problem(tmp_path: Path) -> None:
    choices = [{k: v for k, v in row.items() if k != RU} for row in choice_rows()]
    problems = problems_of(save(tmp_path / "ru.xlsx", survey_rows(), choices, SETTINGS))

    assert [(where(p), p.message) for p in problems] == [
        (
            ("choices", None, None),
            "there is no label column for 'ru': add a column 'label::Russian (ru)' "
            "with every choice in that language",
        )
    ]


def test_a_requested_language_the_form_lacks(form: Path) -> None:
    problems = problems_of(form, languages=["az", "ru", "en", "tr"])

    assert [(where(p), p.message) for p in problems] == [
        (
            ("survey", None, None),
            "there is no label column for 'tr': add a column 'label::Turkish (tr)' "
            "with every question in that language",
        ),
        (
            ("choices", None, None),
            "there is no label column for 'tr': add a column 'label::Turkish (tr)' "
            "with every choice in that language",
        ),
        (
            ("settings", None, None),
            "the survey needs a title in each language (people see it when the survey "
            "starts): add the columns form_title::Azerbaijani (az), form_title::Russian (ru), "
            "form_title::English (en), form_title::Turkish (tr) with the titles in row 2",
        ),
    ]


def test_label_columns_must_name_their_language(tmp_path: Path) -> None:
    rows = [{"type": "text", "name": "idea", "label::English": "Idea?"}]
    problems = problems_of(save(tmp_path / "lang.xlsx", rows, None, SETTINGS))

    assert [(where(p), p.message) for p in problems] == [
        (
            ("survey", None, "label::English"),
            "the column does not give the language code: rename it to 'label::English (en)'",
        )
    ]


def test_metadata_rows_and_kobo_columns_are_notices(tmp_path: Path) -> None:
    rows = [
        {"type": "start", "name": "start", "$kuid": "a1"},
        {"type": "end", "name": "end", "$kuid": "a2"},
        *survey_rows(),
    ]
    conversion = convert_xlsform(save(tmp_path / "kobo.xlsx", rows, choice_rows(), SETTINGS))

    notices = {where(n): n.message for n in conversion.notices}
    assert "ODK records the time the form was opened" in notices[("survey", 2, "type")]
    assert "KoBoToolbox bookkeeping" in notices[("survey", None, "$kuid")]
    assert conversion.survey.questions[0].id == "consent"


def test_files_that_are_not_workbooks(tmp_path: Path) -> None:
    text = tmp_path / "survey.xlsx"
    text.write_text("type,name\ntext,idea\n", encoding="utf-8")

    (problem,) = problems_of(text)
    assert problem.sheet is None
    assert "not an Excel workbook" in problem.message
    (missing,) = problems_of(tmp_path / "nowhere.xlsx")
    assert "cannot read the file" in missing.message
    (damaged,) = problems_of(b"PK\x03\x04 not really a zip", source="upload.xlsx")  # type: ignore[arg-type]
    assert damaged.file == "upload.xlsx"
    assert "cannot read the workbook" in damaged.message


def test_the_error_survives_pickling(tmp_path: Path) -> None:
    survey, choices, settings = survey_rows(), choice_rows(), SETTINGS
    survey.insert(1, {"type": "start", "name": "start"})
    survey[2]["type"] = "geopoint"
    with pytest.raises(XlsFormError) as caught:
        convert_xlsform(save(tmp_path / "p.xlsx", survey, choices, settings))

    copy = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own bytes
    assert copy.problems == caught.value.problems
    assert copy.notices == caught.value.notices
    assert copy.notices


# --------------------------------------------------------------------------- the command


def test_import_xlsform_writes_a_survey_file(form: Path, tmp_path: Path) -> None:
    from outreach.cli import main

    out = tmp_path / "surveys" / "youth.yaml"
    result = CliRunner().invoke(main, ["surveys", "import-xlsform", str(form), "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert load_survey_file(out) == load_xlsform(form)
    assert "youth-voice-2026: 7 questions in az, ru, en written to" in result.output
    again = CliRunner().invoke(main, ["surveys", "import-xlsform", str(form), "--out", str(out)])
    assert again.exit_code == 1
    assert "pass --force" in again.output


def test_import_xlsform_writes_into_the_surveys_folder_by_default(
    form: Path, tmp_path: Path
) -> None:
    from outreach.cli import main

    folder = tmp_path / "surveys"
    result = CliRunner().invoke(
        main,
        ["surveys", "import-xlsform", str(form), "--id", "youth", "--languages", "az,en"],
        env={"SURVEYS_DIR": str(folder)},
    )

    assert result.exit_code == 0, result.output
    survey = load_survey_file(folder / "youth.yaml")
    assert (survey.id, survey.languages) == ("youth", ("az", "en"))
    assert "column label::Russian (ru): not used" in result.output


def test_import_xlsform_lists_problems_and_writes_nothing(tmp_path: Path) -> None:
    from outreach.cli import main

    survey = survey_rows()
    _geopoint(survey, [], [])
    path = save(tmp_path / "bad.xlsx", survey, choice_rows(), SETTINGS)
    out = tmp_path / "bad.yaml"

    result = CliRunner().invoke(
        main, ["surveys", "import-xlsform", str(path), "--id", "bad", "--out", str(out)]
    )

    assert result.exit_code == 1
    assert "survey sheet, row 7, column type: 'geopoint' cannot be asked" in result.output
    assert "1 problem(s)" in result.output
    assert not out.exists()


def test_hints_and_one_plain_title_are_notices_not_problems(tmp_path: Path) -> None:
    # Most KoBoToolbox forms have hints and one plain form_title: they import, and
    # staff are told what became of them.
    survey, choices, settings = survey_rows(), choice_rows(), [dict(SETTINGS[0])]
    _hint(survey, choices, settings)
    _plain_title(survey, choices, settings)
    path = save(tmp_path / "kobo.xlsx", survey, choices, settings)

    conversion = convert_xlsform(path)

    notices = {where(n): n.message for n in conversion.notices}
    assert "hints do not reach people" in notices[("survey", 6, "hint::English (en)")]
    assert "the same title is shown in every language" in notices[("settings", 2, "form_title")]
    assert dict(conversion.survey.title) == {
        "az": "Youth voice",
        "ru": "Youth voice",
        "en": "Youth voice",
    }
