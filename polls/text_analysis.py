"""What people write about: top terms, two-word phrases and themes in free-text answers.

Staff read free text in Azerbaijani, Russian and English. This module turns it
into counts they can publish: the terms and phrases most answers mention, per
segment (region, age band, channel), and how many answers touch each theme of a
staff-edited keyword dictionary (``analysis/sdg_themes.yaml``). Answers stream
through a tally once; only counters are kept, so a month of answers never has
to sit in memory.

How words are compared, and why:

- Lowercasing follows the language. In Azerbaijani (and Turkish) ``I`` is ``ı``
  and ``İ`` is ``i``, so "İŞSİZLİK" is "işsizlik" (``str.lower`` would give
  "i̇şsi̇zli̇k"); in Russian ``ё`` is ``е``. Text is NFC first, stray accents
  (stress marks) go, and ``ǝ``/``ә``/``ä`` typed for ``ə`` become ``ə``.
- URLs, e-mail addresses and @handles are dropped (they point at people), as
  are the placeholders masking leaves for them ("[number]"), digits and emoji.
  Punctuation ends a phrase: no two-word phrase spans it.
- Azerbaijani is compared with its letters folded to plain Latin (ə→e, ı→i,
  ş→s, ç→c, ğ→g, ö→o, ü→u). People on basic phones or foreign keyboards type
  "issizlik" or "ISSIZLIK" for "işsizlik", and all of them are one term. The
  few words that fold alike (ac, hungry, and aç, open) are the price; what staff
  see is the form people wrote most often. Digraphs ("sh" for ş) are not
  folded: "ishal" is a real word.
- Endings are stripped so forms of one word group together: Snowball for Russian
  and English (школа, школы → школ). Snowball has Turkish but no Azerbaijani,
  and Turkish suffixes miss ə; the Azerbaijani stemmers on PyPI are unmaintained
  or broken (azstemmer needs ``pkg_resources``, stemmer-aze reads ``assets/``
  from the working directory). So Azerbaijani gets a light suffix stripper
  here (su, suyu, suyun, sular → su). It does not know the lexicon: "kəndə" (to
  the village) looks like kən+də and is counted apart from "kənd" in top terms.
  Theme keywords do not suffer from this: a keyword also matches itself plus
  any chain of endings.
- A word in Cyrillic inside an Azerbaijani or English answer is read as Russian
  ("kəndimizdə вода yoxdur").

Stop words and negations come from ``polls/text_data`` (one word a line; a
language is added by adding its two files). The Russian and English lists are
based on Snowball's, the Azerbaijani one is curated here. The lists on PyPI do
not fit: stopwords-iso drops "вода" and "работа", it and stop-words drop "work"
and "problem", and neither has Azerbaijani. Negations (no, нет, yoxdur) are never terms on
their own but may be half of a phrase: "нет воды" says more than "вода".

Privacy: a term or phrase is reported only when at least ``min_answers``
different answers (default :data:`polls.results.MIN_GROUP`, 5) in the segment
mention it, and a theme count only when it reaches that many. A rare word is
often a name, a village or a story only one person could tell; publishing it,
even as a count, can single that person out. Counts are of answers, not of
occurrences: "water water water" in one answer counts once. Give one text per
person and question, or the rule counts a person twice.
"""

from __future__ import annotations

import functools
import os
import re
import threading
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import snowballstemmer

from polls.answer_parsing import fold
from polls.errors import OutreachError
from polls.results import MIN_GROUP
from polls.survey_loader import (
    TITLE_LIMIT,
    DocumentChecker,
    SurveyFileError,
    SurveyProblem,
    closest,
    describe,
    join_path,
    listing,
    read_file_text,
    read_yaml,
)

__all__ = [
    "DEFAULT_TOP",
    "Keyword",
    "SegmentTerms",
    "SegmentThemes",
    "TermCount",
    "TermTally",
    "Theme",
    "ThemeDictionary",
    "ThemeFileError",
    "ThemeTally",
    "WordLists",
    "count_themes",
    "default_word_lists",
    "load_themes",
    "load_themes_text",
    "lowercase",
    "match_themes",
    "read_word_list",
    "term_key",
    "tokenize",
    "top_terms",
    "word_runs",
]

DEFAULT_TOP = 20
"""How many terms and phrases a segment reports unless asked otherwise."""

TURKIC_CASING = frozenset({"az", "tr"})
"""Languages whose I/İ lowercase to ı/i."""

_LATIN_FOLDED = frozenset({"az", "tr", "en"})
_SNOWBALL = {"ru": "russian", "en": "english"}
# Cyrillic words in answers in these languages are read as the mapped language.
_CYRILLIC_READ_AS = {"az": "ru", "en": "ru"}
_SHORTEST_TERM = 2

_URL = re.compile(r"(?:https?://|www\.)\S+|[\w-]+(?:\.[\w-]+)+/\S*", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_HANDLE = re.compile(r"(?<![\w@])@\w+")
# What masking leaves in place of contact details: "[number]", "[link]".
_PLACEHOLDER = re.compile(r"\[[a-z_]+\]")
_WORD = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*")
_STRAY_MARKS = re.compile(r"[\u0300-\u036f]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[a-zA-Z\u00c0-\u024f\u0259\u018f]")
_BOUNDARY = " | "
_TYPED_MARKS = str.maketrans({"’": "'", "ʼ": "'", "‘": "'", "`": "'", "´": "'", "‐": "-", "‑": "-"})
_SCHWA_LOOKALIKES = str.maketrans({"ǝ": "ə", "Ǝ": "Ə", "ä": "ə", "Ä": "Ə"})
_CYRILLIC_SCHWA = str.maketrans({"ә": "ə", "Ә": "Ə"})


# --------------------------------------------------------------------------- words


def lowercase(text: str, language: str) -> str:
    """Lowercase as ``language`` does: Azerbaijani I→ı and İ→i, Russian ё→е."""
    if language in TURKIC_CASING:
        text = text.replace("I", "ı").replace("İ", "i")
    text = text.casefold().replace("\u0307", "")  # İ outside Turkic casefolds to i + dot
    return text.replace("ё", "е") if language == "ru" else text


def _clean(text: str) -> str:
    """NFC text with links, addresses and handles turned into phrase boundaries."""
    text = unicodedata.normalize("NFC", text).translate(_TYPED_MARKS)
    text = _STRAY_MARKS.sub("", text)
    for pattern in (_URL, _EMAIL, _HANDLE, _PLACEHOLDER):
        text = pattern.sub(_BOUNDARY, text)
    return text


def _runs_as_typed(text: str) -> list[list[str]]:
    """Words as typed, in runs that anything but spaces and letters separates."""
    runs: list[list[str]] = []
    current: list[str] = []
    end = 0
    for match in _WORD.finditer(_clean(text)):
        if current and match.string[end : match.start()].strip():
            runs.append(current)
            current = []
        current.extend(match.group().split("-"))
        end = match.end()
    if current:
        runs.append(current)
    return runs


def word_runs(text: str, language: str) -> list[list[str]]:
    """The words of ``text``, lowercased for ``language``, in runs split at punctuation.

    Digits, emoji, URLs, e-mail addresses and @handles split runs too; a hyphen
    or apostrophe between letters does not ("интернет-магазин" is two words in
    one run, "don't" one word).
    """
    return [[_read_word(word, language).surface for word in run] for run in _runs_as_typed(text)]


def tokenize(text: str, language: str) -> list[str]:
    """The words of ``text`` in order, lowercased for ``language``."""
    return [word for run in word_runs(text, language) for word in run]


def term_key(word: str, language: str) -> str:
    """What forms of one word share: folded letters, endings stripped (suyu and su: su)."""
    return _read_word(word, language).key


class _Word(NamedTuple):
    language: str  # the rules it was read with (Russian for Cyrillic in az or en)
    surface: str  # lowercased as written
    shown: str  # what staff see: the surface, or the folded form when casing was a guess
    guessed: bool  # an "I" in Azerbaijani: ı, or İ typed without the dot?
    folded: str  # what stop words and keyword prefixes are compared with
    key: str  # what groups the forms of one word: folded, endings stripped


@functools.lru_cache(maxsize=65536)
def _read_word(word: str, language: str) -> _Word:
    if language == "az":
        word = word.translate(_SCHWA_LOOKALIKES)
        latin = word.translate(_CYRILLIC_SCHWA)  # a Cyrillic ә among Latin letters
        if not _CYRILLIC.search(latin):
            word = latin
    if language in _CYRILLIC_READ_AS and _CYRILLIC.search(word):
        language = _CYRILLIC_READ_AS[language]
    surface = lowercase(word, language)
    folded = fold(surface) if language in _LATIN_FOLDED else surface
    # "ISSIZLIK" on a phone without İ: Turkic casing gives "ıssızlık", a guess.
    guessed = language in TURKIC_CASING and "I" in word
    shown = folded if guessed else surface
    return _Word(language, surface, shown, guessed, folded, _stem(folded, language))


def _stem(word: str, language: str) -> str:
    if language == "az":
        return _strip_azerbaijani_endings(word)
    algorithm = _SNOWBALL.get(language)
    return word if algorithm is None else str(_snowball_stemmer(algorithm).stemWord(word))


_this_thread = threading.local()


def _snowball_stemmer(algorithm: str) -> Any:
    """This thread's stemmer: a Snowball stemmer keeps state while it works."""
    stemmers: dict[str, Any] | None = getattr(_this_thread, "stemmers", None)
    if stemmers is None:
        stemmers = _this_thread.stemmers = {}
    if algorithm not in stemmers:
        stemmers[algorithm] = snowballstemmer.stemmer(algorithm)
    return stemmers[algorithm]


# --------------------------------------------------------------------------- Azerbaijani endings

_VOWELS = frozenset("aeiou")  # after folding: ı→i, ə→e, ö→o, ü→u
# Inflectional endings in folded form, with the shortest stem each may leave.
# Derivational ones (-li, -siz, -lik) stay: işsizlik is not iş. The instrumental
# -la/-lə is left out: it is rare in answers, while an l-final word with a
# dative ending (yola, təhsilə) is common.
_AZ_ENDINGS: dict[str, int] = {
    **dict.fromkeys(("lar", "ler", "lari", "leri"), 2),  # plural, their
    **dict.fromkeys(("imiz", "umuz", "im", "um", "in", "un", "i", "u"), 2),  # possessive
    **dict.fromkeys(("miz", "muz", "si", "su"), 3),  # after a vowel; keeps təmiz, su whole
    **dict.fromkeys(("nin", "nun", "yin", "yun"), 2),  # genitive after a vowel
    **dict.fromkeys(("ni", "nu", "yi", "yu"), 2),  # accusative after a vowel
    **dict.fromkeys(("a", "e", "ya", "ye", "na", "ne"), 2),  # dative
    **dict.fromkeys(("da", "de", "nda", "nde"), 2),  # locative
    **dict.fromkeys(("dan", "den", "ndan", "nden"), 2),  # ablative
    **dict.fromkeys(("yla", "yle"), 2),  # with, after a vowel
    **dict.fromkeys(("dir", "dur"), 2),  # is: azdır, lazımdır
}
_AZ_ENDINGS_LONGEST_FIRST = sorted(_AZ_ENDINGS.items(), key=lambda item: -len(item[0]))
# Endings with a joining n follow the possessive ı/i/u/ü (kəndində), not any vowel.
_AFTER_POSSESSIVE = frozenset(e for e in _AZ_ENDINGS if e.startswith("n"))
# A keyword matches itself plus any chain of these ("kənd" matches "kəndimizdəki").
_AZ_CHAIN_ENDINGS = (*_AZ_ENDINGS, "ki", "la", "le")


def _strip_azerbaijani_endings(word: str) -> str:
    """A folded Azerbaijani word without its inflectional endings: suyunu → su.

    Longest ending first, again and again, never below the ending's shortest
    stem. At each step the alternations are evened out, so that all forms of a
    word meet: a k or y after a vowel goes (çörək, çörəyi → çörə; suy → su) and
    a final ğ is q (uşağı → uşaq).
    """
    stem = _even_out(word)
    for _ in range(6):
        for ending, shortest in _AZ_ENDINGS_LONGEST_FIRST:
            rest = len(stem) - len(ending)
            if (
                rest >= shortest
                and stem.endswith(ending)
                and (ending not in _AFTER_POSSESSIVE or stem[rest - 1] in "iu")
            ):
                stem = _even_out(stem[:rest])
                break
        else:
            break
    return stem


def _even_out(stem: str) -> str:
    if len(stem) > 2 and stem[-1] in "yk" and stem[-2] in _VOWELS:
        return stem[:-1]
    if len(stem) > 2 and stem[-1] == "g":
        return stem[:-1] + "q"
    return stem


@functools.lru_cache(maxsize=8192)
def _is_ending_chain(rest: str) -> bool:
    """Whether ``rest`` is nothing, or Azerbaijani endings one after another."""
    if not rest:
        return True
    return any(rest.startswith(e) and _is_ending_chain(rest[len(e) :]) for e in _AZ_CHAIN_ENDINGS)


def _azerbaijani_bases(folded: str) -> tuple[str, ...]:
    """The forms a word takes before an ending: çörək as çörək and çörəy, uşaq as uşağ."""
    if len(folded) > 2 and folded[-1] == "k" and folded[-2] in _VOWELS:
        return (folded, folded[:-1] + "y")
    if len(folded) > 2 and folded[-1] == "q":
        return (folded, folded[:-1] + "g")
    return (folded,)


# --------------------------------------------------------------------------- stop words


@dataclass(frozen=True)
class WordLists:
    """One language's stop words and negations, folded as words are compared."""

    stop_words: frozenset[str] = frozenset()
    negations: frozenset[str] = frozenset()


def read_word_list(path: str | os.PathLike[str], language: str) -> frozenset[str]:
    """A word list file (one a line, '#' comments) in the form words are compared in."""
    return _word_list(Path(path).read_text("utf-8").splitlines(), language)


def _word_list(lines: Iterable[str], language: str) -> frozenset[str]:
    words = (line.split("#", 1)[0].strip() for line in lines)
    return frozenset(_read_word(word, language).folded for word in words if word)


@functools.cache
def default_word_lists() -> Mapping[str, WordLists]:
    """The lists shipped in ``polls/text_data``, by language code."""
    folder = resources.files("polls") / "text_data"
    found: dict[str, WordLists] = {}
    for entry in folder.iterdir():
        name = entry.name
        if name.startswith("stop_words_") and name.endswith(".txt"):
            language = name[len("stop_words_") : -len(".txt")]
            stop = _word_list(entry.read_text("utf-8").splitlines(), language)
            negation_file = folder / f"negation_words_{language}.txt"
            negations = (
                _word_list(negation_file.read_text("utf-8").splitlines(), language)
                if negation_file.is_file()
                else frozenset()
            )
            found[language] = WordLists(stop - negations, negations)
    return found


class _Role(Enum):
    TERM = "term"
    NEGATION = "negation"
    STOP = "stop"


def _role(word: _Word, lists: Mapping[str, WordLists]) -> _Role:
    if len(word.folded) < _SHORTEST_TERM:
        return _Role.STOP
    known = lists.get(word.language)
    if known is None:
        return _Role.TERM
    if word.folded in known.negations:
        return _Role.NEGATION
    return _Role.STOP if word.folded in known.stop_words else _Role.TERM


def _answer_words(text: str, language: str) -> list[list[_Word]]:
    return [[_read_word(word, language) for word in run] for run in _runs_as_typed(text)]


# --------------------------------------------------------------------------- top terms

_TermKey = tuple[str, str]  # language, key
_PhraseKey = tuple[_TermKey, _TermKey]
_Key = TypeVar("_Key", _TermKey, _PhraseKey)
_Form = tuple[bool, str]  # whether the casing was a guess, the form shown


@dataclass(frozen=True)
class TermCount:
    """A term or two-word phrase and how many answers mention it."""

    text: str  # the form people wrote most often
    language: str
    answers: int


@dataclass(frozen=True)
class SegmentTerms:
    """One segment's most mentioned terms and phrases; rarer ones are never listed."""

    segment: str | None
    answers: int
    terms: tuple[TermCount, ...]
    phrases: tuple[TermCount, ...]


@dataclass
class _SegmentCounts:
    answers: int = 0
    terms: Counter[_TermKey] = field(default_factory=Counter)
    phrases: Counter[_PhraseKey] = field(default_factory=Counter)


class TermTally:
    """Counts, per segment, the answers that mention each term and two-word phrase.

    Feed it answer by answer (``add``), for instance while streaming rows from
    the database, then ask for ``results``. It keeps counters, never the texts.
    """

    def __init__(self, *, word_lists: Mapping[str, WordLists] | None = None) -> None:
        self._lists = default_word_lists() if word_lists is None else word_lists
        self._segments: dict[str | None, _SegmentCounts] = {}
        self._term_forms: defaultdict[_TermKey, Counter[_Form]] = defaultdict(Counter)
        self._phrase_forms: defaultdict[_PhraseKey, Counter[_Form]] = defaultdict(Counter)

    def add(self, text: str, language: str, segment: str | None = None) -> None:
        """Count one answer; blank answers count for nothing."""
        if not text.strip():
            return
        counts = self._segments.setdefault(segment, _SegmentCounts())
        counts.answers += 1
        terms: dict[_TermKey, _Form] = {}
        phrases: dict[_PhraseKey, _Form] = {}
        for run in _answer_words(text, language):
            previous: tuple[_Word, _Role] | None = None
            for word in run:
                role = _role(word, self._lists)
                if role is _Role.STOP:
                    previous = None
                    continue
                key = (word.language, word.key)
                if role is _Role.TERM:
                    terms.setdefault(key, (word.guessed, word.shown))
                if previous is not None and _Role.TERM in (role, previous[1]):
                    before = previous[0]
                    phrase = ((before.language, before.key), key)
                    shown = f"{before.shown} {word.shown}"
                    phrases.setdefault(phrase, (before.guessed or word.guessed, shown))
                previous = (word, role)
        counts.terms.update(terms.keys())
        counts.phrases.update(phrases.keys())
        for term, form in terms.items():
            self._term_forms[term][form] += 1
        for phrase, form in phrases.items():
            self._phrase_forms[phrase][form] += 1

    def results(
        self, *, limit: int = DEFAULT_TOP, min_answers: int = MIN_GROUP
    ) -> dict[str | None, SegmentTerms]:
        """Each segment's top ``limit`` terms and phrases that ``min_answers`` answers mention.

        Most mentioned first; ties in alphabetical order.
        """
        if min_answers < 1:
            raise ValueError(f"min_answers must be at least 1, got {min_answers}")
        return {
            segment: SegmentTerms(
                segment=segment,
                answers=counts.answers,
                terms=_top(counts.terms, self._term_forms, limit, min_answers),
                phrases=_top(counts.phrases, self._phrase_forms, limit, min_answers),
            )
            for segment, counts in self._segments.items()
        }


def _top(
    counts: Counter[_Key], forms: Mapping[_Key, Counter[_Form]], limit: int, min_answers: int
) -> tuple[TermCount, ...]:
    found = [
        TermCount(_most_written(forms[key]), _language_of(key), answers)
        for key, answers in counts.items()
        if answers >= min_answers
    ]
    found.sort(key=lambda term: (-term.answers, term.text, term.language))
    return tuple(found[:limit])


def _most_written(forms: Counter[_Form]) -> str:
    """The form written most often; a tie goes to the one with the language's own letters.

    A form whose casing was a guess is shown only when there is no other.
    """

    def rank(item: tuple[_Form, int]) -> tuple[bool, int, bool, str]:
        (guessed, shown), count = item
        return guessed, -count, shown.isascii(), shown

    return min(forms.items(), key=rank)[0][1]


def _language_of(key: _TermKey | _PhraseKey) -> str:
    first = key[0]
    return first if isinstance(first, str) else first[0]


def top_terms(
    answers: Iterable[tuple[str, str, str | None]],
    *,
    limit: int = DEFAULT_TOP,
    min_answers: int = MIN_GROUP,
    word_lists: Mapping[str, WordLists] | None = None,
) -> dict[str | None, SegmentTerms]:
    """Top terms and two-word phrases per segment of ``(text, language, segment)`` answers.

    ``segment`` is a region, age band, channel... or None when not segmented.
    A term is listed only when ``min_answers`` answers in its segment mention it.
    """
    tally = TermTally(word_lists=word_lists)
    for text, language, segment in answers:
        tally.add(text, language, segment)
    return tally.results(limit=limit, min_answers=min_answers)


# --------------------------------------------------------------------------- themes

THEME_ID = re.compile(r"[a-z][a-z0-9_]{0,39}")
_THEME_ID_RULE = "use 1 to 40 lowercase latin letters, digits or '_', starting with a letter"
_THEMES_FIELDS = ("languages", "themes")
_THEME_FIELDS = ("goal", "name", "keywords")
_SHORTEST_PREFIX = 2
_SDG_GOALS = range(1, 18)
_ALLOWED_IN_KEYWORDS = re.compile(r"[^\W\d_]|[\s'*-]")


class _PatternWord(NamedTuple):
    folded: str
    key: str
    prefix: bool  # written with a final *: matches words that start with ``folded``
    bases: tuple[str, ...]  # Azerbaijani: the forms that take endings (uşaq, uşağ)


@dataclass(frozen=True)
class Keyword:
    """A word or phrase of a theme, as staff wrote it and as it is matched."""

    text: str
    language: str
    words: tuple[_PatternWord, ...] = field(repr=False)


@dataclass(frozen=True)
class Theme:
    """A theme of the dictionary: its SDG, its name and its keywords by language."""

    id: str
    goal: int | None
    name: Mapping[str, str]
    keywords: Mapping[str, tuple[Keyword, ...]]


class _Candidate(NamedTuple):
    theme: str
    keyword: Keyword


@dataclass(frozen=True)
class ThemeDictionary:
    """Themes and their keywords, indexed so an answer is matched in one pass."""

    languages: tuple[str, ...]
    themes: tuple[Theme, ...]
    word_lists: Mapping[str, WordLists] = field(
        default_factory=default_word_lists, repr=False, compare=False
    )
    _by_key: Mapping[tuple[str, str], tuple[_Candidate, ...]] = field(
        init=False, repr=False, compare=False
    )
    _by_start: Mapping[tuple[str, str], tuple[_Candidate, ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        by_key: dict[tuple[str, str], list[_Candidate]] = {}
        by_start: dict[tuple[str, str], list[_Candidate]] = {}
        for theme in self.themes:
            for language, keywords in theme.keywords.items():
                for keyword in keywords:
                    first = keyword.words[0]
                    candidate = _Candidate(theme.id, keyword)
                    if first.prefix:
                        by_start.setdefault((language, first.folded), []).append(candidate)
                        continue
                    by_key.setdefault((language, first.key), []).append(candidate)
                    for base in first.bases:
                        by_start.setdefault((language, base), []).append(candidate)
        object.__setattr__(self, "_by_key", {k: tuple(v) for k, v in by_key.items()})
        object.__setattr__(self, "_by_start", {k: tuple(v) for k, v in by_start.items()})

    def _is_common(self, word: _Word) -> bool:
        """Whether ``word`` is a stop word or negation: it matches only itself."""
        lists = self.word_lists.get(word.language)
        return lists is not None and (
            word.folded in lists.stop_words or word.folded in lists.negations
        )

    def _candidates(self, word: _Word) -> list[_Candidate]:
        """Keywords whose first word may be ``word`` (checked in full by the caller)."""
        found = list(self._by_key.get((word.language, word.key), ()))
        for end in range(_SHORTEST_PREFIX, len(word.folded) + 1):
            found.extend(self._by_start.get((word.language, word.folded[:end]), ()))
        return found


def _word_matches(word: _Word, pattern: _PatternWord, themes: ThemeDictionary) -> bool:
    if word.folded == pattern.folded:
        return True
    if themes._is_common(word):  # "isə" (however) is not a form of "iş" (work)
        return False
    if pattern.prefix:
        return word.folded.startswith(pattern.folded)
    if word.key == pattern.key:
        return True
    return any(
        word.folded.startswith(base) and _is_ending_chain(word.folded[len(base) :])
        for base in pattern.bases
    )


def _keyword_at(
    run: Sequence[_Word], start: int, keyword: Keyword, themes: ThemeDictionary
) -> bool:
    if start + len(keyword.words) > len(run):
        return False
    return all(
        run[start + offset].language == keyword.language
        and _word_matches(run[start + offset], pattern, themes)
        for offset, pattern in enumerate(keyword.words)
    )


def match_themes(text: str, language: str, themes: ThemeDictionary) -> tuple[str, ...]:
    """The ids of the themes ``text`` mentions, in dictionary order.

    A single-word keyword matches the word in any of its forms (su: suyu,
    sular; вода: воды; water: waters), ``word*`` any word starting so, and a
    phrase its words in a row, not across punctuation.
    """
    found: set[str] = set()
    for run in _answer_words(text, language):
        for start, word in enumerate(run):
            for theme, keyword in themes._candidates(word):
                if theme not in found and _keyword_at(run, start, keyword, themes):
                    found.add(theme)
    return tuple(theme.id for theme in themes.themes if theme.id in found)


@dataclass(frozen=True)
class SegmentThemes:
    """One segment's answers per theme; themes fewer than ``min_answers`` mention are left out.

    ``unmatched_language`` counts answers in languages the dictionary has no
    keywords for: they could not count for any theme.
    """

    segment: str | None
    answers: int
    themes: Mapping[str, int]
    unmatched_language: int = 0


@dataclass
class _ThemeCounts:
    answers: int = 0
    unmatched_language: int = 0
    themes: Counter[str] = field(default_factory=Counter)


class ThemeTally:
    """Counts, per segment, the answers that mention each theme (one may count for several)."""

    def __init__(self, themes: ThemeDictionary) -> None:
        self.themes = themes
        self._segments: dict[str | None, _ThemeCounts] = {}

    def add(self, text: str, language: str, segment: str | None = None) -> None:
        """Count one answer; blank answers count for nothing."""
        if not text.strip():
            return
        counts = self._segments.setdefault(segment, _ThemeCounts())
        counts.answers += 1
        if language not in self.themes.languages:
            counts.unmatched_language += 1
        counts.themes.update(match_themes(text, language, self.themes))

    def results(self, *, min_answers: int = MIN_GROUP) -> dict[str | None, SegmentThemes]:
        """Each segment's theme counts of at least ``min_answers``, in dictionary order."""
        if min_answers < 1:
            raise ValueError(f"min_answers must be at least 1, got {min_answers}")
        order = [theme.id for theme in self.themes.themes]
        return {
            segment: SegmentThemes(
                segment=segment,
                answers=counts.answers,
                themes={
                    theme: counts.themes[theme]
                    for theme in order
                    if counts.themes[theme] >= min_answers
                },
                unmatched_language=counts.unmatched_language,
            )
            for segment, counts in self._segments.items()
        }


def count_themes(
    answers: Iterable[tuple[str, str, str | None]],
    themes: ThemeDictionary,
    *,
    min_answers: int = MIN_GROUP,
) -> dict[str | None, SegmentThemes]:
    """Per segment of ``(text, language, segment)`` answers, how many mention each theme.

    A count below ``min_answers`` is left out rather than shown, as is zero, so
    a missing theme says "fewer than min_answers", never "one person".
    """
    tally = ThemeTally(themes)
    for text, language, segment in answers:
        tally.add(text, language, segment)
    return tally.results(min_answers=min_answers)


# --------------------------------------------------------------------------- theme files


class ThemeFileError(OutreachError):
    """A theme dictionary that cannot be used; ``problems`` lists everything wrong with it."""

    def __init__(self, problems: Iterable[SurveyProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.problems,))


def load_themes(
    path: str | os.PathLike[str], *, word_lists: Mapping[str, WordLists] | None = None
) -> ThemeDictionary:
    """Read and check a UTF-8 theme dictionary such as ``analysis/sdg_themes.yaml``.

    Raises :class:`ThemeFileError` listing every problem, each with its line.
    """
    source = os.fspath(path)
    try:
        text = read_file_text(source)
    except SurveyFileError as exc:
        raise ThemeFileError(exc.problems) from exc
    return load_themes_text(text, source=source, word_lists=word_lists)


def load_themes_text(
    text: str, *, source: str, word_lists: Mapping[str, WordLists] | None = None
) -> ThemeDictionary:
    """Parse and check theme dictionary YAML; ``source`` names it in problems.

    ``word_lists`` (default: the shipped ones) tell which keywords are stop words.
    """
    try:
        data, lines, problems = read_yaml(text, source, what="theme dictionary")
    except SurveyFileError as exc:
        raise ThemeFileError(exc.problems) from exc
    lists = default_word_lists() if word_lists is None else word_lists
    checker = _ThemeChecker(source, lines, problems, lists)
    dictionary = checker.dictionary(data)
    if checker.problems or dictionary is None:
        raise ThemeFileError(sorted(checker.problems, key=lambda p: p.line or 0))
    return dictionary


class _ThemeChecker(DocumentChecker):
    def __init__(
        self,
        source: str,
        lines: Mapping[str, int] | None,
        problems: list[SurveyProblem],
        word_lists: Mapping[str, WordLists],
    ) -> None:
        super().__init__(source, lines, problems)
        self.word_lists = word_lists

    def dictionary(self, data: object) -> ThemeDictionary | None:
        if data is None:
            self.problem("", "the file is empty: write 'languages:' and 'themes:'")
            return None
        doc = self.mapping(
            data, "", "a mapping of fields", "'languages: [az, ru, en]' and 'themes:' below it"
        )
        if doc is None:
            return None
        self.keys(doc, "", _THEMES_FIELDS)
        self.languages = languages = self.survey_languages(doc)
        raw = self.get(doc, "themes", "", "add the themes, each with its keywords per language")
        if raw is None:
            return None
        entries = self.mapping(
            raw, "themes", "a mapping of theme ids", "'water:' with 'keywords:' below it"
        )
        if entries is None:
            return None
        if not entries:
            self.problem("themes", "there are no themes: add at least one")
            return None
        themes = [self.theme(theme_id, value) for theme_id, value in entries.items()]
        if self.problems or languages is None:
            return None
        return ThemeDictionary(
            languages, tuple(theme for theme in themes if theme is not None), self.word_lists
        )

    def theme(self, theme_id: object, value: object) -> Theme | None:
        path = join_path("themes", theme_id)
        if not isinstance(theme_id, str) or not THEME_ID.fullmatch(theme_id):
            self.problem(path, f"invalid theme id {describe(theme_id)}: {_THEME_ID_RULE}")
            return None
        spec = self.mapping(
            value, path, "a theme (a mapping with keywords)", "'keywords:' with a list per language"
        )
        if spec is None:
            return None
        self.keys(spec, path, _THEME_FIELDS)
        goal = self.field(spec, "goal", path, self.goal)
        name = self.field(spec, "name", path, lambda v, p: self.localized(v, p, TITLE_LIMIT))
        keywords = self.field(
            spec,
            "keywords",
            path,
            self.keywords,
            "add keywords, a list per language, for example az: [su, içməli su]",
        )
        if keywords is None:
            return None
        return Theme(theme_id, goal, name or {}, keywords)

    def goal(self, value: object, path: str) -> int | None:
        goal = self.whole(value, path)
        if goal is not None and goal not in _SDG_GOALS:
            self.problem(
                path, f"goal is an SDG number, 1 to 17, found {goal}: use the goal's number"
            )
            return None
        return goal

    def keywords(self, value: object, path: str) -> dict[str, tuple[Keyword, ...]] | None:
        by_language = self.mapping(
            value, path, "keywords per language", "az: [su, içməli su] with ru: and en: below it"
        )
        if by_language is None:
            return None
        result: dict[str, tuple[Keyword, ...]] = {}
        for language, items in by_language.items():
            entry = join_path(path, language)
            if not isinstance(language, str):
                self.problem(entry, f"expected a language code, found {describe(language)}")
            elif self.languages is not None and language not in self.languages:
                fix = closest(language, self.languages)
                hint = f"did you mean {fix!r}? " if fix else ""
                self.problem(
                    entry,
                    f"{language!r} is not in languages ({listing(self.languages)}): "
                    f"{hint}add it to languages or remove these keywords",
                )
            else:
                checked = self.keyword_list(items, entry, language)
                if checked is not None:
                    result[language] = checked
        for language in self.languages or ():
            if language not in by_language:
                self.problem(
                    join_path(path, language),
                    f"no {language!r} keywords: add a list, or no answer in that language "
                    "can count for this theme",
                )
        return result

    def keyword_list(self, value: object, path: str, language: str) -> tuple[Keyword, ...] | None:
        items = self.items(value, path, "[su, 'içməli su', kanalizasiya*]")
        if items is None:
            return None
        if not items:
            self.problem(
                path,
                "the list is empty: add keywords, or no answer in this language can count "
                "for this theme",
            )
            return None
        keywords: list[Keyword] = []
        seen: dict[tuple[_PatternWord, ...], int] = {}
        for index, item in enumerate(items):
            item_path = f"{path}[{index}]"
            keyword = self.keyword(item, item_path, language)
            if keyword is None:
                continue
            if keyword.words in seen:
                self.problem(
                    item_path,
                    f"{keyword.text!r} matches the same as {path}[{seen[keyword.words]}] "
                    f"({items[seen[keyword.words]]!r}): remove one",
                )
                continue
            seen[keyword.words] = index
            keywords.append(keyword)
        return tuple(keywords)

    def keyword(self, value: object, path: str, language: str) -> Keyword | None:
        text = self.text(value, path)
        if text is None:
            return None
        written = unicodedata.normalize("NFC", text.strip()).translate(_TYPED_MARKS)
        if not written:
            self.problem(path, "empty keyword: write a word or phrase, or remove the entry")
            return None
        other = sorted({c for c in written if not _ALLOWED_IN_KEYWORDS.fullmatch(c)})
        if other:
            self.problem(path, _unmatchable(written, other))
            return None
        script = self.script_problem(written, language)
        if script:
            self.problem(path, script)
            return None
        parts = written.split()
        if any("*" in part[:-1] for part in parts) or any(part.strip("*") == "" for part in parts):
            self.problem(
                path,
                f"in {written!r} a * stands in the wrong place: it may only end a word "
                "(su* matches every word that starts with su)",
            )
            return None
        words: list[_PatternWord] = []
        for part in parts:
            # Read as answers are: "ayrı-seçkilik" is two words, as in an answer.
            pieces = [word for run in _runs_as_typed(part.rstrip("*")) for word in run]
            for piece in pieces:
                read = _read_word(piece, language)
                bases = _azerbaijani_bases(read.folded) if read.language == "az" else ()
                words.append(_PatternWord(read.folded, read.key, False, bases))
            if part.endswith("*") and pieces:
                last = words[-1]
                if not self.prefix_fits(last.folded, written, path, language):
                    return None
                words[-1] = last._replace(prefix=True, bases=())
        if not words:
            self.problem(path, f"{written!r} has no letters: write a word or phrase")
            return None
        lists = self.word_lists.get(language, WordLists())
        common = lists.stop_words | lists.negations
        if all(not w.prefix and w.folded in common for w in words):
            self.problem(
                path,
                f"{written!r} is a stop word or negation of {language!r}, found in most answers: "
                "use a word that says what the answer is about",
            )
            return None
        return Keyword(written, language, tuple(words))

    def prefix_fits(self, prefix: str, written: str, path: str, language: str) -> bool:
        if len(prefix) < _SHORTEST_PREFIX:
            self.problem(
                path,
                f"in {written!r} the part before * is too short: "
                f"write at least {_SHORTEST_PREFIX} letters",
            )
            return False
        lists = self.word_lists.get(language, WordLists())
        common = sorted(w for w in lists.stop_words | lists.negations if w.startswith(prefix))
        if common:
            self.problem(
                path,
                f"{written!r} also matches the stop word {common[0]!r}, found in most answers: "
                "make the part before * longer, or list the words in full",
            )
            return False
        return True

    def script_problem(self, written: str, language: str) -> str:
        if language in _CYRILLIC_READ_AS and _CYRILLIC.search(written):
            return (
                f"{written!r} is written in Cyrillic letters but listed under {language!r}: "
                f"move it to the {_CYRILLIC_READ_AS[language]!r} list"
            )
        if language == "ru" and _LATIN.search(written):
            return (
                f"{written!r} is written in Latin letters but listed under 'ru': "
                "write it in Cyrillic, or move it to the az or en list"
            )
        return ""


def _unmatchable(written: str, characters: Sequence[str]) -> str:
    """Why a keyword with digits or punctuation could never match, and what to write."""
    shown = " ".join(characters)
    if all(c.isdigit() for c in characters):
        letters = " ".join(re.sub(r"\d+", " ", written).replace("-", " ").split())
        return (
            f"{written!r} has digits ({shown}), and answers are matched on letters only: "
            f"write {letters + '*' if letters else 'a word'!r} instead"
        )
    parts = [" ".join(part.split()) for part in re.split(r"[^\w\s'*-]+", written)]
    parts = [part for part in parts if part]
    if len(parts) > 1:
        fix = "list " + " and ".join(repr(part) for part in parts) + " as separate keywords"
    elif parts:
        fix = f"write {parts[0]!r}"
    else:
        fix = "write a word"
    return (
        f"{written!r} has punctuation or symbols ({shown}) that answers are never matched on "
        f"(a phrase in an answer stops at punctuation): {fix}"
    )
