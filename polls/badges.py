"""Badges: small rewards for learning all 17 goals and coming back, shown on /me.

A badge is a short key stored once per player; the rules here say which keys a
player has earned from what they did, and the names are words in their language.
"""

from __future__ import annotations

from collections.abc import Iterable

from polls.i18n import Translator

FIRST_QUIZ = "first_quiz"
PERFECT = "perfect"
ALL_GOALS = "all_goals"
STREAK_7 = "streak_7"
STREAK_30 = "streak_30"
GOAL_PREFIX = "goal_"
"""``goal_4``: a right answer about Goal 4."""

ALL_SDGS = frozenset(range(1, 18))


def earned_badges(
    *, goals: Iterable[int], quizzes_finished: int, perfect: bool, streak: int
) -> list[str]:
    """Every badge the player's record earns, in the order they are shown."""
    goals = set(goals)
    badges = []
    if quizzes_finished >= 1:
        badges.append(FIRST_QUIZ)
    if perfect:
        badges.append(PERFECT)
    badges += [f"{GOAL_PREFIX}{goal}" for goal in sorted(goals & ALL_SDGS)]
    if goals >= ALL_SDGS:
        badges.append(ALL_GOALS)
    if streak >= 7:
        badges.append(STREAK_7)
    if streak >= 30:
        badges.append(STREAK_30)
    return badges


def badge_name(badge: str, _: Translator) -> str:
    if badge.startswith(GOAL_PREFIX) and badge[len(GOAL_PREFIX) :].isdigit():
        return _("Goal {number}").format(number=int(badge[len(GOAL_PREFIX) :]))
    names = {
        FIRST_QUIZ: _("First quiz"),
        PERFECT: _("Perfect score"),
        ALL_GOALS: _("All 17 goals"),
        STREAK_7: _("7-day streak"),
        STREAK_30: _("30-day streak"),
    }
    return names.get(badge, badge)


def badges_text(badges: Iterable[str], _: Translator) -> str:
    """Goal badges as one count ("Goals: 5/17"), the others by name: short enough for SMS."""
    badges = list(badges)
    goals = [b for b in badges if b.startswith(GOAL_PREFIX)]
    parts = [badge_name(b, _) for b in badges if not b.startswith(GOAL_PREFIX)]
    if goals:
        parts.append(_("Goals: {count}/17").format(count=len(goals)))
    return ", ".join(parts)
