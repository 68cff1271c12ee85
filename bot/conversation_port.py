"""What the Telegram front needs from the rest of the service."""

from __future__ import annotations

from typing import Protocol

from polls.messages import Inbound, Reply


class Conversation(Protocol):
    async def handle(self, inbound: Inbound) -> Reply:
        """Handle one message; return once its effects are durable."""
        ...
