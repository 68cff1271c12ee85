"""Who may post: a muted person waits until the mute ends, a banned one may not post again.

Staff mute or ban per the code of conduct (``outreach challenge mute|ban``); the
rules here are read wherever a young person's own words would be shown to
others: ideas and nicknames.
"""

from __future__ import annotations

from datetime import datetime

from storage.respondents import RespondentRecord


def restricted(respondent: RespondentRecord, now: datetime) -> bool:
    """Banned, or muted until a time still to come."""
    if respondent.banned_at is not None:
        return True
    return respondent.muted_until is not None and respondent.muted_until > now
