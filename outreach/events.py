"""Campaigns in the conversation: answering an event, starting an invited survey or quiz.

Functions of a conversation ``Turn``. On Telegram an invitation carries buttons;
by SMS the person replies 1, 2 or 3 to the last event invitation they got, or
JOIN to start the survey (or QUIZ the quiz) they were last invited to, within two weeks.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from polls.calendar_file import event_calendar
from polls.campaign import CampaignKind
from polls.messages import Outbound
from storage.campaigns import CampaignRepository, StoredCampaign, latest_invitation
from storage.events import EventRepository
from storage.quizzes import QuizRepository

if TYPE_CHECKING:
    from outreach.conversation import Turn

INVITATION_LIFETIME = timedelta(days=14)
SMS_ANSWERS = {"1": "going", "2": "maybe", "3": "no"}


def rsvp(turn: Turn, campaign_id: str, response: str) -> list[Outbound]:
    """Record the person's answer to an event and tell them where they stand."""
    _ = turn._
    if turn.respondent is None or response not in ("going", "maybe", "no"):
        return [Outbound(_("That button belongs to an earlier question."))]
    stored = CampaignRepository(turn.session).get(campaign_id=campaign_id)
    if (
        stored is None
        or stored.campaign.event is None
        or stored.status == "cancelled"
        or stored.campaign.event.starts_at < turn.now
    ):
        return [Outbound(_("This event is no longer open for answers."))]
    event = stored.campaign.event
    outcome = EventRepository(turn.session).answer(
        campaign_id=campaign_id,
        respondent_id=turn.respondent.id,
        response=response,
        capacity=event.capacity,
    )
    if response == "going" and outcome.waitlisted:
        return [
            Outbound(
                _(
                    "The event is full, so you are on the waiting list. "
                    "If a place comes free, it is yours."
                )
            )
        ]
    if response == "going":
        language = _.language
        calendar = None
        if turn.inbound.channel.value == "telegram":
            calendar = (f"{campaign_id}.ics", event_calendar(stored.campaign, language))
        return [Outbound(_("Thank you! See you there."), document=calendar)]
    if response == "maybe":
        return [Outbound(_("Thank you, noted as maybe."))]
    return [Outbound(_("Thank you for letting us know."))]


def sms_rsvp(turn: Turn) -> list[Outbound] | None:
    """A 1, 2 or 3 by SMS answers the latest event invitation, if there is one."""
    answer = SMS_ANSWERS.get(turn.inbound.text.strip().rstrip(".)"))
    invitation = _invitation(turn, CampaignKind.EVENT) if answer else None
    if invitation is None or answer is None:
        return None
    return rsvp(turn, invitation.campaign.id, answer)


def invited_survey(turn: Turn) -> str | None:
    """The survey the person was last invited to, unless they finished it."""
    invitation = _invitation(turn, CampaignKind.SURVEY_INVITATION)
    if invitation is None or invitation.campaign.survey_id is None or turn.respondent is None:
        return None
    survey_id = invitation.campaign.survey_id
    existing = turn.answers.session_for(respondent_id=turn.respondent.id, survey_id=survey_id)
    return None if existing is not None and existing.status == "completed" else survey_id


def _invitation(turn: Turn, kind: CampaignKind) -> StoredCampaign | None:
    if turn.respondent is None:
        return None
    return latest_invitation(
        turn.session,
        respondent_id=turn.respondent.id,
        kind=kind.value,
        since=turn.now - INVITATION_LIFETIME,
    )


def invited_quiz(turn: Turn) -> str | None:
    """The quiz the person was last invited to (the question of the day too), unless done."""
    invitation = _invitation(turn, CampaignKind.QUIZ_INVITATION)
    if invitation is None or invitation.campaign.quiz_id is None or turn.respondent is None:
        return None
    quiz_id = invitation.campaign.quiz_id
    catalogue = turn.service.quizzes
    stored = catalogue.latest(turn.session, quiz_id) if catalogue else None
    if stored is None or not stored.quiz.is_open(turn.now):
        return None
    repository = QuizRepository(turn.session)
    if stored.quiz.daily:
        today = turn.now.astimezone(ZoneInfo(turn.service.config.timezone)).date()
        done = repository.answered_daily(respondent_id=turn.respondent.id, day=today)
    else:
        done = repository.has_played(respondent_id=turn.respondent.id, quiz_id=quiz_id)
    return None if done else quiz_id
