"""SMS cost and transliteration: what a message costs in GSM-7 or UCS-2, and the cheaper form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from polls.sms_text import Encoding, SmsCost, cheaper, sms_cost, transliterate

SURVEYS = Path(__file__).resolve().parent.parent / "surveys"
EXTENSION_CHARS = ["{", "}", "[", "]", "~", "\\", "|", "^", "€", "\f"]

AZ_QUESTION = "Hansı Dayanıqlı İnkişaf Məqsədləri sizin üçün ən vacibdir?"
RU_QUESTION = "Какие цели устойчивого развития для вас важнее всего?"


def cost(
    encoding: Encoding, units: int, segments: int, left: int, first: str | None = None
) -> SmsCost:
    return SmsCost(encoding, units, segments, left, first)


GSM, UCS = Encoding.GSM7, Encoding.UCS2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", cost(GSM, 0, 0, 160), id="empty"),
        pytest.param("a", cost(GSM, 1, 1, 159), id="one-char"),
        pytest.param("a" * 160, cost(GSM, 160, 1, 0), id="en-160-one-segment"),
        pytest.param("a" * 161, cost(GSM, 161, 2, 145), id="en-161-two-segments"),
        pytest.param("a" * 306, cost(GSM, 306, 2, 0), id="en-306-two-full-segments"),
        pytest.param("a" * 307, cost(GSM, 307, 3, 152), id="en-307-three-segments"),
        pytest.param("Line one\nLine two", cost(GSM, 17, 1, 143), id="newline-is-gsm"),
        pytest.param("Çay və ya qəhvə?", cost(UCS, 16, 1, 54, "ə"), id="az-schwa"),
        pytest.param("Привет", cost(UCS, 6, 1, 64, "П"), id="ru-cyrillic"),
        pytest.param("ж" * 70, cost(UCS, 70, 1, 0, "ж"), id="ucs2-70-one-segment"),
        pytest.param("ж" * 71, cost(UCS, 71, 2, 63, "ж"), id="ucs2-71-two-segments"),
        pytest.param("ж" * 134, cost(UCS, 134, 2, 0, "ж"), id="ucs2-134-two-full-segments"),
        pytest.param("ж" * 135, cost(UCS, 135, 3, 66, "ж"), id="ucs2-135-three-segments"),
        pytest.param("a" * 69 + "’", cost(UCS, 70, 1, 0, "’"), id="curly-apostrophe-forces-ucs2"),
        pytest.param("\x1b", cost(UCS, 1, 1, 69, "\x1b"), id="bare-escape-not-sendable"),
    ],
)
def test_sms_cost(text: str, expected: SmsCost) -> None:
    assert sms_cost(text) == expected


@pytest.mark.parametrize("char", EXTENSION_CHARS, ids=repr)
def test_extension_chars_take_two_septets(char: str) -> None:
    assert sms_cost(char) == cost(GSM, 2, 1, 158)
    assert sms_cost("a" * 158 + char) == cost(GSM, 160, 1, 0)
    assert sms_cost("a" * 159 + char).segments == 2


@pytest.mark.parametrize(
    ("text", "segments", "left"),
    [
        # 152 + (€ would straddle) -> segment 2 starts with €: 2 + 10 = 12 used.
        pytest.param("a" * 152 + "€" + "a" * 10, 2, 141, id="escape-pair-moves-whole"),
        # 306 septets would fill two segments exactly, but the gap left behind the
        # moved € pushes the last "a" into a third segment.
        pytest.param("a" * 152 + "€" + "a" * 152, 3, 152, id="escape-pair-gap-costs-a-segment"),
        pytest.param("a" * 151 + "€" + "a" * 153, 2, 0, id="escape-pair-fits-exactly"),
    ],
)
def test_gsm7_escape_pair_is_never_split(text: str, segments: int, left: int) -> None:
    result = sms_cost(text)
    assert result.encoding is Encoding.GSM7
    assert result.units == len(text) + 1
    assert (result.segments, result.characters_left) == (segments, left)


@pytest.mark.parametrize(
    ("text", "units", "segments", "left"),
    [
        pytest.param("😀", 2, 1, 68, id="emoji-is-two-units"),
        pytest.param("😀" * 35, 70, 1, 0, id="35-emoji-fit-one-segment"),
        # 33 emoji (66 units) fill segment 1; the 34th does not fit in the last unit.
        pytest.param("😀" * 36, 72, 2, 61, id="36-emoji-leave-a-gap"),
        pytest.param(
            "ж" * 66 + "😀" + "ж" * 66, 134, 3, 66, id="surrogate-pair-gap-costs-a-segment"
        ),
        pytest.param("ж" * 65 + "😀" + "ж" * 67, 134, 2, 0, id="surrogate-pair-fits-exactly"),
    ],
)
def test_ucs2_surrogate_pair_is_never_split(
    text: str, units: int, segments: int, left: int
) -> None:
    result = sms_cost(text)
    assert result.encoding is Encoding.UCS2
    assert (result.units, result.segments, result.characters_left) == (units, segments, left)


@pytest.mark.parametrize(
    ("text", "first"),
    [
        pytest.param(AZ_QUESTION, "ı", id="question-dotless-i"),
        pytest.param("Gəncə", "ə", id="schwa"),
        pytest.param("Şəki", "Ş", id="capital-s-cedilla"),
        pytest.param("Ağdam", "ğ", id="g-breve"),
        pytest.param("İsmayıllı", "İ", id="capital-dotted-i"),
        pytest.param("Üç", "ç", id="small-c-cedilla"),
        pytest.param(RU_QUESTION, "К", id="russian"),
    ],
)
def test_azerbaijani_and_russian_force_ucs2(text: str, first: str) -> None:
    result = sms_cost(text)
    assert result.encoding is Encoding.UCS2
    assert result.first_non_gsm == first
    assert result.units == len(text)


@pytest.mark.parametrize("text", ["Ölk", "Üzüm", "ÇÖÜ", "öü"], ids=repr)
def test_gsm7_has_o_u_umlaut_and_capital_c_cedilla(text: str) -> None:
    assert sms_cost(text) == cost(GSM, len(text), 1, 160 - len(text))


AZ_LETTERS = [
    ("ə", "e"),
    ("Ə", "E"),
    ("ı", "i"),
    ("İ", "I"),
    ("ğ", "g"),
    ("Ğ", "G"),
    ("ş", "s"),
    ("Ş", "S"),
    ("ç", "c"),
    ("Ç", "Ç"),  # GSM-7 has it (0x09)
    ("ö", "ö"),
    ("ü", "ü"),
    ("Ö", "Ö"),
    ("Ü", "Ü"),
]


@pytest.mark.parametrize(("source", "expected"), AZ_LETTERS, ids=[a for a, _ in AZ_LETTERS])
def test_transliterate_azerbaijani_letters(source: str, expected: str) -> None:
    assert transliterate(source, "az") == expected
    assert sms_cost(expected).encoding is Encoding.GSM7


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("Gəncə-Daşkəsən", "Gence-Daskesen", id="region"),
        pytest.param("Naxçıvan", "Naxcivan", id="nakhchivan"),
        pytest.param("İSMAYILLI", "ISMAYILLI", id="all-caps"),
        pytest.param("Çox gözəl", "Çox gözel", id="capital-c-cedilla-kept"),
        pytest.param("s\u0327eki", "seki", id="decomposed-s-cedilla"),
        pytest.param("İsmayıllı".lower(), "ismayilli", id="dot-left-by-lowercasing"),
    ],
)
def test_transliterate_azerbaijani_words(source: str, expected: str) -> None:
    assert transliterate(source, "az") == expected


RU_LETTERS = [
    ("а", "a"),
    ("б", "b"),
    ("в", "v"),
    ("г", "g"),
    ("д", "d"),
    ("е", "e"),
    ("ё", "e"),
    ("ж", "zh"),
    ("з", "z"),
    ("и", "i"),
    ("й", "i"),
    ("к", "k"),
    ("л", "l"),
    ("м", "m"),
    ("н", "n"),
    ("о", "o"),
    ("п", "p"),
    ("р", "r"),
    ("с", "s"),
    ("т", "t"),
    ("у", "u"),
    ("ф", "f"),
    ("х", "kh"),
    ("ц", "ts"),
    ("ч", "ch"),
    ("ш", "sh"),
    ("щ", "shch"),
    ("ъ", ""),
    ("ы", "y"),
    ("ь", ""),
    ("э", "e"),
    ("ю", "yu"),
    ("я", "ya"),
]


@pytest.mark.parametrize(("source", "expected"), RU_LETTERS, ids=[a for a, _ in RU_LETTERS])
def test_transliterate_russian_letters(source: str, expected: str) -> None:
    assert transliterate(source, "ru") == expected
    capital = source.upper()
    assert transliterate(capital, "ru") == expected.capitalize()
    assert transliterate(capital * 2, "ru") == expected.upper() * 2


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("Школа", "Shkola", id="title-case"),
        pytest.param("ШКОЛА", "SHKOLA", id="all-caps"),
        pytest.param("ЩИ", "SHCHI", id="all-caps-short"),
        pytest.param("ЖКХ и МЧС", "ZHKKH i MCHS", id="all-caps-abbreviations"),
        pytest.param("ТОШ.", "TOSH.", id="all-caps-word-ending-in-digraph"),
        pytest.param("Ш. Юсупов", "Sh. Yusupov", id="initial"),
        pytest.param("Хачмаз, Гянджа", "Khachmaz, Gyandzha", id="place-names"),
        pytest.param("подъезд, Объявление", "podezd, Obyavlenie", id="hard-sign-dropped"),
        pytest.param("Ёлка и ёж", "Elka i ezh", id="yo"),
        pytest.param("Қазақстан, Өскемен", "Qazaqstan, Öskemen", id="kazakh-letters"),
    ],
)
def test_transliterate_russian_words(source: str, expected: str) -> None:
    assert transliterate(source, "ru") == expected
    assert sms_cost(expected).encoding is Encoding.GSM7


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("it’s ‘ok’", "it's 'ok'", id="single-quotes"),
        pytest.param("“ASAN xidmət”", '"ASAN xidmet"', id="double-quotes"),
        pytest.param("«ASAN»", '"ASAN"', id="guillemets"),
        pytest.param("2–3 — yes", "2-3 - yes", id="dashes"),
        pytest.param("Wait…", "Wait...", id="ellipsis"),
        pytest.param("10\u00a0km\u2009/\u202fh", "10 km / h", id="no-break-and-thin-spaces"),
        pytest.param("№ 5", "No. 5", id="numero"),
        pytest.param("a\u200bb\u00adc", "abc", id="invisible-characters"),
        pytest.param("a\tb", "a b", id="tab"),
        pytest.param("naïve Ê", "naive E", id="accents-outside-gsm7"),
        pytest.param("Café ñ Ä", "Café ñ Ä", id="gsm7-accents-kept"),
        pytest.param("{[€]}", "{[€]}", id="extension-chars-kept"),
    ],
)
def test_transliterate_punctuation(source: str, expected: str) -> None:
    assert transliterate(source, "en") == expected


def test_emoji_are_kept_and_keep_the_text_ucs2() -> None:
    text = transliterate("Спасибо! 😀", "ru")
    assert text == "Spasibo! 😀"
    assert sms_cost(text) == cost(UCS, 11, 1, 59, "😀")


@pytest.mark.parametrize("language", ["az", "ru", "en"])
def test_rules_apply_in_every_language(language: str) -> None:
    assert transliterate("Gəncə və Москва", language) == "Gence ve Moskva"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(
            AZ_QUESTION, "Hansi Dayaniqli Inkisaf Meqsedleri sizin ücün en vacibdir?", id="az"
        ),
        pytest.param(
            RU_QUESTION, "Kakie tseli ustoichivogo razvitiya dlya vas vazhnee vsego?", id="ru"
        ),
    ],
)
def test_real_questions_become_gsm7(source: str, expected: str) -> None:
    assert sms_cost(source).encoding is Encoding.UCS2
    assert transliterate(source, "az") == expected
    after = sms_cost(expected)
    assert after.encoding is Encoding.GSM7
    assert after.characters_left > sms_cost(source).characters_left


def load_surveys() -> list[dict[str, Any]]:
    surveys = [yaml.safe_load(path.read_text("utf-8")) for path in sorted(SURVEYS.glob("*.yaml"))]
    assert surveys, "no example surveys found"
    return surveys


@pytest.mark.parametrize("language", ["az", "ru"])
def test_long_survey_texts_need_fewer_segments(language: str) -> None:
    for survey in load_surveys():
        for key in ("intro", "thanks"):
            text = survey[key][language]
            transliterated, before, after = cheaper(text, language)
            assert after == sms_cost(transliterated)
            assert before.encoding is Encoding.UCS2
            assert after.encoding is Encoding.GSM7
            assert after.segments < before.segments, (key, text)


def test_cheaper_returns_text_and_both_costs() -> None:
    text = "Ümumi nəticələri burada paylaşacağıq."
    transliterated, before, after = cheaper(text, "az")
    assert transliterated == "Ümumi neticeleri burada paylasacagiq."
    assert before == sms_cost(text) == cost(UCS, 37, 1, 33, "ə")
    assert after == sms_cost(transliterated) == cost(GSM, 37, 1, 123)


def test_cheaper_on_plain_english_changes_nothing() -> None:
    text = "Which public service did you use most recently?"
    assert cheaper(text, "en") == (text, sms_cost(text), sms_cost(text))


def survey_texts(survey: dict[str, Any], language: str) -> list[str]:
    texts = [survey["title"][language]]
    texts += [survey[key][language] for key in ("intro", "thanks") if key in survey]
    for question in survey["questions"]:
        texts.append(question["text"][language])
        texts += [choice["label"][language] for choice in question.get("choices", [])]
        texts += [question[key][language] for key in ("min_label", "max_label") if key in question]
    return texts


@pytest.mark.parametrize("language", ["az", "ru"])
def test_every_survey_text_transliterates_to_gsm7(language: str) -> None:
    texts = [text for survey in load_surveys() for text in survey_texts(survey, language)]
    assert len(texts) > 50
    not_gsm = {
        text: result.first_non_gsm
        for text in texts
        if (result := sms_cost(transliterate(text, language))).encoding is not Encoding.GSM7
    }
    assert not_gsm == {}
