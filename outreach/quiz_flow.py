"""Quizzes in the conversation: play, the question of the day, leaderboards, teams, profile.

Functions of a conversation ``Turn`` (outreach.conversation). A quiz in
progress is the person's dialogue flow, like a survey: after a restart they
continue at the same question. Players appear on leaderboards only under a
nickname they chose, and can hide.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from outreach import events, moderation
from polls import quiz_play
from polls.answer_parsing import fold
from polls.badges import badges_text, earned_badges
from polls.dialogue import Style
from polls.i18n import Translator
from polls.messages import Button, InboundKind, Outbound
from polls.nickname import NicknameRefused, clean_nickname, nickname_key
from polls.onboarding import region_label
from polls.quiz import Quiz, Replay
from polls.quiz_play import QuizAnswerOutcome, QuizState
from polls.survey import localize
from storage.quizzes import (
    ALL_TIME,
    LeaderboardRepository,
    NicknameTaken,
    PlayerRepository,
    QuizRepository,
    StoredQuiz,
    TeamRepository,
    UnknownTeamCode,
)

if TYPE_CHECKING:
    from outreach.conversation import Turn

QUIZ = "quiz"
DAILY = "daily"
FLOWS = (QUIZ, DAILY)


def _zone(turn: Turn) -> ZoneInfo:
    return ZoneInfo(turn.service.config.timezone)


def _day(turn: Turn) -> Any:
    return turn.now.astimezone(_zone(turn)).date()


def _sms(turn: Turn) -> bool:
    return turn.style is Style.NUMBERED


def _hint(turn: Turn, telegram: str, sms: str) -> str:
    """The same advice in the words of the person's channel: commands or SMS keywords."""
    return sms if _sms(turn) else telegram


def quiz_list(turn: Turn) -> list[Outbound]:
    _ = turn._
    catalogue = turn.service.quizzes
    quizzes = catalogue.open_quizzes(turn.session, turn.now) if catalogue else []
    daily = catalogue.daily(turn.session, turn.now) if catalogue else None
    if not quizzes and daily is None:
        return [Outbound(_("There are no quizzes right now."))]
    language = _.language
    entries = [(q.quiz.id, localize(q.quiz.title, language, q.quiz.languages)) for q in quizzes]
    if daily is not None:
        entries.append((daily.quiz.id, _("Question of the day")))
    if _sms(turn):
        turn.set_flow({"flow": "menu", "surveys": [], "quizzes": [e[0] for e in entries]})
        lines = [_("Quizzes:")]
        lines += [f"{i} {title}" for i, (_id, title) in enumerate(entries, start=1)]
        lines.append(_("Reply with a number."))
        return [Outbound("\n".join(lines))]
    buttons = tuple((Button(title, f"quiz:{quiz_id}"),) for quiz_id, title in entries)
    return [Outbound(_("Quizzes:"), buttons)]


def play(turn: Turn, quiz_id: str) -> list[Outbound]:
    """/quiz (QUIZ by SMS): the named quiz, else the one the person was invited to, else all."""
    quiz_id = quiz_id or events.invited_quiz(turn) or ""
    return start(turn, quiz_id) if quiz_id else quiz_list(turn)


def start(turn: Turn, quiz_id: str) -> list[Outbound]:
    """Begin a quiz, or go on with the person's unfinished play of it."""
    _ = turn._
    assert turn.respondent is not None
    catalogue = turn.service.quizzes
    stored = catalogue.latest(turn.session, quiz_id) if catalogue else None
    if stored is None or not stored.quiz.is_open(turn.now):
        return [Outbound(_("This quiz is not open.")), *quiz_list(turn)]
    assert catalogue is not None
    turn.pause_current()
    if stored.quiz.daily:
        return _start_daily(turn, stored)
    repository = QuizRepository(turn.session)
    notes = []
    active = repository.active_attempt(respondent_id=turn.respondent.id, quiz_id=quiz_id)
    if active is not None and active.answered < len(
        catalogue.by_version_id(turn.session, active.version_id).quiz.questions
    ):
        stored = catalogue.by_version_id(turn.session, active.version_id)
        attempt_id, position, correct = active.attempt_id, active.answered, active.correct
        notes.append(_("Let's continue."))
    else:
        if stored.quiz.replay is Replay.FIRST and repository.has_played(
            respondent_id=turn.respondent.id, quiz_id=quiz_id
        ):
            notes.append(_("Only your first result counts in this quiz: this play is practice."))
        attempt_id = repository.start_attempt(
            quiz_id=quiz_id,
            version_id=stored.version_id,
            respondent_id=turn.respondent.id,
            channel=turn.channel,
            now=turn.now,
        )
        position = correct = 0
    quiz = stored.quiz
    state = quiz_play.new_state(
        quiz, stored.version_id, attempt_id, turn.now, position=position, correct=correct
    )
    turn.set_flow({"flow": QUIZ, "state": state.to_dict()})
    turn.reply.transliterate = _sms(turn)
    title = localize(quiz.title, _.language, quiz.languages)
    heading = "\n".join([title if _sms(turn) else f"🎯 {title}", *notes])
    return [quiz_play.question_message(quiz, state, _, turn.style, before=heading)]


def _start_daily(turn: Turn, stored: StoredQuiz) -> list[Outbound]:
    _ = turn._
    assert turn.respondent is not None
    day = _day(turn)
    if QuizRepository(turn.session).answered_daily(respondent_id=turn.respondent.id, day=day):
        return [Outbound(_("You have answered today's question. Come back tomorrow!"))]
    quiz = stored.quiz
    position = quiz.questions.index(quiz.question_of_the_day(day))
    state = quiz_play.new_state(quiz, stored.version_id, 0, turn.now, position=position)
    turn.set_flow({"flow": DAILY, "state": state.to_dict(), "day": day.isoformat()})
    turn.reply.transliterate = _sms(turn)
    heading = _("Question of the day") if _sms(turn) else "☀️ " + _("Question of the day")
    return [quiz_play.question_message(quiz, state, _, turn.style, numbered=False, before=heading)]


def answer(turn: Turn, flow: dict[str, Any]) -> list[Outbound]:
    """A typed answer or a button press during a quiz or the question of the day."""
    _ = turn._
    assert turn.respondent is not None and turn.service.quizzes is not None
    state = QuizState.from_dict(flow["state"])
    quiz = turn.service.quizzes.by_version_id(turn.session, state.version_id).quiz
    daily = flow["flow"] == DAILY
    if daily and flow["day"] != _day(turn).isoformat():
        turn.set_flow(None)
        note = Outbound(_("That was an earlier day's question. Here is today's:"))
        return [note, *start(turn, quiz.id)]
    outcome = quiz_play.apply_answer(quiz, state, turn.inbound.kind, turn.inbound.text, turn.now)
    if _sms(turn):
        turn.reply.transliterate = True
        outcome = _without_time_limit(outcome, quiz)
    if outcome.ignored:
        return []  # a second press, or a button of an earlier question: nothing to say
    if outcome.toggled:
        turn.set_flow({**flow, "state": outcome.state.to_dict()})
        return [quiz_play.ticked_redraw(quiz, outcome, _)]
    if outcome.unclear:
        return [Outbound(_unclear_note(turn, quiz, state))]
    question = outcome.question
    assert question is not None
    repository = QuizRepository(turn.session)
    out: list[Outbound] = []
    if turn.inbound.kind is InboundKind.BUTTON:
        out.append(quiz_play.answered_redraw(quiz, outcome, _))
    feedback = quiz_play.feedback_text(quiz, outcome, _)
    if daily:
        repository.record_daily(
            respondent_id=turn.respondent.id,
            day=date.fromisoformat(flow["day"]),
            question_id=question.id,
            goal=question.goal,
            correct=outcome.correct,
        )
        turn.set_flow(None)
        streak = repository.streak(respondent_id=turn.respondent.id, today=_day(turn))
        lines = [
            feedback,
            _.ngettext(
                "Your streak: {days} day in a row.", "Your streak: {days} days in a row.", streak
            ).format(days=streak),
        ]
        lines += _new_badges(turn)
        return [*out, Outbound("\n".join(lines))]
    recorded = repository.record_answer(
        attempt_id=state.attempt_id,
        respondent_id=turn.respondent.id,
        quiz_id=quiz.id,
        question_id=question.id,
        goal=question.goal,
        chosen=",".join(str(i + 1) for i in sorted(outcome.chosen)),
        correct=outcome.correct,
        late=outcome.late,
        answered_at=turn.now,
        elapsed_ms=outcome.elapsed_ms,
    )
    if not recorded:  # answered already (a redelivered or racing message)
        return []
    if not outcome.finished:
        turn.set_flow({"flow": QUIZ, "state": outcome.state.to_dict()})
        following = quiz_play.question_message(
            quiz, outcome.state, _, turn.style, hint=False, before=feedback
        )
        return [*out, following]
    turn.set_flow(None)
    score, duration, counted = repository.finish_attempt(
        attempt_id=state.attempt_id, replay=quiz.replay, now=turn.now, zone=_zone(turn)
    )
    missed = () if _sms(turn) else repository.missed_questions(attempt_id=state.attempt_id)
    lines = [feedback, "", quiz_play.summary_text(quiz, score, duration, _, missed=missed)]
    if not counted:
        lines.append(_("Your earlier result counts for this quiz."))
    lines += _new_badges(turn, perfect=score == len(quiz.questions))
    lines.append(_rank_line(turn))
    return [*out, Outbound("\n".join(lines))]


def _without_time_limit(outcome: QuizAnswerOutcome, quiz: Quiz) -> QuizAnswerOutcome:
    """By SMS, delivery can take longer than a limit: a late answer still scores."""
    if not outcome.late or outcome.question is None:
        return outcome
    correct = outcome.chosen == outcome.question.correct
    state = outcome.state
    if correct:
        state = replace(state, correct=state.correct + 1)
    return replace(outcome, late=False, correct=correct, state=state)


def _unclear_note(turn: Turn, quiz: Quiz, state: QuizState) -> str:
    _ = turn._
    question = quiz.questions[state.position]
    if question.multiple:
        if _sms(turn):
            return _("Reply all the right numbers, for example 1,3.")
        return _("Tick all the right answers, then press Done.")
    if _sms(turn):
        return _("Reply 1-{max}.").format(max=len(question.options))
    return _("Please press one of the buttons.")


def _new_badges(turn: Turn, *, perfect: bool = False) -> list[str]:
    """Award what the player's record now earns; a line naming the new badges, if any."""
    assert turn.respondent is not None
    repository = QuizRepository(turn.session)
    earned = earned_badges(
        goals=repository.goals_answered_correctly(respondent_id=turn.respondent.id),
        quizzes_finished=repository.finished_attempts(respondent_id=turn.respondent.id),
        perfect=perfect,
        streak=repository.streak(respondent_id=turn.respondent.id, today=_day(turn)),
    )
    new = repository.award(respondent_id=turn.respondent.id, badges=earned)
    if not new:
        return []
    _ = turn._
    return [_("New badge: {badges}").format(badges=badges_text(new, _))]


def _rank_line(turn: Turn) -> str:
    _ = turn._
    assert turn.respondent is not None
    player = PlayerRepository(turn.session).get(respondent_id=turn.respondent.id)
    if player is None or not player["nickname"]:
        return _hint(
            turn,
            _("To appear on the leaderboard, choose a nickname: /nickname and a name."),
            _("To appear on the leaderboard, reply NICK and a nickname."),
        )
    placed = LeaderboardRepository(turn.session).rank(
        respondent_id=turn.respondent.id, period=ALL_TIME
    )
    if placed is None:
        return _hint(turn, _("Leaderboard: /top"), _("Leaderboard: reply TOP"))
    rank, total = placed
    place = _("You are number {rank} of {total}.").format(rank=rank, total=total)
    return place if _sms(turn) else f"{place} /top"  # by SMS, no trailing space to pay for


_BOARD_WORDS = {
    "week": ("week", "hefte", "неделя", "nedelya"),
    "region": ("region", "bolge", "регион"),
    "team": ("team", "komanda", "команда"),
}
"""What may follow /top (or TOP by SMS), in each language, folded."""


def top(turn: Turn, argument: str) -> list[Outbound]:
    """The leaderboard's top and the player's place: all time or this week; all, region, team."""
    _ = turn._
    assert turn.respondent is not None
    words = {fold(word) for word in argument.replace(":", " ").split()}
    board_of = {key for key, names in _BOARD_WORDS.items() if words & {fold(n) for n in names}}
    weekly = "week" in board_of
    period = quiz_play.week_of(turn.now, _zone(turn)) if weekly else ALL_TIME
    region = turn.respondent.region if "region" in board_of else None
    team_id = None
    if "team" in board_of:
        player = PlayerRepository(turn.session).get(respondent_id=turn.respondent.id)
        team_id = player["team_id"] if player else None
        if team_id is None:
            return [
                Outbound(
                    _hint(
                        turn,
                        _("Join a team first: /team and your team's code."),
                        _("Join a team first: reply TEAM and your team's code."),
                    )
                )
            ]
    scope = "team" if team_id is not None else ("region" if region is not None else "")
    title = [_("This week") if weekly else _("All time")]
    if region is not None:
        title.append(region_label(region, turn.service.config.regions, _))
    if team_id is not None:
        team = TeamRepository(turn.session).by_id(team_id)
        title.append(team["name"] if team else _("your team"))
    if _sms(turn):
        # GSM-7 only, as for quizzes: "·", "◀" or a Cyrillic letter would make it UCS-2.
        turn.reply.transliterate = True
        lines = [" - ".join(title)]
    else:
        lines = ["🏆 " + " · ".join(title)]
    lines += _board_lines(turn, period, region, team_id)
    if _sms(turn):
        lines.append(_("Also: TOP WEEK, TOP REGION, TOP TEAM"))
        return [Outbound("\n".join(lines))]
    pressed = turn.inbound.kind is InboundKind.BUTTON
    return [Outbound("\n".join(lines), _board_buttons(_, weekly, scope), updates_pressed=pressed)]


def _board_lines(turn: Turn, period: str, region: str | None, team_id: int | None) -> list[str]:
    _ = turn._
    assert turn.respondent is not None
    board = LeaderboardRepository(turn.session)
    top_rows = board.page(period=period, region=region, team_id=team_id, limit=5)
    if not top_rows:
        return [_("Nobody on this board yet.")]
    mine = board.rank(
        respondent_id=turn.respondent.id, period=period, region=region, team_id=team_id
    )
    rows = {row.rank: row for row in top_rows}
    if mine is not None:
        around = board.around(
            respondent_id=turn.respondent.id, period=period, region=region, team_id=team_id
        )
        rows.update((row.rank, row) for row in around)
    lines = []
    previous = 0
    for rank in sorted(rows):
        if previous and rank > previous + 1:
            lines.append("…")
        row = rows[rank]
        mark = ""
        if row.respondent_id == turn.respondent.id:
            mark = " <" if _sms(turn) else " ◀"
        lines.append(f"{row.rank}. {row.nickname} {row.score}{mark}")
        previous = rank
    if mine is None:
        lines.append(_not_ranked(turn))
    else:
        lines.append(_("You: {rank} of {total}").format(rank=mine[0], total=mine[1]))
    return lines


def _not_ranked(turn: Turn) -> str:
    _ = turn._
    assert turn.respondent is not None
    player = PlayerRepository(turn.session).get(respondent_id=turn.respondent.id)
    if player is None or not player["nickname"]:
        return _rank_line(turn)
    if player["hidden"]:
        return _hint(
            turn,
            _("You are hidden from leaderboards: /show to appear."),
            _("You are hidden from leaderboards: reply SHOW to appear."),
        )
    return _("Play a quiz to get on this board.")


def _board_buttons(_: Translator, weekly: bool, scope: str) -> tuple[tuple[Button, ...], ...]:
    """Switch between the boards: the pressed message is redrawn in place."""

    def choice(label: str, week: bool, where: str) -> Button:
        current = week == weekly and where == scope
        payload = " ".join(w for w in ("week" if week else "", where) if w) or "all"
        return Button(("• " if current else "") + label, f"top:{payload}")

    return (
        (choice(_("All time"), False, scope), choice(_("This week"), True, scope)),
        (
            choice(_("Everyone"), weekly, ""),
            choice(_("Region"), weekly, "region"),
            choice(_("Team"), weekly, "team"),
        ),
    )


def me(turn: Turn) -> list[Outbound]:
    """The player's profile: nickname, team, places, streak, badges."""
    _ = turn._
    assert turn.respondent is not None
    player = PlayerRepository(turn.session).get(respondent_id=turn.respondent.id)
    repository = QuizRepository(turn.session)
    nickname = player["nickname"] if player else None
    lines = [_("Nickname: {nickname}").format(nickname=nickname or "—")]
    if player and player["team_id"]:
        team = TeamRepository(turn.session).by_id(player["team_id"])
        lines.append(_("Team: {team}").format(team=team["name"] if team else "—"))
    if player and player["hidden"]:
        lines.append(_("Hidden from leaderboards (/show to appear)."))
    board = LeaderboardRepository(turn.session)
    week = quiz_play.week_of(turn.now, _zone(turn))
    for period, label in ((ALL_TIME, _("All time")), (week, _("This week"))):
        placed = board.rank(respondent_id=turn.respondent.id, period=period)
        if placed:
            lines.append(
                f"{label}: " + _("{rank} of {total}").format(rank=placed[0], total=placed[1])
            )
    streak = repository.streak(respondent_id=turn.respondent.id, today=_day(turn))
    streak_text = _.ngettext("Streak: {days} day", "Streak: {days} days", streak)
    lines.append(streak_text.format(days=streak))
    badges = repository.badges(respondent_id=turn.respondent.id)
    lines.append(_("Badges: {badges}").format(badges=badges_text(badges, _) or "—"))
    if not nickname:
        lines.append(_rank_line(turn))
    return [Outbound("\n".join(lines))]


def set_nickname(turn: Turn, raw: str) -> list[Outbound]:
    _ = turn._
    assert turn.respondent is not None
    if moderation.restricted(turn.respondent, turn.now):
        return [Outbound(_("You cannot change your nickname at the moment."))]
    if not raw.strip():
        return [
            Outbound(
                _hint(
                    turn,
                    _("Send /nickname and a name, for example /nickname Star_2030"),
                    _("Reply NICK and a name, for example NICK Star_2030"),
                )
            )
        ]
    reasons = {
        "length": _("A nickname has 3 to 20 letters or digits."),
        "characters": _("Use letters, digits, spaces, _ - or . only."),
        "contact": _("A nickname must not look like a phone number, a handle or a link."),
        "words": _("Please choose another nickname."),
    }
    try:
        nickname = clean_nickname(raw)
        PlayerRepository(turn.session).set_nickname(
            respondent_id=turn.respondent.id, nickname=nickname, key=nickname_key(nickname)
        )
    except NicknameRefused as refused:
        return [Outbound(reasons[refused.reason])]
    except NicknameTaken:
        return [Outbound(_("That nickname is taken. Please choose another."))]
    return [Outbound(_("You are {nickname} on the leaderboards.").format(nickname=nickname))]


def set_hidden(turn: Turn, hidden: bool) -> list[Outbound]:
    _ = turn._
    assert turn.respondent is not None
    PlayerRepository(turn.session).set_hidden(respondent_id=turn.respondent.id, hidden=hidden)
    if hidden:
        return [
            Outbound(
                _hint(
                    turn,
                    _("You are hidden from leaderboards. /show to appear again."),
                    _("You are hidden from leaderboards. Reply SHOW to appear again."),
                )
            )
        ]
    return [Outbound(_("You appear on leaderboards again."))]


def join_team(turn: Turn, code: str) -> list[Outbound]:
    _ = turn._
    assert turn.respondent is not None
    if not code.strip():
        return [
            Outbound(
                _hint(
                    turn,
                    _("Send /team and the code your school or club gave you."),
                    _("Reply TEAM and the code your school or club gave you."),
                )
            )
        ]
    try:
        team = PlayerRepository(turn.session).join_team(respondent_id=turn.respondent.id, code=code)
    except UnknownTeamCode:
        return [Outbound(_("There is no team with that code. Please check it."))]
    return [Outbound(_("You joined {team}.").format(team=team["name"]))]
