"""What a campaign message looks like to one person, on their channel and in their language."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from polls.campaign import Campaign, CampaignKind
from polls.i18n import N_, translator
from polls.messages import Button, Channel, Outbound
from polls.survey import localize

RSVP_ANSWERS = (("going", N_("Going")), ("maybe", N_("Maybe")), ("no", N_("Can't")))


def event_details(campaign: Campaign, language: str, zone: ZoneInfo) -> list[str]:
    """When and where, in the person's language and the event's local time."""
    event = campaign.event
    if event is None:
        return []
    _ = translator(language)
    when = format_datetime(event.starts_at, "medium", tzinfo=zone, locale=language)
    lines = [_("When: {when}").format(when=when)]
    if event.location:
        where = localize(event.location, language, campaign.languages)
        lines.append(_("Where: {where}").format(where=where))
    return lines


def campaign_message(
    campaign: Campaign, language: str, channel: str, zone: ZoneInfo, *, reminder: bool = False
) -> Outbound:
    """The campaign as one message: buttons on Telegram, a reply instruction by SMS."""
    _ = translator(language)
    lines = []
    if reminder:
        lines.append(_("Reminder:"))
    lines.append(campaign.text_for(language))
    lines.extend(event_details(campaign, language, zone))
    sms = channel == Channel.SMS.value
    buttons: tuple[tuple[Button, ...], ...] = ()
    if campaign.kind is CampaignKind.SURVEY_INVITATION and campaign.survey_id:
        if sms:
            lines.append(_("Reply JOIN to start."))
        else:
            buttons = ((Button(_("Start the survey"), f"open:{campaign.survey_id}"),),)
    elif campaign.kind is CampaignKind.QUIZ_INVITATION and campaign.quiz_id:
        if sms:
            lines.append(_("Reply QUIZ to play."))
        else:
            buttons = ((Button(_("Play"), f"quiz:{campaign.quiz_id}"),),)
    elif campaign.kind is CampaignKind.EVENT and not reminder:
        if sms:
            choices = ", ".join(
                f"{number} {_(label)}" for number, (_v, label) in enumerate(RSVP_ANSWERS, start=1)
            )
            lines.append(_("Reply {choices}.").format(choices=choices))
        else:
            buttons = (
                tuple(
                    Button(_(label), f"rsvp:{campaign.id}:{value}") for value, label in RSVP_ANSWERS
                ),
            )
    return Outbound("\n".join(lines), buttons)
