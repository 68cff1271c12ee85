"""The conversation service: one inbound message in, the replies out.

It is the same for every channel. It loads the person and where they are in a
conversation, applies the dialogue rules of ``polls``, saves answers and the new
state, and words the replies in the person's language. Work for concurrent
messages is committed in groups (``GroupCommit``); each message is claimed by
its delivery id first, so a redelivered message changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from outreach.group_commit import GroupCommit
from outreach.survey_catalogue import SurveyCatalogue
from polls import dialogue
from polls.i18n import Translator, language_name, translator
from polls.messages import Button, Inbound, InboundKind, Outbound, Reply
from polls.onboarding import (
    AGE_BAND,
    AGE_BANDS,
    AGREE,
    CONSENT,
    GENDER,
    GENDERS,
    LANGUAGE,
    REGION,
    build_onboarding,
    consent_version,
    region_value,
)
from polls.pseudonym import pseudonymous_id
from polls.results import MIN_GROUP, question_results, results_text
from polls.survey import localize
from storage.answers import AnswerRepository
from storage.database import Database
from storage.inbound import InboundRepository
from storage.respondents import RespondentRecord, RespondentRepository
from storage.surveys import StoredSurvey

logger = logging.getLogger(__name__)

ONBOARDING = "onboarding"
SURVEY = "survey"
TELEGRAM_TEXT_LIMIT = 4000


@dataclass(frozen=True)
class ConversationConfig:
    languages: Sequence[str]
    default_language: str
    regions: Sequence[str]
    pseudonym_secret: str
    min_group: int = MIN_GROUP


def _chunks(lines: list[str], limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Lines joined into messages no longer than ``limit`` characters."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        while len(line) > limit:
            chunks.append(line[:limit])
            line = line[limit:]
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


class ConversationService:
    def __init__(
        self,
        db: Database,
        catalogue: SurveyCatalogue,
        config: ConversationConfig,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        workers: int | None = None,
    ) -> None:
        self.db = db
        self.catalogue = catalogue
        self.config = config
        self.clock = clock
        self.onboarding = build_onboarding(config.languages, config.regions)
        self.consent_version = consent_version(config.languages)
        self._group = GroupCommit(
            db,
            self._handle_in_session,
            key=lambda inbound: (inbound.channel, inbound.address),
            workers=workers or (1 if db.is_sqlite else 4),
        )

    async def handle(self, inbound: Inbound) -> Reply:
        """Handle one message; returns once its effects are committed."""
        return await self._group.submit(inbound)

    # ------------------------------------------------------------ dispatch

    def _handle_in_session(self, session: Session, inbound: Inbound) -> Reply:
        if inbound.dedup_key is not None:
            claimed = InboundRepository(session).claim(
                channel=inbound.channel.value, key=inbound.dedup_key
            )
            if not claimed:
                logger.info("ignoring a redelivered %s message", inbound.channel.value)
                return Reply(duplicate=True)
        turn = _Turn(self, session, inbound)
        return Reply(turn.run())

    def language_for(self, respondent: RespondentRecord | None, hint: str | None) -> str:
        for candidate in (respondent.language if respondent else None, hint):
            if candidate:
                short = candidate.split("-")[0].lower()
                if short in self.config.languages:
                    return short
        return self.config.default_language


class _Turn:
    """Handling of one inbound message inside the batch transaction."""

    def __init__(self, service: ConversationService, session: Session, inbound: Inbound):
        self.service = service
        self.session = session
        self.inbound = inbound
        self.respondents = RespondentRepository(session)
        self.answers = AnswerRepository(session)
        self.respondent: RespondentRecord | None = None
        self.now = service.clock()

    @property
    def _(self) -> Translator:
        return translator(self.service.language_for(self.respondent, self.inbound.language_hint))

    @property
    def onboarded(self) -> bool:
        return self.respondent is not None and self.respondent.consent_at is not None

    @property
    def flow(self) -> dict[str, Any] | None:
        return self.respondent.dialogue if self.respondent else None

    def _set_flow(self, flow: dict[str, Any] | None) -> None:
        assert self.respondent is not None
        self.respondent.dialogue = flow

    def run(self) -> list[Outbound]:
        inbound = self.inbound
        self.respondent = self.respondents.find(
            channel=inbound.channel.value, address=inbound.address
        )
        if self.respondent is not None:
            self.respondent.last_seen_at = self.now
        replies = self._dispatch()
        if self.respondent is not None:
            self.respondents.save(self.respondent)
        return replies

    def _dispatch(self) -> list[Outbound]:
        inbound = self.inbound
        if inbound.kind is InboundKind.COMMAND:
            return self._command(inbound.text, inbound.argument)
        if inbound.kind is InboundKind.BUTTON:
            prefix, _sep, rest = inbound.text.partition(":")
            if prefix == "open":
                return self._open_survey(rest)
            if prefix == "lang":
                return self._set_language(rest)
            if prefix == "forget":
                return self._forget(rest)
        if self.respondent is None:
            return self._begin_onboarding(then=None)
        flow = self.flow
        if flow and flow["flow"] == ONBOARDING:
            return self._onboarding_input()
        if flow and flow["flow"] == SURVEY:
            return self._survey_input(flow)
        if inbound.kind is InboundKind.BUTTON:
            return [Outbound(self._("That button belongs to an earlier question."))]
        return [Outbound(self._("I didn't catch that.")), *self._survey_list()]

    # ------------------------------------------------------------ commands

    def _command(self, command: str, argument: str) -> list[Outbound]:
        if command == "start":
            return self._start(argument.strip())
        if command == "help":
            return [self._help()]
        if self.respondent is None or not self.onboarded:
            if command in ("mydata", "forget") and self.respondent is not None:
                pass  # data held before consent can still be seen and erased
            else:
                return self._start("")
        if command == "surveys":
            return self._survey_list()
        if command == "language":
            return [self._language_menu()]
        if command == "mydata":
            return self._my_data()
        if command == "forget":
            return [self._forget_menu()]
        return [self._help()]

    def _start(self, survey_id: str) -> list[Outbound]:
        if self.respondent is None or not self.onboarded:
            return self._begin_onboarding(then=survey_id or None)
        if survey_id:
            return self._open_survey(survey_id)
        flow = self.flow
        if flow and flow["flow"] == SURVEY:
            stored = self.service.catalogue.by_version_id(self.session, flow["version_id"])
            state = dialogue.SurveyState.from_dict(flow["state"])
            prompt = dialogue.question_prompt(
                stored.survey, state, self._, note=self._("Welcome back! Let's continue.")
            )
            return [prompt] if prompt else []
        return [Outbound(self._("Welcome back!")), *self._survey_list()]

    def _help(self) -> Outbound:
        _ = self._
        return Outbound(
            "\n".join(
                [
                    _("I ask short questions about life in your community."),
                    "/surveys — " + _("open surveys"),
                    "/language — " + _("change language"),
                    "/mydata — " + _("see what we hold about you"),
                    "/forget — " + _("delete your data"),
                    "/help — " + _("this help"),
                ]
            )
        )

    # ------------------------------------------------------------ onboarding

    def _begin_onboarding(self, then: str | None) -> list[Outbound]:
        if self.respondent is None:
            self.respondent = self.respondents.create(
                channel=self.inbound.channel.value,
                address=self.inbound.address,
                language=None,
            )
        state = dialogue.start(self.service.onboarding)
        self._set_flow({"flow": ONBOARDING, "state": state.to_dict(), "then": then})
        prompt = dialogue.question_prompt(self.service.onboarding, state, self._)
        return [prompt] if prompt else []

    def _onboarding_input(self) -> list[Outbound]:
        assert self.respondent is not None and self.flow is not None
        survey = self.service.onboarding
        flow = self.flow
        state = dialogue.SurveyState.from_dict(flow["state"])
        transition = dialogue.apply_input(
            survey,
            state,
            self.inbound.kind,
            self.inbound.text,
            language=self.service.language_for(self.respondent, self.inbound.language_hint),
            max_reprompts=None,
        )
        question, value = transition.question, transition.recorded
        if question is not None and isinstance(value, str):
            if question.id == CONSENT and value != AGREE:
                return self._decline()
            self._apply_profile(question.id, value)
        if not transition.finished:
            self._set_flow({**flow, "state": transition.state.to_dict()})
            return dialogue.render(survey, transition, self._)
        out = dialogue.render(survey, transition, self._)
        self._set_flow(None)
        out.append(Outbound(self._("Thank you, you're all set.")))
        then = flow.get("then")
        if then:
            return out + self._open_survey(then)
        return out + self._survey_list()

    def _apply_profile(self, question_id: str, value: str) -> None:
        respondent = self.respondent
        assert respondent is not None
        if question_id == LANGUAGE:
            respondent.language = value
        elif question_id == CONSENT:
            respondent.consent_at = self.now
            respondent.consent_version = self.service.consent_version
        elif question_id == REGION:
            respondent.region = value
        elif question_id == AGE_BAND:
            respondent.age_band = value
        elif question_id == GENDER:
            respondent.gender = value

    def _decline(self) -> list[Outbound]:
        _ = self._
        assert self.respondent is not None
        self.respondents.delete(respondent_id=self.respondent.id)
        self.respondent = None
        return [
            Outbound(
                _(
                    "No problem: nothing about you has been kept. "
                    "Send /start if you change your mind."
                )
            )
        ]

    # ------------------------------------------------------------ surveys

    def _survey_list(self) -> list[Outbound]:
        _ = self._
        open_surveys = self.service.catalogue.open_surveys(self.session, self.now)
        if not open_surveys:
            return [Outbound(_("There are no open surveys right now. We will let you know."))]
        language = _.language
        buttons = tuple(
            (Button(localize(s.survey.title, language, s.survey.languages), f"open:{s.survey.id}"),)
            for s in open_surveys
        )
        return [Outbound(_("Open surveys:"), buttons)]

    def _open_survey(self, survey_id: str) -> list[Outbound]:
        _ = self._
        if self.respondent is None or not self.onboarded:
            return self._begin_onboarding(then=survey_id)
        stored = self.service.catalogue.latest(self.session, survey_id)
        if stored is None:
            return [Outbound(_("There is no such survey.")), *self._survey_list()]
        if not stored.survey.is_open(self.now):
            out = [Outbound(_("This survey is closed."))]
            if stored.survey.show_results:
                out.append(self._results(stored))
            return out
        flow = self.flow
        if flow and flow["flow"] == SURVEY:
            self.answers.end_session(session_id=flow["session_id"], status="abandoned")
        session_id = self.answers.start_session(
            respondent_id=self.respondent.id,
            survey_id=stored.survey.id,
            survey_version_id=stored.version_id,
            channel=self.inbound.channel.value,
        )
        state = dialogue.start(stored.survey)
        out = [dialogue.survey_intro(stored.survey, _)]
        prompt = dialogue.question_prompt(stored.survey, state, _)
        if prompt is None:  # every question skipped by its conditions
            self.answers.end_session(session_id=session_id, status="completed")
            self._set_flow(None)
            return [*out, dialogue.survey_thanks(stored.survey, _)]
        self._set_flow(
            {
                "flow": SURVEY,
                "session_id": session_id,
                "version_id": stored.version_id,
                "state": state.to_dict(),
            }
        )
        return [*out, prompt]

    def _survey_input(self, flow: dict[str, Any]) -> list[Outbound]:
        assert self.respondent is not None
        _ = self._
        stored = self.service.catalogue.by_version_id(self.session, flow["version_id"])
        survey = stored.survey
        state = dialogue.SurveyState.from_dict(flow["state"])
        if self.inbound.kind is InboundKind.BUTTON and not dialogue.owns_payload(
            state, self.inbound.text
        ):
            return [Outbound(_("That button belongs to an earlier question."))]
        transition = dialogue.apply_input(
            survey, state, self.inbound.kind, self.inbound.text, language=_.language
        )
        if transition.recorded is not None and transition.question is not None:
            self.answers.add(
                session_id=flow["session_id"],
                respondent_id=self.respondent.id,
                survey_id=survey.id,
                survey_version_id=stored.version_id,
                question=transition.question,
                value=transition.recorded,
                channel=self.inbound.channel.value,
            )
        out = dialogue.render(survey, transition, _)
        if not transition.finished:
            self._set_flow({**flow, "state": transition.state.to_dict()})
            return out
        self.answers.end_session(session_id=flow["session_id"], status="completed")
        self._set_flow(None)
        out.append(dialogue.survey_thanks(survey, _))
        if survey.show_results:
            self.session.flush()
            out.append(self._results(stored))
        return out

    def _results(self, stored: StoredSurvey) -> Outbound:
        counts = self.answers.counts(survey_id=stored.survey.id)
        results = question_results(
            stored.survey,
            {q: c.answered for q, c in counts.items()},
            {q: c.choices for q, c in counts.items()},
            {q: c.numbers for q, c in counts.items()},
            self._,
        )
        return Outbound(results_text(results, self._, min_group=self.service.config.min_group))

    # ------------------------------------------------------------ language

    def _language_menu(self) -> Outbound:
        buttons = tuple(
            (Button(language_name(lang), f"lang:{lang}"),) for lang in self.service.config.languages
        )
        return Outbound(self._("Choose your language"), buttons)

    def _set_language(self, language: str) -> list[Outbound]:
        if self.respondent is None or language not in self.service.config.languages:
            return [self._language_menu()]
        self.respondent.language = language
        return [Outbound(self._("Language changed."), updates_pressed=True)]

    # ------------------------------------------------------------ privacy

    def _my_data(self) -> list[Outbound]:
        respondent = self.respondent
        assert respondent is not None
        _ = self._
        identities = self.respondents.identities(respondent_id=respondent.id)
        sessions = self.answers.sessions_of(respondent_id=respondent.id)
        answers = self.answers.of_respondent(respondent_id=respondent.id)
        code = pseudonymous_id(self.service.config.pseudonym_secret, respondent.id)
        lines = [
            _("What we hold about you:"),
            _("Participant code: {code}").format(code=code),
        ]
        for identity in identities:
            lines.append(
                _("{channel}: {address} (since {date})").format(
                    channel=identity.channel.capitalize(),
                    address=identity.address,
                    date=identity.created_at.date().isoformat(),
                )
            )
        profile = self._profile_labels(respondent)
        lines.extend(f"{label}: {value}" for label, value in profile)
        if respondent.consent_at:
            lines.append(
                _("Consent given: {when} (text version {version})").format(
                    when=respondent.consent_at.strftime("%Y-%m-%d %H:%M UTC"),
                    version=respondent.consent_version,
                )
            )
        by_session: dict[int, list[str]] = {}
        for answer in answers:
            stored = self.service.catalogue.by_version_id(self.session, answer.survey_version_id)
            question = stored.survey.question(answer.question_id)
            shown = (
                dialogue.describe_answer(stored.survey, question, answer.value, _)
                if question
                else str(answer.value)
            )
            asked = (
                localize(question.text, _.language, stored.survey.languages)
                if question
                else answer.question_id
            )
            by_session.setdefault(answer.session_id, []).append(f"  • {asked}: {shown}")
        for survey_session in sessions:
            lines.append("")
            stored = self.service.catalogue.by_version_id(
                self.session, survey_session.survey_version_id
            )
            title = localize(stored.survey.title, _.language, stored.survey.languages)
            status = {
                "completed": _("completed"),
                "abandoned": _("not finished"),
                "active": _("in progress"),
            }.get(survey_session.status, survey_session.status)
            lines.append(f"{title} ({survey_session.started_at.date().isoformat()}, {status})")
            lines.extend(by_session.get(survey_session.id, []))
        lines.append("")
        lines.append(_("To delete your data, send /forget."))
        return [Outbound(chunk) for chunk in _chunks(lines)]

    def _profile_labels(self, respondent: RespondentRecord) -> list[tuple[str, str]]:
        _ = self._
        regions = {region_value(r): _(r) for r in self.service.config.regions}
        ages = {value: _(label) for value, label in AGE_BANDS}
        genders = {value: _(label) for value, label in GENDERS}
        rows = [
            (_("Language"), language_name(respondent.language) if respondent.language else None),
            (_("Region"), regions.get(respondent.region or "", respondent.region)),
            (_("Age"), ages.get(respondent.age_band or "", respondent.age_band)),
            (_("Gender"), genders.get(respondent.gender or "", respondent.gender)),
        ]
        return [(label, value) for label, value in rows if value]

    def _forget_menu(self) -> Outbound:
        _ = self._
        return Outbound(
            _(
                "Delete your data? “Delete my identity” removes your Telegram or phone "
                "link and your written answers; your other answers stay as anonymous "
                "statistics. “Delete everything” also removes all your answers."
            ),
            (
                (Button(_("Delete my identity"), "forget:identity"),),
                (Button(_("Delete everything"), "forget:all"),),
                (Button(_("Cancel"), "forget:cancel"),),
            ),
        )

    def _forget(self, choice: str) -> list[Outbound]:
        _ = self._
        if self.respondent is None:
            return [Outbound(_("We hold no data about you."), updates_pressed=True)]
        if choice == "identity":
            self.respondents.erase_identity(respondent_id=self.respondent.id, now=self.now)
        elif choice == "all":
            self.respondents.delete(respondent_id=self.respondent.id)
        else:
            return [Outbound(_("Nothing was deleted."), updates_pressed=True)]
        self.respondent = None
        return [
            Outbound(
                _("Done: your data has been deleted. Send /start to take part again."),
                updates_pressed=True,
            )
        ]
