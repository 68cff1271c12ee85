"""Survey files: one YAML document in, one :class:`polls.survey.Survey` out.

Every problem in a file is collected (not just the first), each with the file,
a path such as ``questions[3].choices[1].label.ru``, the YAML line when known,
and a message that says what is wrong and what to do about it.

The format, briefly::

    id: youth-priorities-2026          # [a-z0-9][a-z0-9_-]{0,39}: used in /start links
    title: {az: ..., ru: ..., en: ...} # localized text, at most 100 characters
    languages: [az, ru, en]            # every localized text needs each of these
    goals: [4, 8]                      # SDG numbers 1..17 (optional)
    priority_areas: [inclusive_growth] # slugs (optional)
    opens_at: 2026-12-01T09:00:00+04:00  # optional, a time zone offset is required
    closes_at: 2026-12-31T18:00:00+04:00 # optional, after opens_at
    show_results: false                # optional, true or false
    sms_transliterate: false           # optional: SMS in GSM-7 letters (about half the cost)
    intro: {az: ..., ru: ..., en: ...}   # optional, at most 1000 characters
    thanks: {az: ..., ru: ..., en: ...}  # optional, at most 1000 characters
    questions:                         # 1 to 50
      - id: topic                      # [a-z][a-z0-9_]{0,30}, unique
        kind: single_choice            # single_choice, multiple_choice, number,
                                       # rating, yes_no or text
        text: {az: ..., ru: ..., en: ...}
        required: true                 # optional, default true
        choices:                       # single/multiple choice: 2 to 20
          - {value: education, label: {az: ..., ru: ..., en: ...}}
          - {value: health, label: {az: ..., ru: ..., en: ...}}
      - id: why
        kind: text
        text: {az: ..., ru: ..., en: ...}
        ask_if: {question: topic, equals: health}   # looks back only

Kind-specific fields: ``multiple_choice`` takes ``min_picks`` (default 1, or 0
when not required) and ``max_picks`` (default: the number of choices);
``number`` takes ``min``, ``max`` and ``integer`` (default true); ``rating``
takes ``min`` (default 1) and ``max`` (default 5), 2 to 11 points, and
optional ``min_label``/``max_label`` (at most 40 characters); ``text`` takes
``max_length`` (1 to 2000, default 500); ``yes_no`` takes nothing more.
``ask_if`` names an earlier ``question`` and one or more of ``equals``,
``any_of``, ``none_of`` (choice values, yes/no, or rating points) and
``at_least``/``at_most`` (numbers and ratings).

``Survey.raw`` is a JSON-serialisable copy of the validated document (date-times
as ISO-8601 strings); ``parse_survey(survey.raw)`` gives an equal survey.
"""

from __future__ import annotations

import contextlib
import difflib
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from polls.errors import OutreachError
from polls.survey import NO, YES, Choice, Condition, Question, QuestionKind, Survey

__all__ = [
    "SurveyFileError",
    "SurveyProblem",
    "load_survey_file",
    "load_survey_text",
    "parse_survey",
    "validate_survey_files",
]

SURVEY_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
QUESTION_ID = re.compile(r"[a-z][a-z0-9_]{0,30}")
CHOICE_VALUE = re.compile(r"[a-z0-9][a-z0-9_-]{0,30}")
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")
PRIORITY_AREA = re.compile(r"[a-z][a-z0-9_]*")

MAX_QUESTIONS = 50
MIN_CHOICES, MAX_CHOICES = 2, 20
MIN_RATING_POINTS, MAX_RATING_POINTS = 2, 11
MAX_TEXT_LENGTH, DEFAULT_TEXT_LENGTH = 2000, 500
TITLE_LIMIT, LONG_TEXT_LIMIT, LABEL_LIMIT, SCALE_LABEL_LIMIT = 100, 1000, 100, 40
SDG_GOALS = range(1, 18)

_SURVEY_FIELDS = (
    "id",
    "title",
    "languages",
    "goals",
    "priority_areas",
    "opens_at",
    "closes_at",
    "show_results",
    "sms_transliterate",
    "intro",
    "thanks",
    "questions",
)
_QUESTION_FIELDS = ("id", "kind", "text", "required", "ask_if")
_KIND_FIELDS: dict[QuestionKind, tuple[str, ...]] = {
    QuestionKind.SINGLE_CHOICE: ("choices",),
    QuestionKind.MULTIPLE_CHOICE: ("choices", "min_picks", "max_picks"),
    QuestionKind.NUMBER: ("min", "max", "integer"),
    QuestionKind.RATING: ("min", "max", "min_label", "max_label"),
    QuestionKind.YES_NO: (),
    QuestionKind.TEXT: ("max_length",),
}
_ALL_KIND_FIELDS = tuple(dict.fromkeys(f for fields in _KIND_FIELDS.values() for f in fields))
_CHOICE_FIELDS = ("value", "label")
_CONDITION_FIELDS = ("question", "equals", "any_of", "none_of", "at_least", "at_most")
_NUMERIC_KINDS = (QuestionKind.NUMBER, QuestionKind.RATING)

_LANGUAGE_NAMES = {
    "ar": "Arabic",
    "az": "Azerbaijani",
    "be": "Belarusian",
    "de": "German",
    "en": "English",
    "es": "Spanish",
    "fa": "Persian",
    "fr": "French",
    "hy": "Armenian",
    "ka": "Georgian",
    "kk": "Kazakh",
    "ky": "Kyrgyz",
    "ro": "Romanian",
    "ru": "Russian",
    "tg": "Tajik",
    "tk": "Turkmen",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "uz": "Uzbek",
    "zh": "Chinese",
}
_TIME_EXAMPLE = "2026-12-01T09:00:00+04:00"
_BARE_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
_PLAIN_KEY = re.compile(r"[^\s.\[\]'\"]+")
_LAST_SEGMENT = re.compile(r"(.*)(?:\.[^.\[\]]*|\[[^\[]*\])", re.DOTALL)
_MERGE_TAG = "tag:yaml.org,2002:merge"
_SURVEY_ID_RULE = (
    "use 1 to 40 lowercase latin letters, digits, '-' or '_', starting with a letter or digit"
)
_QUESTION_ID_RULE = "use 1 to 31 lowercase latin letters, digits or '_', starting with a letter"
_CHOICE_VALUE_RULE = (
    "use 1 to 31 lowercase latin letters, digits, '-' or '_', starting with a letter or digit"
)

_T = TypeVar("_T")


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class SurveyProblem:
    """One thing wrong with a survey file, and what to do about it."""

    file: str
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class SurveyFileError(OutreachError):
    """A survey file that cannot be used; ``problems`` lists everything wrong with it."""

    def __init__(self, problems: Iterable[SurveyProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.problems,))


# --------------------------------------------------------------------------- public API


def parse_survey(
    data: object, *, source: str = "<survey>", lines: Mapping[str, int] | None = None
) -> Survey:
    """Validate an already-loaded document (a YAML mapping or ``Survey.raw``).

    ``lines`` maps paths to YAML line numbers; problems at a path without a
    line get the line of the nearest enclosing path that has one.
    Raises :class:`SurveyFileError` listing every problem.
    """
    return _parse(data, source, lines, [])


def load_survey_text(text: str, *, source: str) -> Survey:
    """Parse YAML text into a survey; ``source`` names it in problems."""
    return _load_text(text, source)[0]


def load_survey_file(path: str | os.PathLike[str]) -> Survey:
    """Read and parse a UTF-8 survey file."""
    source = os.fspath(path)
    return _load_text(_read_text(source), source)[0]


def validate_survey_files(paths: Iterable[str | Path]) -> list[SurveyProblem]:
    """Every problem in the given files (directories: their ``*.yaml``/``*.yml`` files).

    Also reports a survey id used by more than one file. A file named twice is read once.
    """
    problems: list[SurveyProblem] = []
    owners: dict[str, str] = {}
    seen: set[Path] = set()
    for path in paths:
        for file in _expand(os.fspath(path), problems):
            key = Path(file).resolve()
            if key in seen:
                continue
            seen.add(key)
            try:
                survey, lines = _load_text(_read_text(file), file)
            except SurveyFileError as exc:
                problems.extend(exc.problems)
                continue
            first = owners.setdefault(survey.id, file)
            if first != file:
                problems.append(
                    SurveyProblem(
                        file,
                        "id",
                        f"survey id {survey.id!r} is already used by {first}: "
                        "give each survey its own id",
                        lines.get("id"),
                    )
                )
    return problems


# --------------------------------------------------------------------------- files and YAML


def _expand(name: str, problems: list[SurveyProblem]) -> list[str]:
    """``name`` itself, or for a directory its survey files, sorted."""
    if not Path(name).is_dir():
        return [name]
    found = sorted(
        str(Path(name) / child.name)
        for child in Path(name).iterdir()
        if child.suffix in (".yaml", ".yml") and child.is_file()
    )
    if not found:
        problems.append(
            SurveyProblem(
                name, "", "no .yaml or .yml files in this directory: check the path or add surveys"
            )
        )
    return found


def _read_text(source: str) -> str:
    try:
        content = Path(source).read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise SurveyFileError(
            [
                SurveyProblem(
                    source, "", f"cannot read the file ({reason}): check the path and permissions"
                )
            ]
        ) from exc
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        byte = content[exc.start]
        raise SurveyFileError(
            [
                SurveyProblem(
                    source,
                    "",
                    f"the file is not UTF-8 text (byte 0x{byte:02x} at offset {exc.start}): "
                    "save it with UTF-8 encoding",
                    line,
                )
            ]
        ) from exc


class _Loader(yaml.SafeLoader):
    """The safe loader, but an impossible date (2026-02-30) is a marked YAML error."""

    def construct_yaml_timestamp(self, node: ScalarNode) -> date:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise ConstructorError(
                None, None, f"{node.value!r} is not a valid date or time ({exc})", node.start_mark
            ) from exc


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def _load_text(text: str, source: str) -> tuple[Survey, Mapping[str, int]]:
    data, lines, problems = read_yaml(text, source)
    return _parse(data, source, lines, problems), lines


def read_yaml(
    text: str, source: str, *, what: str = "survey"
) -> tuple[object, dict[str, int], list[SurveyProblem]]:
    """The document in ``text``, the YAML line of each path, and problems found on the way.

    Those problems (a key given twice) do not stop reading; the caller adds them to
    its own. Unreadable YAML raises :class:`SurveyFileError`. ``what`` names the
    kind of file in messages ("survey", "campaign").
    """
    problems: list[SurveyProblem] = []
    loader: _Loader | None = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        lines: dict[str, int] = {}
        data: object = None
        if node is not None:
            walker = _LineWalker(source, lines, problems)
            lines[""] = node.start_mark.line + 1
            walker.walk(node, "")
            data = loader.construct_document(node)
    except ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        character = exc.character if isinstance(exc.character, int) else ord(exc.character)
        message = (
            f"unacceptable character U+{character:04X} ({exc.reason}): "
            "remove it or retype the text around it"
        )
        raise SurveyFileError([SurveyProblem(source, "", message, line)]) from exc
    except yaml.MarkedYAMLError as exc:
        raise SurveyFileError([_syntax_problem(exc, source, what)]) from exc
    except yaml.YAMLError as exc:
        message = f"invalid YAML ({exc}): check the file's syntax"
        raise SurveyFileError([SurveyProblem(source, "", message)]) from exc
    except RecursionError as exc:
        message = f"the document is nested too deeply: a {what} needs only a few levels"
        raise SurveyFileError([SurveyProblem(source, "", message)]) from exc
    finally:
        if loader is not None:
            loader.dispose()
    return data, lines, problems


def _syntax_problem(exc: yaml.MarkedYAMLError, source: str, noun: str = "survey") -> SurveyProblem:
    mark = exc.problem_mark or exc.context_mark
    what = exc.problem or exc.context or "unreadable YAML"
    if exc.context and exc.problem:
        context_mark = exc.context_mark
        if context_mark is not None and mark is not None and context_mark.line != mark.line:
            what += f" ({exc.context} on line {context_mark.line + 1})"
        else:
            what += f" ({exc.context})"
    if isinstance(exc, ConstructorError) and "for the tag" in what:
        fix = f"remove the '!' tag: {noun} files use plain YAML values"
    elif isinstance(exc, ConstructorError) and "unhashable" in what:
        fix = "use plain text as the field name"
    elif isinstance(exc, ConstructorError):
        fix = "correct the value, or put it in quotes to keep it as text"
    elif "another document" in what:
        fix = f"keep one {noun} per file and remove the extra '---'"
    else:
        fix = "check the indentation (spaces, not tabs), colons and quotes here"
    return SurveyProblem(
        source, "", f"invalid YAML: {what}: {fix}", None if mark is None else mark.line + 1
    )


class _LineWalker:
    """Maps each path in a composed YAML tree to its line, and finds repeated keys."""

    def __init__(self, source: str, lines: dict[str, int], problems: list[SurveyProblem]) -> None:
        self.source = source
        self.lines = lines
        self.problems = problems
        self._expanded: set[int] = set()
        self._keys = SafeConstructor()

    def walk(self, node: Node, path: str) -> None:
        # An aliased node is walked once: its paths get lines where it is defined.
        if id(node) in self._expanded:
            return
        self._expanded.add(id(node))
        if isinstance(node, MappingNode):
            self._mapping(node, path)
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                item_path = f"{path}[{index}]"
                self.lines[item_path] = item.start_mark.line + 1
                self.walk(item, item_path)

    def _mapping(self, node: MappingNode, path: str) -> None:
        seen: dict[object, int] = {}
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            key = self._key(key_node)
            key_path = _join(path, key)
            line = key_node.start_mark.line + 1
            if key in seen:
                self.problems.append(
                    SurveyProblem(
                        self.source,
                        key_path,
                        f"{key!r} is given twice here (first on line {seen[key]}): "
                        "YAML keeps only the last one, remove the other",
                        line,
                    )
                )
            seen[key] = line
            self.lines[key_path] = line
            self.walk(value_node, key_path)
        for merged in merges:
            sources = merged.value if isinstance(merged, SequenceNode) else [merged]
            for source in sources:
                if not isinstance(source, MappingNode):
                    continue
                for key_node, value_node in source.value:
                    key_path = _join(path, self._key(key_node))
                    if key_path not in self.lines:
                        self.lines[key_path] = key_node.start_mark.line + 1
                        self.walk(value_node, key_path)

    def _key(self, node: Node) -> object:
        if isinstance(node, ScalarNode):
            try:
                key: object = self._keys.construct_object(node)
            except (yaml.YAMLError, ValueError, TypeError):
                return node.value
            try:
                hash(key)
            except TypeError:
                return node.value
            return key
        return f"<{type(node).__name__}>"


# --------------------------------------------------------------------------- paths and wording


def _join(path: str, key: object) -> str:
    if isinstance(key, str) and _PLAIN_KEY.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{key!r}]"


def _parent(path: str) -> str:
    match = _LAST_SEGMENT.fullmatch(path)
    return match.group(1) if match else ""


def _found(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return repr(shown)
    if isinstance(value, datetime):
        return f"the date and time {value.isoformat()}"
    if isinstance(value, date):
        return f"the date {value.isoformat()}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def _text_fix(value: object) -> str:
    if isinstance(value, bool):
        return (
            "YAML reads unquoted yes/no, on/off and true/false as true or false, "
            "so put the text in quotes"
        )
    if isinstance(value, int | float | date):
        return "put it in quotes to make it text"
    return "write it as text"


def _language(code: str) -> str:
    name = _LANGUAGE_NAMES.get(code)
    return f"{name} ({code})" if name else repr(code)


def _closest(word: str, candidates: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _listing(values: Iterable[str]) -> str:
    return ", ".join(values)


# --------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class _Answerable:
    """What an earlier question lets ``ask_if`` test."""

    kind: QuestionKind | None
    values: tuple[str, ...] | None  # the valid values, when known
    low: float | None = None
    high: float | None = None


def _parse(
    data: object, source: str, lines: Mapping[str, int] | None, problems: list[SurveyProblem]
) -> Survey:
    checker = _Checker(source, lines, problems)
    survey = checker.survey(data)
    if checker.problems or survey is None:
        raise SurveyFileError(sorted(checker.problems, key=lambda p: p.line or 0))
    return survey


class _Checker:
    def __init__(
        self, source: str, lines: Mapping[str, int] | None, problems: list[SurveyProblem]
    ) -> None:
        self.source = source
        self.lines: Mapping[str, int] = lines or {}
        self.problems = problems
        # None while the languages are unknown: texts are then not checked for coverage.
        self.languages: tuple[str, ...] | None = None

    # ---- reporting

    def problem(self, path: str, message: str) -> None:
        self.problems.append(SurveyProblem(self.source, path, message, self._line(path)))

    def _line(self, path: str) -> int | None:
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = _parent(path)

    # ---- shapes

    def keys(
        self, mapping: Mapping[object, object], path: str, allowed: Sequence[str], kind: str = ""
    ) -> None:
        for key in mapping:
            if isinstance(key, str) and key in allowed:
                continue
            key_path = _join(path, key)
            if not isinstance(key, str):
                self.problem(
                    key_path,
                    f"field names are text, found {_found(key)}: use one of {_listing(allowed)}",
                )
            elif kind and key in _ALL_KIND_FIELDS:
                users = _listing(k for k, fields in _KIND_FIELDS.items() if key in fields)
                self.problem(
                    key_path,
                    f"{key!r} is not used by {kind} questions (only by {users}): "
                    "remove it or change the kind",
                )
            elif suggestion := _closest(key, allowed):
                self.problem(key_path, f"unknown field {key!r}: did you mean {suggestion!r}?")
            else:
                self.problem(
                    key_path,
                    f"unknown field {key!r}: remove it (fields allowed here: {_listing(allowed)})",
                )

    def get(
        self, mapping: Mapping[object, object], key: str, path: str, missing: str = ""
    ) -> object:
        """The value at ``key`` (None when absent or null); reports it missing if required."""
        value = mapping.get(key)
        if value is None and missing:
            self.problem(_join(path, key), f"missing {key}: {missing}")
        return value

    def mapping(
        self, value: object, path: str, what: str, example: str
    ) -> Mapping[object, object] | None:
        if isinstance(value, Mapping):
            return value
        self.problem(path, f"expected {what}, found {_found(value)}: write it as {example}")
        return None

    def items(self, value: object, path: str, example: str) -> list[object] | None:
        if isinstance(value, list | tuple):
            return list(value)
        self.problem(path, f"expected a list, found {_found(value)}: write it as {example}")
        return None

    def text(self, value: object, path: str) -> str | None:
        if isinstance(value, str):
            return value
        self.problem(path, f"expected text, found {_found(value)}: {_text_fix(value)}")
        return None

    def ident(
        self, value: object, path: str, pattern: re.Pattern[str], what: str, rule: str
    ) -> str | None:
        text = self.text(value, path)
        if text is None:
            return None
        if not pattern.fullmatch(text):
            self.problem(path, f"invalid {what} {text!r}: {rule}")
            return None
        return text

    def flag(self, value: object, path: str, default: bool) -> bool:
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        self.problem(
            path,
            f"expected true or false, found {_found(value)}: write true or false without quotes",
        )
        return default

    def whole(self, value: object, path: str) -> int | None:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        self.problem(
            path,
            f"expected a whole number, found {_found(value)}: "
            "write a whole number in digits, without quotes (for example 3)",
        )
        return None

    def number(self, value: object, path: str) -> float | None:
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return value
        self.problem(
            path,
            f"expected a number, found {_found(value)}: "
            "write a number in digits, without quotes (for example 10 or 2.5)",
        )
        return None

    def localized(self, value: object, path: str, limit: int) -> dict[str, str] | None:
        example = "{" + ", ".join(f"{c}: ..." for c in self.languages or ("az", "ru", "en")) + "}"
        texts = self.mapping(value, path, "a text for each language", example)
        if texts is None:
            return None
        before = len(self.problems)
        result: dict[str, str] = {}
        for code, text in texts.items():
            entry = _join(path, code)
            if not isinstance(code, str):
                self.problem(
                    entry,
                    f"expected a language code, found {_found(code)}: {_text_fix(code)}",
                )
            elif self.languages is not None and code not in self.languages:
                self.problem(
                    entry, f"{code!r} is not in languages: add it to languages or remove this entry"
                )
            elif (checked := self.text(text, entry)) is not None:
                stripped = checked.strip()
                if not stripped:
                    self.problem(entry, f"empty {_language(code)} text: write the text")
                elif len(stripped) > limit:
                    self.problem(
                        entry,
                        f"too long: {len(stripped)} characters, the limit is {limit}: shorten it",
                    )
                else:
                    result[code] = stripped
        for code in self.languages or ():
            if code not in texts:
                self.problem(
                    _join(path, code), f"missing {_language(code)} text: add a {code!r} entry"
                )
        return result if len(self.problems) == before else None

    def moment(self, value: object, path: str) -> datetime | None:
        moment: datetime | None = None
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date) or (
            isinstance(value, str) and _BARE_DATE.fullmatch(value.strip())
        ):
            day = value.isoformat() if isinstance(value, date) else str(value).strip()
            self.problem(
                path,
                f"a date without a time ({day}): give a date and time with a time zone offset, "
                f"for example {day}T09:00:00+04:00",
            )
            return None
        elif isinstance(value, str):
            with contextlib.suppress(ValueError):
                moment = datetime.fromisoformat(value.strip())
        if moment is None:
            self.problem(
                path,
                f"expected a date and time, found {_found(value)}: write it like {_TIME_EXAMPLE}",
            )
            return None
        if moment.utcoffset() is None:
            shown = moment.isoformat()
            self.problem(
                path,
                f"{shown} has no time zone: add a time zone offset, for example {shown}+04:00",
            )
            return None
        return moment

    # ---- the document

    def field(
        self,
        mapping: Mapping[object, object],
        key: str,
        path: str,
        check: Callable[[object, str], _T | None],
        missing: str = "",
    ) -> _T | None:
        """Check ``mapping[key]``; absent or null is None, reported as missing if ``missing``."""
        value = mapping.get(key)
        key_path = _join(path, key)
        if value is None:
            if missing:
                self.problem(key_path, f"missing {key}: {missing}")
            return None
        return check(value, key_path)

    def survey(self, data: object) -> Survey | None:
        if data is None:
            self.problem("", "the survey is empty: write its id, title, languages and questions")
            return None
        if not isinstance(data, Mapping):
            self.problem(
                "",
                f"the survey must be a mapping of fields, found {_found(data)}: "
                "write 'id:', 'title:', 'languages:' and 'questions:' at the top level",
            )
            return None
        doc: Mapping[object, object] = data
        self.keys(doc, "", _SURVEY_FIELDS)
        self.languages = languages = self.survey_languages(doc)
        survey_id = self.field(
            doc,
            "id",
            "",
            lambda v, p: self.ident(v, p, SURVEY_ID, "survey id", _SURVEY_ID_RULE),
            f"add an id such as 'youth-priorities-2026' ({_SURVEY_ID_RULE[4:]})",
        )
        title = self.field(
            doc,
            "title",
            "",
            lambda v, p: self.localized(v, p, TITLE_LIMIT),
            "add a title with a text for each language",
        )
        goals = self.goals(doc.get("goals"))
        areas = self.priority_areas(doc.get("priority_areas"))
        opens_at = self.field(doc, "opens_at", "", self.moment)
        closes_at = self.field(doc, "closes_at", "", self.moment)
        if opens_at is not None and closes_at is not None and closes_at <= opens_at:
            self.problem(
                "closes_at",
                f"closes_at ({closes_at.isoformat()}) is not after opens_at "
                f"({opens_at.isoformat()}): make the survey close after it opens",
            )
        show_results = self.flag(doc.get("show_results"), "show_results", False)
        sms_transliterate = self.flag(doc.get("sms_transliterate"), "sms_transliterate", False)
        intro = self.field(doc, "intro", "", lambda v, p: self.localized(v, p, LONG_TEXT_LIMIT))
        thanks = self.field(doc, "thanks", "", lambda v, p: self.localized(v, p, LONG_TEXT_LIMIT))
        questions = self.questions(doc)
        if (
            self.problems
            or survey_id is None
            or title is None
            or languages is None
            or questions is None
        ):
            return None
        return Survey(
            id=survey_id,
            title=title,
            languages=languages,
            questions=questions,
            goals=goals,
            priority_areas=areas,
            opens_at=opens_at,
            closes_at=closes_at,
            show_results=show_results,
            sms_transliterate=sms_transliterate,
            intro=intro,
            thanks=thanks,
            raw=_jsonable(doc),
        )

    def survey_languages(self, doc: Mapping[object, object]) -> tuple[str, ...] | None:
        value = self.get(
            doc,
            "languages",
            "",
            "list the languages every text is written in, for example [az, ru, en]",
        )
        if value is None:
            return None
        items = self.items(value, "languages", "[az, ru, en]")
        if items is None:
            return None
        if not items:
            self.problem(
                "languages", "languages is empty: list at least one code, for example [az, ru, en]"
            )
            return None
        before = len(self.problems)
        codes: list[str] = []
        for index, item in enumerate(items):
            path = f"languages[{index}]"
            code = self.text(item, path)
            if code is None:
                continue
            if not LANGUAGE_CODE.fullmatch(code):
                self.problem(
                    path,
                    f"invalid language code {code!r}: use a two- or three-letter lowercase "
                    "ISO 639 code such as 'az', 'ru' or 'en'",
                )
            elif code in codes:
                self.problem(
                    path,
                    f"{code!r} is listed twice (also languages[{codes.index(code)}]): "
                    "remove the repeat",
                )
            else:
                codes.append(code)
        return tuple(codes) if len(self.problems) == before else None

    def goals(self, value: object) -> tuple[int, ...]:
        if value is None:
            return ()
        items = self.items(value, "goals", "a list of SDG numbers such as [4, 8]")
        goals: list[int] = []
        for index, item in enumerate(items or ()):
            path = f"goals[{index}]"
            goal = self.whole(item, path)
            if goal is None:
                continue
            if goal not in SDG_GOALS:
                self.problem(
                    path, f"goals are SDG numbers, 1 to 17, found {goal}: use the goal's number"
                )
            elif goal in goals:
                self.problem(
                    path,
                    f"goal {goal} is listed twice (also goals[{goals.index(goal)}]): "
                    "remove the repeat",
                )
            else:
                goals.append(goal)
        return tuple(goals)

    def priority_areas(self, value: object) -> tuple[str, ...]:
        if value is None:
            return ()
        items = self.items(
            value, "priority_areas", "a list such as [inclusive_growth, environment]"
        )
        areas: list[str] = []
        for index, item in enumerate(items or ()):
            path = f"priority_areas[{index}]"
            area = self.text(item, path)
            if area is None:
                continue
            if not PRIORITY_AREA.fullmatch(area):
                self.problem(
                    path,
                    f"invalid priority area {area!r}: use lowercase latin letters, digits and "
                    "'_', starting with a letter, for example 'inclusive_growth'",
                )
            elif area in areas:
                self.problem(
                    path,
                    f"{area!r} is listed twice (also priority_areas[{areas.index(area)}]): "
                    "remove the repeat",
                )
            else:
                areas.append(area)
        return tuple(areas)

    # ---- questions

    def questions(self, doc: Mapping[object, object]) -> tuple[Question, ...] | None:
        value = self.get(doc, "questions", "", "add a list of questions (at least one)")
        if value is None:
            return None
        items = self.items(value, "questions", "one '- id: ...' entry per question")
        if items is None:
            return None
        if not items:
            self.problem("questions", "there are no questions: add at least one")
            return None
        if len(items) > MAX_QUESTIONS:
            self.problem(
                "questions",
                f"{len(items)} questions, the limit is {MAX_QUESTIONS}: "
                "remove some or split the survey in two",
            )
        # Where each id first appears, to tell "comes later" from "does not exist".
        positions: dict[str, int] = {}
        for index, item in enumerate(items):
            if isinstance(item, Mapping) and isinstance(item.get("id"), str):
                positions.setdefault(item["id"], index)
        before = len(self.problems)
        known: dict[str, _Answerable] = {}
        used: dict[str, int] = {}
        questions: list[Question] = []
        for index, item in enumerate(items):
            question = self.question(item, index, positions, known, used)
            if question is not None:
                questions.append(question)
        return tuple(questions) if len(self.problems) == before else None

    def question(
        self,
        item: object,
        index: int,
        positions: Mapping[str, int],
        known: dict[str, _Answerable],
        used: dict[str, int],
    ) -> Question | None:
        path = f"questions[{index}]"
        q = self.mapping(
            item,
            path,
            "a question (a mapping with id, kind and text)",
            "'- id: ...' with 'kind: ...' and 'text: ...' below it",
        )
        if q is None:
            return None
        before = len(self.problems)
        question_id = self.field(
            q,
            "id",
            path,
            lambda v, p: self.ident(v, p, QUESTION_ID, "question id", _QUESTION_ID_RULE),
            f"add an id such as 'age' ({_QUESTION_ID_RULE[4:]})",
        )
        unique = question_id is not None and question_id not in used
        if question_id is not None and not unique:
            self.problem(
                f"{path}.id",
                f"duplicate question id {question_id!r} (already used by "
                f"questions[{used[question_id]}]): give each question its own id",
            )
        elif question_id is not None:
            used[question_id] = index
        kind = self.field(
            q, "kind", path, self.kind, f"add a kind, one of {_listing(QuestionKind)}"
        )
        fields = _KIND_FIELDS[kind] if kind is not None else _ALL_KIND_FIELDS
        self.keys(q, path, _QUESTION_FIELDS + fields, kind or "")
        text = self.field(
            q,
            "text",
            path,
            lambda v, p: self.localized(v, p, LONG_TEXT_LIMIT),
            "add the question's text for each language",
        )
        required = self.flag(q.get("required"), f"{path}.required", True)
        ask_if = self.field(
            q, "ask_if", path, lambda v, p: self.condition(v, p, index, positions, known)
        )
        details: dict[str, Any] = {}
        answerable = _Answerable(kind, None)
        if kind is QuestionKind.SINGLE_CHOICE or kind is QuestionKind.MULTIPLE_CHOICE:
            choices, values, count = self.choices(q, path, kind)
            details["choices"] = choices
            answerable = _Answerable(kind, values)
            if kind is QuestionKind.MULTIPLE_CHOICE:
                picks = self.picks(q, path, required, count)
                if picks is not None:
                    details["min_picks"], details["max_picks"] = picks
        elif kind is QuestionKind.NUMBER:
            low, high, integer = self.number_range(q, path)
            details.update(minimum=low, maximum=high, integer=integer)
            answerable = _Answerable(kind, None, low, high)
        elif kind is QuestionKind.RATING:
            scale = self.rating_scale(q, path)
            if scale is not None:
                low, high = scale
                details.update(minimum=low, maximum=high, integer=True)
                values = tuple(str(point) for point in range(low, high + 1))
                answerable = _Answerable(kind, values, low, high)
            for key in ("min_label", "max_label"):
                details[key] = self.field(
                    q, key, path, lambda v, p: self.localized(v, p, SCALE_LABEL_LIMIT)
                )
        elif kind is QuestionKind.YES_NO:
            answerable = _Answerable(kind, (YES, NO))
        elif kind is QuestionKind.TEXT:
            max_length = self.max_length(q, path)
            if max_length is not None:
                details["max_length"] = max_length
        if question_id is not None and unique:
            known[question_id] = answerable
        if len(self.problems) != before or question_id is None or kind is None or text is None:
            return None
        return Question(
            id=question_id, kind=kind, text=text, required=required, ask_if=ask_if, **details
        )

    def kind(self, value: object, path: str) -> QuestionKind | None:
        name = self.text(value, path)
        if name is None:
            return None
        try:
            return QuestionKind(name)
        except ValueError:
            pass
        suggestion = _closest(name, [kind.value for kind in QuestionKind])
        fix = (
            f"did you mean {suggestion!r}?"
            if suggestion
            else f"use one of {_listing(QuestionKind)}"
        )
        self.problem(path, f"unknown kind {name!r}: {fix}")
        return None

    def choices(
        self, q: Mapping[object, object], path: str, kind: QuestionKind
    ) -> tuple[tuple[Choice, ...], tuple[str, ...] | None, int | None]:
        """The choices, their values (when all are readable) and how many there are."""
        value = self.get(
            q, "choices", path, "add a list of at least 2 choices, each with a value and a label"
        )
        if value is None:
            return (), None, None
        choices_path = f"{path}.choices"
        items = self.items(value, choices_path, "one '- value: ...' entry per choice")
        if items is None:
            return (), None, None
        if len(items) < MIN_CHOICES:
            self.problem(
                choices_path,
                f"a {kind} question needs at least {MIN_CHOICES} choices, found {len(items)}: "
                "add more choices",
            )
        elif len(items) > MAX_CHOICES:
            self.problem(
                choices_path,
                f"{len(items)} choices, the limit is {MAX_CHOICES}: "
                "remove some or split the question",
            )
        values: dict[str, int] = {}
        readable = True
        choices: list[Choice] = []
        for index, item in enumerate(items):
            item_path = f"{choices_path}[{index}]"
            choice = self.mapping(
                item,
                item_path,
                "a choice with a value and a label",
                "{value: education, label: {az: ..., ru: ..., en: ...}}",
            )
            if choice is None:
                readable = False
                continue
            self.keys(choice, item_path, _CHOICE_FIELDS)
            choice_value = self.field(
                choice,
                "value",
                item_path,
                lambda v, p: self.ident(v, p, CHOICE_VALUE, "choice value", _CHOICE_VALUE_RULE),
                "add a value, a short stable id such as 'education'",
            )
            if choice_value is None:
                readable = False
            elif choice_value in values:
                self.problem(
                    f"{item_path}.value",
                    f"duplicate value {choice_value!r} (already used by "
                    f"choices[{values[choice_value]}]): give each choice its own value",
                )
            else:
                values[choice_value] = index
            label = self.field(
                choice,
                "label",
                item_path,
                lambda v, p: self.localized(v, p, LABEL_LIMIT),
                "add a label with a text for each language",
            )
            if choice_value is not None and label is not None:
                choices.append(Choice(choice_value, label))
        return tuple(choices), (tuple(values) if readable else None), len(items)

    def picks(
        self, q: Mapping[object, object], path: str, required: bool, count: int | None
    ) -> tuple[int, int] | None:
        low_path, high_path = f"{path}.min_picks", f"{path}.max_picks"
        low_given, high_given = q.get("min_picks"), q.get("max_picks")
        low = (1 if required else 0) if low_given is None else self.whole(low_given, low_path)
        high = count if high_given is None else self.whole(high_given, high_path)
        if low is not None and low < 0:
            self.problem(low_path, f"min_picks cannot be negative, found {low}: use 0 or more")
            return None
        if high is not None and high < 1:
            self.problem(high_path, f"max_picks must be at least 1, found {high}: use 1 or more")
            return None
        if high_given is not None and high is not None and count is not None and high > count:
            self.problem(
                high_path,
                f"max_picks ({high}) is more than the number of choices ({count}): "
                f"use {count} or less",
            )
            return None
        if low is None or high is None:
            return None
        if low > high:
            if high_given is None:
                self.problem(
                    low_path,
                    f"min_picks ({low}) is more than the number of choices ({high}): "
                    "lower min_picks or add choices",
                )
            else:
                self.problem(
                    low_path,
                    f"min_picks ({low}) is more than max_picks ({high}): "
                    "lower min_picks or raise max_picks",
                )
            return None
        return low, high

    def number_range(
        self, q: Mapping[object, object], path: str
    ) -> tuple[float | None, float | None, bool]:
        integer = self.flag(q.get("integer"), f"{path}.integer", True)
        bounds: list[float | None] = []
        for key in ("min", "max"):
            bound = self.field(q, key, path, self.number)
            if bound is not None and integer:
                if float(bound).is_integer():
                    bound = int(bound)
                else:
                    self.problem(
                        f"{path}.{key}",
                        f"{key} must be a whole number because integer is true, found {bound}: "
                        "use a whole number, or set integer: false",
                    )
                    bound = None
            bounds.append(bound)
        low, high = bounds
        if low is not None and high is not None and low > high:
            self.problem(f"{path}.max", f"max ({high}) is less than min ({low}): swap min and max")
        return low, high, integer

    def rating_scale(self, q: Mapping[object, object], path: str) -> tuple[int, int] | None:
        low_given, high_given = q.get("min"), q.get("max")
        low = 1 if low_given is None else self.whole(low_given, f"{path}.min")
        high = 5 if high_given is None else self.whole(high_given, f"{path}.max")
        if low is None or high is None:
            return None
        where = f"{path}.max" if high_given is not None else f"{path}.min"
        points = high - low + 1
        if high <= low:
            self.problem(
                where,
                f"max ({high}) must be more than min ({low}): "
                "use a scale such as 1 to 5 or 0 to 10",
            )
        elif not MIN_RATING_POINTS <= points <= MAX_RATING_POINTS:
            self.problem(
                where,
                f"a rating scale has {MIN_RATING_POINTS} to {MAX_RATING_POINTS} points, "
                f"this one has {points} ({low} to {high}): "
                "use a shorter scale, such as 1 to 5 or 0 to 10",
            )
        else:
            return low, high
        return None

    def max_length(self, q: Mapping[object, object], path: str) -> int | None:
        value = q.get("max_length")
        if value is None:
            return DEFAULT_TEXT_LENGTH
        length = self.whole(value, f"{path}.max_length")
        if length is not None and not 1 <= length <= MAX_TEXT_LENGTH:
            self.problem(
                f"{path}.max_length",
                f"max_length must be 1 to {MAX_TEXT_LENGTH}, found {length}: "
                f"use a length in that range (the default is {DEFAULT_TEXT_LENGTH})",
            )
            return None
        return length

    # ---- skip logic

    def condition(
        self,
        value: object,
        path: str,
        index: int,
        positions: Mapping[str, int],
        known: Mapping[str, _Answerable],
    ) -> Condition | None:
        c = self.mapping(
            value, path, "a condition", "{question: <earlier question id>, equals: <value>}"
        )
        if c is None:
            return None
        before = len(self.problems)
        self.keys(c, path, _CONDITION_FIELDS)
        target_id = self.field(
            c,
            "question",
            path,
            self.text,
            "name the earlier question this one depends on (its id)",
        )
        target: _Answerable | None = None
        if target_id is not None:
            target = self.target(target_id, f"{path}.question", index, positions, known)
        tests = [key for key in _CONDITION_FIELDS[1:] if c.get(key) is not None]
        if not tests:
            self.problem(
                path,
                "ask_if needs a condition: add equals, any_of, none_of, at_least or at_most",
            )
        if "equals" in tests and "any_of" in tests:
            self.problem(
                f"{path}.equals", "use equals or any_of, not both: put all the values in any_of"
            )
        matched: dict[str, list[str]] = {"any_of": [], "none_of": []}
        for key in ("equals", "any_of", "none_of"):
            given = c.get(key)
            key_path = f"{path}.{key}"
            if given is None:
                continue
            if target is not None and target.kind is QuestionKind.NUMBER:
                self.problem(
                    key_path,
                    f"{key} does not work with number questions ({target_id!r} is one): "
                    "use at_least and/or at_most",
                )
                continue
            if key == "equals":
                entries = [(given, key_path)]
            else:
                items = self.items(given, key_path, "a list of values such as [a, b]")
                if items is None:
                    continue
                if not items:
                    self.problem(key_path, f"{key} is empty: list at least one value")
                entries = [(item, f"{key_path}[{i}]") for i, item in enumerate(items)]
            for entry, entry_path in entries:
                answer = self.answer_value(entry, entry_path, target_id, target)
                if answer is not None:
                    matched["none_of" if key == "none_of" else "any_of"].append(answer)
        at_least = self.bound(c, "at_least", path, target_id, target)
        at_most = self.bound(c, "at_most", path, target_id, target)
        if at_least is not None and at_most is not None and at_least > at_most:
            self.problem(
                f"{path}.at_most",
                f"at_most ({at_most}) is less than at_least ({at_least}): "
                "the question would never be asked, correct one of them",
            )
        if len(self.problems) != before or target_id is None:
            return None
        return Condition(
            question=target_id,
            any_of=tuple(matched["any_of"]),
            none_of=tuple(matched["none_of"]),
            at_least=at_least,
            at_most=at_most,
        )

    def target(
        self,
        target_id: str,
        path: str,
        index: int,
        positions: Mapping[str, int],
        known: Mapping[str, _Answerable],
    ) -> _Answerable | None:
        """What the referenced question can be tested for (None: unknown or reported)."""
        position = positions.get(target_id)
        if position is None:
            earlier = [qid for qid, at in positions.items() if at < index]
            suggestion = _closest(target_id, earlier)
            fix = (
                f"did you mean {suggestion!r}?"
                if suggestion
                else "use the id of an earlier question"
            )
            self.problem(path, f"no question with id {target_id!r}: {fix}")
        elif position == index:
            self.problem(
                path, "a question cannot depend on its own answer: name an earlier question"
            )
        elif position > index:
            self.problem(
                path,
                f"ask_if can only look back: question {target_id!r} comes later "
                f"(questions[{position}]): move this question after it, "
                "or depend on an earlier question",
            )
        else:
            answerable = known.get(target_id)
            if answerable is not None and answerable.kind is QuestionKind.TEXT:
                self.problem(
                    path,
                    f"ask_if cannot depend on a text question ({target_id!r}): free text "
                    "cannot be matched, depend on a choice, yes/no, rating or number question",
                )
                return None
            return answerable
        return None

    def answer_value(
        self, value: object, path: str, target_id: str | None, target: _Answerable | None
    ) -> str | None:
        of = f"question {target_id!r}" if target_id else "the question"
        if isinstance(value, bool):
            if target is None or target.kind is QuestionKind.YES_NO:
                return YES if value else NO
            self.problem(
                path, f"expected a value of {of}, found {_found(value)}: {_text_fix(value)}"
            )
            return None
        if isinstance(value, int):
            answer = str(value)
        elif isinstance(value, str):
            answer = value
        else:
            self.problem(
                path, f"expected a value of {of}, found {_found(value)}: write one of its values"
            )
            return None
        if target is None or target.values is None or answer in target.values:
            return answer
        if target.kind is QuestionKind.YES_NO:
            fix = "use yes or no"
        elif target.kind is QuestionKind.RATING:
            fix = f"use a whole number from {target.low} to {target.high}"
        elif suggestion := _closest(answer, target.values):
            fix = f"did you mean {suggestion!r}? (its values: {_listing(target.values)})"
        else:
            fix = f"use one of {_listing(target.values)}"
        self.problem(path, f"{_found(value)} is not a value of {of}: {fix}")
        return None

    def bound(
        self,
        c: Mapping[object, object],
        key: str,
        path: str,
        target_id: str | None,
        target: _Answerable | None,
    ) -> float | None:
        given = c.get(key)
        if given is None:
            return None
        key_path = f"{path}.{key}"
        if target is not None and target.kind is not None and target.kind not in _NUMERIC_KINDS:
            self.problem(
                key_path,
                f"{key} only works with number and rating questions, {target_id!r} is a "
                f"{target.kind} question: use equals, any_of or none_of",
            )
            return None
        number = self.number(given, key_path)
        if number is None or target is None:
            return number
        if key == "at_least" and target.high is not None and number > target.high:
            self.problem(
                key_path,
                f"at_least ({number}) is more than the highest possible answer "
                f"({target.high}): the question would never be asked, lower it",
            )
        elif key == "at_most" and target.low is not None and number < target.low:
            self.problem(
                key_path,
                f"at_most ({number}) is less than the lowest possible answer "
                f"({target.low}): the question would never be asked, raise it",
            )
        return number


def _jsonable(value: object) -> Any:
    """A JSON-serialisable copy: date-times become ISO-8601 strings, the rest is as given."""
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


# --------------------------------------------------------------------------- shared machinery
# Public names for other definition files validated the same way (polls.campaign).
# read_yaml (above) gives the document and its lines.

DocumentChecker = _Checker
"""Collects problems with paths and lines; checks shapes, ids, localized texts, date-times."""
read_file_text = _read_text
closest = _closest
describe = _found
listing = _listing
join_path = _join
jsonable = _jsonable
