"""Who may post: a muted person waits until the mute ends, a banned one may not post again.

Staff mute or ban per the code of conduct, through an idea (``outreach challenge
mute|ban``) or a free-text answer (``outreach texts mute|ban``); both act through
``storage.moderation.ModerationRepository``. The rules here are read wherever a
young person's own words would be shown to others: ideas and nicknames. Survey
free text is read by staff before it is shown anywhere, so a mute does not hold
it back; a banned person's free text is stored already rejected.
"""

from __future__ import annotations

from datetime import datetime

from storage.respondents import RespondentRecord


def restricted(respondent: RespondentRecord, now: datetime) -> bool:
    """Banned, or muted until a time still to come."""
    if respondent.banned_at is not None:
        return True
    return respondent.muted_until is not None and respondent.muted_until > now
