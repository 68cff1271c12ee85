"""An event as an iCalendar file (RFC 5545), so people can add it to their phone's calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from polls.campaign import Campaign
from polls.survey import localize

DEFAULT_LENGTH = timedelta(hours=2)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1)."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts: list[str] = []
    current = b""
    for char in line:
        piece = char.encode()
        if len(current) + len(piece) > (75 if not parts else 74):
            parts.append(current.decode())
            current = b""
        current += piece
    parts.append(current.decode())
    return "\r\n ".join(parts)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def event_calendar(campaign: Campaign, language: str, *, now: datetime | None = None) -> bytes:
    """The campaign's event as an .ics file in ``language``."""
    event = campaign.event
    if event is None:
        raise ValueError(f"campaign {campaign.id} is not an event")
    ends = event.ends_at or event.starts_at + DEFAULT_LENGTH
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//sdg-outreach//events//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{campaign.id}@sdg-outreach",
        f"DTSTAMP:{_stamp(now or datetime.now(UTC))}",
        f"DTSTART:{_stamp(event.starts_at)}",
        f"DTEND:{_stamp(ends)}",
        f"SUMMARY:{_escape(campaign.name)}",
        f"DESCRIPTION:{_escape(campaign.text_for(language))}",
    ]
    if event.location:
        lines.append(f"LOCATION:{_escape(localize(event.location, language, campaign.languages))}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode()
