"""What a person can do with their own data: see it, erase it, link their phone.

Functions of a conversation ``Turn`` (outreach.conversation), kept apart from
the survey flow because they touch identity, the most sensitive data we hold.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from polls import dialogue
from polls.badges import badges_text
from polls.dialogue import Style
from polls.i18n import language_name
from polls.messages import Button, Channel, Outbound
from polls.onboarding import AGE_BANDS, GENDERS, region_value
from polls.phone import InvalidPhoneNumber, normalize_phone
from polls.pseudonym import pseudonymous_id
from polls.quiz import Quiz
from polls.survey import localize
from storage.campaigns import CampaignRepository
from storage.challenges import ChallengeRepository
from storage.own_data import OwnAttempt, OwnRsvp, own_youth_data
from storage.quizzes import QuizRepository
from storage.respondents import RespondentRecord

if TYPE_CHECKING:
    from outreach.conversation import Turn

TEXT_LIMIT = 4000
"""Telegram takes 4,096 characters a message; longer data is split."""
VOTE_PREVIEW = 60
"""Enough of the idea voted for to recognise it (the idea is someone else's words)."""
FORGET = "forget"
"""The flow of an SMS person asked how to erase their data (they reply 1, 2 or 3)."""


def _sms(turn: Turn) -> bool:
    return turn.style is Style.NUMBERED


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
    """Everything held about the person, in their language: by SMS, compact and in GSM-7."""
    respondent = turn.respondent
    assert respondent is not None
    _ = turn._
    sms = _sms(turn)
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
    profile = [f"{label}: {value}" for label, value in profile_labels(turn, respondent)]
    lines.extend(["; ".join(profile)] if sms and profile else profile)
    if respondent.consent_at:
        lines.append(
            _("Consent given: {when} (text version {version})").format(
                when=respondent.consent_at.strftime("%Y-%m-%d" if sms else "%Y-%m-%d %H:%M UTC"),
                version=respondent.consent_version,
            )
        )
    lines.extend(_conduct_lines(turn, respondent))
    bullet = "- " if sms else "  • "
    by_session: dict[int, list[str]] = {}
    for answer in answers:
        survey = catalogue.by_version_id(session, answer.survey_version_id).survey
        question = survey.question(answer.question_id)
        if question is None:
            by_session.setdefault(answer.session_id, []).append(bullet + answer.question_id)
            continue
        shown = dialogue.describe_answer(survey, question, answer.value, _)
        asked = localize(question.text, _.language, survey.languages)
        by_session.setdefault(answer.session_id, []).append(f"{bullet}{asked}: {shown}")
    statuses = {"completed": _("completed"), "active": _("in progress")}
    for survey_session in sessions:
        survey = catalogue.by_version_id(session, survey_session.survey_version_id).survey
        title = localize(survey.title, _.language, survey.languages)
        status = statuses.get(survey_session.status, _("not finished"))
        if not sms:
            lines.append("")
        lines.append(f"{title} ({survey_session.started_at.date().isoformat()}, {status})")
        lines.extend(by_session.get(survey_session.id, []))
    youth = _youth_lines(turn, respondent.id)
    if youth and not sms:
        lines.append("")
    lines.extend(youth)
    if sms:
        lines.append(_("To delete your data, reply FORGET."))
        turn.reply.transliterate = True  # what is held, not how it is spelt: half the SMS
        return [Outbound("\n".join(lines))]
    lines.append("")
    lines.append(_("To delete your data, send /forget."))
    return [Outbound(chunk) for chunk in _chunks(lines)]


def _conduct_lines(turn: Turn, respondent: RespondentRecord) -> list[str]:
    """A mute or a ban under the code of conduct: held about the person, so shown to them."""
    _ = turn._
    lines = []
    if respondent.muted_until is not None:
        lines.append(
            _("Ideas and nickname changes paused until {date}").format(
                date=_local_time(turn, respondent.muted_until)
            )
        )
    if respondent.banned_at is not None:
        lines.append(
            _("Excluded from challenges and leaderboards since {date}").format(
                date=respondent.banned_at.date().isoformat()
            )
        )
    return lines


def _local_time(turn: Turn, moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(turn.service.config.timezone)).strftime("%Y-%m-%d %H:%M")


def _youth_lines(turn: Turn, respondent_id: int) -> list[str]:
    """Quizzes, the question of the day, badges, ideas, votes, labels, events, messages."""
    _ = turn._
    session = turn.session
    held = own_youth_data(session, respondent_id=respondent_id)
    lines = []
    if held.nickname:
        nickname = _("Nickname: {nickname}").format(nickname=held.nickname)
        if held.hidden:
            nickname += " (" + _("hidden from leaderboards") + ")"
        lines.append(nickname)
    if held.team:
        lines.append(_("Team: {team}").format(team=held.team))
    lines.extend(_quiz_lines(turn, held.attempts))
    if held.daily_days:
        today = turn.now.astimezone(ZoneInfo(turn.service.config.timezone)).date()
        streak = QuizRepository(session).streak(respondent_id=respondent_id, today=today)
        lines.append(
            _.ngettext(
                "Question of the day: {n} day, {right} right, streak {streak}",
                "Question of the day: {n} days, {right} right, streak {streak}",
                held.daily_days,
            ).format(n=held.daily_days, right=held.daily_right, streak=streak)
        )
    if held.badges:
        lines.append(_("Badges: {badges}").format(badges=badges_text(held.badges, _)))
    challenges = ChallengeRepository(session)
    titles: dict[str, str] = {}

    def challenge_title(challenge_id: str) -> str:
        if challenge_id not in titles:
            stored = challenges.get(challenge_id)
            titles[challenge_id] = (
                stored.challenge.title_for(_.language) if stored is not None else challenge_id
            )
        return titles[challenge_id]

    states = {"pending": _("awaiting review"), "approved": _("approved")}
    for idea in held.ideas:
        lines.append(
            _("Idea for {challenge} ({state}): {text}").format(
                challenge=challenge_title(idea.challenge_id),
                state=states.get(idea.status, _("not accepted")),
                text=idea.text,
            )
        )
    for vote in held.votes:
        text = vote.idea_text
        if len(text) > VOTE_PREVIEW:
            text = text[: VOTE_PREVIEW - 1].rstrip() + "…"
        lines.append(
            _("Your vote in {challenge}: {idea}").format(
                challenge=challenge_title(vote.challenge_id), idea=text
            )
        )
    if held.tags:
        lines.append(_("Labels: {labels}").format(labels=", ".join(held.tags)))
    lines.extend(_event_lines(turn, held.rsvps))
    if held.campaign_messages:
        lines.append(_("Messages from our campaigns: {n}").format(n=held.campaign_messages))
    return lines


def _quiz_lines(turn: Turn, attempts: list[OwnAttempt]) -> list[str]:
    """Each quiz played: how many times, and the score of each play that ended."""
    _ = turn._
    by_quiz: dict[str, list[OwnAttempt]] = {}
    for attempt in attempts:
        by_quiz.setdefault(attempt.quiz_id, []).append(attempt)
    lines = []
    for quiz_id, plays in by_quiz.items():
        scores = []
        title = quiz_id
        for play in plays:
            quiz = _quiz(turn, play.version_id)
            title = localize(quiz.title, _.language, quiz.languages)
            if play.status == "finished":
                scores.append(f"{play.score}/{len(quiz.questions)}")
        lines.append(
            _.ngettext(
                "{quiz}: played {n} time, score {scores}",
                "{quiz}: played {n} times, scores {scores}",
                len(plays),
            ).format(quiz=title, n=len(plays), scores=", ".join(scores) or "—")
        )
    return lines


def _quiz(turn: Turn, version_id: int) -> Quiz:
    catalogue = turn.service.quizzes
    if catalogue is not None:
        return catalogue.by_version_id(turn.session, version_id).quiz
    stored = QuizRepository(turn.session).by_version_id(version_id=version_id)
    if stored is None:  # a foreign key keeps every played version
        raise LookupError(f"quiz version {version_id} is not stored")
    return stored.quiz


def _event_lines(turn: Turn, rsvps: list[OwnRsvp]) -> list[str]:
    _ = turn._
    campaigns = CampaignRepository(turn.session)
    answers = {"going": _("going"), "maybe": _("maybe"), "no": _("not going")}
    lines = []
    for rsvp in rsvps:
        stored = campaigns.get(campaign_id=rsvp.campaign_id)
        event = stored.campaign.event if stored is not None else None
        answer = answers.get(rsvp.response, rsvp.response)
        if rsvp.response == "going" and rsvp.waitlisted:
            answer = _("on the waiting list")
        when = _local_time(turn, event.starts_at) if event is not None else rsvp.campaign_id
        lines.append(_("Event on {date}: {answer}").format(date=when, answer=answer))
    return lines


def forget_menu(turn: Turn) -> Outbound:
    """Which erasure the person wants: buttons, or by SMS a number to reply."""
    _ = turn._
    if _sms(turn):
        if turn.respondent is not None:
            turn.pause_current()
            turn.set_flow({"flow": FORGET})
        return Outbound(
            _(
                "Delete your data? Reply 1 to delete your identity: your number, nickname, "
                "ideas and written answers (other answers stay as anonymous statistics). "
                "2: delete everything. 3: cancel."
            )
        )
    return Outbound(
        _(
            "Delete your data? “Delete my identity” removes your Telegram or phone link, "
            "your nickname and team, your ideas and your written answers; your other "
            "answers and quiz results stay as anonymous statistics. “Delete everything” "
            "removes all of it."
        ),
        (
            (Button(_("Delete my identity"), "forget:identity"),),
            (Button(_("Delete everything"), "forget:all"),),
            (Button(_("Cancel"), "forget:cancel"),),
        ),
    )


SMS_CHOICES = {"1": "identity", "2": "all"}


def forget_reply(turn: Turn) -> list[Outbound]:
    """The number an SMS person replied to the question of ``forget_menu``."""
    turn.set_flow(None)
    return forget(turn, SMS_CHOICES.get(turn.inbound.text.strip().rstrip(".)"), "cancel"))


def forget(turn: Turn, choice: str) -> list[Outbound]:
    """Erase after the person confirmed, as they chose."""
    _ = turn._
    pressed = not _sms(turn)  # the answer redraws the pressed button; by SMS it is a reply
    if turn.respondent is None:
        return [Outbound(_("We hold no data about you."), updates_pressed=pressed)]
    if choice == "identity":
        turn.respondents.erase_identity(respondent_id=turn.respondent.id, now=turn.now)
    elif choice == "all":
        turn.respondents.delete(respondent_id=turn.respondent.id)
    else:
        return [Outbound(_("Nothing was deleted."), updates_pressed=pressed)]
    turn.respondent = None
    if _sms(turn):
        return [Outbound(_("Done: your data has been deleted. Reply START to take part again."))]
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
