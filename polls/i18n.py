"""Translation catalogues: the service's own words in every configured language.

Source strings are English and marked with ``_()`` (or ``N_()`` where they are
only collected, to be translated later). Catalogues are gettext ``.po`` files in
``polls/locales/``, read with Babel at first use, so there is no compile step
and translators can use any PO editor. Extract new strings with
``pybabel extract -F babel.cfg -k N_ -o polls/locales/messages.pot .`` and merge
them with ``pybabel update -i polls/locales/messages.pot -d polls/locales -D messages``
(see the README).
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from importlib import resources

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

SOURCE_LANGUAGE = "en"


def N_(message: str) -> str:
    """Mark a string for extraction without translating it here."""
    return message


class Translator:
    """The service's words in one language, falling back to English."""

    def __init__(self, language: str, catalogue: gettext.NullTranslations) -> None:
        self.language = language
        self._catalogue = catalogue

    def gettext(self, message: str) -> str:
        return self._catalogue.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._catalogue.ngettext(singular, plural, n)

    __call__ = gettext


@cache
def translator(language: str) -> Translator:
    """The translator for ``language`` (English where no catalogue exists)."""
    catalogue: gettext.NullTranslations = gettext.NullTranslations()
    po_file = resources.files("polls") / "locales" / f"{language}.po"
    if language != SOURCE_LANGUAGE and po_file.is_file():
        with po_file.open("rb") as source:
            po = read_po(source, locale=language)
        buffer = io.BytesIO()
        write_mo(buffer, po)
        buffer.seek(0)
        catalogue = gettext.GNUTranslations(buffer)
    return Translator(language, catalogue)


def available_languages() -> list[str]:
    """Languages with a catalogue, English included."""
    folder = resources.files("polls") / "locales"
    found = {SOURCE_LANGUAGE}
    for entry in folder.iterdir():
        if entry.name.endswith(".po"):
            found.add(entry.name.removesuffix(".po"))
    return sorted(found)


def language_name(language: str) -> str:
    """The language's own name for itself (``az`` -> ``Azərbaycan``), from CLDR."""
    try:
        name = Locale.parse(language).get_display_name(language) or language
    except (UnknownLocaleError, ValueError):
        return language
    return name[:1].upper() + name[1:]
