"""SMS keywords: join, stop and help, the quiz words, and seeing or deleting one's data
(as /mydata and /forget), in every language we speak.

Like Twilio and the carriers, a keyword counts only when it is the whole
message (``STOP``, `` stop. ``), so "please don't stop" is an answer, not an
opt-out. Some keywords take one short argument of a set shape: a survey or quiz
id (``JOIN youth_priorities``, ``QUIZ sdg_people``), a team code (``TEAM
K7PX2M``), a nickname (``NICK Star_2030``), a board (``TOP WEEK``); a message
that does not fit the shape is an answer, not a keyword.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from polls.answer_parsing import fold
from polls.sms_text import transliterate


class Keyword(StrEnum):
    """The value of a keyword is the command it stands for (QUIZ is /quiz); JOIN is /start."""

    JOIN = "join"
    STOP = "stop"
    HELP = "help"
    QUIZ = "quiz"
    TOP = "top"
    NICK = "nickname"
    TEAM = "team"
    HIDE = "hide"
    SHOW = "show"
    IDEA = "idea"
    VOTE = "vote"
    MYDATA = "mydata"
    FORGET = "forget"


# Twilio's standard opt-out and help words; Twilio itself acts on these.
TWILIO_STOP_WORDS = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT")
TWILIO_START_WORDS = ("START", "UNSTOP")
TWILIO_HELP_WORDS = ("HELP", "INFO")

DEFAULT_KEYWORDS: Mapping[Keyword, tuple[str, ...]] = {
    Keyword.JOIN: ("JOIN", *TWILIO_START_WORDS, "BAŞLA", "QOŞUL", "СТАРТ", "НАЧАТЬ"),
    Keyword.STOP: (*TWILIO_STOP_WORDS, "DAYAN", "DAYANDIR", "СТОП", "ОТПИСАТЬСЯ", "ХВАТИТ"),
    Keyword.HELP: (*TWILIO_HELP_WORDS, "KÖMƏK", "ПОМОЩЬ", "СПРАВКА"),
    Keyword.QUIZ: ("QUIZ", "VİKTORİNA", "ВИКТОРИНА"),
    Keyword.TOP: ("TOP", "REYTİNQ", "РЕЙТИНГ"),
    Keyword.NICK: ("NICK", "LƏQƏB", "НИК"),
    Keyword.TEAM: ("TEAM", "KOMANDA", "КОМАНДА"),
    Keyword.HIDE: ("HIDE", "GİZLƏT", "СКРЫТЬ"),
    Keyword.SHOW: ("SHOW", "GÖSTƏR", "ПОКАЗАТЬ"),
    Keyword.IDEA: ("IDEA", "İDEYA", "ИДЕЯ"),
    Keyword.VOTE: ("VOTE", "SƏS", "ГОЛОС"),
    Keyword.MYDATA: ("MYDATA", "MƏLUMAT", "ДАННЫЕ"),
    Keyword.FORGET: ("FORGET", "SİL", "УДАЛИТЬ"),
}


def _identifier(text: str) -> str | None:
    bare = text.replace("_", "").replace("-", "")
    return text.lower() if bare.isascii() and bare.isalnum() and len(text) <= 40 else None


def _code(text: str) -> str | None:
    return text.upper() if text.isalnum() and len(text) <= 12 else None


def _word(text: str) -> str | None:
    return text if text.isalpha() and len(text) <= 20 else None


def _name(text: str) -> str | None:
    return text if len(text) <= 24 and len(text.split()) <= 3 else None


def _number(text: str) -> str | None:
    return text if text.isdigit() and len(text) <= 4 else None


_ARGUMENTS = {
    Keyword.JOIN: _identifier,
    Keyword.QUIZ: _identifier,
    Keyword.TEAM: _code,
    Keyword.TOP: _word,
    Keyword.NICK: _name,
    Keyword.VOTE: _number,
}
"""The keywords that take an argument, and the shape it must have."""


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
        parts = text.strip().strip(".!").split(maxsplit=1)
        if not parts:
            return None
        keyword = self._by_word.get(fold(parts[0]))
        if keyword is None:
            return None
        if len(parts) == 1:
            return KeywordMatch(keyword, parts[0])
        shape = _ARGUMENTS.get(keyword)
        argument = shape(parts[1].strip()) if shape else None
        if argument is None:
            return None
        return KeywordMatch(keyword, parts[0], argument)
