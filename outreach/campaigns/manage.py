"""What staff do with campaigns: create, preview, schedule, pause, resume, cancel, follow.

Used by the CLI and the staff console. Every operation is a short unit of work
on the database; the running service notices changes within seconds (its
scheduler reads the campaigns, its dispatcher re-reads their status). Given an
``actor`` (the console's signed-in staff member), a change writes its audit entry
(``campaigns.create``, ``campaigns.schedule``...) in the same unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from outreach.campaigns.filling import audience_filter
from outreach.campaigns.rendering import campaign_message
from outreach.sms.rendering import sms_bodies
from polls.campaign import Campaign, load_campaign_file
from polls.errors import OutreachError
from polls.sms_text import SmsCost, sms_cost
from storage.audience import channel_language_counts
from storage.audit import AuditActor, AuditLog
from storage.campaigns import CampaignRepository, StoredCampaign
from storage.database import Database

CAMPAIGN_TARGET = "campaign"


class CampaignNotFound(OutreachError):
    pass


class CampaignStateError(OutreachError):
    """The operation does not fit where the campaign stands (e.g. resume a cancelled one)."""


@dataclass(frozen=True)
class Sample:
    channel: str
    language: str
    recipients: int
    text: str
    sms: SmsCost | None = None


@dataclass(frozen=True)
class Preview:
    campaign: Campaign
    total: int
    samples: list[Sample] = field(default_factory=list)
    sms_segments: int = 0
    estimated_cost: float = 0.0
    currency: str = "USD"


class CampaignManager:
    def __init__(
        self,
        db: Database,
        *,
        zone: str = "Asia/Baku",
        segment_price: float = 0.05,
        currency: str = "USD",
        transliterate: bool = False,
    ) -> None:
        self.db = db
        self.zone = ZoneInfo(zone)
        self.segment_price = segment_price
        self.currency = currency
        self.transliterate = transliterate

    async def create(self, path: Path) -> tuple[Campaign, bool]:
        """Store a campaign file as a draft (or replace the draft); True if new."""
        campaign = load_campaign_file(path)
        return campaign, await self.store(campaign)

    async def store(
        self, campaign: Campaign, *, actor: AuditActor | None = None, ip: str | None = None
    ) -> bool:
        """Store a validated campaign as a draft (or replace the draft); True if new."""

        def save(session: Session) -> bool:
            created = CampaignRepository(session).save(campaign=campaign)
            if actor is not None:
                AuditLog(session).record(
                    actor=actor,
                    action="campaigns.create",
                    target=(CAMPAIGN_TARGET, campaign.id),
                    details={"kind": campaign.kind.value, "new": created},
                    ip=ip,
                )
            return created

        return await self.db.write(save)

    async def get(self, campaign_id: str) -> StoredCampaign:
        stored = await self.db.read(lambda s: CampaignRepository(s).get(campaign_id=campaign_id))
        if stored is None:
            raise CampaignNotFound(
                f"no campaign {campaign_id!r}: create it with `outreach campaign create FILE`"
            )
        return stored

    async def list(self) -> list[tuple[StoredCampaign, dict[str, int]]]:
        def work(session: Session) -> list[tuple[StoredCampaign, dict[str, int]]]:
            repository = CampaignRepository(session)
            return [
                (stored, repository.status_counts(campaign_id=stored.campaign.id))
                for stored in repository.all()
            ]

        return await self.db.read(work)

    async def preview(self, campaign_id: str) -> Preview:
        """Audience per channel and language, each message as sent, SMS segments and cost."""
        stored = await self.get(campaign_id)
        return await self.preview_campaign(stored.campaign)

    async def preview_campaign(self, campaign: Campaign) -> Preview:
        """``preview`` of a campaign not stored (yet): what composing it would reach and cost."""
        audience = audience_filter(campaign.audience)
        counts = await self.db.read(lambda s: channel_language_counts(s, audience))
        samples = []
        segments = 0
        for (channel, language), count in sorted(counts.items(), key=lambda kv: -kv[1]):
            language = language or campaign.languages[0]
            message = campaign_message(campaign, language, channel, self.zone)
            text = message.text
            cost = None
            if channel == "sms":
                text = sms_bodies([message], language=language, gsm_letters=self.transliterate)[0]
                cost = sms_cost(text)
                segments += cost.segments * count
            samples.append(Sample(channel, language, count, text, cost))
        return Preview(
            campaign,
            sum(counts.values()),
            samples,
            segments,
            round(segments * self.segment_price, 2),
            self.currency,
        )

    async def _move(
        self,
        campaign_id: str,
        status: str,
        only_from: tuple[str, ...],
        *,
        verb: str,
        actor: AuditActor | None,
        ip: str | None,
    ) -> int:
        """Move the campaign; cancelling also skips its pending messages (returns how many)."""
        await self.get(campaign_id)

        def move(session: Session) -> int | None:
            repository = CampaignRepository(session)
            if not repository.set_status(
                campaign_id=campaign_id, status=status, only_from=only_from
            ):
                return None
            skipped = 0
            if status == "cancelled":
                skipped = repository.skip_pending(
                    campaign_id=campaign_id, reason="the campaign was cancelled"
                )
            if actor is not None:
                AuditLog(session).record(
                    actor=actor,
                    action=f"campaigns.{verb}",
                    target=(CAMPAIGN_TARGET, campaign_id),
                    details={"skipped": skipped} if status == "cancelled" else None,
                    ip=ip,
                )
            return skipped

        moved = await self.db.write(move)
        if moved is None:
            stored = await self.get(campaign_id)
            raise CampaignStateError(
                f"campaign {campaign_id} is {stored.status}: it cannot become {status}"
            )
        return moved

    async def schedule(
        self, campaign_id: str, *, actor: AuditActor | None = None, ip: str | None = None
    ) -> None:
        await self._move(campaign_id, "scheduled", ("draft",), verb="schedule", actor=actor, ip=ip)

    async def pause(
        self, campaign_id: str, *, actor: AuditActor | None = None, ip: str | None = None
    ) -> None:
        await self._move(campaign_id, "paused", ("scheduled",), verb="pause", actor=actor, ip=ip)

    async def resume(
        self, campaign_id: str, *, actor: AuditActor | None = None, ip: str | None = None
    ) -> None:
        await self._move(campaign_id, "scheduled", ("paused",), verb="resume", actor=actor, ip=ip)

    async def cancel(
        self, campaign_id: str, *, actor: AuditActor | None = None, ip: str | None = None
    ) -> int:
        """Stop the campaign; messages not yet sent are skipped. Returns how many."""
        return await self._move(
            campaign_id,
            "cancelled",
            ("draft", "scheduled", "paused"),
            verb="cancel",
            actor=actor,
            ip=ip,
        )

    async def status(self, campaign_id: str) -> tuple[StoredCampaign, dict[str, int]]:
        stored = await self.get(campaign_id)
        counts = await self.db.read(
            lambda s: CampaignRepository(s).status_counts(campaign_id=campaign_id)
        )
        return stored, counts
