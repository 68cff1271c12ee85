"""XLSForm files (from KoBoToolbox or ODK) become survey documents, or a list of what to fix.

pyxform reads the workbook (``get_xlsform``) and interprets its types, labels
and choice lists (``workbook_to_json``); this module maps the result onto our
survey format (see ``polls.survey_loader``) and then validates it with
``parse_survey``, so every rule of ours applies (id patterns, text lengths,
2 to 20 choices, at most 50 questions, every text in every language). Nothing
is dropped silently: what cannot be asked by SMS or Telegram is a *problem*
(the import fails and says what to change, by sheet, row and column, rows
numbered as Excel shows them, the header being row 1); what is set aside on
purpose without changing what people are asked is a *notice* (the import
succeeds and lists it).

====================================  ===================================================
XLSForm                               our survey
====================================  ===================================================
settings ``form_id``                  ``id`` (``survey_id=`` wins; else the file name)
settings ``form_title::Lang (xx)``    ``title`` (a plain ``form_title`` stands for every
                                      language without one, with a notice)
``label::Language (code)`` columns    ``languages`` (in column order; ``languages=`` wins)
                                      and every text; a plain ``label`` column counts
                                      as settings ``default_language``
``select_one L``                      ``single_choice``; ``yes_no`` when L's values are
                                      exactly ``yes`` and ``no``
``select_multiple L``                 ``multiple_choice``; ``count-selected(.) >= a``,
                                      ``<= b`` give ``min_picks``, ``max_picks``
``integer`` / ``decimal``             ``number`` (``integer: false`` for decimal);
                                      ``. >= a and . <= b`` give ``min``, ``max``
``range`` (``step=1``)                ``rating`` from ``start`` to ``end`` (default 1-10)
``text``                              ``text``; ``string-length(.) <= n`` is ``max_length``
                                      (else our default, 500 characters)
``note`` before the first question    ``intro`` (several notes are joined)
``note`` after the last question      ``thanks``
``note`` between questions            put in front of the next question's text (notice)
``required``                          ``required``: yes/true/true() or no/false/empty
                                      (XLSForm's default, not required, is written out)
``relevant``                          ``ask_if`` on one earlier question: ``=``, ``!=``,
                                      ``selected()``, ``not(selected())``, ``>=``, ``>``,
                                      ``<=``, ``<``, joined by ``and`` (or by ``or`` for
                                      several values of the question)
choices ``name`` / ``label::...``     ``choices[].value`` / ``choices[].label``
====================================  ===================================================

Problems: groups and repeats (their begin and end rows), the types calculate,
date, time, geopoint, image, audio, video, file, barcode, rank, acknowledge,
hidden and the external or from-file selects, unknown types, ``or_other``, a
missing or misspelt choice list, media, choice filters, defaults,
read-only, triggers, repeat counts, parameters other than a range's, a
``relevant``/``constraint``/``required`` we cannot express, ``${...}`` inside a
text, a missing translation or label column, label columns without a language
code, a title missing in a language, and all that ``parse_survey`` rejects.

Notices: ``constraint_message``/``required_message`` (the bot explains limits in
its own words, in each language), hints (not shown by SMS or Telegram),
``appearance`` and ``guidance_hint`` (ODK display), a plain ``form_title`` used
for every language, a yes/no list's labels (the bot shows its own Yes/No buttons),
metadata rows such as ``start``/``end`` (ODK fills them in; the bot records when
each answer arrives), notes moved in front of a question, settings, sheets and
columns we do not use, KoBoToolbox's ``$`` columns.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pyxform.xls2json import workbook_to_json
from pyxform.xls2json_backends import DefinitionData, get_xlsform

from polls.survey import Survey
from polls.survey_loader import (
    LANGUAGE_CODE,
    SURVEY_ID,
    SurveyFileError,
    SurveyProblem,
    closest,
    parse_survey,
)

__all__ = [
    "XlsFormConversion",
    "XlsFormError",
    "XlsFormProblem",
    "convert_xlsform",
    "document_to_yaml",
    "load_xlsform",
    "xlsform_to_document",
]

SURVEY_SHEET, CHOICES_SHEET, SETTINGS_SHEET = "survey", "choices", "settings"
_SHEET_ORDER = {None: 0, SURVEY_SHEET: 1, CHOICES_SHEET: 2, SETTINGS_SHEET: 3}
_SUPPORTED_TYPES = "select_one, select_multiple, integer, decimal, text, note and range"

# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class XlsFormProblem(SurveyProblem):
    """A problem (or notice) about a workbook, at a sheet, row and column where known.

    ``path`` reads like "survey sheet, row 7, column type"; ``row`` is the row number
    Excel shows (the header is row 1).
    """

    sheet: str | None = None
    row: int | None = None
    column: str | None = None


class XlsFormError(SurveyFileError):
    """An XLSForm that cannot become a survey; ``problems`` lists everything to fix.

    ``notices`` lists what would be set aside once the problems are fixed.
    """

    def __init__(
        self, problems: Iterable[SurveyProblem], notices: Iterable[SurveyProblem] = ()
    ) -> None:
        super().__init__(problems)
        self.notices = list(notices)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.problems, self.notices))


@dataclass(frozen=True)
class XlsFormConversion:
    """A converted form: the survey, its YAML-equivalent document, and what was set aside."""

    survey: Survey
    document: dict[str, Any]
    notices: tuple[XlsFormProblem, ...]


@dataclass(frozen=True)
class _Cell:
    sheet: str | None
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        if self.sheet is None:
            return ""
        parts = [f"{self.sheet} sheet"]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column}")
        return ", ".join(parts)


# --------------------------------------------------------------------------- public API


def convert_xlsform(
    xlsform: str | os.PathLike[str] | bytes,
    *,
    survey_id: str | None = None,
    languages: Sequence[str] | None = None,
    source: str | None = None,
) -> XlsFormConversion:
    """Convert an XLSForm (a path, or the bytes of an uploaded .xlsx/.xls file).

    ``survey_id`` overrides the settings sheet's ``form_id``; ``languages`` (codes
    such as ``["az", "ru", "en"]``) overrides the languages of the label columns,
    and label columns in other languages are then left out (with a notice).
    ``source`` names the file in problems (default: the path, or "upload.xlsx").
    Raises :class:`XlsFormError` listing every problem.
    """
    if isinstance(xlsform, bytes):
        name = source or "upload.xlsx"
        content = xlsform
    else:
        name = source or os.fspath(xlsform)
        try:
            content = Path(xlsform).read_bytes()
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise XlsFormError(
                [_problem(name, _Cell(None), f"cannot read the file ({reason}): check the path")]
            ) from exc
    definition = _read_workbook(content, name)
    return _Converter(name, definition, survey_id, languages).convert()


def load_xlsform(
    path: str | os.PathLike[str] | bytes,
    *,
    survey_id: str | None = None,
    languages: Sequence[str] | None = None,
    source: str | None = None,
) -> Survey:
    """The survey an XLSForm describes; raises :class:`XlsFormError` listing every problem."""
    return convert_xlsform(path, survey_id=survey_id, languages=languages, source=source).survey


def xlsform_to_document(
    path: str | os.PathLike[str] | bytes,
    *,
    survey_id: str | None = None,
    languages: Sequence[str] | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """The survey document (as a YAML survey file holds it) an XLSForm describes.

    The document is validated: ``parse_survey(document)`` gives the survey
    :func:`load_xlsform` gives. Raises :class:`XlsFormError` listing every problem.
    """
    return convert_xlsform(path, survey_id=survey_id, languages=languages, source=source).document


class _SurveyDumper(yaml.SafeDumper):
    """Survey files as people write them: ``[az, ru, en]``, and texts with line breaks as blocks."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


def _represent_list(dumper: yaml.SafeDumper, items: list[Any]) -> yaml.SequenceNode:
    flow = all(isinstance(item, str | int | float) and "\n" not in str(item) for item in items)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flow)


_SurveyDumper.add_representer(str, _represent_text)
_SurveyDumper.add_representer(list, _represent_list)


def document_to_yaml(document: Mapping[str, Any], *, comment: str | None = None) -> str:
    """A survey document as YAML text, fields in the usual order; ``comment`` goes on top."""
    text = yaml.dump(
        dict(document), Dumper=_SurveyDumper, allow_unicode=True, sort_keys=False, width=100
    )
    if comment:
        header = "".join(f"# {line}\n" if line else "#\n" for line in comment.splitlines())
        text = header + text
    return text


# --------------------------------------------------------------------------- reading

_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0"


def _read_workbook(content: bytes, source: str) -> DefinitionData:
    if not content.startswith((_XLSX_MAGIC, _XLS_MAGIC)):
        raise XlsFormError(
            [
                _problem(
                    source,
                    _Cell(None),
                    "this is not an Excel workbook (.xlsx or .xls): save the form from Excel, "
                    "or download it from KoBoToolbox or ODK as XLSForm",
                )
            ]
        )
    try:
        definition: DefinitionData = get_xlsform(content)
    # pyxform and the Excel readers below it fail in many ways on damaged files.
    except Exception as exc:
        raise XlsFormError(
            [
                _problem(
                    source,
                    _Cell(None),
                    f"cannot read the workbook ({_pyxform_text(exc)}): "
                    "open it in Excel, save it again as .xlsx and retry",
                )
            ]
        ) from exc
    if not definition.survey:
        names = [name.strip().lower() for name in definition.sheet_names or ()]
        message = (
            "it is empty: add a row per question, with type, name and label"
            if SURVEY_SHEET in names
            else "there is no sheet named 'survey': name the sheet with the questions "
            "'survey', with type, name and label columns"
        )
        raise XlsFormError([_problem(source, _Cell(SURVEY_SHEET), message)])
    return definition


def _pyxform_text(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _problem(source: str, cell: _Cell, message: str) -> XlsFormProblem:
    return XlsFormProblem(
        source, str(cell), message, None, sheet=cell.sheet, row=cell.row, column=cell.column
    )


# --------------------------------------------------------------------------- columns

# Column names (and pyxform's aliases) -> what the column is for.
_SURVEY_ROLES = {
    "type": "type",
    "command": "type",
    "name": "name",
    "tag": "name",
    "value": "name",
    "label": "label",
    "caption": "label",
    "hint": "hint",
    "guidance_hint": "guidance_hint",
    "required": "required",
    "required_message": "required_message",
    "requiredmsg": "required_message",
    "relevant": "relevant",
    "relevance": "relevant",
    "constraint": "constraint",
    "constraint_message": "constraint_message",
    "constraining_message": "constraint_message",
    "appearance": "appearance",
    "parameters": "parameters",
    "choice_filter": "choice_filter",
    "calculation": "calculation",
    "calculate": "calculation",
    "default": "default",
    "read_only": "read_only",
    "readonly": "read_only",
    "trigger": "trigger",
    "repeat_count": "repeat_count",
    "count": "repeat_count",
    "jr:count": "repeat_count",
    "media": "media",
    "image": "media",
    "big-image": "media",
    "audio": "media",
    "video": "media",
}
_CHOICES_ROLES = {
    "list_name": "list_name",
    "list name": "list_name",
    "name": "name",
    "value": "name",
    "label": "label",
    "caption": "label",
    "media": "media",
    "image": "media",
    "big-image": "media",
    "audio": "media",
    "video": "media",
}
_SETTINGS_ROLES = {
    "form_title": "form_title",
    "set_form_title": "form_title",
    "form_id": "form_id",
    "set_form_id": "form_id",
    "id_string": "form_id",
    "default_language": "default_language",
}
_TRANSLATABLE = {"label", "hint", "guidance_hint", "constraint_message", "required_message"}
_TRANSLATABLE |= {"media", "form_title"}
_LANGUAGE_IN_NAME = re.compile(r"\(\s*([A-Za-z]{2,3})\s*\)\s*$")
_KNOWN_LANGUAGES = {"azerbaijani": "az", "russian": "ru", "english": "en", "turkish": "tr"}


@dataclass(frozen=True)
class _Column:
    header: str
    role: str  # "other" for columns we do not know, "kobo" for KoBoToolbox's "$..." columns
    language: str | None = None  # "Russian (ru)" for label::Russian (ru); None: untranslated


def _columns(
    header_rows: Sequence[Mapping[str, Any]] | None, roles: Mapping[str, str]
) -> list[_Column]:
    headers = [str(h) for h in (header_rows[0] if header_rows else {}) if h is not None]
    double = any("::" in h for h in headers)
    columns: list[_Column] = []
    for header in headers:
        if header.startswith("$"):
            columns.append(_Column(header, "kobo"))
            continue
        parts = [p.strip() for p in (header.split("::") if double else header.split(":", 1))]
        first = parts[0].lower()
        if first == "bind" and len(parts) > 1:
            parts = parts[1:]
            first = parts[0].lower()
        role = roles.get(first) or roles.get(header.strip().lower(), "other")
        if first == "media" and len(parts) > 1:
            parts = parts[1:]
        language = parts[-1] if role in _TRANSLATABLE and len(parts) > 1 else None
        columns.append(_Column(header, role, language))
    return columns


def _language_code(language: str | None) -> str | None:
    """The code a language name ends with ("Russian (ru)" gives "ru"), or None."""
    if language is None:
        return None
    match = _LANGUAGE_IN_NAME.search(language)
    return match.group(1).lower() if match else None


def _value(row: Mapping[str, Any], header: str | None) -> str:
    if header is None:
        return ""
    value = row.get(header)
    return "" if value is None else str(value).strip()


class _Sheet:
    """One sheet's rows (Excel row numbers) and what each column is for."""

    def __init__(
        self,
        name: str,
        rows: Sequence[Mapping[str, Any]] | None,
        header_rows: Sequence[Mapping[str, Any]] | None,
        roles: Mapping[str, str],
        default_language: str | None,
    ) -> None:
        self.name = name
        self.rows = [(index + 2, dict(row)) for index, row in enumerate(rows or ())]
        self.columns = _columns(header_rows or (_guess_headers(rows or ())), roles)
        self.default_language = default_language

    def header(self, role: str) -> str | None:
        return next((c.header for c in self.columns if c.role == role), None)

    def value(self, row: Mapping[str, Any], role: str) -> str:
        return _value(row, self.header(role))

    def language_columns(self, role: str) -> dict[str, _Column]:
        """Columns of a translatable role by language code (untranslated: the default language)."""
        found: dict[str, _Column] = {}
        for column in self.columns:
            if column.role != role:
                continue
            code = _language_code(column.language or self.default_language)
            if code is not None:
                found.setdefault(code, column)
        return found

    def cell(self, row: int | None = None, role_or_header: str | None = None) -> _Cell:
        header = self.header(role_or_header) if role_or_header else None
        return _Cell(self.name, row, header or role_or_header)


def _guess_headers(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, None]]:
    return [{key: None for row in rows for key in row}]


# --------------------------------------------------------------------------- types

_SELECT = re.compile(
    r"(select_one|select one|select1|select_multiple|select multiple|select all that apply)"
    r"(?:\s+(\S+))?(\s+or[_ ]other)?",
    re.IGNORECASE,
)
_KINDS = {
    "text": "text",
    "string": "text",
    "integer": "integer",
    "int": "integer",
    "decimal": "decimal",
    "note": "note",
    "range": "range",
}
_GROUPS = {
    "begin group": "group",
    "begin_group": "group",
    "end group": "group",
    "end_group": "group",
    "begin repeat": "repeat",
    "begin_repeat": "repeat",
    "end repeat": "repeat",
    "end_repeat": "repeat",
    "begin loop": "repeat",
    "begin_loop": "repeat",
    "end loop": "repeat",
    "end_loop": "repeat",
}
# Filled in by ODK itself, never asked: set aside with a notice.
_METADATA = {
    "start": "the time the form was opened",
    "end": "the time the form was finished",
    "today": "the day of the interview",
    "start time": "the time the form was opened",
    "end time": "the time the form was finished",
    "deviceid": "the device id",
    "imei": "the device id",
    "phonenumber": "the phone number of the device",
    "simserial": "the SIM serial number",
    "subscriberid": "the subscriber id",
    "username": "the ODK user name",
    "email": "the ODK user's e-mail",
    "audit": "the audit log",
    "start-geopoint": "the place where the form was opened",
    "background-geopoint": "the place where a question was answered",
    "background-audio": "a background recording",
}
# Types nobody can answer in a chat: the message is "'<type>' cannot be asked by SMS or
# Telegram: <what to do>".
_LOCATION = "remove the row, or change it to text and ask for the place by name (or to "
_LOCATION += "select_one with a list of regions)"
_MEDIA = "remove the row (photos, recordings and files cannot be collected), or change it to text"
_DATE = "change it to integer (for example a year) or to select_one with a few periods"
_FROM_FILE = "put the choices on the choices sheet and use select_one or select_multiple"
_UNSUPPORTED_TYPES = {
    "geopoint": _LOCATION,
    "geotrace": _LOCATION,
    "geoshape": _LOCATION,
    "gps": _LOCATION,
    "location": _LOCATION,
    "image": _MEDIA,
    "photo": _MEDIA,
    "audio": _MEDIA,
    "video": _MEDIA,
    "file": _MEDIA,
    "barcode": "remove the row or change it to text",
    "date": _DATE,
    "time": _DATE,
    "datetime": _DATE,
    "date time": _DATE,
    "calculate": "remove the row (calculations are not supported)",
    "hidden": "remove the row (hidden values are not supported)",
    "acknowledge": "change it to select_one with a yes/no list, or to a note",
    "trigger": "change it to select_one with a yes/no list, or to a note",
    "rank": "change it to select_multiple with a limit on the number of picks "
    "(constraint count-selected(.) <= 3), or remove it",
    "select_one_from_file": _FROM_FILE,
    "select_multiple_from_file": _FROM_FILE,
    "select one from file": _FROM_FILE,
    "select multiple from file": _FROM_FILE,
    "select_one_external": _FROM_FILE,
    "select one external": _FROM_FILE,
    "xml-external": "remove the row (external data is not supported)",
    "csv-external": "remove the row (external data is not supported)",
    "osm": "remove the row (OpenStreetMap questions are not supported)",
}


@dataclass(frozen=True)
class _TypeInfo:
    kind: str  # single_choice/multiple_choice/integer/decimal/text/note/range; "" when not kept
    list_name: str | None = None


# --------------------------------------------------------------------------- expressions


class _Unsupported(Exception):
    """An expression we cannot express; the message says why."""


@dataclass(frozen=True)
class _Ref:
    name: str


@dataclass(frozen=True)
class _Self:
    pass


@dataclass(frozen=True)
class _Literal:
    text: str
    quoted: bool


@dataclass(frozen=True)
class _Call:
    name: str
    args: tuple[_Node, ...]


@dataclass(frozen=True)
class _Compare:
    left: _Node
    op: str
    right: _Node


@dataclass(frozen=True)
class _Not:
    inner: _Node


@dataclass(frozen=True)
class _Junction:
    op: str  # "and" or "or"
    items: tuple[_Node, ...]


_Node = _Ref | _Self | _Literal | _Call | _Compare | _Not | _Junction

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<ref>\$\{\s*(?P<refname>[^}]*?)\s*\})
    | '(?P<single>[^']*)' | "(?P<double>[^"]*)"
    | (?P<number>-?(?:\d+(?:\.\d*)?|\.\d+))
    | (?P<op>>=|<=|!=|=|>|<)
    | (?P<punct>[(),])
    | (?P<dot>\.)
    | (?P<word>[A-Za-z_][A-Za-z0-9_:-]*)
    )""",
    re.VERBOSE,
)
_SMART_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"'})
_FLIP = {"=": "=", "!=": "!=", ">=": "<=", ">": "<", "<=": ">=", "<": ">"}
_NEGATE = {"=": "!=", "!=": "=", ">=": "<", ">": "<=", "<=": ">", "<": ">="}


def _tokens(text: str) -> list[tuple[str, str]]:
    text = text.translate(_SMART_QUOTES)
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if not text[position:].strip():
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise _Unsupported(f"cannot read it from {text[position:].strip()[:20]!r} on")
        kind = match.lastgroup or ""
        if kind == "refname":
            kind = "ref"
        value = match.group(kind)
        if kind == "ref":
            value = match.group("refname")
        elif kind in ("single", "double"):
            kind = "string"
        tokens.append((kind, value))
        position = match.end()
    return tokens


class _ExpressionParser:
    """XPath as XLSForm writes it, as far as skip logic and limits need."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.position = 0

    def parse(self) -> _Node:
        if not self.tokens:
            raise _Unsupported("it is empty")
        node = self.disjunction()
        if self.position != len(self.tokens):
            raise _Unsupported(f"cannot read it from {self.tokens[self.position][1]!r} on")
        return node

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def accept(self, kind: str, value: str | None = None) -> bool:
        token = self.peek()
        if token and token[0] == kind and (value is None or token[1].lower() == value):
            self.position += 1
            return True
        return False

    def expect(self, kind: str, value: str) -> None:
        if not self.accept(kind, value):
            raise _Unsupported(f"expected {value!r}")

    def disjunction(self) -> _Node:
        items = [self.conjunction()]
        while self.accept("word", "or"):
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else _Junction("or", tuple(items))

    def conjunction(self) -> _Node:
        items = [self.comparison()]
        while self.accept("word", "and"):
            items.append(self.comparison())
        return items[0] if len(items) == 1 else _Junction("and", tuple(items))

    def comparison(self) -> _Node:
        left = self.operand()
        token = self.peek()
        if token and token[0] == "op":
            self.position += 1
            return _Compare(left, token[1], self.operand())
        return left

    def operand(self) -> _Node:
        token = self.peek()
        if token is None:
            raise _Unsupported("it ends too early")
        kind, value = token
        self.position += 1
        if kind == "punct" and value == "(":
            node = self.disjunction()
            self.expect("punct", ")")
            return node
        if kind == "ref":
            return _Ref(value)
        if kind == "dot":
            return _Self()
        if kind in ("string", "number"):
            return _Literal(value, kind == "string")
        if kind == "word" and self.accept("punct", "("):
            args: list[_Node] = []
            if not self.accept("punct", ")"):
                args.append(self.disjunction())
                while self.accept("punct", ","):
                    args.append(self.disjunction())
                self.expect("punct", ")")
            if value.lower() == "not" and len(args) == 1:
                return _Not(args[0])
            return _Call(value.lower(), tuple(args))
        raise _Unsupported(f"cannot read it from {value!r} on")


def _parse_expression(text: str) -> _Node:
    return _ExpressionParser(text).parse()


def _number(literal: _Literal) -> int | float:
    try:
        number = float(literal.text)
    except ValueError:
        raise _Unsupported(f"{literal.text!r} is not a number") from None
    return int(number) if number.is_integer() else number


def _junction_items(node: _Node, what: str) -> tuple[str, list[_Node]]:
    """The connective ("and"/"or") and its items, flattening nested ones of the same kind."""
    if not isinstance(node, _Junction):
        return "and", [node]
    items: list[_Node] = []
    for item in node.items:
        if isinstance(item, _Junction):
            if item.op != node.op:
                raise _Unsupported(f"it mixes 'and' with 'or': {what}")
            items.extend(_junction_items(item, what)[1])
        else:
            items.append(item)
    return node.op, items


@dataclass(frozen=True)
class _Test:
    question: str
    op: str
    value: _Literal
    by_selected: bool


def _test(node: _Node) -> _Test:
    negate = False
    if isinstance(node, _Not):
        node, negate = node.inner, True
    if isinstance(node, _Call) and node.name == "selected":
        args = node.args
        if len(args) == 2 and isinstance(args[0], _Ref) and isinstance(args[1], _Literal):
            return _Test(args[0].name, "!=" if negate else "=", args[1], True)
        raise _Unsupported("selected() takes a question and a value: selected(${q}, 'value')")
    if isinstance(node, _Compare):
        left, op, right = node.left, node.op, node.right
        if isinstance(left, _Literal) and isinstance(right, _Ref):
            left, op, right = right, _FLIP[op], left
        if isinstance(left, _Ref) and isinstance(right, _Literal):
            if right.quoted and right.text == "":
                raise _Unsupported(
                    "testing whether a question was answered is not supported "
                    "(every question is asked until it is answered or skipped)"
                )
            return _Test(left.name, _NEGATE[op] if negate else op, right, False)
    function = _function_in(node)
    if function is not None:
        raise _Unsupported(f"the function {function}() is not supported")
    raise _Unsupported("each part must compare one earlier question with a value")


def _function_in(node: _Node) -> str | None:
    """The first function an expression calls, if any."""
    if isinstance(node, _Call):
        return node.name
    if isinstance(node, _Compare):
        return _function_in(node.left) or _function_in(node.right)
    if isinstance(node, _Not):
        return _function_in(node.inner)
    if isinstance(node, _Junction):
        return next((f for item in node.items if (f := _function_in(item))), None)
    return None


_RELEVANT_FORMS = (
    "${q} = 'value', ${q} != 'value', selected(${q}, 'value'), "
    "not(selected(${q}, 'value')) or ${q} >= 18, joined by 'and' "
    "(or by 'or' for several values of the same question)"
)


def _condition(
    expression: str, earlier: Mapping[str, str], dropped: Mapping[str, int]
) -> dict[str, Any]:
    """``ask_if`` for a relevant expression; raises _Unsupported saying why not.

    ``earlier`` gives the kind of each question before this one (as in ``_Kept``),
    ``dropped`` the row of each named row that cannot be imported.
    """
    connective, items = _junction_items(_parse_expression(expression), "use one or the other")
    tests = [_test(item) for item in items]
    names = list(dict.fromkeys(test.question for test in tests))
    if len(names) > 1:
        raise _Unsupported(
            f"it depends on {len(names)} questions ({', '.join(names)}): a question can "
            "depend on one earlier question only"
        )
    name = names[0]
    if name in dropped:
        raise _Unsupported(
            f"it depends on {name!r} (row {dropped[name]}), which cannot be imported: "
            "fix that row first"
        )
    kind = earlier.get(name)
    numeric = kind in ("integer", "decimal", "range")
    condition: dict[str, Any] = {"question": name}
    positive: list[str] = []
    negative: list[str] = []
    low: int | float | None = None
    high: int | float | None = None
    for test in tests:
        if kind == "multiple_choice" and test.op in ("=", "!=") and not test.by_selected:
            raise _Unsupported(
                f"{name!r} is a select_multiple question: test its answers with "
                f"selected(${{{name}}}, 'value') or not(selected(${{{name}}}, 'value'))"
            )
        if connective == "or" and test.op != "=":
            raise _Unsupported(
                "'or' only joins values of one question (${q} = 'a' or ${q} = 'b'); "
                "for a range of numbers use 'and'"
            )
        if test.op in ("=", "!=") and (not numeric or kind == "range"):
            value = _choice_value(test.value)
            (positive if test.op == "=" else negative).append(value)
            continue
        if kind is not None and not numeric:
            raise _Unsupported(
                f"{name!r} has choices, not numbers: compare it with = or selected()"
            )
        if test.op == "!=":
            raise _Unsupported("a number cannot be tested with !=: use >=, <=, > or <")
        number = _number(test.value)
        if test.op in (">", "<"):
            if kind == "decimal" or not isinstance(number, int):
                raise _Unsupported(f"use {test.op}= instead of {test.op} for decimal numbers")
            number = number + 1 if test.op == ">" else number - 1
        if test.op in ("=", ">=", ">"):
            low = number if low is None else max(low, number)
        if test.op in ("=", "<=", "<"):
            high = number if high is None else min(high, number)
    if connective == "and" and len(positive) > 1:
        raise _Unsupported(
            "two values joined by 'and' cannot be tested (for a select_multiple, "
            "'both picked' is not supported): join them with 'or' to ask when either is picked"
        )
    if len(positive) == 1:
        condition["equals"] = positive[0]
    elif positive:
        condition["any_of"] = positive
    if negative:
        condition["none_of"] = negative
    if low is not None:
        condition["at_least"] = low
    if high is not None:
        condition["at_most"] = high
    return condition


def _choice_value(literal: _Literal) -> str:
    if literal.quoted:
        return literal.text
    number = _number(literal)
    return str(number)


_LIMIT_FORMS = {
    "integer": ". >= 0 and . <= 120",
    "decimal": ". >= 0 and . <= 99.5",
    "multiple_choice": "count-selected(.) >= 1 and count-selected(.) <= 3",
    "text": "string-length(.) <= 300",
}


def _limits(expression: str, kind: str) -> dict[str, int | float]:
    """Fields of our question for a constraint; raises _Unsupported saying why not."""
    connective, items = _junction_items(_parse_expression(expression), "use 'and' only")
    if connective == "or":
        raise _Unsupported("'or' is not supported in a constraint: use 'and' only")
    low: int | float | None = None
    high: int | float | None = None
    whole = kind != "decimal"
    for item in items:
        function = _function_in(item)
        if function is not None and not (
            kind in _LIMIT_FUNCTIONS and function == _LIMIT_FUNCTIONS[kind]
        ):
            raise _Unsupported(f"the function {function}() is not supported")
        if not isinstance(item, _Compare):
            raise _Unsupported("each part must compare the answer with a number")
        left, op, right = item.left, item.op, item.right
        if isinstance(left, _Literal):
            left, op, right = right, _FLIP[op], left
        if not isinstance(right, _Literal) or not _is_subject(left, kind):
            raise _Unsupported("each part must compare the answer with a number")
        if op == "!=":
            raise _Unsupported("!= is not supported: use >=, <=, > or <")
        number = _number(right)
        if op in (">", "<"):
            if not whole or not isinstance(number, int):
                raise _Unsupported(f"use {op}= instead of {op} for decimal numbers")
            number = number + 1 if op == ">" else number - 1
        if op in ("=", ">=", ">"):
            low = number if low is None else max(low, number)
        if op in ("=", "<=", "<"):
            high = number if high is None else min(high, number)
    fields: dict[str, int | float] = {}
    names = {
        "integer": ("min", "max"),
        "decimal": ("min", "max"),
        "multiple_choice": ("min_picks", "max_picks"),
        "text": ("", "max_length"),
    }[kind]
    if low is not None:
        if not names[0]:
            raise _Unsupported("a minimum length is not supported: only string-length(.) <= n")
        fields[names[0]] = low
    if high is not None:
        fields[names[1]] = high
    return fields


_LIMIT_FUNCTIONS = {"multiple_choice": "count-selected", "text": "string-length"}


def _is_subject(node: _Node, kind: str) -> bool:
    function = _LIMIT_FUNCTIONS.get(kind)
    if function is None:
        return isinstance(node, _Self)
    return (
        isinstance(node, _Call)
        and node.name == function
        and len(node.args) == 1
        and isinstance(node.args[0], _Self)
    )


# --------------------------------------------------------------------------- conversion

_QUESTION_PATH = re.compile(r"^questions\[(\d+)\]")
_QUESTION_REFERENCE = re.compile(r"questions\[(\d+)\]")
_CHOICE_REFERENCE = re.compile(r"choices\[(\d+)\]")
_LAST_SEGMENT = re.compile(r"(.*)(?:\.[^.\[\]]*|\[[^\[\]]*\])", re.DOTALL)
_YES_WORDS = {"yes", "true", "true()"}
_NO_WORDS = {"no", "false", "false()"}
_SLUG = re.compile(r"[^a-z0-9_-]+")
_INTERPOLATION = re.compile(r"\$\{[^}]*\}")
_DISPLAY_PARAMETERS = {"tick_interval", "placeholder", "tick_labelset"}


@dataclass
class _Kept:
    """A survey row that becomes a question or a note."""

    row: int
    cells: dict[str, Any]
    kind: str
    list_name: str | None
    name: str


class _Converter:
    """One workbook becomes a survey document, collecting problems and notices on the way."""

    def __init__(
        self,
        source: str,
        definition: DefinitionData,
        survey_id: str | None,
        languages: Sequence[str] | None,
    ) -> None:
        self.source = source
        self.definition = definition
        self.survey_id = survey_id
        self.requested = tuple(languages) if languages is not None else None
        self.problems: list[XlsFormProblem] = []
        self.notices: list[XlsFormProblem] = []
        # Where each path of the document came from, to put our validation's problems there.
        self.cells: dict[str, _Cell] = {}
        # Paths already reported in spreadsheet terms: our validation's problems there are left out.
        self.claimed: set[str] = set()
        # Words added to problems at a path, such as "(with the note on row 5)".
        self.suffixes: dict[str, str] = {}
        self.question_rows: list[int] = []
        self.choice_rows: dict[int, list[int]] = {}
        self.settings = _Sheet(
            SETTINGS_SHEET, definition.settings, definition.settings_header, _SETTINGS_ROLES, None
        )
        self.settings_row = self.settings.rows[0] if self.settings.rows else None
        default = None
        if self.settings_row is not None:
            default = self.settings.value(self.settings_row[1], "default_language") or None
        self.default_language = default
        self.survey = _Sheet(
            SURVEY_SHEET, definition.survey, definition.survey_header, _SURVEY_ROLES, default
        )
        self.choices = _Sheet(
            CHOICES_SHEET, definition.choices, definition.choices_header, _CHOICES_ROLES, default
        )
        self.languages: tuple[str, ...] = ()
        self.lists: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self.choice_labels: dict[str, list[object]] = {}
        self.form_language = "default"

    # ---- reporting

    def problem(self, cell: _Cell, message: str, *claims: str) -> None:
        found = _problem(self.source, cell, message)
        if found not in self.problems:
            self.problems.append(found)
        self.claimed.update(claims)

    def notice(self, cell: _Cell, message: str) -> None:
        found = _problem(self.source, cell, message)
        if found not in self.notices:
            self.notices.append(found)

    # ---- the whole form

    def convert(self) -> XlsFormConversion:
        self.check_sheets()
        self.languages = self.survey_languages()
        self.check_columns()
        document: dict[str, Any] = {"id": self.identifier()}
        title = self.title()
        if title is not None:
            document["title"] = title
        document["languages"] = list(self.languages)
        self.lists = self.choice_lists()
        kept = self.survey_rows()
        children = self.interpret(kept)
        if children is not None:
            self.build(document, kept, children)
            self.validate(document)
        if self.problems:
            raise XlsFormError(_ordered(self.problems), _ordered(self.notices))
        survey = parse_survey(document, source=self.source)
        return XlsFormConversion(survey, document, tuple(_ordered(self.notices)))

    def check_sheets(self) -> None:
        known = {SURVEY_SHEET, CHOICES_SHEET, SETTINGS_SHEET}
        for name in self.definition.sheet_names or ():
            if name.strip().lower() in known:
                continue
            why = {
                "external_choices": "external choices are only used by select_one_external",
                "entities": "the bot does not create or update ODK entities",
                "osm": "OpenStreetMap questions are not supported",
            }.get(name.strip().lower(), "only the survey, choices and settings sheets are read")
            self.notice(_Cell(name), f"not used: {why}")

    def survey_languages(self) -> tuple[str, ...]:
        found = self.survey.language_columns("label")
        codes: list[str] = []
        if self.requested is not None:
            for code in self.requested:
                if not LANGUAGE_CODE.fullmatch(code):
                    self.problem(
                        _Cell(None),
                        f"invalid language code {code!r}: use two- or three-letter lowercase "
                        "codes such as az, ru and en",
                    )
                elif code not in codes:
                    codes.append(code)
                    if code not in found:
                        self.problem(
                            _Cell(SURVEY_SHEET),
                            f"there is no label column for {code!r}: add a column "
                            f"'label::{_language_example(code)}' with every question in that "
                            "language",
                        )
            return tuple(codes)
        for code, column in found.items():
            if LANGUAGE_CODE.fullmatch(code):
                codes.append(code)
            else:
                self.problem(
                    self.survey.cell(None, column.header),
                    f"{code!r} is not a language code we can use: write a two- or three-letter "
                    "lowercase code in brackets, such as 'label::English (en)'",
                )
        if not codes:
            # Label columns without a language code are reported with the columns.
            self.claimed.add("languages")
            if not any(column.role == "label" for column in self.survey.columns):
                self.problem(
                    _Cell(SURVEY_SHEET),
                    "there is no label column: add one per language, such as "
                    "'label::Azerbaijani (az)', 'label::Russian (ru)' and 'label::English (en)'",
                )
        return tuple(codes)

    def check_columns(self) -> None:
        """Column-level problems and notices: languages without codes, columns we do not use."""
        for sheet in (self.survey, self.choices):
            for column in sheet.columns:
                cell = sheet.cell(None, column.header)
                if column.role == "label":
                    code = _language_code(column.language or self.default_language)
                    if not _column_used(sheet, column.header):
                        continue
                    if code is None and self.requested is None:
                        self.problem(cell, _unnamed_language(column))
                    elif code not in self.languages:
                        shown = f"{code!r} is" if code else "its language is"
                        self.notice(
                            cell,
                            f"not used: {shown} not one of the survey's languages "
                            f"({', '.join(self.languages)})",
                        )
                elif column.role == "kobo":
                    self.notice(cell, "not used: KoBoToolbox bookkeeping the survey does not need")
                elif column.role == "other" and _column_used(sheet, column.header):
                    self.notice(cell, "not used: not a column this import knows")

    # ---- settings

    def identifier(self) -> str:
        if self.survey_id is not None:
            if not SURVEY_ID.fullmatch(self.survey_id):
                self.problem(
                    _Cell(None),
                    f"invalid survey id {self.survey_id!r}: {_SURVEY_ID_RULE}",
                    "id",
                )
            return self.survey_id
        if self.settings_row is not None:
            row, cells = self.settings_row
            form_id = self.settings.value(cells, "form_id")
            if form_id:
                cell = self.settings.cell(row, "form_id")
                self.cells["id"] = cell
                if not SURVEY_ID.fullmatch(form_id):
                    self.problem(
                        cell,
                        f"{form_id!r} cannot be the survey id: change it ({_SURVEY_ID_RULE}, "
                        "such as 'youth-priorities-2026'), or give an id when importing",
                        "id",
                    )
                return form_id
        slug = _SLUG.sub("_", Path(self.source).stem.lower()).strip("_-")[:40].strip("_-")
        if not SURVEY_ID.fullmatch(slug):
            self.problem(
                _Cell(SETTINGS_SHEET),
                "the survey needs an id: add a form_id column to the settings sheet "
                "(such as 'youth-priorities-2026'), or give an id when importing",
                "id",
            )
        return slug

    def title(self) -> dict[str, str] | None:
        columns = self.settings.language_columns("form_title")
        plain = next(
            (c for c in self.settings.columns if c.role == "form_title" and c.language is None),
            None,
        )
        # KoBoToolbox forms usually have one plain title: it stands for every language
        # that has no title of its own (a notice below says so).
        plain_for = [code for code in self.languages if code not in columns] if plain else []
        if plain is not None:
            for code in plain_for:
                columns[code] = plain
        wanted = ", ".join(f"form_title::{_language_example(code)}" for code in self.languages)
        if not self.languages:
            self.claimed.add("title")  # the languages are reported
            return None
        if self.settings_row is None:
            self.problem(
                _Cell(SETTINGS_SHEET),
                "the survey needs a title in each language (people see it when the survey "
                f"starts): add a settings sheet with the columns {wanted} and the titles "
                "in row 2",
                "title",
            )
            return None
        row, cells = self.settings_row
        self.cells["title"] = _Cell(SETTINGS_SHEET, row)
        missing = [code for code in self.languages if code not in columns]
        if missing:
            self.problem(
                _Cell(SETTINGS_SHEET),
                "the survey needs a title in each language (people see it when the "
                f"survey starts): add the columns {wanted} with the titles in row 2",
                "title",
            )
        elif plain is not None and plain_for and len(self.languages) > 1:
            self.notice(
                self.settings.cell(row, plain.header),
                "the same title is shown in every language: add the columns "
                f"{wanted} to translate it",
            )
        elif plain is not None and plain not in columns.values():
            self.notice(
                self.settings.cell(row, plain.header),
                "not used: the title comes from the form_title columns of each language",
            )
        title: dict[str, str] = {}
        for code, column in columns.items():
            if code not in self.languages:
                continue
            path = f"title.{code}"
            cell = self.settings.cell(row, column.header)
            self.cells[path] = cell
            text = _value(cells, column.header)
            if not text:
                self.problem(cell, f"missing {_language_name(column, code)} title: write it", path)
            elif not self.interpolates(text, cell, path):
                title[code] = text
        for column in self.settings.columns:
            if column.role == "other" and _value(cells, column.header):
                self.notice(
                    self.settings.cell(row, column.header),
                    "not used: the setting means nothing for a survey sent by SMS or Telegram",
                )
        return title

    def interpolates(self, text: str, cell: _Cell, path: str | None) -> bool:
        """Reports ``${...}`` in a text (the bot cannot show earlier answers)."""
        found = _INTERPOLATION.search(text)
        if found is None:
            return False
        self.problem(
            cell,
            f"{found.group(0)} would show an earlier answer here, which the bot cannot do: "
            "rewrite the text without it",
            *((path,) if path else ()),
        )
        return True

    # ---- choices

    def choice_lists(self) -> dict[str, list[tuple[int, dict[str, Any]]]]:
        """The rows of each choice list; rows without a list name or a name are reported."""
        lists: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for row, cells in self.choices.rows:
            if not _has_content(self.choices, cells):
                continue
            list_name = self.choices.value(cells, "list_name")
            name = self.choices.value(cells, "name")
            if not list_name:
                self.problem(
                    self.choices.cell(row, "list_name"),
                    "missing list_name: write the name of the list this choice belongs to",
                )
            elif not name:
                self.problem(
                    self.choices.cell(row, "name"),
                    "missing name: give the choice a value, a short id such as 'education'",
                )
            else:
                lists.setdefault(list_name, []).append((row, cells))
        return lists

    # ---- the survey sheet

    def survey_rows(self) -> list[_Kept]:
        kept: list[_Kept] = []
        for row, cells in self.survey.rows:
            raw_type = self.survey.value(cells, "type")
            if not raw_type:
                if _has_content(self.survey, cells):
                    self.problem(
                        self.survey.cell(row, "type"),
                        f"missing type: write one of {_SUPPORTED_TYPES}, or clear the row",
                    )
                continue
            info = self.row_type(row, cells, raw_type)
            if not info.kind:
                continue
            name = self.survey.value(cells, "name")
            if not name and info.kind != "note":
                self.problem(
                    self.survey.cell(row, "name"),
                    "missing name: give the question an id such as 'age' (lowercase latin "
                    "letters, digits and '_')",
                )
                continue
            kept.append(_Kept(row, cells, info.kind, info.list_name, name))
        return kept

    def row_type(self, row: int, cells: Mapping[str, Any], raw_type: str) -> _TypeInfo:
        normalized = " ".join(raw_type.split())
        lowered = normalized.lower()
        cell = self.survey.cell(row, "type")
        unsupported = next(
            (fix for key, fix in _UNSUPPORTED_TYPES.items() if _is_type(lowered, key)), None
        )
        select = _SELECT.fullmatch(normalized)
        if select is not None and unsupported is None:
            return self.select_type(cell, normalized, select)
        if lowered in _KINDS:
            return _TypeInfo(_KINDS[lowered])
        if lowered in _GROUPS:
            self.group_problem(cells, lowered, cell)
        elif lowered in _METADATA:
            self.notice(
                cell,
                f"{normalized!r} is not asked: ODK records {_METADATA[lowered]} by itself; "
                "the bot records when each answer arrives",
            )
        elif unsupported is not None:
            self.problem(cell, f"{normalized!r} cannot be asked by SMS or Telegram: {unsupported}")
        else:
            words = [*_KINDS, *_UNSUPPORTED_TYPES, *_METADATA, "select_one", "select_multiple"]
            suggestion = closest(lowered, words)
            hint = f"did you mean {suggestion!r}? " if suggestion else ""
            self.problem(
                cell,
                f"unknown type {normalized!r}: {hint}(types that can be imported: "
                f"{_SUPPORTED_TYPES})",
            )
        return _TypeInfo("")

    def select_type(self, cell: _Cell, normalized: str, select: re.Match[str]) -> _TypeInfo:
        keyword, list_name, or_other = select.groups()
        multiple = not keyword.lower().startswith(("select_one", "select one", "select1"))
        if or_other:
            self.problem(
                cell,
                f"{normalized!r}: 'or_other' is not supported: remove it, add an 'other' "
                "choice to the list, and a text question asked if it is picked",
            )
        elif not list_name:
            self.problem(
                cell,
                f"{normalized!r} needs the name of a choice list: write it after the type, "
                f"such as '{keyword} regions'",
            )
        elif list_name not in self.lists:
            suggestion = closest(list_name, self.lists)
            fix = (
                f"did you mean {suggestion!r}?"
                if suggestion
                else f"add its choices to the choices sheet (list_name {list_name}), or "
                "correct the name"
            )
            self.problem(cell, f"there is no choice list {list_name!r} on the choices sheet: {fix}")
        else:
            return _TypeInfo("multiple_choice" if multiple else "single_choice", list_name)
        return _TypeInfo("")

    def group_problem(self, cells: Mapping[str, Any], lowered: str, cell: _Cell) -> None:
        repeat = _GROUPS[lowered] == "repeat"
        if lowered.startswith("end"):
            what = "end_repeat" if repeat else "end_group"
            self.problem(cell, f"remove this {what} row together with its begin row")
        elif repeat:
            self.problem(
                cell,
                "repeats are not supported (each question is asked once): remove the "
                "begin_repeat and end_repeat rows and keep one copy of the questions between them",
            )
        else:
            message = (
                "groups are not supported (a survey is one list of questions): remove the "
                "begin_group and end_group rows; the questions between them stay"
            )
            if self.survey.value(cells, "relevant"):
                message += ", and copy the group's relevant to each of them"
            self.problem(cell, message)

    # ---- pyxform

    def interpret(self, kept: list[_Kept]) -> list[dict[str, Any]] | None:
        """pyxform's reading of the kept rows (labels by language, choices); None on its error.

        pyxform sees only what we convert (types, labels, choice lists), under
        placeholder names: names, skip logic and limits are checked by our rules,
        so that one mistake does not hide the others.
        """
        survey_labels = [c.header for c in self.survey.columns if c.role == "label"]
        choice_labels = [c.header for c in self.choices.columns if c.role == "label"]
        rows: list[dict[str, str]] = [{} for _ in self.survey.rows]
        for item in kept:
            rows[item.row - 2] = {
                "type": _PYXFORM_TYPES.get(item.kind, item.kind).format(item.list_name),
                "name": f"row_{item.row}",
                **{h: _defused(item.cells[h]) for h in survey_labels if _value(item.cells, h)},
            }
        used = {item.list_name for item in kept if item.list_name}
        name_header = self.choices.header("name")
        choice_rows = [
            {
                "list_name": list_name,
                "name": _value(cells, name_header),
                **{h: _defused(cells[h]) for h in choice_labels if _value(cells, h)},
            }
            for list_name, entries in self.lists.items()
            if list_name in used
            for _, cells in entries
        ]
        settings = {"allow_choice_duplicates": "yes"}
        if self.default_language:
            settings["default_language"] = self.default_language
        readable = dataclasses.replace(
            self.definition,
            survey=rows,
            survey_header=[dict.fromkeys(["type", "name", *survey_labels])],
            choices=choice_rows or None,
            choices_header=[dict.fromkeys(["list_name", "name", *choice_labels])],
            settings=[settings],
            settings_header=[dict.fromkeys(settings)],
            external_choices=None,
            external_choices_header=None,
            entities=None,
            entities_header=None,
            osm=None,
            osm_header=None,
        )
        try:
            form: dict[str, Any] = workbook_to_json(readable, warnings=[])
        # pyxform raises PyXFormError, and on odd input sometimes plain errors.
        except Exception as exc:
            self.problem(
                _pyxform_cell(exc),
                f"pyxform cannot read the form: {_pyxform_text(exc)}: correct it and retry",
            )
            return None
        children = [c for c in form.get("children", []) if c.get("type") != "group"]
        if [c.get("name") for c in children] != [f"row_{item.row}" for item in kept]:
            self.problem(
                _Cell(SURVEY_SHEET),
                "pyxform read the survey sheet differently than expected: "
                "save the workbook again in Excel and retry",
            )
            return None
        self.choice_labels = {
            str(list_name): [entry.get("label") for entry in entries]
            for list_name, entries in (form.get("choices") or {}).items()
        }
        self.form_language = str(form.get("default_language") or "default")
        return children

    # ---- building the document

    def texts(
        self, label: object, sheet: _Sheet, row: int, path: str | None, what: str
    ) -> dict[str, str]:
        """A label from pyxform as {code: text}; missing languages are reported at their cell.

        ``path`` is the label's place in the document (None for notes, whose place
        is known later); problems there are claimed.
        """
        by_name: dict[str, str] = {}
        if isinstance(label, str):
            by_name[self.form_language] = label
        elif isinstance(label, Mapping):
            by_name = {str(k): str(v) for k, v in label.items() if v is not None}
        by_code: dict[str, str] = {}
        for language, text in by_name.items():
            code = _language_code(self.default_language if language == "default" else language)
            if code is not None and text.strip():
                by_code.setdefault(code, text.strip())
        columns = sheet.language_columns("label")
        texts: dict[str, str] = {}
        for code in self.languages:
            column = columns.get(code)
            code_path = f"{path}.{code}" if path else None
            if column is None:
                # The whole column is missing: one problem for the sheet (the survey
                # sheet's is reported with the languages).
                if sheet is self.choices:
                    self.problem(
                        _Cell(sheet.name),
                        f"there is no label column for {code!r}: add a column "
                        f"'label::{_language_example(code)}' with every choice in that language",
                    )
                if code_path:
                    self.claimed.add(code_path)
                continue
            cell = sheet.cell(row, column.header)
            if code_path:
                self.cells[code_path] = cell
            found = by_code.get(code)
            if found is None:
                language = _language_name(column, code)
                self.problem(
                    cell,
                    f"missing {language} text: write the {what} in {language}",
                    *((code_path,) if code_path else ()),
                )
            else:
                texts[code] = found
        return texts

    def build(
        self, document: dict[str, Any], kept: list[_Kept], children: list[dict[str, Any]]
    ) -> None:
        questions: list[dict[str, Any]] = []
        earlier: dict[str, str] = {}
        kept_rows = {item.row for item in kept}
        dropped = {
            name: row
            for row, cells in self.survey.rows
            if row not in kept_rows and (name := self.survey.value(cells, "name"))
        }
        notes: list[tuple[_Kept, dict[str, str]]] = []
        for item, child in zip(kept, children, strict=True):
            self.check_cells(item)
            if item.kind == "note":
                texts = self.texts(child.get("label"), self.survey, item.row, None, "note")
                notes.append((item, texts))
                continue
            index = len(questions)
            question = self.question(item, child, index, earlier, dropped)
            if notes and index == 0:
                self.notes_field(document, "intro", notes)
            elif notes:
                self.fold_notes(question, index, item, notes)
            notes = []
            questions.append(question)
            earlier[item.name] = item.kind
        if notes:
            self.notes_field(document, "thanks" if questions else "intro", notes)
        document["questions"] = questions
        self.cells["questions"] = _Cell(SURVEY_SHEET)

    def notes_field(
        self, document: dict[str, Any], key: str, notes: list[tuple[_Kept, dict[str, str]]]
    ) -> None:
        """Notes before the first question (``intro``) or after the last (``thanks``)."""
        first = notes[0][0].row
        self.cells[key] = _Cell(SURVEY_SHEET, first)
        for code, column in self.survey.language_columns("label").items():
            self.cells[f"{key}.{code}"] = self.survey.cell(first, column.header)
        if len(notes) > 1:
            self.suffixes[key] = f" (the notes on rows {_rows([n.row for n, _ in notes])})"
        where = "start" if key == "intro" else "end"
        for note, _ in notes:
            if self.survey.value(note.cells, "relevant"):
                self.problem(
                    self.survey.cell(note.row, "relevant"),
                    f"a note at the {where} of the survey is shown to everyone: clear the "
                    "relevant cell",
                    key,
                )
        merged = _merged(notes, self.languages)
        if merged is None:
            self.claimed.add(key)
        else:
            document[key] = merged

    def fold_notes(
        self,
        question: dict[str, Any],
        index: int,
        item: _Kept,
        notes: list[tuple[_Kept, dict[str, str]]],
    ) -> None:
        """Notes between questions are shown at the start of the next question."""
        rows = [note.row for note, _ in notes]
        path = f"questions[{index}].text"
        for note, _ in notes:
            if self.survey.value(note.cells, "relevant"):
                self.problem(
                    self.survey.cell(note.row, "relevant"),
                    f"this note is shown with the question on row {item.row}, so it cannot "
                    "have its own relevant: clear the cell (the question's relevant applies), "
                    "or move the note's text into that question's label",
                    path,
                )
        merged = _merged(notes, self.languages)
        if merged is None:
            self.claimed.add(path)
            return
        text = question["text"]
        question["text"] = {
            code: f"{merged[code]}\n\n{text[code]}" if code in text else merged[code]
            for code in self.languages
        }
        plural = "s" if len(rows) > 1 else ""
        self.suffixes[path] = f" (with the note{plural} on row{plural} {_rows(rows)})"
        when = " (and only when it is asked)" if self.survey.value(item.cells, "relevant") else ""
        self.notice(
            self.survey.cell(rows[0], "type"),
            f"the note{plural} on row{plural} {_rows(rows)} will be shown at the start of the "
            f"question on row {item.row}{when}",
        )

    def question(
        self,
        item: _Kept,
        child: Mapping[str, Any],
        index: int,
        earlier: Mapping[str, str],
        dropped: Mapping[str, int],
    ) -> dict[str, Any]:
        path, row, sheet = f"questions[{index}]", item.row, self.survey
        self.question_rows.append(row)
        self.cells[path] = _Cell(SURVEY_SHEET, row)
        for key, role in (
            ("id", "name"),
            ("kind", "type"),
            ("text", "label"),
            ("required", "required"),
            ("ask_if", "relevant"),
        ):
            self.cells[f"{path}.{key}"] = sheet.cell(row, role)
        yes_no = item.kind == "single_choice" and self.is_yes_no(item.list_name)
        question: dict[str, Any] = {
            "id": item.name,
            "kind": "yes_no" if yes_no else _OUR_KINDS[item.kind],
            "text": self.texts(child.get("label"), sheet, row, f"{path}.text", "question"),
            "required": self.required(item, path),
        }
        relevant = sheet.value(item.cells, "relevant")
        if relevant:
            try:
                question["ask_if"] = _condition(relevant, earlier, dropped)
            except _Unsupported as exc:
                self.problem(
                    sheet.cell(row, "relevant"),
                    f"{relevant!r} cannot be used: {exc}. What works: {_RELEVANT_FORMS}; "
                    "simplify it, or clear it to always ask the question",
                    f"{path}.ask_if",
                )
        if yes_no:
            self.notice(
                sheet.cell(row, "type"),
                f"the list {item.list_name!r} is yes/no: the bot asks with its own Yes and No "
                "buttons in each language, so the list's labels are not used",
            )
        elif item.kind in ("single_choice", "multiple_choice"):
            question["choices"] = self.question_choices(item, index)
        elif item.kind == "decimal":
            question["integer"] = False
        elif item.kind == "range":
            question.update(self.rating_scale(item, path))
        self.limits(item, question, path)
        return question

    def is_yes_no(self, list_name: str | None) -> bool:
        values = [
            self.choices.value(cells, "name") for _, cells in self.lists.get(list_name or "", [])
        ]
        return sorted(values) == ["no", "yes"]

    def question_choices(self, item: _Kept, index: int) -> list[dict[str, Any]]:
        path = f"questions[{index}]"
        labels = self.choice_labels.get(item.list_name or "", [])
        entries = self.lists.get(item.list_name or "", [])
        self.cells[f"{path}.choices"] = self.survey.cell(item.row, "type")
        self.choice_rows[index] = [row for row, _ in entries]
        choices: list[dict[str, Any]] = []
        for number, ((row, cells), label) in enumerate(zip(entries, labels, strict=True)):
            choice_path = f"{path}.choices[{number}]"
            self.cells[choice_path] = _Cell(CHOICES_SHEET, row)
            self.cells[f"{choice_path}.value"] = self.choices.cell(row, "name")
            self.cells[f"{choice_path}.label"] = self.choices.cell(row, "label")
            for column in self.choices.columns:
                if column.role == "label" and _value(cells, column.header):
                    cell = self.choices.cell(row, column.header)
                    self.interpolates(_value(cells, column.header), cell, None)
                if column.role == "media" and _value(cells, column.header):
                    self.problem(
                        self.choices.cell(row, column.header),
                        "pictures and sounds cannot be sent with choices by SMS: clear the cell",
                    )
            texts = self.texts(label, self.choices, row, f"{choice_path}.label", "choice")
            choices.append({"value": self.choices.value(cells, "name"), "label": texts})
        return choices

    def required(self, item: _Kept, path: str) -> bool:
        value = self.survey.value(item.cells, "required")
        if not value or value.lower() in _NO_WORDS:
            return False
        if value.lower() in _YES_WORDS:
            return True
        self.problem(
            self.survey.cell(item.row, "required"),
            f"{value!r}: a condition in required is not supported: write yes or no",
            f"{path}.required",
        )
        return False

    def rating_scale(self, item: _Kept, path: str) -> dict[str, int]:
        cell = self.survey.cell(item.row, "parameters")
        for key in ("min", "max"):
            self.cells[f"{path}.{key}"] = cell
        text = self.survey.value(item.cells, "parameters")
        values = {"start": "1", "end": "10", "step": "1"}  # pyxform's defaults
        for part in re.split(r"[\s,;]+", text) if text else ():
            key, _, value = part.partition("=")
            key = key.strip().lower()
            if key in values and value.strip():
                values[key] = value.strip()
            elif key in _DISPLAY_PARAMETERS:
                self.notice(cell, f"{key} is not used: the bot shows the points as buttons")
            else:
                self.problem(
                    cell,
                    f"{part!r} is not a range parameter we can use: write start, end and "
                    "step, such as 'start=1 end=5 step=1'",
                    path,
                )
                return {}
        numbers: dict[str, int] = {}
        for key, value in values.items():
            try:
                numbers[key] = int(value)
            except ValueError:
                self.problem(
                    cell, f"{key}={value}: a rating uses whole numbers: correct {key}", path
                )
                return {}
        if numbers["step"] != 1:
            self.problem(
                cell,
                f"step={numbers['step']}: a rating has one button per point: use step=1",
                path,
            )
            return {}
        return {"min": numbers["start"], "max": numbers["end"]}

    def limits(self, item: _Kept, question: dict[str, Any], path: str) -> None:
        constraint = self.survey.value(item.cells, "constraint")
        if not constraint or item.kind == "note":
            return
        cell = self.survey.cell(item.row, "constraint")
        for key in ("min", "max", "integer", "min_picks", "max_picks", "max_length"):
            self.cells.setdefault(f"{path}.{key}", cell)
        form = _LIMIT_FORMS.get(item.kind)
        if form is None:
            what = {"single_choice": "select_one", "range": "range"}[item.kind]
            self.problem(
                cell,
                f"constraints are not supported on {what} questions (the bot only accepts "
                "one of the offered answers): clear the cell",
            )
            return
        try:
            question.update(_limits(constraint, item.kind))
        except _Unsupported as exc:
            self.problem(
                cell,
                f"{constraint!r} cannot be used: {exc}. What works here: {form}; "
                "simplify it, or clear it",
            )

    def check_cells(self, item: _Kept) -> None:
        """Cells of a kept row that we cannot use (problems) or leave out (notices)."""
        for column in self.survey.columns:
            if not _value(item.cells, column.header):
                continue
            cell = self.survey.cell(item.row, column.header)
            role = column.role
            if role == "parameters" and item.kind == "range":
                continue
            if role == "label":
                self.interpolates(_value(item.cells, column.header), cell, None)
            if item.kind == "note" and role in ("required", "constraint"):
                if _value(item.cells, column.header).lower() not in _NO_WORDS:
                    self.notice(cell, "not used: a note has no answer")
            elif role in _CELL_PROBLEMS:
                self.problem(cell, _CELL_PROBLEMS[role])
            elif role in _CELL_NOTICES:
                self.notice(cell, _CELL_NOTICES[role])

    # ---- our validation, translated back to cells

    def validate(self, document: dict[str, Any]) -> None:
        try:
            parse_survey(document, source=self.source)
        except SurveyFileError as exc:
            for problem in exc.problems:
                if not self.is_claimed(problem.path):
                    self.problems.append(self.translated(problem))

    def is_claimed(self, path: str) -> bool:
        return any(
            path == claim or path.startswith((f"{claim}.", f"{claim}[")) for claim in self.claimed
        )

    def translated(self, problem: SurveyProblem) -> XlsFormProblem:
        message = _QUESTION_REFERENCE.sub(
            lambda m: self.question_row(int(m.group(1))), problem.message
        )
        at = _QUESTION_PATH.match(problem.path)
        choice_rows = self.choice_rows.get(int(at.group(1)), []) if at else []
        message = _CHOICE_REFERENCE.sub(
            lambda m: (
                f"choices sheet row {choice_rows[int(m.group(1))]}"
                if int(m.group(1)) < len(choice_rows)
                else m.group(0)
            ),
            message,
        )
        for prefix, suffix in self.suffixes.items():
            if problem.path == prefix or problem.path.startswith(f"{prefix}."):
                message += suffix
        cell = self.cell_of(problem.path)
        if cell is None:
            return XlsFormProblem(self.source, problem.path, message)
        return _problem(self.source, cell, message)

    def cell_of(self, path: str) -> _Cell | None:
        while path:
            if path in self.cells:
                return self.cells[path]
            match = _LAST_SEGMENT.fullmatch(path)
            path = match.group(1) if match else ""
        return None

    def question_row(self, index: int) -> str:
        if index < len(self.question_rows):
            return f"the question on survey sheet row {self.question_rows[index]}"
        return f"questions[{index}]"


_OUR_KINDS = {
    "single_choice": "single_choice",
    "multiple_choice": "multiple_choice",
    "integer": "number",
    "decimal": "number",
    "text": "text",
    "range": "rating",
}
_PYXFORM_TYPES = {
    "single_choice": "select_one {}",
    "multiple_choice": "select_multiple {}",
}
_CELL_PROBLEMS = {
    "media": "pictures, sounds and videos cannot be sent by SMS: clear the cell",
    "choice_filter": "choice filters (cascading selects) are not supported: clear the filter "
    "to offer all the choices, or split the list into separate questions",
    "calculation": "calculations are not supported: clear the cell",
    "default": "default answers are not supported (every question is answered in the chat): "
    "clear the cell",
    "read_only": "read-only questions are not supported (every question is answered in the "
    "chat): clear the cell",
    "trigger": "triggers are not supported: clear the cell",
    "repeat_count": "repeats are not supported: clear the cell",
    "parameters": "parameters are only used for range questions (choices are shown in the "
    "order of the choices sheet): clear the cell",
}
_CELL_NOTICES = {
    "constraint_message": "not used: the bot explains what is expected in its own words, "
    "in each language",
    "required_message": "not used: the bot explains what is expected in its own words, "
    "in each language",
    "appearance": "not used: it only changes how ODK shows the form",
    "guidance_hint": "not used: guidance hints are for interviewers, and the bot has none",
    "hint": "not shown: hints do not reach people by SMS or Telegram, so put anything that "
    "matters into the label",
}
_SURVEY_ID_RULE = "use 1 to 40 lowercase latin letters, digits, '-' or '_'"


def _ordered(problems: list[XlsFormProblem]) -> list[XlsFormProblem]:
    """File-wide first, then by sheet and row (stable: columns in the order found)."""
    return sorted(problems, key=lambda p: (_SHEET_ORDER.get(p.sheet, 4), p.row or 0))


def _merged(
    notes: list[tuple[_Kept, dict[str, str]]], languages: Sequence[str]
) -> dict[str, str] | None:
    """Notes joined into one text per language; None if a note misses a language."""
    texts: dict[str, str] = {}
    for code in languages:
        parts = [t[code] for _, t in notes if code in t]
        if len(parts) != len(notes):
            return None
        texts[code] = "\n\n".join(parts)
    return texts


def _defused(value: object) -> str:
    """A text for pyxform with ``${...}`` made harmless (we report it ourselves)."""
    return str(value).replace("${", "$ {")


def _is_type(lowered: str, key: str) -> bool:
    return lowered == key or lowered.startswith(f"{key} ")


def _has_content(sheet: _Sheet, cells: Mapping[str, Any]) -> bool:
    return any(_value(cells, c.header) for c in sheet.columns if c.role != "kobo")


def _unnamed_language(column: _Column) -> str:
    name = column.language
    code = _KNOWN_LANGUAGES.get((name or "").strip().lower())
    if name and code:
        return f"the column does not give the language code: rename it to 'label::{name} ({code})'"
    if name:
        return (
            "the column does not give the language code: rename it to name the language "
            "and its code, such as 'label::English (en)'"
        )
    return (
        "the column does not say which language it is in: rename it, such as "
        "'label::English (en)', or set default_language on the settings sheet "
        "(such as 'English (en)')"
    )


def _column_used(sheet: _Sheet, header: str) -> bool:
    return any(_value(cells, header) for _, cells in sheet.rows)


def _language_name(column: _Column, code: str) -> str:
    return column.language or code


def _language_example(code: str) -> str:
    names = {v: k.title() for k, v in _KNOWN_LANGUAGES.items()}
    return f"{names.get(code, 'Language')} ({code})"


def _rows(rows: Sequence[int]) -> str:
    return ", ".join(str(row) for row in rows)


_PYXFORM_ROW = re.compile(r"\[row : (\d+)\]")
_PYXFORM_SHEET = re.compile(r"the '(\w+)' sheet")


def _pyxform_cell(exc: BaseException) -> _Cell:
    text = str(exc)
    row = _PYXFORM_ROW.search(text)
    sheet = _PYXFORM_SHEET.search(text)
    name = sheet.group(1) if sheet else (SURVEY_SHEET if row else None)
    return _Cell(name, int(row.group(1)) if row else None)
