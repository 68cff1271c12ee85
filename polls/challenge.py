"""Idea challenges: a prompt young people answer with their own idea, then vote on.

Staff write a challenge as a YAML file and open it (``outreach challenge open``);
participants send an idea as text until the deadline; staff approve or reject
each idea; approved ideas go to a participants' vote until ``voting_closes_at``.
Files are validated like surveys: every problem with its path, line and fix.

    id: green_school                 # [a-z0-9][a-z0-9_-]{0,39}
    title: {az: ..., ru: ..., en: ...}    # short, for lists and buttons (100)
    prompt: {az: ..., ru: ..., en: ...}   # what to write about (600)
    languages: [az, ru, en]
    goals: [4, 12, 13]               # optional SDG tags
    deadline: 2026-12-31T23:59:00+04:00   # ideas until then
    voting_closes_at: 2027-01-15T23:59:00+04:00  # optional: the vote ends then
    max_length: 500                  # characters per idea, 50 to 1000 (default 500)
    one_per_person: true             # default true: one idea each
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from polls.errors import OutreachError
from polls.survey import LocalizedText, localize
from polls.survey_loader import (
    TITLE_LIMIT,
    DocumentChecker,
    SurveyFileError,
    SurveyProblem,
    describe,
    jsonable,
    read_file_text,
    read_yaml,
)

PROMPT_LIMIT = 600
MIN_IDEA, MAX_IDEA, DEFAULT_IDEA = 50, 1000, 500
_FIELDS = (
    "id",
    "title",
    "prompt",
    "languages",
    "goals",
    "deadline",
    "voting_closes_at",
    "max_length",
    "one_per_person",
)
CHALLENGE_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,29}")
"""Short enough to name the participants' audience tag (``ch-<id>``)."""
_ID_RULE = (
    "use 1 to 30 lowercase latin letters, digits, '-' or '_', starting with a letter or digit"
)


@dataclass(frozen=True)
class Challenge:
    id: str
    title: LocalizedText
    prompt: LocalizedText
    languages: tuple[str, ...]
    deadline: datetime
    goals: tuple[int, ...] = ()
    voting_closes_at: datetime | None = None
    max_length: int = DEFAULT_IDEA
    one_per_person: bool = True
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def title_for(self, language: str) -> str:
        return localize(self.title, language, self.languages)

    def prompt_for(self, language: str) -> str:
        return localize(self.prompt, language, self.languages)

    def accepts_ideas(self, now: datetime) -> bool:
        return now < self.deadline

    def voting_open(self, now: datetime) -> bool:
        """Voting runs from the deadline until it closes (or for good, if no end is set)."""
        return now >= self.deadline and (
            self.voting_closes_at is None or now < self.voting_closes_at
        )


class ChallengeFileError(OutreachError):
    """A challenge file that cannot be used; ``problems`` lists everything wrong with it."""

    def __init__(self, problems: list[SurveyProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


def load_challenge_file(path: str | os.PathLike[str]) -> Challenge:
    source = os.fspath(path)
    try:
        return load_challenge_text(read_file_text(source), source=source)
    except SurveyFileError as exc:
        raise ChallengeFileError(exc.problems) from exc


def load_challenge_text(text: str, *, source: str) -> Challenge:
    try:
        data, lines, problems = read_yaml(text, source, what="challenge")
    except SurveyFileError as exc:
        raise ChallengeFileError(exc.problems) from exc
    return parse_challenge(data, source=source, lines=lines, problems=problems)


def parse_challenge(
    data: object,
    *,
    source: str = "<challenge>",
    lines: Mapping[str, int] | None = None,
    problems: list[SurveyProblem] | None = None,
) -> Challenge:
    """Validate a loaded document (YAML or ``Challenge.raw``); raises ChallengeFileError."""
    checker = _ChallengeChecker(source, lines, problems if problems is not None else [])
    challenge = checker.challenge(data)
    if checker.problems or challenge is None:
        raise ChallengeFileError(sorted(checker.problems, key=lambda p: p.line or 0))
    return challenge


class _ChallengeChecker(DocumentChecker):
    def challenge(self, data: object) -> Challenge | None:
        if not isinstance(data, Mapping):
            self.problem(
                "",
                f"the challenge must be a mapping of fields, found {describe(data)}: write "
                "'id:', 'title:', 'prompt:', 'languages:' and 'deadline:' at the top level",
            )
            return None
        doc: Mapping[object, object] = data
        self.keys(doc, "", _FIELDS)
        self.languages = languages = self.survey_languages(doc)
        challenge_id = self.field(
            doc,
            "id",
            "",
            lambda v, p: self.ident(v, p, CHALLENGE_ID, "challenge id", _ID_RULE),
            "add an id such as 'green_school'",
        )
        title = self.field(
            doc,
            "title",
            "",
            lambda v, p: self.localized(v, p, TITLE_LIMIT),
            "add a short title with a text for each language",
        )
        prompt = self.field(
            doc,
            "prompt",
            "",
            lambda v, p: self.localized(v, p, PROMPT_LIMIT),
            "add the prompt: what participants should write about, in each language",
        )
        goals = self.goals(doc.get("goals")) if doc.get("goals") is not None else ()
        deadline = self.field(
            doc,
            "deadline",
            "",
            self.moment,
            "add the last moment for ideas, for example 2026-12-31T23:59:00+04:00",
        )
        voting_closes_at = self.field(doc, "voting_closes_at", "", self.moment)
        if deadline and voting_closes_at and voting_closes_at <= deadline:
            self.problem(
                "voting_closes_at",
                f"voting_closes_at ({voting_closes_at.isoformat()}) is not after the deadline "
                f"({deadline.isoformat()}): voting starts when ideas close, so end it later",
            )
        max_length = self.field(doc, "max_length", "", self.idea_length) or DEFAULT_IDEA
        one_per_person = self.flag(doc.get("one_per_person"), "one_per_person", True)
        if (
            self.problems
            or challenge_id is None
            or title is None
            or prompt is None
            or languages is None
            or deadline is None
        ):
            return None
        return Challenge(
            id=challenge_id,
            title=title,
            prompt=prompt,
            languages=languages,
            deadline=deadline,
            goals=goals,
            voting_closes_at=voting_closes_at,
            max_length=max_length,
            one_per_person=one_per_person,
            raw=jsonable(doc),
        )

    def idea_length(self, value: object, path: str) -> int | None:
        length = self.whole(value, path)
        if length is not None and not MIN_IDEA <= length <= MAX_IDEA:
            self.problem(
                path,
                f"max_length {length} is out of range: write {MIN_IDEA} to {MAX_IDEA} characters",
            )
            return None
        return length
