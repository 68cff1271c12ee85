"""SMS keywords: join, stop and help, in every language we speak.

Like Twilio and the carriers, a keyword counts only when it is the whole
message (``STOP``, `` stop. ``), so "please don't stop" is an answer, not an
opt-out. A join word may carry a survey id: ``JOIN youth_priorities``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from polls.answer_parsing import fold
from polls.sms_text import transliterate


class Keyword(StrEnum):
    JOIN = "join"
    STOP = "stop"
    HELP = "help"


# Twilio's standard opt-out and help words; Twilio itself acts on these.
TWILIO_STOP_WORDS = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT")
TWILIO_START_WORDS = ("START", "UNSTOP")
TWILIO_HELP_WORDS = ("HELP", "INFO")

DEFAULT_KEYWORDS: Mapping[Keyword, tuple[str, ...]] = {
    Keyword.JOIN: ("JOIN", *TWILIO_START_WORDS, "BAŞLA", "QOŞUL", "СТАРТ", "НАЧАТЬ"),
    Keyword.STOP: (*TWILIO_STOP_WORDS, "DAYAN", "DAYANDIR", "СТОП", "ОТПИСАТЬСЯ", "ХВАТИТ"),
    Keyword.HELP: (*TWILIO_HELP_WORDS, "KÖMƏK", "ПОМОЩЬ", "СПРАВКА"),
}


@dataclass(frozen=True)
class KeywordMatch:
    keyword: Keyword
    word: str
    argument: str = ""

    @property
    def handled_by_twilio(self) -> bool:
        """Twilio's own opt-out already answered this word (its default behaviour)."""
        upper = self.word.upper()
        return upper in TWILIO_STOP_WORDS or upper in TWILIO_START_WORDS


class Keywords:
    def __init__(self, words: Mapping[Keyword, Iterable[str]] = DEFAULT_KEYWORDS) -> None:
        self._by_word: dict[str, Keyword] = {}
        for keyword, keyword_words in words.items():
            for word in keyword_words:
                self._by_word[fold(word)] = keyword
                # A transliterated SMS shows ПОМОЩЬ as POMOSHCH: accept what it shows.
                self._by_word.setdefault(fold(transliterate(word, "ru")), keyword)

    def match(self, text: str) -> KeywordMatch | None:
        """The keyword ``text`` is, if it is one."""
        parts = text.strip().strip(".!").split()
        if not parts or len(parts) > 2:
            return None
        keyword = self._by_word.get(fold(parts[0]))
        if keyword is None:
            return None
        if len(parts) == 2:
            # Only a join word takes an argument, and only a survey id.
            survey_id = parts[1].replace("_", "").replace("-", "")
            if keyword is not Keyword.JOIN or not survey_id.isascii() or not survey_id.isalnum():
                return None
            return KeywordMatch(keyword, parts[0], parts[1].lower())
        return KeywordMatch(keyword, parts[0])
