"""Participants and the channel identities that reach them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Answer, ChannelIdentity, Respondent, SurveySession, utcnow


class RespondentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, *, channel: str, address: str) -> Respondent | None:
        """The participant reached at ``address`` on ``channel``, if known."""
        return await self.session.scalar(
            select(Respondent)
            .join(ChannelIdentity, ChannelIdentity.respondent_id == Respondent.id)
            .where(ChannelIdentity.channel == channel, ChannelIdentity.address == address)
        )

    async def create(self, *, channel: str, address: str, language: str | None) -> Respondent:
        respondent = Respondent(language=language, last_seen_at=utcnow())
        self.session.add(respondent)
        await self.session.flush()
        self.session.add(
            ChannelIdentity(respondent_id=respondent.id, channel=channel, address=address)
        )
        await self.session.flush()
        return respondent

    async def identities(self, *, respondent_id: int) -> list[ChannelIdentity]:
        rows = await self.session.scalars(
            select(ChannelIdentity)
            .where(ChannelIdentity.respondent_id == respondent_id)
            .order_by(ChannelIdentity.id)
        )
        return list(rows)

    async def erase_identity(self, *, respondent: Respondent, now: datetime | None = None) -> None:
        """Forget who the person is and what they wrote in their own words.

        Channel identities and free-text answers are deleted; choice and number
        answers stay, attached to a row that no longer leads to anyone.
        """
        await self.session.execute(
            delete(ChannelIdentity).where(ChannelIdentity.respondent_id == respondent.id)
        )
        await self.session.execute(
            delete(Answer).where(Answer.respondent_id == respondent.id, Answer.text.is_not(None))
        )
        await self.session.execute(
            update(SurveySession)
            .where(SurveySession.respondent_id == respondent.id, SurveySession.status == "active")
            .values(status="abandoned", updated_at=now or utcnow())
        )
        respondent.dialogue = None
        respondent.last_seen_at = None
        respondent.erased_at = now or utcnow()
        await self.session.flush()

    async def delete(self, *, respondent: Respondent) -> None:
        """Delete the person and everything they answered."""
        await self.session.delete(respondent)
        await self.session.flush()
