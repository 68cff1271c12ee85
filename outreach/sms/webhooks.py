"""Twilio's webhooks on our aiohttp server: inbound SMS and delivery statuses.

Both are signed: ``X-Twilio-Signature`` is checked with twilio's
``RequestValidator`` against the URL Twilio called, which behind a proxy is
``PUBLIC_BASE_URL`` plus the path, not what aiohttp sees. A missing or wrong
signature gets 403 and changes nothing; a malformed request gets 400.

An inbound SMS is answered with empty TwiML once its effects are committed;
the replies go out afterwards through the REST API (``TwilioSmsChannel``), so
their delivery is tracked and a slow send never makes Twilio retry.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from twilio.request_validator import RequestValidator

from outreach.sms.rendering import sms_bodies
from outreach.sms.twilio_channel import TwilioSmsChannel, record_status
from polls.errors import SendError
from polls.keywords import Keyword, Keywords
from polls.messages import Channel, Inbound, InboundKind, Reply
from polls.phone import InvalidPhoneNumber, normalize_phone
from storage.database import Database

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
INBOUND_PATH = "/twilio/sms"
STATUS_PATH = "/twilio/status"

Handle = Callable[[Inbound], Awaitable[Reply]]


def inbound_sms(number: str, body: str, message_sid: str, keywords: Keywords) -> Inbound:
    """A text as the neutral inbound: a keyword becomes its command."""
    match = keywords.match(body)
    if match is None:
        return Inbound(Channel.SMS, number, InboundKind.TEXT, body, dedup_key=message_sid)
    command = {Keyword.JOIN: "start"}.get(match.keyword, match.keyword.value)
    argument = match.word if match.keyword is Keyword.STOP else match.argument
    return Inbound(
        Channel.SMS, number, InboundKind.COMMAND, command, argument, dedup_key=message_sid
    )


class TwilioWebhooks:
    def __init__(
        self,
        *,
        auth_token: str,
        public_base_url: str,
        handle: Handle,
        channel: TwilioSmsChannel,
        db: Database,
        keywords: Keywords,
        phone_region: str,
        language: str,
    ) -> None:
        self._validator = RequestValidator(auth_token)
        self._public = public_base_url.rstrip("/")
        self._handle = handle
        self._channel = channel
        self._db = db
        self._keywords = keywords
        self._region = phone_region
        self._language = language
        self._sending: set[asyncio.Task[None]] = set()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(INBOUND_PATH, self.receive_sms)
        app.router.add_post(STATUS_PATH, self.receive_status)

    async def _signed_form(self, request: web.Request) -> dict[str, str] | None:
        """The form fields if Twilio signed them, else None."""
        if request.content_type != "application/x-www-form-urlencoded":
            return None
        form = await request.post()
        params = {key: value for key, value in form.items() if isinstance(value, str)}
        signature = request.headers.get(SIGNATURE_HEADER, "")
        url = self._public + request.path_qs
        if not signature or not self._validator.validate(url, params, signature):
            return None
        return params

    async def receive_sms(self, request: web.Request) -> web.StreamResponse:
        """An SMS from a person: handle it, answer Twilio, then send the replies."""
        params = await self._signed_form(request)
        if params is None:
            logger.warning("SMS webhook call without a valid signature")
            return web.Response(status=403, text="forbidden")
        sid, sender, body = params.get("MessageSid"), params.get("From"), params.get("Body")
        if not sid or not sender or body is None:
            return web.Response(status=400, text="MessageSid, From and Body are required")
        try:
            number = normalize_phone(sender, self._region)
        except InvalidPhoneNumber as error:
            return web.Response(status=400, text=str(error))
        reply = await self._handle(inbound_sms(number, body, sid, self._keywords))
        if not reply.duplicate and reply.messages:
            task = asyncio.get_running_loop().create_task(self._send(number, reply))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        return web.Response(text=EMPTY_TWIML, content_type="text/xml")

    async def _send(self, number: str, reply: Reply) -> None:
        bodies = sms_bodies(
            reply.messages, language=self._language, gsm_letters=reply.transliterate
        )
        for body in bodies:
            try:
                await self._channel.send(number, body, despite_opt_out=reply.stop)
            except SendError as error:
                logger.info("a reply SMS was not sent (%s)", error.reason)
                return
            except Exception:
                logger.exception("sending a reply SMS failed")
                return

    async def receive_status(self, request: web.Request) -> web.StreamResponse:
        """A delivery status from Twilio: queued, sent, delivered, undelivered, failed."""
        params = await self._signed_form(request)
        if params is None:
            return web.Response(status=403, text="forbidden")
        sid = params.get("MessageSid")
        status = params.get("MessageStatus") or params.get("SmsStatus")
        if not sid or not status:
            return web.Response(status=400, text="MessageSid and MessageStatus are required")
        raw_code = params.get("ErrorCode")
        code = int(raw_code) if raw_code and raw_code.isdigit() else None
        await self._db.write_batched(
            lambda s: record_status(s, sid=sid, status=status.lower(), error_code=code)
        )
        return web.Response(status=204)

    async def close(self) -> None:
        """Let replies being sent finish."""
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)
