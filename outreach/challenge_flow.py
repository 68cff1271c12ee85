"""Idea challenges in the conversation: send an idea, vote on others', see the results.

Functions of a conversation ``Turn``. Ideas are shown to others only after staff
approve them, and never with their author; an idea that names a phone number, a
handle or a link is sent back to be changed, so nobody exposes themselves.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any

from outreach import moderation
from polls.dialogue import Style
from polls.i18n import Translator
from polls.messages import Button, InboundKind, Outbound
from storage.challenges import (
    APPROVED,
    CLOSED,
    OPEN,
    VOTING,
    ChallengeError,
    ChallengeRepository,
    IdeaRow,
    StoredChallenge,
)

if TYPE_CHECKING:
    from outreach.conversation import Turn

IDEA = "idea"
VOTE = "vote"
FLOWS = (IDEA, VOTE)
PAGE = {Style.BUTTONS: 8, Style.NUMBERED: 4}
"""Ideas per message: SMS pages are short, every character costs."""
SMS_PREVIEW = 90
_CONTACT = re.compile(
    r"(\+?\d[\d\s().-]{6,}\d)|(^|\s)@\w{3,}|https?://|www\.|\b[\w.-]+@[\w-]+\.\w+", re.IGNORECASE
)


def _sms(turn: Turn) -> bool:
    return turn.style is Style.NUMBERED


def _hint(turn: Turn, telegram: str, sms: str) -> str:
    return sms if _sms(turn) else telegram


def _repository(turn: Turn) -> ChallengeRepository:
    return ChallengeRepository(turn.session)


def _in_phase(turn: Turn, status: str) -> list[StoredChallenge]:
    found = []
    for stored in _repository(turn).all():
        if stored.status != status:
            continue
        if status == OPEN and not stored.challenge.accepts_ideas(turn.now):
            continue
        if status == VOTING and not stored.challenge.voting_open(turn.now):
            continue
        found.append(stored)
    return found


# ------------------------------------------------------------------ ideas


def idea_command(turn: Turn, argument: str) -> list[Outbound]:
    """/idea (IDEA by SMS): the open challenge's prompt, or the idea itself if given."""
    _ = turn._
    assert turn.respondent is not None
    open_challenges = _in_phase(turn, OPEN)
    if not open_challenges:
        return [Outbound(_("No challenge is taking ideas right now."))]
    if len(open_challenges) > 1 and not _sms(turn):
        buttons = tuple(
            (Button(s.challenge.title_for(_.language), f"idea:{s.challenge.id}"),)
            for s in open_challenges
        )
        return [Outbound(_("Which challenge is your idea for?"), buttons)]
    return ask_for_idea(turn, open_challenges[0].challenge.id, argument)


def ask_for_idea(turn: Turn, challenge_id: str, text: str = "") -> list[Outbound]:
    _ = turn._
    assert turn.respondent is not None
    stored = _repository(turn).get(challenge_id)
    if stored is None or stored.status != OPEN or not stored.challenge.accepts_ideas(turn.now):
        return [Outbound(_("This challenge is no longer taking ideas."))]
    refused = _refusal(turn, stored)
    if refused is not None:
        return [refused]
    if text.strip():
        return _submit(turn, stored, text)
    turn.pause_current()
    turn.set_flow({"flow": IDEA, "challenge": challenge_id})
    challenge = stored.challenge
    lines = [
        _hint(turn, "💡 ", "") + challenge.title_for(_.language),
        challenge.prompt_for(_.language),
        _("Send your idea in one message, up to {limit} characters.").format(
            limit=challenge.max_length
        ),
    ]
    return [Outbound("\n".join(lines))]


def idea_input(turn: Turn, flow: dict[str, Any]) -> list[Outbound]:
    """The text sent after /idea."""
    stored = _repository(turn).get(flow["challenge"])
    if stored is None or stored.status != OPEN or not stored.challenge.accepts_ideas(turn.now):
        turn.set_flow(None)
        return [Outbound(turn._("This challenge is no longer taking ideas."))]
    return _submit(turn, stored, turn.inbound.text)


def _refusal(turn: Turn, stored: StoredChallenge) -> Outbound | None:
    _ = turn._
    assert turn.respondent is not None
    if moderation.restricted(turn.respondent, turn.now):
        return Outbound(_("You cannot send ideas at the moment."))
    mine = _repository(turn).idea_of(stored.challenge.id, turn.respondent.id)
    if stored.challenge.one_per_person and mine is not None:
        return Outbound(_("You have sent your idea for this challenge. Thank you!"))
    return None


def _submit(turn: Turn, stored: StoredChallenge, raw: str) -> list[Outbound]:
    _ = turn._
    assert turn.respondent is not None
    text = " ".join(raw.split())
    limit = stored.challenge.max_length
    if len(text) < 10:
        return [Outbound(_("Please describe your idea in a sentence or two."))]
    if len(text) > limit:
        return [
            Outbound(
                _(
                    "Your idea has {length} characters; the limit is {limit}. Please shorten it."
                ).format(length=len(text), limit=limit)
            )
        ]
    if _CONTACT.search(text):
        return [
            Outbound(
                _(
                    "For your safety, ideas are shared without names, phone numbers, "
                    "usernames or links. Please send it again without them."
                )
            )
        ]
    refused = _refusal(turn, stored)
    if refused is not None:
        turn.set_flow(None)
        return [refused]
    _repository(turn).submit(
        challenge=stored.challenge, respondent_id=turn.respondent.id, text=text, now=turn.now
    )
    turn.set_flow(None)
    return [
        Outbound(_("Thank you! Our team reads every idea before the vote; you will hear from us."))
    ]


# ------------------------------------------------------------------ votes


def vote_command(turn: Turn, argument: str) -> list[Outbound]:
    """/vote (VOTE by SMS): the ideas to vote on, a vote by number, or the results."""
    _ = turn._
    assert turn.respondent is not None
    voting = _in_phase(turn, VOTING)
    if not voting:
        return _latest_results(turn)
    stored = voting[0]
    if argument.strip().isdigit() and _sms(turn):
        flow = turn.flow
        if flow and flow.get("flow") == VOTE and flow.get("challenge") == stored.challenge.id:
            return vote_input(turn, {**flow}, argument.strip())
    return ballot(turn, stored.challenge.id, 0)


def _ballot_ideas(turn: Turn, challenge_id: str) -> list[IdeaRow]:
    """Approved ideas but the person's own, in an order of their own (no first-place bias)."""
    assert turn.respondent is not None
    repository = _repository(turn)
    mine = repository.own_idea_ids(challenge_id, turn.respondent.id)
    approved = repository.ideas(challenge_id, status=APPROVED)
    ideas = [idea for idea in approved if idea.id not in mine]

    def order(idea: IdeaRow) -> bytes:
        seed = f"{turn.respondent.id if turn.respondent else 0}/{idea.id}"
        return hashlib.sha256(seed.encode()).digest()

    return sorted(ideas, key=order)


def ballot(turn: Turn, challenge_id: str, page: int) -> list[Outbound]:
    _ = turn._
    assert turn.respondent is not None
    repository = _repository(turn)
    stored = repository.get(challenge_id)
    if stored is None or stored.status != VOTING or not stored.challenge.voting_open(turn.now):
        return _latest_results(turn)
    voted = repository.vote_of(challenge_id, turn.respondent.id)
    if voted is not None:
        return [Outbound(_("You have voted in this challenge. Thank you!"))]
    ideas = _ballot_ideas(turn, challenge_id)
    if not ideas:
        return [Outbound(_("There are no ideas to vote on yet."))]
    size = PAGE[turn.style]
    pages = (len(ideas) + size - 1) // size
    page = page % pages
    shown = ideas[page * size : (page + 1) * size]
    title = stored.challenge.title_for(_.language)
    lines = [title if _sms(turn) else f"🗳 {title}", _("Vote for one idea (not your own):")]
    first = page * size + 1
    for number, idea in enumerate(shown, start=first):
        text = idea.text
        if _sms(turn) and len(text) > SMS_PREVIEW:
            text = text[: SMS_PREVIEW - 1].rstrip() + "…"
        lines.append(f"{number}. {text}")
    pressed = turn.inbound.kind is InboundKind.BUTTON and turn.inbound.text.startswith("votes:")
    if _sms(turn):
        turn.set_flow(
            {"flow": VOTE, "challenge": challenge_id, "ideas": [i.id for i in ideas], "page": page}
        )
        if pages > 1:
            lines.append(_("Reply the number of an idea, or 0 for more."))
        else:
            lines.append(_("Reply the number of an idea."))
        return [Outbound("\n".join(lines))]
    rows = [
        tuple(
            Button(str(number), f"vote:{challenge_id}:{idea.id}")
            for number, idea in list(enumerate(shown, start=first))[row : row + 4]
        )
        for row in range(0, len(shown), 4)
    ]
    if pages > 1:
        rows.append((Button(_("More ideas"), f"votes:{challenge_id}:{page + 1}"),))
    return [Outbound("\n".join(lines), tuple(rows), updates_pressed=pressed)]


def vote_input(turn: Turn, flow: dict[str, Any], text: str | None = None) -> list[Outbound]:
    """A number sent by SMS after the ballot."""
    _ = turn._
    answer = (text if text is not None else turn.inbound.text).strip().rstrip(".)")
    ideas: list[int] = flow["ideas"]
    if answer == "0":
        return ballot(turn, flow["challenge"], flow.get("page", 0) + 1)
    if not answer.isdigit() or not 1 <= int(answer) <= len(ideas):
        return [Outbound(_("Reply the number of an idea."))]
    turn.set_flow(None)
    return cast_vote(turn, flow["challenge"], ideas[int(answer) - 1])


def cast_vote(turn: Turn, challenge_id: str, idea_id: int) -> list[Outbound]:
    _ = turn._
    assert turn.respondent is not None
    stored = _repository(turn).get(challenge_id)
    if stored is None or stored.status != VOTING or not stored.challenge.voting_open(turn.now):
        return [Outbound(_("This vote is closed."))]
    try:
        _repository(turn).vote(
            challenge_id=challenge_id,
            respondent_id=turn.respondent.id,
            idea_id=idea_id,
            now=turn.now,
        )
    except ChallengeError as error:
        reasons = {
            "own_idea": _("You cannot vote for your own idea."),
            "voted": _("You have voted in this challenge. Thank you!"),
            "no_idea": _("That idea is not in the vote."),
        }
        return [Outbound(reasons.get(error.reason, _("That idea is not in the vote.")))]
    pressed = turn.inbound.kind is InboundKind.BUTTON
    thanks = _("Thank you for your vote! We will announce the results here.")
    return [Outbound(thanks, updates_pressed=pressed)]


def _latest_results(turn: Turn) -> list[Outbound]:
    _ = turn._
    closed = [s for s in _repository(turn).all() if s.status == CLOSED]
    if not closed:
        return [Outbound(_("No vote is open right now."))]
    stored = closed[0]
    results = _repository(turn).results(stored.challenge.id)
    return [Outbound(results_text(stored.challenge.title_for(_.language), results, _))]


def results_text(title: str, results: list[IdeaRow], _: Translator, *, top: int = 3) -> str:
    """The winning ideas with their votes: for /vote and the announcement campaign."""
    lines = [_("Results: {title}").format(title=title)]
    for place, idea in enumerate(results[:top], start=1):
        votes = _.ngettext("{n} vote", "{n} votes", idea.votes).format(n=idea.votes)
        text = idea.text if len(idea.text) <= SMS_PREVIEW else idea.text[: SMS_PREVIEW - 1] + "…"
        lines.append(f"{place}. {text} ({votes})")
    if not results:
        lines.append(_("No ideas were put to the vote."))
    return "\n".join(lines)
