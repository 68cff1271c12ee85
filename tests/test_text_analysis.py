"""Free-text analysis: words per language, top terms and phrases, themes, theme files."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest

from polls.errors import OutreachError
from polls.text_analysis import (
    SegmentTerms,
    TermCount,
    TermTally,
    ThemeDictionary,
    ThemeFileError,
    ThemeTally,
    WordLists,
    count_themes,
    default_word_lists,
    load_themes,
    load_themes_text,
    lowercase,
    match_themes,
    read_word_list,
    term_key,
    tokenize,
    top_terms,
    word_runs,
)

REPO = Path(__file__).resolve().parent.parent
SDG_THEMES = REPO / "analysis" / "sdg_themes.yaml"
TEXT_DATA = REPO / "polls" / "text_data"


def terms_of(result: SegmentTerms) -> dict[str, int]:
    return {term.text: term.answers for term in result.terms}


def phrases_of(result: SegmentTerms) -> dict[str, int]:
    return {phrase.text: phrase.answers for phrase in result.phrases}


# --------------------------------------------------------------------------- words


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("İŞSİZLİK", "az", "işsizlik"),
        ("BAKI", "az", "bakı"),  # Azerbaijani I is ı
        ("İçməli", "az", "içməli"),  # no "i̇" with a combining dot
        ("ISSUE", "en", "issue"),
        ("İstanbul", "en", "istanbul"),
        ("Ёлка ЁЖ", "ru", "елка еж"),
        ("Straße", "en", "strasse"),
    ],
    ids=["az-dotted", "az-dotless", "az-initial", "en-I", "en-dotted", "ru-yo", "casefold"],
)
def test_lowercase_follows_the_language(text: str, language: str, expected: str) -> None:
    assert lowercase(text, language) == expected


def test_str_lower_would_be_wrong_for_azerbaijani() -> None:
    assert "İŞSİZLİK".lower() != "işsizlik"
    assert lowercase("İŞSİZLİK", "az") == "işsizlik"


def test_runs_drop_links_handles_digits_and_emoji_and_stop_at_punctuation() -> None:
    text = (
        "Salam! Kəndimizdə içməli su yoxdur 😡 https://t.me/kanal, yazın @ali_m "
        "və ya ali@mail.az: 3 aydır gözləyirik"
    )
    assert word_runs(text, "az") == [
        ["salam"],
        ["kəndimizdə", "içməli", "su", "yoxdur"],
        ["yazın"],
        ["və", "ya"],
        ["aydır", "gözləyirik"],
    ]


def test_masking_placeholders_are_not_words() -> None:
    assert word_runs("Zəng edin [number], yazın [handle] su yoxdur", "az") == [
        ["zəng", "edin"],
        ["yazın"],
        ["su", "yoxdur"],
    ]


def test_words_keep_every_alphabet_hyphens_and_apostrophes() -> None:
    assert tokenize("Интернет-магазин don’t ŞƏHƏR, çörək; ağac", "az") == [
        "интернет",
        "магазин",
        "don't",
        "şəhər",
        "çörək",
        "ağac",
    ]


def test_schwa_lookalikes_are_schwa_in_azerbaijani() -> None:
    # ǝ (turned e), Cyrillic ә and ä are all typed for ə.
    assert tokenize("sǝhiyyǝ sәhiyyә sähiyyä", "az") == ["səhiyyə"] * 3


def test_stress_marks_and_decomposed_letters() -> None:
    assert tokenize("вода́ И\u0306", "ru") == ["вода", "й"]


@pytest.mark.parametrize(
    ("words", "language"),
    [
        ("su suyu suyun sular suda suyumuz suyundan", "az"),
        ("məktəb məktəblər məktəbdə məktəbə məktəbimizin mekteb MƏKTƏBLƏR", "az"),
        ("işsizlik İŞSİZLİK issizlik ISSIZLIK işsizliyi işsizlikdən", "az"),
        ("uşaq uşağı uşaqlar usaq", "az"),
        ("yol yolu yola yollar yolları", "az"),
        ("təhsil təhsilin təhsilə təhsildə tehsil", "az"),
        ("школа школы школу школ", "ru"),
        ("вода воды воду водой", "ru"),
        ("ёлка елки", "ru"),
        ("water waters", "en"),
        ("job jobs", "en"),
    ],
    ids=lambda value: value.split()[0] if " " in value else value,
)
def test_forms_of_a_word_share_a_key(words: str, language: str) -> None:
    assert len({term_key(word, language) for word in words.split()}) == 1


def test_different_words_keep_different_keys() -> None:
    assert term_key("iş", "az") != term_key("işsizlik", "az")
    assert term_key("su", "az") != term_key("sual", "az")
    assert term_key("təmiz", "az") != term_key("tə", "az")


def test_cyrillic_in_an_azerbaijani_answer_is_read_as_russian() -> None:
    tally = TermTally()
    for _ in range(5):
        tally.add("Kəndimizdə вода yoxdur", "az")
        tally.add("Нет воды", "ru")
    result = tally.results()[None]
    # вода and воды are one Russian term, whichever language the answer was in.
    assert result.terms == (TermCount("вода", "ru", 10), TermCount("kəndimizdə", "az", 5))
    assert phrases_of(result)["вода yoxdur"] == 5


# --------------------------------------------------------------------------- word lists


def test_shipped_lists_cover_az_ru_en_and_keep_negations_apart() -> None:
    lists = default_word_lists()
    assert {"az", "ru", "en"} <= set(lists)
    for language, words in lists.items():
        assert words.stop_words and words.negations, language
        assert not words.stop_words & words.negations, language


@pytest.mark.parametrize(
    ("language", "content_words"),
    [
        ("az", "su iş təhsil məktəb xəstəxana qadın yol az"),
        ("ru", "вода работа деньги женщина город школа жизнь"),
        ("en", "water work problem help home people women"),
    ],
)
def test_stop_lists_keep_the_words_answers_are_about(language: str, content_words: str) -> None:
    # The lists on PyPI drop some of these (stopwords-iso: вода, работа, problem).
    for word in content_words.split():
        result = top_terms([(word, language, None)], min_answers=1)[None]
        assert [term.text for term in result.terms] == [word]


def test_word_lists_are_compared_folded() -> None:
    az = default_word_lists()["az"]
    assert {"ve", "ucun", "bizim", "cox"} <= az.stop_words  # və, üçün, bizim, çox
    assert "yoxdur" in az.negations
    assert "еще" in default_word_lists()["ru"].stop_words  # ещё


def test_read_word_list(tmp_path: Path) -> None:
    path = tmp_path / "stop_words_az.txt"
    path.write_text("# comment\nVƏ\n\nİlə  # with\n", encoding="utf-8")
    assert read_word_list(path, "az") == frozenset({"ve", "ile"})


# --------------------------------------------------------------------------- top terms

AZ_ANSWERS = [
    "Kəndimizdə içməli su yoxdur.",
    "İçməli su yoxdur, yollar da çox pisdir",
    "SU YOXDUR! Uşaqlar xəstələnir",
    "su yoxdur su yoxdur su yoxdur",
    "Suyu yoxdur, işsizlik də var",
    "Gənclər üçün iş yoxdur, İŞSİZLİK böyükdür",
    "ISSIZLIK cox boyukdur",
    "issizlik ve yol problemi",
    "Işsizlik və yoxsulluq",
]
RU_ANSWERS = [
    "Нет воды уже неделю",
    "В посёлке нет воды и света",
    "Нет воды! Школа далеко",
    "вода плохая, нет воды летом",
    "нет воды, нет работы",
    "Школы закрыты, работы нет",
]
EN_ANSWERS = [
    "No water in our village",
    "Clean water, please",
    "We need water and jobs",
    "water water water",
    "The water is dirty",
    "No jobs for young people",
]


def test_top_terms_per_language_without_stop_words() -> None:
    answers = [(text, "az", "baku") for text in AZ_ANSWERS]
    answers += [(text, "ru", "ganja") for text in RU_ANSWERS]
    answers += [(text, "en", "online") for text in EN_ANSWERS]
    result = top_terms(answers, min_answers=3)
    assert set(result) == {"baku", "ganja", "online"}
    assert result["baku"].answers == len(AZ_ANSWERS)
    # İŞSİZLİK, ISSIZLIK, issizlik and Işsizlik are one term; su and Suyu are one.
    assert terms_of(result["baku"]) == {"su": 5, "işsizlik": 5}
    assert terms_of(result["ganja"]) == {"воды": 5}
    assert terms_of(result["online"]) == {"water": 5}
    stop_words = {"və", "ve", "da", "çox", "cox", "и", "в", "the", "we", "in"}
    for segment in result.values():
        assert not stop_words & {term.text for term in segment.terms + segment.phrases}


def test_negations_make_phrases_but_are_not_terms() -> None:
    answers = [(text, "az", None) for text in AZ_ANSWERS]
    answers += [(text, "ru", None) for text in RU_ANSWERS]
    result = top_terms(answers, min_answers=3)[None]
    assert "yoxdur" not in terms_of(result)
    assert "нет" not in terms_of(result)
    assert phrases_of(result) == {"su yoxdur": 5, "нет воды": 5}


def test_phrases_do_not_cross_stop_words_or_punctuation() -> None:
    answers = [("su, yol", "az", None)] * 5 + [("su və yol", "az", None)] * 5
    answers += [("школа. больница", "ru", None)] * 5 + [("школа и больница", "ru", None)] * 5
    result = top_terms(answers)[None]
    assert result.phrases == ()
    assert terms_of(result) == {"su": 10, "yol": 10, "школа": 10, "больница": 10}


def test_two_content_words_make_a_phrase() -> None:
    answers = [("İçməli su lazımdır", "az", None)] * 3 + [("içməli suyu yoxdur", "az", None)] * 2
    answers += [("Clean water please", "en", None)] * 5
    result = top_terms(answers)[None]
    assert phrases_of(result) == {"clean water": 5, "içməli su": 5}


def test_russian_yo_is_ye() -> None:
    answers = [("В посёлке нет света", "ru", None)] * 3
    answers += [("в поселке нет света", "ru", None)] * 2
    result = top_terms(answers)[None]
    assert terms_of(result) == {"поселке": 5, "света": 5}


def test_counts_are_answers_not_occurrences() -> None:
    answers = [("water water water, WATER", "en", None)]
    answers += [("water", "en", None)] * 3
    result = top_terms(answers, min_answers=1)[None]
    assert terms_of(result) == {"water": 4}


def test_a_term_fewer_answers_mention_is_never_reported() -> None:
    # The one person who names their village must not show up in a report.
    answers = [("Qaraqoyunlu kəndində su yoxdur", "az", "shaki")] * 4
    answers += [("su yoxdur", "az", "shaki")]
    answers += [("su yoxdur", "az", "ganja")] * 4
    result = top_terms(answers)
    assert terms_of(result["shaki"]) == {"su": 5}
    assert phrases_of(result["shaki"]) == {"su yoxdur": 5}
    assert "qaraqoyunlu" not in terms_of(result["shaki"])
    assert result["ganja"].terms == () and result["ganja"].phrases == ()
    assert result["ganja"].answers == 4
    lowered = top_terms(answers, min_answers=4)
    assert terms_of(lowered["shaki"])["qaraqoyunlu"] == 4
    assert terms_of(lowered["ganja"]) == {"su": 4}


def test_min_answers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        top_terms([("su", "az", None)], min_answers=0)


def test_limit_and_order() -> None:
    answers = [("su yol", "az", None)] * 6 + [("qaz", "az", None)] * 5 + [("bank", "az", None)] * 5
    result = top_terms(answers, limit=3)[None]
    assert [term.text for term in result.terms] == ["su", "yol", "bank"]
    assert [term.answers for term in result.terms] == [6, 6, 5]


def test_shown_form_is_the_one_written_most() -> None:
    answers = [("məktəblər", "az", None)] * 2 + [("məktəb", "az", None)] * 3
    answers += [("MEKTEB", "az", None)]
    result = top_terms(answers)[None]
    assert result.terms == (TermCount("məktəb", "az", 6),)


def test_a_form_with_azerbaijani_letters_wins_a_tie_and_guesses_lose() -> None:
    answers = [("böyükdür", "az", None), ("boyukdur", "az", None)] * 3
    answers += [("Işsizlik", "az", None)] * 3 + [("işsizlik", "az", None)] * 2
    result = top_terms(answers)[None]
    assert terms_of(result) == {"böyükdür": 6, "işsizlik": 5}


def test_an_all_capital_ascii_word_is_shown_folded_not_guessed() -> None:
    # "ISSIZLIK" could be "işsizlik" typed without İ: never shown as "ıssızlık".
    result = top_terms([("ISSIZLIK", "az", None)] * 5)[None]
    assert result.terms == (TermCount("issizlik", "az", 5),)


def test_top_terms_streams_once_and_skips_blank_answers() -> None:
    consumed: list[str] = []

    def rows() -> Iterator[tuple[str, str, str | None]]:
        for text in ["water", "  ", "water", "water", "water", "water"]:
            consumed.append(text)
            yield text, "en", None

    result = top_terms(rows())[None]
    assert len(consumed) == 6
    assert result.answers == 5
    assert terms_of(result) == {"water": 5}


def test_custom_word_lists() -> None:
    lists = {"en": WordLists(stop_words=frozenset({"water"}))}
    result = top_terms([("water jobs", "en", None)] * 5, word_lists=lists)[None]
    assert terms_of(result) == {"jobs": 5}


# --------------------------------------------------------------------------- themes

THEMES_YAML = """\
languages: [az, ru, en]
themes:
  water:
    goal: 6
    name: {az: Su, ru: Вода, en: Water}
    keywords:
      az: [su, kanalizasiya*, "içməli su"]
      ru: [вод*, "питьев* вод*"]
      en: [water*, "clean water"]
  jobs:
    goal: 8
    keywords:
      az: [iş, işsiz*]
      ru: [работ*, безработ*]
      en: [job*, unemploy*]
  roads:
    keywords:
      az: [yol]
      ru: [дорога]
      en: ["road repair*"]
"""


@pytest.fixture(scope="module")
def themes() -> ThemeDictionary:
    return load_themes_text(THEMES_YAML, source="themes.yaml")


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Kəndimizdə suyu yoxdur", "az", ("water",)),
        ("sular kəsilir", "az", ("water",)),
        ("Kanalizasiyanın vəziyyəti pisdir", "az", ("water",)),
        ("İŞSİZLİK çoxdur", "az", ("jobs",)),
        ("ISSIZLIK coxdur", "az", ("jobs",)),  # typed without Azerbaijani letters
        ("işsizlər çoxdur", "az", ("jobs",)),
        ("İş yoxdur, yollar bərbaddır", "az", ("jobs", "roads")),
        ("Sual: bu isə nə vaxt olacaq?", "az", ()),  # sual is not su, isə is not iş
        ("Нет воды, нет работы", "ru", ("water", "jobs")),
        ("Водоснабжение плохое", "ru", ("water",)),
        ("Безработица", "ru", ("jobs",)),
        ("Дороги разбиты", "ru", ("roads",)),
        ("No water and no jobs", "en", ("water", "jobs")),
        ("Unemployment is high", "en", ("jobs",)),
        ("We need road repairs", "en", ("roads",)),
        ("The road. Repair it", "en", ()),  # a phrase does not cross punctuation
        ("Kəndimizdə вода yoxdur", "az", ("water",)),  # Cyrillic read as Russian
        ("", "az", ()),
        ("Salam, təşəkkürlər!", "az", ()),
    ],
)
def test_match_themes(
    themes: ThemeDictionary, text: str, language: str, expected: tuple[str, ...]
) -> None:
    assert match_themes(text, language, themes) == expected


def test_phrases_match_their_words_in_any_form(themes: ThemeDictionary) -> None:
    drinking = load_themes_text(
        "languages: [az, ru]\nthemes:\n  drinking:\n    keywords:\n"
        "      az: ['içməli su']\n      ru: ['питьев* вод*']\n",
        source="drinking.yaml",
    )
    assert match_themes("içməli suyu yoxdur", "az", drinking) == ("drinking",)
    assert match_themes("İÇMƏLİ SU", "az", drinking) == ("drinking",)
    assert match_themes("icmeli su", "az", drinking) == ("drinking",)
    assert match_themes("içməli, su", "az", drinking) == ()
    assert match_themes("su içməli", "az", drinking) == ()
    assert match_themes("нет питьевой воды", "ru", drinking) == ("drinking",)


def test_a_short_prefix_catches_other_words() -> None:
    # Why the SDG dictionary lists "su", not "su*": sual (question) starts with su.
    wide = load_themes_text(
        "languages: [az]\nthemes:\n  water: {keywords: {az: [su*]}}\n", source="wide.yaml"
    )
    exact = load_themes_text(
        "languages: [az]\nthemes:\n  water: {keywords: {az: [su]}}\n", source="exact.yaml"
    )
    assert match_themes("Sualım var", "az", wide) == ("water",)
    assert match_themes("Sualım var", "az", exact) == ()
    assert match_themes("Suyumuz yoxdur", "az", exact) == ("water",)
    assert match_themes("susuzluq", "az", wide) == ("water",)


def test_count_themes_per_segment(themes: ThemeDictionary) -> None:
    answers = [("Su yoxdur, iş yoxdur", "az", "shaki")] * 5
    answers += [("Нет воды", "ru", "shaki")] * 2
    answers += [("Yollar pisdir", "az", "shaki")] * 4  # 4 < 5: not shown
    answers += [("Нет воды", "ru", "ganja")] * 6
    answers += [("Су жоқ", "kk", "ganja")]
    result = count_themes(answers, themes)
    assert result["shaki"].answers == 11
    assert dict(result["shaki"].themes) == {"water": 7, "jobs": 5}
    assert dict(result["ganja"].themes) == {"water": 6}
    assert result["ganja"].unmatched_language == 1
    assert dict(count_themes(answers, themes, min_answers=4)["shaki"].themes) == {
        "water": 7,
        "jobs": 5,
        "roads": 4,
    }


def test_theme_tally_counts_each_answer_once(themes: ThemeDictionary) -> None:
    tally = ThemeTally(themes)
    for _ in range(5):
        tally.add("su su su, suyu, sular, içməli su", "az")
    assert dict(tally.results()[None].themes) == {"water": 5}


# --------------------------------------------------------------------------- the SDG dictionary


@pytest.fixture(scope="module")
def sdg() -> ThemeDictionary:
    return load_themes(SDG_THEMES)


def test_example_sdg_dictionary_covers_the_17_goals_in_three_languages(
    sdg: ThemeDictionary,
) -> None:
    assert sdg.languages == ("az", "ru", "en")
    assert sorted(theme.goal for theme in sdg.themes if theme.goal) == list(range(1, 18))
    for theme in sdg.themes:
        assert set(theme.keywords) == {"az", "ru", "en"}, theme.id
        assert set(theme.name) == {"az", "ru", "en"}, theme.id


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Kəndimizdə içməli su yoxdur, yollar bərbaddır", "az", {"water", "infrastructure"}),
        ("Gənclər üçün iş yerləri azdır, işsizlik böyükdür", "az", {"decent_work"}),
        ("ISSIZLIK coxdur, mekteb de uzaqdadir", "az", {"decent_work", "education"}),
        ("Xəstəxanaya getmək üçün 30 km yol gedirik", "az", {"health", "infrastructure"}),
        ("Qadınlara qarşı məişət zorakılığı", "az", {"gender_equality", "peace_justice"}),
        ("Işıq tez-tez sönür", "az", {"energy"}),
        ("Нет питьевой воды, в школе нет учителей", "ru", {"water", "education"}),
        ("Водитель автобуса грубит", "ru", {"infrastructure"}),  # not water: водитель
        ("Corruption in courts, no clean water", "en", {"water", "peace_justice"}),
        ("Sual: bu isə nə vaxt olacaq?", "az", set()),
    ],
)
def test_example_sdg_dictionary_matches(
    sdg: ThemeDictionary, text: str, language: str, expected: set[str]
) -> None:
    assert set(match_themes(text, language, sdg)) == expected


# --------------------------------------------------------------------------- broken theme files

BROKEN_YAML = """\
languages: [az, ru, en]
themes:
  water:
    goal: 66
    keywords:
      az: [su, "*su", вода, "bu*"]
      ru: [вода, вода, water]
      en: [no, "water, sanitation", s*, "covid-19"]
  Jobs:
    keywords: {az: [iş], ru: [работ*], en: [job*]}
  health:
    gaol: 3
    keywords:
      az: [səhiyyə, və]
      en: [health]
      kk: [денсаулық]
"""


@pytest.mark.parametrize(
    ("line", "path", "says"),
    [
        (4, "themes.water.goal", "1 to 17"),
        (6, "themes.water.keywords.az[1]", "it may only end a word"),
        (6, "themes.water.keywords.az[2]", "move it to the 'ru' list"),
        (6, "themes.water.keywords.az[3]", "also matches the stop word 'bu'"),
        (7, "themes.water.keywords.ru[1]", "remove one"),
        (7, "themes.water.keywords.ru[2]", "Latin letters"),
        (8, "themes.water.keywords.en[0]", "put the text in quotes"),
        (8, "themes.water.keywords.en[1]", "list 'water' and 'sanitation' as separate keywords"),
        (8, "themes.water.keywords.en[2]", "at least 2 letters"),
        (8, "themes.water.keywords.en[3]", "write 'covid*' instead"),
        (9, "themes.Jobs", "invalid theme id"),
        (12, "themes.health.gaol", "did you mean 'goal'?"),
        (13, "themes.health.keywords.ru", "add a list"),
        (14, "themes.health.keywords.az[1]", "stop word"),
        (16, "themes.health.keywords.kk", "add it to languages or remove these keywords"),
    ],
    ids=lambda value: str(value),
)
def test_broken_theme_file_reports_each_problem_with_its_line(
    tmp_path: Path, line: int, path: str, says: str
) -> None:
    file = tmp_path / "sdg_themes.yaml"
    file.write_text(BROKEN_YAML, encoding="utf-8")
    with pytest.raises(ThemeFileError) as caught:
        load_themes(file)
    found = [p for p in caught.value.problems if p.path == path]
    assert len(found) == 1, [str(p) for p in caught.value.problems]
    problem = found[0]
    assert (problem.file, problem.line) == (str(file), line)
    assert says in problem.message
    assert f"{file}:{line}: {path}: " in str(caught.value)


def test_broken_theme_file_lists_nothing_else() -> None:
    with pytest.raises(ThemeFileError) as caught:
        load_themes_text(BROKEN_YAML, source="broken.yaml")
    assert len(caught.value.problems) == 15
    assert isinstance(caught.value, OutreachError)
    again = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own bytes
    assert again.problems == caught.value.problems


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("languages: [az\nthemes: {}\n", 2, "invalid YAML"),
        ("", None, "the file is empty"),
        ("languages: [az]\n", 1, "missing themes"),
        ("languages: [az]\nthemes: {}\n", 2, "no themes"),
        ("languages: [az]\nthemes:\n  water: {}\n", 3, "missing keywords"),
        ("languages: [az]\nthemes:\n  water:\n    keywords: {az: []}\n", 4, "the list is empty"),
        (
            "languages: [az]\nthemes:\n  a: {keywords: {az: [su]}}\n  a: {keywords: {az: [iş]}}\n",
            4,
            "given twice",
        ),
        (
            "languages: [az, ru]\nthemes:\n  a:\n    name: {az: Su}\n    keywords: {az: [su], "
            "ru: [вода]}\n",
            4,
            "missing Russian (ru) text",
        ),
    ],
    ids=[
        "syntax",
        "empty",
        "no-themes",
        "themes-empty",
        "no-keywords",
        "empty-list",
        "duplicate-theme",
        "name-language",
    ],
)
def test_theme_file_shape_problems(text: str, line: int | None, says: str) -> None:
    with pytest.raises(ThemeFileError) as caught:
        load_themes_text(text, source="themes.yaml")
    assert any(p.line == line and says in p.message for p in caught.value.problems), [
        str(p) for p in caught.value.problems
    ]


def test_missing_theme_file(tmp_path: Path) -> None:
    with pytest.raises(ThemeFileError, match="cannot read the file"):
        load_themes(tmp_path / "absent.yaml")
