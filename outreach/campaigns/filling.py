"""Writing a run's outbox: one row per person, page by page, each with its sending time.

The audience is streamed a page at a time and each page is committed, so memory
stays flat and a fill interrupted by a crash resumes after the last person
written (rows already there are kept, never doubled). Each row gets the moment
it may go: spread over the drip, then moved into the sending window of the
person's region, in their local time.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from polls.campaign import Audience, Campaign
from polls.sending_window import send_time, zone_for_region
from storage.audience import AudienceFilter, audience_size, stream_audience
from storage.campaigns import CampaignRepository
from storage.database import Database
from storage.models import utcnow

logger = logging.getLogger(__name__)

PAGE = 1000


def audience_filter(audience: Audience, respondent_ids: list[int] | None = None) -> AudienceFilter:
    return AudienceFilter(
        channels=audience.channels,
        languages=audience.languages,
        regions=audience.regions,
        age_bands=audience.age_bands,
        genders=audience.genders,
        tags=audience.tags,
        joined_after=audience.joined_after,
        joined_before=audience.joined_before,
        answered=audience.answered,
        not_answered=audience.not_answered,
        respondent_ids=respondent_ids,
    )


async def fill_run(
    db: Database,
    campaign: Campaign,
    run_id: int,
    base: datetime,
    *,
    zones: Mapping[str, str],
    default_zone: str,
    respondent_ids: list[int] | None = None,
    page: int = PAGE,
) -> int:
    """Write the outbox of ``run_id``; returns how many people it holds."""
    audience = audience_filter(campaign.audience, respondent_ids)
    total = await db.read(lambda s: audience_size(s, audience))
    written, after = await db.read(lambda s: CampaignRepository(s).filled(run_id=run_id))

    def write_page(session: Session, after_id: int, index: int) -> tuple[int, int]:
        recipients = next(stream_audience(session, audience, after_id=after_id, page=page), [])
        rows: list[dict[str, Any]] = []
        now = utcnow()
        for offset, person in enumerate(recipients):
            zone = zone_for_region(person.region, zones, default_zone)
            moment = send_time(
                base,
                index + offset,
                max(total, 1),
                campaign.drip_hours,
                zone,
                campaign.window_start,
                campaign.window_end,
            )
            rows.append(
                {
                    "run_id": run_id,
                    "campaign_id": campaign.id,
                    "respondent_id": person.respondent_id,
                    "channel": person.channel,
                    "address": person.address,
                    "language": person.language or campaign.languages[0],
                    "status": "pending",
                    "not_before": moment,
                    "attempts": 0,
                    "updated_at": now,
                }
            )
        CampaignRepository(session).add_outbox(rows=rows)
        return len(recipients), (recipients[-1].respondent_id if recipients else after_id)

    while True:
        count, last = await db.write(
            lambda s, a=after, i=written: write_page(s, a, i)  # type: ignore[misc]
        )
        if not count:
            break
        written, after = written + count, last
    await db.write(
        lambda s: CampaignRepository(s).set_run(run_id=run_id, status="sending", total=written)
    )
    logger.info("campaign %s: run %d holds %d messages", campaign.id, run_id, written)
    return written
