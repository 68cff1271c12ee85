"""What a person can do with their own data: see it, erase it, link their phone.

Functions of a conversation ``Turn`` (outreach.conversation), kept apart from
the survey flow because they touch identity, the most sensitive data we hold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from polls import dialogue
from polls.i18n import language_name
from polls.messages import Button, Channel, Outbound
from polls.onboarding import AGE_BANDS, GENDERS, region_value
from polls.phone import InvalidPhoneNumber, normalize_phone
from polls.pseudonym import pseudonymous_id
from polls.survey import localize
from storage.respondents import RespondentRecord

if TYPE_CHECKING:
    from outreach.conversation import Turn

TEXT_LIMIT = 4000
"""Telegram takes 4,096 characters a message; longer data is split."""


def _chunks(lines: list[str], limit: int = TEXT_LIMIT) -> list[str]:
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


def profile_labels(turn: Turn, respondent: RespondentRecord) -> list[tuple[str, str]]:
    _ = turn._
    regions = {region_value(r): _(r) for r in turn.service.config.regions}
    ages = {value: _(label) for value, label in AGE_BANDS}
    genders = {value: _(label) for value, label in GENDERS}
    rows = [
        (_("Language"), language_name(respondent.language) if respondent.language else None),
        (_("Region"), regions.get(respondent.region or "", respondent.region)),
        (_("Age"), ages.get(respondent.age_band or "", respondent.age_band)),
        (_("Gender"), genders.get(respondent.gender or "", respondent.gender)),
    ]
    return [(label, value) for label, value in rows if value]


def my_data(turn: Turn) -> list[Outbound]:
    """Everything held about the person, in their language."""
    respondent = turn.respondent
    assert respondent is not None
    _ = turn._
    catalogue, session = turn.service.catalogue, turn.session
    identities = turn.respondents.identities(respondent_id=respondent.id)
    sessions = turn.answers.sessions_of(respondent_id=respondent.id)
    answers = turn.answers.of_respondent(respondent_id=respondent.id)
    code = pseudonymous_id(turn.service.config.pseudonym_secret, respondent.id)
    lines = [_("What we hold about you:"), _("Participant code: {code}").format(code=code)]
    channel_names = {Channel.TELEGRAM.value: "Telegram", Channel.SMS.value: _("SMS")}
    for identity in identities:
        line = _("{channel}: {address} (since {date})").format(
            channel=channel_names.get(identity.channel, identity.channel),
            address=identity.address,
            date=identity.created_at.date().isoformat(),
        )
        if identity.opted_out_at:
            line += " — " + _("messages turned off")
        lines.append(line)
    lines.extend(f"{label}: {value}" for label, value in profile_labels(turn, respondent))
    if respondent.consent_at:
        lines.append(
            _("Consent given: {when} (text version {version})").format(
                when=respondent.consent_at.strftime("%Y-%m-%d %H:%M UTC"),
                version=respondent.consent_version,
            )
        )
    by_session: dict[int, list[str]] = {}
    for answer in answers:
        survey = catalogue.by_version_id(session, answer.survey_version_id).survey
        question = survey.question(answer.question_id)
        if question is None:
            by_session.setdefault(answer.session_id, []).append(f"  • {answer.question_id}")
            continue
        shown = dialogue.describe_answer(survey, question, answer.value, _)
        asked = localize(question.text, _.language, survey.languages)
        by_session.setdefault(answer.session_id, []).append(f"  • {asked}: {shown}")
    statuses = {"completed": _("completed"), "active": _("in progress")}
    for survey_session in sessions:
        survey = catalogue.by_version_id(session, survey_session.survey_version_id).survey
        title = localize(survey.title, _.language, survey.languages)
        status = statuses.get(survey_session.status, _("not finished"))
        lines.append("")
        lines.append(f"{title} ({survey_session.started_at.date().isoformat()}, {status})")
        lines.extend(by_session.get(survey_session.id, []))
    lines.append("")
    lines.append(_("To delete your data, send /forget."))
    return [Outbound(chunk) for chunk in _chunks(lines)]


def forget_menu(turn: Turn) -> Outbound:
    _ = turn._
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


def forget(turn: Turn, choice: str) -> list[Outbound]:
    """Erase after the person confirmed, as they chose."""
    _ = turn._
    if turn.respondent is None:
        return [Outbound(_("We hold no data about you."), updates_pressed=True)]
    if choice == "identity":
        turn.respondents.erase_identity(respondent_id=turn.respondent.id, now=turn.now)
    elif choice == "all":
        turn.respondents.delete(respondent_id=turn.respondent.id)
    else:
        return [Outbound(_("Nothing was deleted."), updates_pressed=True)]
    turn.respondent = None
    return [
        Outbound(
            _("Done: your data has been deleted. Send /start to take part again."),
            updates_pressed=True,
        )
    ]


def ask_for_phone(turn: Turn) -> Outbound:
    _ = turn._
    return Outbound(
        _(
            "Share your phone number to answer by SMS too, as the same person: "
            "press the button below. We never show it to anyone."
        ),
        contact_button=_("Share my phone number"),
    )


def link_phone(turn: Turn, raw_number: str) -> list[Outbound]:
    """Link a shared phone number to this person, merging any SMS history of it."""
    _ = turn._
    if turn.respondent is None or not turn.onboarded:
        return [Outbound(_("Please send /start first."), remove_keyboard=True)]
    try:
        number = normalize_phone(raw_number, turn.service.config.phone_region)
    except InvalidPhoneNumber:
        return [Outbound(_("That is not a phone number we can use."), remove_keyboard=True)]
    merged = turn.respondents.link_identity(
        respondent_id=turn.respondent.id,
        channel=Channel.SMS.value,
        address=number,
        zone=ZoneInfo(turn.service.config.timezone),
    )
    if merged:
        # Answers given by SMS now belong to this person; refresh what changed.
        refreshed = turn.respondents.get(respondent_id=turn.respondent.id)
        if refreshed is not None:
            refreshed.last_seen_at = turn.now
            refreshed.dialogue = turn.respondent.dialogue
            turn.respondent = refreshed
    return [
        Outbound(
            _("Your phone number is linked: your SMS and Telegram answers count as one person's."),
            remove_keyboard=True,
        )
    ]
