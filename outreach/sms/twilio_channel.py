"""Sending SMS through Twilio's REST API, with the real ``twilio`` client.

Every send passes here, so here is where the rules that protect people hold:
a number that said STOP is never messaged again (only the confirmation of its
STOP goes out), and what Twilio answers is turned into our ``SendError`` with
``retryable`` set, never retried by the client itself: twilio's optional
``max_retries`` resends a POST on 5xx, which can deliver one SMS twice.
"""

from __future__ import annotations

import logging

import aiohttp
from sqlalchemy import insert, update
from sqlalchemy.orm import Session
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from polls.errors import SendError
from polls.messages import Channel
from polls.pacing import Pacer
from polls.sms_text import SmsCost, sms_cost
from storage.campaigns import CampaignRepository
from storage.database import Database
from storage.models import OutboundMessage, utcnow
from storage.respondents import RespondentRepository

logger = logging.getLogger(__name__)

SMS = Channel.SMS.value
OUTBOUND = OutboundMessage.__table__

OPTED_OUT = 21610
UNREACHABLE = {21211, 21612, 21614, 21408}
TOO_MANY_REQUESTS = 20429
DELIVERY_UNREACHABLE = {30005, 30006}
"""Delivery errors that will not change: unknown number, landline."""


def classify(error: TwilioRestException) -> SendError:
    """Twilio's answer as our error: may trying again help?"""
    code, status = error.code, error.status
    text = f"Twilio refused the message ({status}, code {code}): {error.msg}"
    if code == OPTED_OUT:
        return SendError(text, retryable=False, reason="opted_out", code=code)
    if code in UNREACHABLE:
        return SendError(text, retryable=False, reason="unreachable", code=code)
    if code == TOO_MANY_REQUESTS or status == 429:
        return SendError(text, retryable=True, reason="rate_limited", code=code)
    if status >= 500:
        return SendError(text, retryable=True, reason="provider", code=code)
    return SendError(text, retryable=False, reason="rejected", code=code)


class TwilioSmsChannel:
    """Sends SMS; create and ``start`` inside the running event loop."""

    def __init__(
        self,
        *,
        db: Database,
        account_sid: str,
        auth_token: str,
        status_callback_url: str,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        api_base_url: str | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        if not (from_number or messaging_service_sid):
            raise ValueError("a sender is needed: a From number or a messaging service")
        self.db = db
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._from = from_number
        self._service = messaging_service_sid
        self._api_base_url = api_base_url
        self.status_callback_url = status_callback_url
        self.pacer = pacer or Pacer(None)
        self._http: AsyncTwilioHttpClient | None = None
        self._client: Client | None = None

    async def start(self) -> None:
        # No max_retries: with it, the client resends POSTs on 5xx by itself.
        self._http = AsyncTwilioHttpClient(timeout=15)
        self._client = Client(self._account_sid, self._auth_token, http_client=self._http)
        if self._api_base_url:
            self._client.api.base_url = self._api_base_url.rstrip("/")

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
        self._http = self._client = None

    async def send(
        self,
        to: str,
        body: str,
        *,
        purpose: str = "reply",
        despite_opt_out: bool = False,
        bulk: bool = False,
        paced: bool = False,
    ) -> str:
        """Send one SMS; returns Twilio's MessageSid or raises SendError.

        ``bulk`` (campaigns) gives way to replies at the sender's pace; ``paced``:
        the caller already took a slot from :attr:`pacer`.
        """
        if self._client is None:
            raise RuntimeError("TwilioSmsChannel.start() was not called")
        if not despite_opt_out:
            stopped = await self.db.read(
                lambda s: RespondentRepository(s).opted_out(channel=SMS, address=to)
            )
            if stopped:
                raise SendError(
                    "this number said STOP: nothing is sent until it joins again",
                    retryable=False,
                    reason="opted_out",
                )
        cost = sms_cost(body)
        if not paced:
            await self.pacer.acquire(to, bulk=bulk)
        sender = {"from_": self._from} if self._from else {"messaging_service_sid": self._service}
        try:
            message = await self._client.messages.create_async(
                to=to, body=body, status_callback=self.status_callback_url, **sender
            )
        except TwilioRestException as refused:
            error = classify(refused)
            await self.db.write_batched(lambda s: self._record_refusal(s, to, purpose, error, cost))
            logger.warning("SMS not sent: %s", error)
            raise error from refused
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as unsent:
            raise SendError(
                f"no connection to Twilio ({type(unsent).__name__}): nothing was sent",
                retryable=True,
                reason="provider",
            ) from unsent
        except (aiohttp.ClientError, TimeoutError) as broken:
            # The request left but no answer came: Twilio may have sent the SMS.
            raise SendError(
                f"no answer from Twilio ({type(broken).__name__}): the SMS may or may not be sent",
                retryable=False,
                reason="unknown",
            ) from broken
        sid = str(message.sid)
        status = str(message.status or "queued")
        await self.db.write_batched(
            lambda s: s.connection().execute(
                insert(OUTBOUND),
                {
                    "channel": SMS,
                    "address": to,
                    "provider_id": sid,
                    "purpose": purpose,
                    "status": status,
                    "encoding": cost.encoding.value,
                    "segments": cost.segments,
                    "created_at": utcnow(),
                    "updated_at": utcnow(),
                },
            )
        )
        return sid

    @staticmethod
    def _record_refusal(
        session: Session, to: str, purpose: str, error: SendError, cost: SmsCost
    ) -> None:
        now = utcnow()
        if error.reason == "opted_out":
            RespondentRepository(session).set_opt_out(channel=SMS, address=to, at=now)
        elif error.reason == "unreachable":
            RespondentRepository(session).mark_unreachable(channel=SMS, address=to, at=now)
        session.connection().execute(
            insert(OUTBOUND),
            {
                "channel": SMS,
                "address": to,
                "provider_id": None,
                "purpose": purpose,
                "status": "failed",
                "error_code": error.code,
                "encoding": cost.encoding.value,
                "segments": cost.segments,
                "created_at": now,
                "updated_at": now,
            },
        )


STATUS_ORDER = {
    "accepted": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "receiving": 3,
    "received": 4,
    "delivered": 5,
    "read": 6,
    "undelivered": 7,
    "failed": 7,
    "canceled": 7,
}
"""Callbacks may arrive out of order: a status only ever moves forward."""


def record_status(session: Session, *, sid: str, status: str, error_code: int | None) -> bool:
    """Apply a delivery status callback; False if the message is unknown to us."""
    connection = session.connection()
    row = (
        connection.execute(
            OUTBOUND.select().where(OUTBOUND.c.channel == SMS, OUTBOUND.c.provider_id == sid)
        )
        .mappings()
        .first()
    )
    if row is None:
        return False
    CampaignRepository(session).mark_delivered(channel=SMS, provider_id=sid, status=status)
    if STATUS_ORDER.get(status, -1) > STATUS_ORDER.get(row["status"], -1):
        connection.execute(
            update(OUTBOUND)
            .where(OUTBOUND.c.id == row["id"])
            .values(status=status, error_code=error_code, updated_at=utcnow())
        )
    if error_code == OPTED_OUT:
        RespondentRepository(session).set_opt_out(channel=SMS, address=row["address"], at=utcnow())
    elif error_code in DELIVERY_UNREACHABLE:
        RespondentRepository(session).mark_unreachable(
            channel=SMS, address=row["address"], at=utcnow()
        )
    return True
