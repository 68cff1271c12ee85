"""The conversation service: one inbound message in, the replies out.

It is the same for every channel; only the way choices are shown differs
(buttons on Telegram, numbered lines by SMS). It loads the person and where they
are in a conversation, applies the dialogue rules of ``polls``, saves answers
and the new state, and words the replies in the person's language. Work for
concurrent messages is committed in groups (``GroupCommit``); each message is
claimed by its delivery id first, so a redelivered message changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from outreach import challenge_flow, events, personal_data, quiz_flow
from outreach.quiz_catalogue import QuizCatalogue
from outreach.survey_catalogue import SurveyCatalogue
from polls import dialogue
from polls.analysis import published
from polls.dialogue import Style
from polls.i18n import Translator, language_name, translator
from polls.keywords import Keyword, KeywordMatch
from polls.messages import Button, Channel, Inbound, InboundKind, Outbound, Reply
from polls.onboarding import (
    AGE_BAND,
    AGREE,
    CONSENT,
    GENDER,
    LANGUAGE,
    REGION,
    build_onboarding,
    consent_version,
)
from polls.results import MIN_GROUP, results_text
from polls.survey import Survey, localize
from storage.answers import AnswerRepository
from storage.database import Database
from storage.group_commit import GroupCommit
from storage.inbound import InboundRepository
from storage.moderation import REJECTED
from storage.respondents import RespondentRecord, RespondentRepository
from storage.surveys import StoredSurvey

logger = logging.getLogger(__name__)

ONBOARDING = "onboarding"
SURVEY = "survey"
MENU = "menu"


@dataclass(frozen=True)
class ConversationConfig:
    languages: Sequence[str]
    default_language: str
    regions: Sequence[str]
    pseudonym_secret: str
    min_group: int = MIN_GROUP
    phone_region: str = "AZ"
    confirm_standard_opt_out: bool = False
    """Reply to Twilio's own STOP words too (Twilio answers them itself by default)."""
    sms_transliterate: bool = False
    timezone: str = "Asia/Baku"
    """Where days and weeks begin: the question of the day, streaks, weekly leaderboards."""


class ConversationService:
    def __init__(
        self,
        db: Database,
        catalogue: SurveyCatalogue,
        config: ConversationConfig,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        workers: int | None = None,
        quizzes: QuizCatalogue | None = None,
    ) -> None:
        self.db = db
        self.catalogue = catalogue
        self.quizzes = quizzes
        self.config = config
        self.clock = clock
        self.onboarding = {
            Style.BUTTONS: build_onboarding(config.languages, config.regions),
            Style.NUMBERED: build_onboarding(config.languages, config.regions, short=True),
        }
        self.consent_versions = {
            Style.BUTTONS: consent_version(config.languages),
            Style.NUMBERED: consent_version(config.languages, short=True),
        }
        self._group = GroupCommit(
            db,
            self._handle_in_session,
            key=lambda inbound: (inbound.channel, inbound.address),
            workers=workers or (1 if db.is_sqlite else 4),
        )

    async def handle(self, inbound: Inbound) -> Reply:
        """Handle one message; returns once its effects are committed."""
        return await self._group.submit(inbound)

    def _handle_in_session(self, session: Session, inbound: Inbound) -> Reply:
        if inbound.dedup_key is not None:
            claimed = InboundRepository(session).claim(
                channel=inbound.channel.value, key=inbound.dedup_key
            )
            if not claimed:
                logger.info("ignoring a redelivered %s message", inbound.channel.value)
                return Reply(duplicate=True)
        return Turn(self, session, inbound).run()

    def language_for(self, respondent: RespondentRecord | None, hint: str | None) -> str:
        for candidate in (respondent.language if respondent else None, hint):
            if candidate:
                short = candidate.split("-")[0].lower()
                if short in self.config.languages:
                    return short
        return self.config.default_language


class Turn:
    """One inbound message being handled, inside the batch's transaction."""

    def __init__(self, service: ConversationService, session: Session, inbound: Inbound):
        self.service = service
        self.session = session
        self.inbound = inbound
        self.respondents = RespondentRepository(session)
        self.answers = AnswerRepository(session)
        self.respondent: RespondentRecord | None = None
        self.now = service.clock()
        self.style = Style.NUMBERED if inbound.channel is Channel.SMS else Style.BUTTONS
        self.reply = Reply()

    @property
    def _(self) -> Translator:
        return translator(self.service.language_for(self.respondent, self.inbound.language_hint))

    @property
    def channel(self) -> str:
        return self.inbound.channel.value

    @property
    def onboarded(self) -> bool:
        return self.respondent is not None and self.respondent.consent_at is not None

    @property
    def flow(self) -> dict[str, Any] | None:
        return self.respondent.dialogue if self.respondent else None

    def set_flow(self, flow: dict[str, Any] | None) -> None:
        assert self.respondent is not None
        self.respondent.dialogue = flow

    def prompt(
        self, survey: Survey, state: dialogue.SurveyState, note: str = ""
    ) -> Outbound | None:
        return dialogue.question_prompt(survey, state, self._, note=note, style=self.style)

    def run(self) -> Reply:
        self.respondent = self.respondents.find(channel=self.channel, address=self.inbound.address)
        if self.respondent is not None:
            self.respondent.last_seen_at = self.now
        self.reply.messages = self._dispatch()
        if self.respondent is not None:
            self.respondents.save(self.respondent)
        if self.style is Style.NUMBERED:
            self.reply.transliterate = (
                self.reply.transliterate
                or self.service.config.sms_transliterate
                or self._survey_wants_gsm()
            )
        return self.reply

    def _survey_wants_gsm(self) -> bool:
        flow = self.flow
        if not flow or flow["flow"] != SURVEY:
            return False
        return self.service.catalogue.by_version_id(
            self.session, flow["version_id"]
        ).survey.sms_transliterate

    def _dispatch(self) -> list[Outbound]:
        inbound = self.inbound
        if inbound.kind is InboundKind.COMMAND:
            return self._command(inbound.text, inbound.argument)
        if inbound.kind is InboundKind.CONTACT:
            return personal_data.link_phone(self, inbound.text)
        if inbound.kind is InboundKind.BUTTON:
            prefix, _sep, rest = inbound.text.partition(":")
            if prefix == "open":
                return self._open_survey(rest)
            if prefix == "lang":
                return self._set_language(rest)
            if prefix == "forget":
                return personal_data.forget(self, rest)
            if prefix == "rsvp":
                campaign_id, _sep, response = rest.rpartition(":")
                return events.rsvp(self, campaign_id, response)
            if prefix in ("quiz", "top", "q", "idea", "vote", "votes") and not self.onboarded:
                return self._start("")
            if prefix == "idea":
                return challenge_flow.ask_for_idea(self, rest)
            if prefix == "vote":
                challenge_id, _sep, idea_id = rest.rpartition(":")
                if idea_id.isdigit():
                    return challenge_flow.cast_vote(self, challenge_id, int(idea_id))
            if prefix == "votes":
                challenge_id, _sep, page = rest.rpartition(":")
                return challenge_flow.ballot(self, challenge_id, int(page) if page.isdigit() else 0)
            if prefix == "quiz":
                return quiz_flow.start(self, rest)
            if prefix == "top":
                return quiz_flow.top(self, rest)
            if prefix == "q":
                flow = self.flow
                if flow and flow["flow"] in quiz_flow.FLOWS:
                    return quiz_flow.answer(self, flow)
                return []  # a press on a quiz already over: nothing to say
        if self.respondent is None:
            return self._begin_onboarding(then=None)
        flow = self.flow
        if flow and flow["flow"] == personal_data.FORGET and inbound.kind is InboundKind.TEXT:
            return personal_data.forget_reply(self)
        if flow and flow["flow"] == ONBOARDING:
            return self._onboarding_input(flow)
        if flow and flow["flow"] == SURVEY:
            return self._survey_input(flow)
        if flow and flow["flow"] in quiz_flow.FLOWS and inbound.kind is InboundKind.TEXT:
            return quiz_flow.answer(self, flow)
        if flow and flow["flow"] == challenge_flow.IDEA and inbound.kind is InboundKind.TEXT:
            return challenge_flow.idea_input(self, flow)
        if flow and flow["flow"] == challenge_flow.VOTE and inbound.kind is InboundKind.TEXT:
            return challenge_flow.vote_input(self, flow)
        if inbound.kind is InboundKind.TEXT and self.onboarded:
            answered = events.sms_rsvp(self)
            if answered is not None:
                return answered
        if flow and flow["flow"] == MENU and inbound.kind is InboundKind.TEXT:
            return self._menu_input(flow)
        if inbound.kind is InboundKind.BUTTON:
            return [Outbound(self._("That button belongs to an earlier question."))]
        return [Outbound(self._("I didn't catch that.")), *self._survey_list()]

    # ------------------------------------------------------------ commands

    def _command(self, command: str, argument: str) -> list[Outbound]:
        if command == "stop":
            return self._stop(argument)
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
            return personal_data.my_data(self)
        if command == "forget":
            return [personal_data.forget_menu(self)]
        if command == "phone":
            return [personal_data.ask_for_phone(self)]
        quiz_command = YOUTH_COMMANDS.get(command)
        if quiz_command is not None:
            return quiz_command(self, argument.strip())
        return [self._help()]

    def _start(self, survey_id: str) -> list[Outbound]:
        out: list[Outbound] = []
        if self.respondents.opted_out(channel=self.channel, address=self.inbound.address):
            self.respondents.set_opt_out(
                channel=self.channel, address=self.inbound.address, at=None
            )
            out.append(Outbound(self._("Welcome back! You will get our messages again.")))
        if self.respondent is None or not self.onboarded:
            return out + self._begin_onboarding(then=survey_id or None)
        if survey_id:
            return out + self._open_survey(survey_id)
        flow = self.flow
        if flow and flow["flow"] == SURVEY:
            closed = self._closed(flow["state"]["survey_id"])
            if closed is not None:
                return out + closed
        if flow and flow["flow"] in (SURVEY, ONBOARDING):
            survey, state = self._flow_survey(flow)
            prompt = self.prompt(survey, state, note=self._("Let's continue."))
            return out + ([prompt] if prompt else [])
        invited = events.invited_survey(self)
        if invited is not None:
            return out + self._open_survey(invited)
        invited_quiz = events.invited_quiz(self)
        if invited_quiz is not None:
            return out + quiz_flow.start(self, invited_quiz)
        if not out:
            out.append(Outbound(self._("Welcome back!")))
        return out + self._survey_list()

    def _stop(self, word: str) -> list[Outbound]:
        """Opt out of this channel: nothing more is sent here until the person joins again."""
        self.respondents.set_opt_out(
            channel=self.channel, address=self.inbound.address, at=self.now
        )
        self.reply.stop = True
        if KeywordMatch(Keyword.STOP, word).handled_by_twilio and not (
            self.service.config.confirm_standard_opt_out
        ):
            return []  # Twilio has already answered its own STOP words
        return [
            Outbound(self._("You will get no more messages from us. Reply START to come back."))
        ]

    def _help(self) -> Outbound:
        _ = self._
        if self.style is Style.NUMBERED:
            return Outbound(
                _(
                    "Short surveys on your community and the SDGs. Reply START to go on, "
                    "QUIZ for a quiz, MYDATA to see your data, STOP to stop. Only group "
                    "results are published."
                )
            )
        return Outbound(
            "\n".join(
                [
                    _("I ask short questions about life in your community."),
                    "/surveys — " + _("open surveys"),
                    "/quiz — " + _("SDG quizzes and the question of the day"),
                    "/top — " + _("leaderboards"),
                    "/me — " + _("your score, streak and badges"),
                    "/nickname, /team, /hide — " + _("your place on leaderboards"),
                    "/idea, /vote — " + _("send an idea to a challenge, vote on others'"),
                    "/language — " + _("change language"),
                    "/phone — " + _("link your phone number, to answer by SMS too"),
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
                channel=self.channel, address=self.inbound.address, language=None
            )
        survey = self.service.onboarding[self.style]
        state = dialogue.start(survey)
        self.set_flow(
            {"flow": ONBOARDING, "style": self.style.value, "state": state.to_dict(), "then": then}
        )
        prompt = self.prompt(survey, state)
        return [prompt] if prompt else []

    def _flow_survey(self, flow: dict[str, Any]) -> tuple[Survey, dialogue.SurveyState]:
        state = dialogue.SurveyState.from_dict(flow["state"])
        if flow["flow"] == ONBOARDING:
            return self.service.onboarding[Style(flow.get("style", Style.BUTTONS))], state
        return self.service.catalogue.by_version_id(self.session, flow["version_id"]).survey, state

    def _onboarding_input(self, flow: dict[str, Any]) -> list[Outbound]:
        survey, state = self._flow_survey(flow)
        transition = dialogue.apply_input(
            survey,
            state,
            self.inbound.kind,
            self.inbound.text,
            language=self._.language,
            max_reprompts=None,
        )
        question, value = transition.question, transition.recorded
        if question is not None and isinstance(value, str):
            if question.id == CONSENT and value != AGREE:
                return self._decline()
            self._apply_profile(question.id, value, Style(flow.get("style", Style.BUTTONS)))
        out = dialogue.render(survey, transition, self._, self.style)
        if not transition.finished:
            self.set_flow({**flow, "state": transition.state.to_dict()})
            return out
        self.set_flow(None)
        out.append(Outbound(self._("Thank you, you're all set.")))
        then = flow.get("then")
        if then:
            return out + self._open_survey(then)
        return out + self._survey_list()

    def _apply_profile(self, question_id: str, value: str, style: Style) -> None:
        respondent = self.respondent
        assert respondent is not None
        if question_id == LANGUAGE:
            respondent.language = value
        elif question_id == CONSENT:
            respondent.consent_at = self.now
            respondent.consent_version = self.service.consent_versions[style]
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
        if self.style is Style.NUMBERED:
            return [Outbound(_("No problem: nothing about you has been kept."))]
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
        titles = [localize(s.survey.title, language, s.survey.languages) for s in open_surveys]
        if self.style is Style.NUMBERED:
            if self.respondent is not None:
                self.set_flow({"flow": MENU, "surveys": [s.survey.id for s in open_surveys]})
            lines = [_("Open surveys:")]
            lines.extend(f"{i}. {title}" for i, title in enumerate(titles, start=1))
            lines.append(_("Reply with a number."))
            return [Outbound("\n".join(lines))]
        buttons = tuple(
            (Button(title, f"open:{s.survey.id}"),)
            for title, s in zip(titles, open_surveys, strict=True)
        )
        return [Outbound(_("Open surveys:"), buttons)]

    def _menu_input(self, flow: dict[str, Any]) -> list[Outbound]:
        text = self.inbound.text.strip().rstrip(".)")
        surveys: list[str] = flow["surveys"]
        quizzes: list[str] = flow.get("quizzes", [])
        if text.isdigit() and 1 <= int(text) <= len(surveys):
            return self._open_survey(surveys[int(text) - 1])
        if text.isdigit() and 1 <= int(text) <= len(quizzes):
            return quiz_flow.start(self, quizzes[int(text) - 1])
        listing = quiz_flow.quiz_list(self) if quizzes else self._survey_list()
        return [Outbound(self._("Sorry, I didn't catch that.")), *listing]

    def pause_current(self) -> None:
        """Leave the survey in progress, keeping its place for when the person comes back."""
        flow = self.flow
        if flow and flow["flow"] == SURVEY:
            self.answers.pause_session(session_id=flow["session_id"], state=flow["state"])

    def _open_survey(self, survey_id: str) -> list[Outbound]:
        _ = self._
        if self.respondent is None or not self.onboarded:
            return self._begin_onboarding(then=survey_id)
        flow = self.flow
        if flow and flow["flow"] == SURVEY and flow["state"]["survey_id"] == survey_id:
            closed = self._closed(survey_id)
            if closed is not None:
                return closed
            survey, state = self._flow_survey(flow)
            prompt = self.prompt(survey, state, note=_("Let's continue."))
            return [prompt] if prompt else []
        existing = self.answers.session_for(respondent_id=self.respondent.id, survey_id=survey_id)
        if existing is not None and existing.status == "completed":
            stored = self.service.catalogue.by_version_id(self.session, existing.survey_version_id)
            out = [Outbound(_("You have already answered this survey. Thank you!"))]
            if stored.survey.show_results:
                out.append(self._results(stored))
            return out
        if existing is not None and existing.state is not None:
            closed = self._closed(survey_id)
            if closed is not None:
                return closed
            stored = self.service.catalogue.by_version_id(self.session, existing.survey_version_id)
            self.pause_current()
            self.answers.resume_session(session_id=existing.id)
            self.set_flow(
                {
                    "flow": SURVEY,
                    "session_id": existing.id,
                    "version_id": existing.survey_version_id,
                    "state": existing.state,
                }
            )
            state = dialogue.SurveyState.from_dict(existing.state)
            prompt = self.prompt(stored.survey, state, note=_("Let's continue."))
            return [prompt] if prompt else []
        stored = self.service.catalogue.latest(self.session, survey_id)
        if stored is None:
            return [Outbound(_("There is no such survey.")), *self._survey_list()]
        closed = self._closed(survey_id)
        if closed is not None:
            return closed
        self.pause_current()
        if existing is not None:  # begun long ago without a saved place: begin again
            self.answers.discard_session(session_id=existing.id)
        session_id = self.answers.start_session(
            respondent_id=self.respondent.id,
            survey_id=stored.survey.id,
            survey_version_id=stored.version_id,
            channel=self.channel,
        )
        state = dialogue.start(stored.survey)
        out = [dialogue.survey_intro(stored.survey, _)]
        prompt = self.prompt(stored.survey, state)
        if prompt is None:  # every question skipped by its conditions
            self.answers.end_session(session_id=session_id, status="completed")
            self.set_flow(None)
            return [*out, dialogue.survey_thanks(stored.survey, _)]
        self.set_flow(
            {
                "flow": SURVEY,
                "session_id": session_id,
                "version_id": stored.version_id,
                "state": state.to_dict(),
            }
        )
        return [*out, prompt]

    def _closed(self, survey_id: str) -> list[Outbound] | None:
        """What to say when a survey takes no answers (its dates, or staff closed it), else None.

        A place in it is kept, for when staff reopen it.
        """
        catalogue = self.service.catalogue
        if catalogue.is_open(self.session, survey_id, self.now):
            return None
        flow = self.flow
        if flow and flow["flow"] == SURVEY and flow["state"]["survey_id"] == survey_id:
            self.pause_current()
            self.set_flow(None)
        out = [Outbound(self._("This survey is closed."))]
        stored = catalogue.latest(self.session, survey_id)
        if stored is not None and stored.survey.show_results:
            out.append(self._results(stored))
        return out

    def _survey_input(self, flow: dict[str, Any]) -> list[Outbound]:
        assert self.respondent is not None
        closed = self._closed(flow["state"]["survey_id"])
        if closed is not None:
            return closed
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
                channel=self.channel,
                # A banned person's free text is kept from everyone, as their earlier text
                # was when staff banned them; their survey goes on as for anyone else.
                text_status=REJECTED if self.respondent.banned_at is not None else None,
            )
        out = dialogue.render(survey, transition, _, self.style)
        if not transition.finished:
            self.set_flow({**flow, "state": transition.state.to_dict()})
            return out
        self.answers.end_session(session_id=flow["session_id"], status="completed")
        self.set_flow(None)
        out.append(dialogue.survey_thanks(survey, _))
        if survey.show_results:
            out.append(self._results(stored))
        return out

    def _results(self, stored: StoredSurvey) -> Outbound:
        """What everyone answered so far, with small groups hidden as in every published result."""
        survey = stored.survey
        counts = self.answers.counts(survey_id=survey.id)
        results = [
            published.question_results(
                survey,
                question,
                published.SegmentCounts(found.answered, dict(found.choices), sum(found.numbers)),
                self._,
                k=self.service.config.min_group,
                numbers=found.numbers,
            )
            for question in survey.questions
            if (found := counts.get(question.id)) is not None
        ]
        return Outbound(results_text(results, self._))

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


YOUTH_COMMANDS: dict[str, Callable[[Turn, str], list[Outbound]]] = {
    "quiz": quiz_flow.play,
    "top": quiz_flow.top,
    "me": lambda turn, _argument: quiz_flow.me(turn),
    "team": quiz_flow.join_team,
    "nickname": quiz_flow.set_nickname,
    "hide": lambda turn, _argument: quiz_flow.set_hidden(turn, True),
    "show": lambda turn, _argument: quiz_flow.set_hidden(turn, False),
    "idea": challenge_flow.idea_command,
    "vote": challenge_flow.vote_command,
}
"""Commands of quizzes, leaderboards and challenges (SMS keywords map to the same names)."""
