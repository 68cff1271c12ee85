"""Neutral replies as SMS text: one message where possible, since each one costs."""

from __future__ import annotations

from polls.messages import Outbound
from polls.sms_text import transliterate

TWILIO_BODY_LIMIT = 1600
"""Twilio refuses longer bodies (error 21617)."""


def sms_bodies(messages: list[Outbound], *, language: str, gsm_letters: bool = False) -> list[str]:
    """The replies joined into as few SMS as Twilio allows, in GSM-7 letters if asked.

    Messages that only redraw a pressed button have no meaning by SMS and are dropped.
    """
    texts = [m.text for m in messages if not m.updates_pressed and m.text]
    if gsm_letters:
        texts = [transliterate(text, language) for text in texts]
    bodies: list[str] = []
    for text in texts:
        if bodies and len(bodies[-1]) + 2 + len(text) <= TWILIO_BODY_LIMIT:
            bodies[-1] = f"{bodies[-1]}\n\n{text}"
            continue
        while len(text) > TWILIO_BODY_LIMIT:
            cut = text.rfind("\n", 0, TWILIO_BODY_LIMIT)
            cut = cut if cut > 0 else TWILIO_BODY_LIMIT
            bodies.append(text[:cut])
            text = text[cut:].lstrip("\n")
        bodies.append(text)
    return bodies
