"""Channel-neutral messages: what arrives from a person and what we send back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum


class Channel(StrEnum):
    TELEGRAM = "telegram"
    SMS = "sms"


class InboundKind(StrEnum):
    TEXT = "text"
    BUTTON = "button"
    COMMAND = "command"
    CONTACT = "contact"
    """The person shared their own phone number (``text`` holds it)."""


@dataclass(frozen=True)
class Inbound:
    """One message from a person, already stripped of its channel's shape.

    ``address`` is the person on that channel (Telegram user id, E.164 number);
    ``dedup_key`` is unique per delivery on that channel (Telegram ``update_id``,
    Twilio ``MessageSid``) and makes redelivery harmless.
    """

    channel: Channel
    address: str
    kind: InboundKind
    text: str = ""
    argument: str = ""
    dedup_key: str | None = None
    language_hint: str | None = None
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class Button:
    label: str
    payload: str


@dataclass(frozen=True)
class Outbound:
    """One message to send. ``buttons`` are rows of quick replies.

    ``updates_pressed`` asks the channel to redraw the message whose button was
    just pressed (a toggle in a multiple choice) instead of sending a new one.
    ``contact_button`` asks the person to share their phone number (where the
    channel can); ``remove_keyboard`` takes such a request away again.
    """

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    updates_pressed: bool = False
    contact_button: str | None = None
    remove_keyboard: bool = False
    document: tuple[str, bytes] | None = None
    """A file to send after the text (a calendar entry), as (file name, content)."""

    @property
    def flat_buttons(self) -> list[Button]:
        return [b for row in self.buttons for b in row]


@dataclass
class Reply:
    """What to send back for one inbound message.

    ``duplicate`` marks a redelivery of a message handled before: nothing changed.
    ``stop`` marks an opt-out: its confirmation is the last message the person gets.
    ``transliterate`` asks an SMS channel to write the text in GSM-7 letters.
    """

    messages: list[Outbound] = field(default_factory=list)
    duplicate: bool = False
    stop: bool = False
    transliterate: bool = False
