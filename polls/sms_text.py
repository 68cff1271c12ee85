"""What an SMS costs, and how to make it cheaper while it stays readable.

One letter outside the GSM 03.38 alphabet (Azerbaijani ə ş ı ğ, any Cyrillic, an
emoji, even a curly quote pasted from a word processor) switches the whole message
to UCS-2: 70 characters a segment instead of 160, so an Azerbaijani or Russian SMS
costs about twice as much. :func:`sms_cost` says what a text costs and which
character is to blame; :func:`transliterate` rewrites it the way people already
write SMS (``Hansi``, ``Kakie tseli``) so staff can choose the cheaper version.

GSM-7 membership comes from the maintained ``gsm0338`` codec, not a table of our own.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import gsm0338  # noqa: F401  (importing it registers the "gsm03.38" codec)

__all__ = ["Encoding", "SmsCost", "cheaper", "sms_cost", "transliterate"]

_CODEC = "gsm03.38"
_ESCAPE = "\x1b"

GSM7_SINGLE = 160
"""Septets in a message that fits one segment."""
GSM7_SEGMENT = 153
"""Septets per segment of a concatenated message (the rest is the UDH header)."""
UCS2_SINGLE = 70
"""UTF-16 code units in a message that fits one segment."""
UCS2_SEGMENT = 67
"""UTF-16 code units per segment of a concatenated message."""


class Encoding(StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


@dataclass(frozen=True)
class SmsCost:
    """The price of one text as an SMS.

    ``units`` are septets for GSM-7 (an extension-table character such as ``€`` or
    ``[`` takes 2) and UTF-16 code units for UCS-2 (an emoji takes 2).
    ``characters_left`` is how many units still fit in the last segment before
    another one is needed (a full first segment for empty text).
    ``first_non_gsm`` names the character that forced UCS-2, for messages such as
    "ə forces UCS-2".
    """

    encoding: Encoding
    units: int
    segments: int
    characters_left: int
    first_non_gsm: str | None


@lru_cache(maxsize=4096)
def _septets(char: str) -> int | None:
    """Septets ``char`` takes in GSM-7, or None when GSM-7 cannot carry it.

    A bare ESC is refused although the codec maps it: the phone would read it as
    the start of an extension pair and swallow the next character.
    """
    if char == _ESCAPE:
        return None
    try:
        return len(char.encode(_CODEC))
    except UnicodeEncodeError:
        return None


def _utf16_units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def _cost(encoding: Encoding, sizes: list[int], first_non_gsm: str | None) -> SmsCost:
    """Split into segments the way carriers do: a multi-unit character is never cut.

    An escape pair (GSM-7) or a surrogate pair (UCS-2) that would straddle a
    segment boundary moves whole into the next segment, leaving a gap behind.
    """
    single, per_segment = (
        (GSM7_SINGLE, GSM7_SEGMENT) if encoding is Encoding.GSM7 else (UCS2_SINGLE, UCS2_SEGMENT)
    )
    units = sum(sizes)
    if units == 0:
        return SmsCost(encoding, 0, 0, single, first_non_gsm)
    if units <= single:
        return SmsCost(encoding, units, 1, single - units, first_non_gsm)
    segments, used = 1, 0
    for size in sizes:
        if used + size > per_segment:
            segments += 1
            used = 0
        used += size
    return SmsCost(encoding, units, segments, per_segment - used, first_non_gsm)


def sms_cost(text: str) -> SmsCost:
    """Encoding, size and segment count of ``text`` sent as it is (no normalisation)."""
    septets: list[int] = []
    for char in text:
        size = _septets(char)
        if size is None:
            return _cost(Encoding.UCS2, [_utf16_units(c) for c in text], char)
        septets.append(size)
    return _cost(Encoding.GSM7, septets, None)


# No-break, thin, en/em and ideographic spaces, as pasted from documents.
_SPACES = "\u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u202f\u205f\u3000"

_PUNCTUATION: dict[str, str] = {
    # Quotes from word processors and Russian/Azerbaijani typography.
    "\u2018": "'",  # ‘
    "\u2019": "'",  # ’
    "\u201a": "'",  # ‚
    "\u201b": "'",  # ‛
    "\u2032": "'",  # ′
    "\u2039": "'",  # ‹
    "\u203a": "'",  # ›
    "`": "'",
    "\u00b4": "'",  # ´
    "\u201c": '"',  # “
    "\u201d": '"',  # ”
    "\u201e": '"',  # „
    "\u201f": '"',  # ‟
    "\u2033": '"',  # ″
    "\u00ab": '"',  # «
    "\u00bb": '"',  # »
    # Dashes and hyphens.
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",  # –
    "\u2014": "-",  # —
    "\u2015": "-",
    "\u2212": "-",  # minus sign
    "\u2022": "-",  # bullet
    "\u2026": "...",  # …
    "\u2116": "No.",  # №
    "\t": " ",
    "\u2028": "\n",
    "\u2029": "\n",
    # Invisible characters that only cost money.
    "\u00ad": "",  # soft hyphen
    "\u200b": "",  # zero-width space
    "\u2060": "",  # word joiner
    "\ufeff": "",  # byte-order mark / zero-width no-break space
} | dict.fromkeys(_SPACES, " ")

# Azerbaijani letters outside GSM-7 (Turkish shares them). Ç is GSM-7 and passes
# through untouched; its entry only matters if the codec ever stopped carrying it.
_AZERBAIJANI: dict[str, str] = {
    "ə": "e",
    "Ə": "E",
    "ı": "i",
    "İ": "I",
    "ğ": "g",
    "Ğ": "G",
    "ş": "s",
    "Ş": "S",
    "ç": "c",
    "Ç": "C",
}

# Russian as in the passport standard (ICAO Doc 9303 / GOST R 52535.1-2006) with the
# everyday SMS "translit" readings yu/ya and silent signs; then the few letters of
# Ukrainian, Belarusian and Kazakh that Russian lacks.
_CYRILLIC: dict[str, str] = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "e",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "i",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
    "і": "i",
    "ї": "yi",
    "є": "ye",
    "ґ": "g",
    "ў": "u",
    "ә": "ä",
    "ғ": "gh",
    "қ": "q",
    "ң": "ng",
    "ө": "ö",
    "ұ": "u",
    "ү": "ü",
    "һ": "h",
}


def _cyrillic(text: str, index: int) -> str:
    """Latin for the Cyrillic letter at ``index``, cased to fit its word.

    A capital that becomes several letters is title-cased (Ш -> Sh) unless its word
    is written in capitals (ШКОЛА -> SHKOLA): the next character is a capital, or
    the word ends here and the previous character is a capital.
    """
    char = text[index]
    latin = _CYRILLIC[char.lower()]
    if not char.isupper():
        return latin
    if len(latin) <= 1:
        return latin.upper()
    after = text[index + 1] if index + 1 < len(text) else ""
    before = text[index - 1] if index > 0 else ""
    if after.isupper() or (not after.isalpha() and before.isupper()):
        return latin.upper()
    return latin[0].upper() + latin[1:]


def _without_marks(char: str) -> str | None:
    """The GSM-7 letters under ``char``'s accents (Ê -> E, ﬁ -> fi), if there are any."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    if bare and bare != char and all(_septets(c) is not None for c in bare):
        return bare
    return None


def transliterate(text: str, language: str) -> str:
    """Rewrite ``text`` to fit GSM-7 where possible, readable for a ``language`` speaker.

    The rules follow the script, not ``language``: Azerbaijani place names and
    Russian words turn up in texts of every language, so ə -> e and ш -> sh apply
    to all of them. ``language`` (a code such as ``az``, ``ru``, ``en``) is where a
    language with its own romanisation would get its own table.

    Characters GSM-7 already has (ö ü Ç é ...) stay; typographic punctuation becomes
    ASCII; what has no sensible GSM-7 form (emoji, Arabic, Chinese) is kept, so the
    text stays UCS-2 and :func:`sms_cost` says so.
    """
    del language  # every current rule is script-based; see the docstring
    text = unicodedata.normalize("NFC", text)
    out: list[str] = []
    last_is_gsm = False
    for index, char in enumerate(text):
        replacement: str | None
        if _septets(char) is not None:
            replacement = char
        elif char in _PUNCTUATION:
            replacement = _PUNCTUATION[char]
        elif char in _AZERBAIJANI:
            replacement = _AZERBAIJANI[char]
        elif unicodedata.combining(char) and last_is_gsm:
            # A stray accent NFC could not join, e.g. the dot "İ".lower() leaves on i.
            replacement = ""
        elif char.lower() in _CYRILLIC:
            replacement = _cyrillic(text, index)
        else:
            replacement = _without_marks(char)
        if replacement is None:
            out.append(char)
            last_is_gsm = False
        else:
            out.append(replacement)
            if replacement:
                last_is_gsm = _septets(replacement[-1]) is not None
    return "".join(out)


def cheaper(text: str, language: str) -> tuple[str, SmsCost, SmsCost]:
    """``text`` transliterated, with its cost before and after.

    Both costs are returned so the caller can decide: when the transliteration needs
    no fewer segments (a short text, or one an emoji keeps in UCS-2), the original
    is as cheap and reads better.
    """
    transliterated = transliterate(text, language)
    return transliterated, sms_cost(text), sms_cost(transliterated)
