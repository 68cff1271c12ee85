"""Guards for the translation catalogues ``polls/locales/<language>.po``.

The service's own words are English source strings marked with ``_()``,
``ngettext()`` or ``N_()``. These tests extract them from the source right now
(with Babel, using ``babel.cfg``) and check that every catalogue translates all
of them, keeps their placeholders and slash commands, fills every plural form,
loads at runtime, and keeps button labels short enough for a phone.

When you add or change a string, refresh the template and merge it into each
catalogue. Our catalogues are flat files (``polls/locales/az.po``, not
``az/LC_MESSAGES/messages.po``), so ``pybabel update -d ... -D messages`` does
not find them: update each language with ``-o`` and ``-l``::

    pybabel extract -F babel.cfg -k N_ --no-location --sort-output \\
        -o polls/locales/messages.pot .
    pybabel update -i polls/locales/messages.pot -o polls/locales/az.po -l az
    pybabel update -i polls/locales/messages.pot -o polls/locales/ru.po -l ru

Then translate the new (empty or ``#, fuzzy``) entries and remove the fuzzy
flags; Babel skips fuzzy entries at runtime.
"""

from __future__ import annotations

import re
import string
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from polls.i18n import translator
from polls.onboarding import AGE_BANDS, CONSENT_TEXT, DEFAULT_REGIONS, GENDERS

REPO = Path(__file__).resolve().parent.parent
LOCALES = REPO / "polls" / "locales"
LANGUAGES = sorted(path.stem for path in LOCALES.glob("*.po"))

UPDATE_HELP = (
    "Run:\n"
    "  pybabel extract -F babel.cfg -k N_ --no-location --sort-output"
    " -o polls/locales/messages.pot .\n"
    "  pybabel update -i polls/locales/messages.pot -o polls/locales/{lang}.po -l {lang}\n"
    "then translate the entries in polls/locales/{lang}.po (and remove any fuzzy flag)."
)

# Every msgid shown on a button, in every language: short enough for a phone.
BUTTON_LABEL_LIMIT = 24
BUTTON_LABELS = (
    "Yes",
    "No",
    "Done",
    "Skip",
    "I agree",
    "No, thanks",
    "Cancel",
    "Delete my identity",
    "Delete everything",
    *(label for _, label in AGE_BANDS),
    *(label for _, label in GENDERS),
    *DEFAULT_REGIONS,
)

# Which Russian plural form each count needs (1 вариант, 3 варианта, 5 вариантов).
RUSSIAN_FORM_FOR = {1: 0, 3: 1, 5: 2, 11: 2, 21: 0, 22: 1, 25: 2}

SLASH_COMMAND = re.compile(r"(?<![\w/])/[a-z][a-z_]*\b")


# ---------------------------------------------------------------- helpers


@cache
def source_messages() -> dict[str, tuple[str, ...]]:
    """msgid -> all its source forms (singular, plural), extracted from the code now."""
    with (REPO / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config, "babel.cfg")
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    found: dict[str, tuple[str, ...]] = {}
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(REPO), method_map, options_map, keywords=keywords
    ):
        forms = message if isinstance(message, tuple) else (message,)
        found[forms[0]] = tuple(forms)
    return found


@cache
def catalogue(language: str) -> Catalog:
    with (LOCALES / f"{language}.po").open("rb") as po:
        return read_po(po, locale=language)


def entries(language: str) -> list[Message]:
    return [message for message in catalogue(language) if message.id]


def forms_of(message: Message) -> tuple[str, ...]:
    return tuple(message.string) if message.pluralizable else (message.string,)


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def source_ids(message: Message) -> tuple[str, ...]:
    return tuple(message.id) if message.pluralizable else (message.id,)


def test_languages_found() -> None:
    assert {"az", "ru"} <= set(LANGUAGES)


def test_extraction_finds_the_service_words() -> None:
    found = source_messages()
    # _(), N_() and ngettext() in polls/, bot/ and outreach/ are all collected.
    assert "Yes" in found
    assert CONSENT_TEXT in found
    assert "Baku" in found
    assert "start or continue" in found
    assert found["Please pick at least {n}."] == (
        "Please pick at least {n}.",
        "Please pick at least {n}.",
    )
    # ... and _() and ngettext() in the staff console's Jinja2 templates.
    assert "Skip to main content" in found
    assert found["{n} question"] == ("{n} question", "{n} questions")


# ---------------------------------------------------------------- 1. completeness


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_source_string_is_translated(language: str) -> None:
    cat = catalogue(language)
    missing = []
    for msgid, forms in sorted(source_messages().items()):
        message = cat.get(msgid)
        if (
            message is None
            or message.fuzzy
            or message.pluralizable != (len(forms) > 1)
            or not all(form.strip() for form in forms_of(message))
        ):
            missing.append(msgid)
    assert not missing, (
        f"{len(missing)} source string(s) lack a translation in {language}.po:\n"
        + "\n".join(f"  - {msgid!r}" for msgid in missing)
        + "\n"
        + UPDATE_HELP.format(lang=language)
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_fuzzy_entries(language: str) -> None:
    fuzzy = [message.id for message in entries(language) if message.fuzzy]
    assert not fuzzy, f"fuzzy entries in {language}.po (review, then drop the flag): {fuzzy}"


# ---------------------------------------------------------------- 2. placeholders and commands


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_match_the_source(language: str) -> None:
    wrong = []
    for message in entries(language):
        expected = set().union(*(placeholders(text) for text in source_ids(message)))
        for form in forms_of(message):
            if not form:
                continue  # reported by the completeness test
            try:
                got = placeholders(form)
            except ValueError as error:  # a stray { or }
                wrong.append(f"{message.id!r}: {form!r} is not a valid format string ({error})")
                continue
            if got != expected:
                wrong.append(f"{message.id!r}: {form!r} has {sorted(got)}, not {sorted(expected)}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("language", LANGUAGES)
def test_slash_commands_are_kept(language: str) -> None:
    wrong = []
    for message in entries(language):
        commands = set().union(*(SLASH_COMMAND.findall(text) for text in source_ids(message)))
        for form in forms_of(message):
            lost = commands - set(SLASH_COMMAND.findall(form))
            if form and lost:
                wrong.append(f"{message.id!r}: {form!r} lost {sorted(lost)}")
    assert not wrong, "\n".join(wrong)


def test_consent_names_both_privacy_commands() -> None:
    assert {"/mydata", "/forget"} <= set(SLASH_COMMAND.findall(CONSENT_TEXT))


@pytest.mark.parametrize(
    ("language", "foreign_quotes"),
    [("ru", '“”„"'), ("az", "«»")],
)
def test_quotation_marks_are_consistent(language: str, foreign_quotes: str) -> None:
    # Russian uses «ёлочки»; Azerbaijani uses “...” throughout.
    wrong = [
        form
        for message in entries(language)
        for form in forms_of(message)
        if any(mark in form for mark in foreign_quotes)
    ]
    assert not wrong, f"{language}.po mixes quotation marks: {wrong}"


# ---------------------------------------------------------------- 3. plurals


@pytest.mark.parametrize("language", LANGUAGES)
def test_plural_forms_header_matches_cldr(language: str) -> None:
    assert catalogue(language).num_plurals == get_plural(language).num_plurals


@pytest.mark.parametrize("language", LANGUAGES)
def test_plural_entries_fill_every_form(language: str) -> None:
    cat = catalogue(language)
    plurals = [message for message in entries(language) if message.pluralizable]
    assert plurals, "the source has ngettext() strings; the catalogue should too"
    for message in plurals:
        assert len(message.string) == cat.num_plurals, message.id
        assert all(form.strip() for form in message.string), message.id


def test_russian_plural_forms_are_chosen_by_count() -> None:
    assert catalogue("ru").num_plurals == 3
    ru = translator("ru")
    plurals = [message for message in entries("ru") if message.pluralizable]
    assert plurals
    for message in plurals:
        singular, plural = message.id
        for n, index in RUSSIAN_FORM_FOR.items():
            assert ru.ngettext(singular, plural, n) == message.string[index], (message.id, n)


@pytest.mark.parametrize("msgid", ["Pick {n}, then press Done.", "Please pick at least {n}."])
def test_russian_count_words_agree_with_the_number(msgid: str) -> None:
    # "Pick {n}" counts options: 1 вариант, 3 варианта, 5 вариантов (three different forms).
    ru = translator("ru")
    forms = {n: ru.ngettext(msgid, msgid, n) for n in (1, 3, 5, 21)}
    assert len({forms[1], forms[3], forms[5]}) == 3, forms
    assert forms[21] == forms[1]
    assert ru.ngettext(msgid, msgid, 3).format(n=3) != msgid.format(n=3)


# ---------------------------------------------------------------- 4. runtime loading


@pytest.mark.parametrize("language", LANGUAGES)
def test_runtime_returns_the_catalogue_translation(language: str) -> None:
    runtime = translator(language)
    assert runtime("Yes") != "Yes"
    assert runtime("Choose your language") != "Choose your language"
    for message in entries(language):
        if message.pluralizable:
            singular, plural = message.id
            assert runtime.ngettext(singular, plural, 1) in message.string
        else:
            assert runtime(message.id) == message.string, message.id


def test_runtime_examples() -> None:
    for language in ("az", "ru"):
        assert translator(language)("Yes") == catalogue(language)["Yes"].string
        assert translator(language)("No") not in ("", "No", translator(language)("Yes"))


# Azerbaijan's economic regions under their official names.
OFFICIAL_REGION_NAMES = {
    "az": (
        "Bakı Abşeron-Xızı Dağlıq_Şirvan Gəncə-Daşkəsən Qarabağ Qazax-Tovuz Quba-Xaçmaz "
        "Lənkəran-Astara Mərkəzi_Aran Mil-Muğan Şirvan-Salyan Şəki-Zaqatala Şərqi_Zəngəzur "
        "Naxçıvan"
    ),
    "ru": (
        "Баку Абшерон-Хызы Горный_Ширван Гянджа-Дашкесан Карабах Газах-Товуз Губа-Хачмаз "
        "Ленкорань-Астара Центральный_Аран Миль-Муган Ширван-Сальян Шеки-Загатала "
        "Восточный_Зангезур Нахчыван"
    ),
}


@pytest.mark.parametrize("language", sorted(OFFICIAL_REGION_NAMES))
def test_region_names_are_official(language: str) -> None:
    official = [name.replace("_", " ") for name in OFFICIAL_REGION_NAMES[language].split()]
    assert [translator(language)(region) for region in DEFAULT_REGIONS] == official


@pytest.mark.parametrize("language", ["en", "xx", "de"])
def test_other_languages_fall_back_to_english(language: str) -> None:
    fallback = translator(language)
    assert fallback("Yes") == "Yes"
    assert fallback(CONSENT_TEXT) == CONSENT_TEXT
    assert fallback.ngettext("one {n}", "many {n}", 1) == "one {n}"
    assert fallback.ngettext("one {n}", "many {n}", 5) == "many {n}"


# ---------------------------------------------------------------- 5. button labels


@pytest.mark.parametrize("language", ["en", *LANGUAGES])
def test_button_labels_fit_on_a_phone(language: str) -> None:
    runtime = translator(language)
    too_long = {
        label: runtime(label) for label in BUTTON_LABELS if len(runtime(label)) > BUTTON_LABEL_LIMIT
    }
    assert not too_long, f"button labels over {BUTTON_LABEL_LIMIT} characters: {too_long}"


def test_button_labels_are_source_strings() -> None:
    # A renamed button must be renamed here too, or its length goes unchecked.
    missing = [label for label in BUTTON_LABELS if label not in source_messages()]
    assert not missing, missing
