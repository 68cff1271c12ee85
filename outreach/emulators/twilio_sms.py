"""A local Twilio Programmable Messaging server, for running the real ``twilio`` library offline.

The service sends SMS with ``twilio`` exactly as it does against ``api.twilio.com``, so
tests, benchmarks and a no-credentials sandbox exercise the real library: its request
encoding, its error mapping and its HTTP client. The people on the other side are
:class:`EmulatedPhone` objects: they receive what the service sent and text back through
signed webhooks, as Twilio delivers inbound SMS.

Pointing the real client at the emulator (verified by ``tests/test_twilio_emulator.py``)::

    from twilio.http.async_http_client import AsyncTwilioHttpClient
    from twilio.rest import Client

    async with TwilioSmsEmulator() as emulator:            # inside the running loop
        client = Client(emulator.account_sid, emulator.auth_token,
                        http_client=AsyncTwilioHttpClient())   # max_retries left at None
        client.api.base_url = emulator.base_url            # "http://127.0.0.1:PORT", no slash
        await client.messages.create_async(to="+994501234567", from_="+15005550006", body="Hi")
        await client.http_client.close()

``client.api`` is the ``api.twilio.com`` domain; ``Domain.absolute_url`` reads
``base_url`` on every request, so the assignment redirects the Message resource (create,
fetch, list and the list's next pages) and nothing else. Leave ``edge`` and ``region``
unset, in the arguments and in ``TWILIO_EDGE`` / ``TWILIO_REGION``: with either, the
client rewrites the host name into ``api.<edge>.<region>.twilio.com`` form and misses the
emulator. Keep ``AsyncTwilioHttpClient(max_retries=None)`` (the default): with a number
it wraps its session in ``aiohttp_retry`` and retries *every* method, POST included, on
any 5xx, which sends an SMS twice when Twilio created the message and then failed.

What is emulated is what this project uses: sending (``From`` or a Messaging Service),
fetching and listing messages, status callbacks, inbound SMS and TwiML ``<Message>``
replies, carrier opt-out with Twilio's default keywords, and Twilio's error answers
(validation, opt-outs, rate limits, server errors) so that error handling can be tested.
Everything lives in memory; a request costs O(1) apart from its own payload (listing
with filters scans, it is not on the sending path).

Deviations, chosen for tests: with a Messaging Service, Twilio answers ``"from": null``
and picks a sender later; here the first of :attr:`TwilioSmsEmulator.numbers` is the
sender from the start. Opt-outs apply to all of our senders (Twilio keeps them per sender
or per Messaging Service). A message is in the phone's :attr:`EmulatedPhone.received` as
soon as it is accepted (unless the phone is unreachable), whatever ``callback_delay``.
Not emulated: MMS media, scheduling, WhatsApp and other channels, Smart Encoding,
message update and deletion, other Twilio products, and retries of failed webhooks.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import math
import random
import re
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import urlencode
from xml.etree import ElementTree

import aiohttp
from aiohttp import web

from outreach.emulators.local_server import Inbox, LocalServer, TokenBucket

logger = logging.getLogger(__name__)

__all__ = [
    "SIGNATURE_HEADER",
    "AutoReply",
    "EmulatedPhone",
    "RecordedRequest",
    "SentSms",
    "TwilioSmsEmulator",
    "sms_segments",
    "twilio_signature",
]

JsonDict = dict[str, Any]

API_VERSION = "2010-04-01"
SIGNATURE_HEADER = "X-Twilio-Signature"
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
MAX_BODY_LENGTH = 1600
DEFAULT_ACCOUNT_SID = "AC" + "0" * 32
DEFAULT_AUTH_TOKEN = "5ec2e7a0f1d94b6c8e3a9d7b2c4f6e81"
DEFAULT_MESSAGING_SERVICE_SID = "MG" + "0" * 32
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000

_E164_RE = re.compile(r"\+[1-9][0-9]{1,14}")
_ACCOUNT_SID_RE = re.compile(r"AC[0-9a-f]{32}")

# GSM 03.38: the basic table (without the escape character) and the extension table,
# whose characters take two septets (escape + character).
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = frozenset("\f^{}\\[~]|€")
_GSM_ALL = _GSM_BASIC | _GSM_EXTENDED

# Twilio's default opt-out handling (Advanced Opt-Out defaults), matched on the whole
# trimmed message, case-insensitively.
_OPT_OUT_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
_OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})
_HELP_KEYWORDS = frozenset({"HELP", "INFO"})
_AUTO_REPLIES = {
    "STOP": (
        "You have successfully been unsubscribed. You will not receive any more messages"
        " from this number. Reply START to resubscribe."
    ),
    "START": (
        "You have successfully been re-subscribed to messages from this number."
        " Reply HELP for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply."
    ),
    "HELP": "Reply STOP to unsubscribe. Msg&Data Rates May Apply.",
}

# Delivery errors that mean the message never left Twilio ("failed"); every other
# delivery error (30003 unreachable, 30005 unknown, 30006 landline, 30007 filtered, ...)
# comes back from the carrier as "undelivered" after "sent".
_FAILED_CODES = frozenset({30001, 30002})

# A plausible FromCountry/ToCountry for inbound webhooks; longer prefixes first.
_COUNTRY_PREFIXES = (
    ("+994", "AZ"),
    ("+995", "GE"),
    ("+998", "UZ"),
    ("+380", "UA"),
    ("+375", "BY"),
    ("+374", "AM"),
    ("+44", "GB"),
    ("+49", "DE"),
    ("+90", "TR"),
    ("+7", "RU"),
    ("+1", "US"),
)

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _rfc2822(timestamp: float) -> str:
    """Twilio's date format, e.g. ``Thu, 24 Aug 2023 05:01:45 +0000`` (locale-independent)."""
    t = time.gmtime(timestamp)
    return (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year}"
        f" {t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
    )


def _country(number: str) -> str | None:
    return next((code for prefix, code in _COUNTRY_PREFIXES if number.startswith(prefix)), None)


def _pack_segments(widths: Iterable[int], per_segment: int) -> int:
    """Segments needed when no character may be split between two segments."""
    segments, used = 1, 0
    for width in widths:
        if used + width > per_segment:
            segments += 1
            used = 0
        used += width
    return segments


def sms_segments(body: str) -> tuple[int, str]:
    """``(segments, encoding)`` of an SMS body, as Twilio counts them.

    GSM-7 when every character is in the GSM 03.38 tables: 160 septets in one SMS, 153 per
    part of a longer one, extension characters (``€``, ``[``, ...) taking two. Otherwise
    UCS-2: 70 UTF-16 units, 67 per part; an escape pair or a surrogate pair is never split.
    """
    if not body:
        return 1, "GSM-7"
    if _GSM_ALL.issuperset(body):
        if _GSM_EXTENDED.isdisjoint(body):
            length = len(body)
            return (1 if length <= 160 else math.ceil(length / 153)), "GSM-7"
        widths = [2 if char in _GSM_EXTENDED else 1 for char in body]
        if sum(widths) <= 160:
            return 1, "GSM-7"
        return _pack_segments(widths, 153), "GSM-7"
    if max(body) <= "\uffff":
        length = len(body)
        return (1 if length <= 70 else math.ceil(length / 67)), "UCS-2"
    widths = [2 if char > "\uffff" else 1 for char in body]
    if sum(widths) <= 70:
        return 1, "UCS-2"
    return _pack_segments(widths, 67), "UCS-2"


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """``X-Twilio-Signature`` of a form POST to ``url``: HMAC-SHA1 over the URL and the
    sorted parameters, base64 (what ``twilio.request_validator.RequestValidator`` checks)."""
    payload = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class _TwilioError(Exception):
    """An error answer, sent as Twilio formats it."""

    def __init__(self, status: int, code: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def response(self) -> web.Response:
        body: JsonDict = {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
            **self.extra,
        }
        headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if self.status == 401 else None
        return web.Response(
            text=_dumps(body), status=self.status, content_type="application/json", headers=headers
        )


def _unauthorized() -> _TwilioError:
    return _TwilioError(
        401, 20003, "Authenticate", detail="Your AccountSid or AuthToken was incorrect."
    )


def _bad_request(code: int, message: str) -> _TwilioError:
    return _TwilioError(400, code, message)


@dataclass(slots=True)
class SentSms:
    """One message the service sent (created through the REST API or a TwiML reply).

    ``status`` and ``error_code`` follow the message's life: queued or accepted when
    created, then sent and delivered (or undelivered/failed), in step with the callbacks.
    """

    sid: str
    to: str
    from_: str
    messaging_service_sid: str | None
    body: str
    status: str
    error_code: int | None
    status_callback: str | None
    created: float
    segments: int
    encoding: str
    direction: str = "outbound-api"
    """``outbound-api`` (REST API) or ``outbound-reply`` (TwiML in a webhook answer)."""
    sent_at: float | None = None
    """When the status became ``sent`` (``date_sent``)."""
    updated: float = 0.0
    """When the status last changed (``date_updated``)."""


@dataclass(slots=True)
class RecordedRequest:
    """One REST API request as the emulator received it, with its answer's HTTP status."""

    method: str
    path: str
    params: dict[str, str]
    status: int


class AutoReply(NamedTuple):
    """A reply Twilio would send by itself (to STOP, START, HELP); recorded, not sent."""

    to: str
    from_: str
    body: str


class EmulatedPhone:
    """A person's phone: what the service sent to it, and SMS it sends to the service."""

    def __init__(self, emulator: TwilioSmsEmulator, number: str) -> None:
        self._emulator = emulator
        self.number = number
        self.received: list[SentSms] = []
        """Every SMS the service sent to this phone, in order."""
        self.inbound: list[dict[str, str]] = []
        """The webhook parameters of every SMS this phone sent."""
        self.sent_at: list[float] = []
        """When each SMS in :attr:`inbound` was sent (same clock as ``SentSms.created``)."""
        self.last_status: int | None = None
        """HTTP status the webhook answered for this phone's latest SMS."""
        self.last_response_body: str | None = None
        self._inbox: Inbox[SentSms] = Inbox()
        self._last_delivery: tuple[dict[str, str], str] | None = None

    def __repr__(self) -> str:
        return f"EmulatedPhone({self.number!r}, received={len(self.received)})"

    @property
    def last(self) -> SentSms | None:
        return self.received[-1] if self.received else None

    async def send(self, body: str, *, to: str | None = None) -> int:
        """Text ``body`` to one of our numbers (default the first), as Twilio delivers it:
        a signed form POST to :attr:`TwilioSmsEmulator.inbound_webhook_url`. Returns the
        HTTP status the service answered."""
        emulator = self._emulator
        our_number = to if to is not None else emulator.numbers[0]
        if our_number not in emulator._number_set:
            raise ValueError(
                f"{our_number} is not one of the emulator's numbers {emulator.numbers}"
            )
        url = emulator._inbound_url()
        sid = emulator._new_sid("SM")
        segments, _ = sms_segments(body)
        params: dict[str, str] = {
            "ToCountry": _country(our_number) or "",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "SmsSid": sid,
            "SmsStatus": "received",
            "Body": body,
            "FromCountry": _country(self.number) or "",
            "To": our_number,
            "NumSegments": str(segments),
            "MessageSid": sid,
            "AccountSid": emulator.account_sid,
            "From": self.number,
            "ApiVersion": API_VERSION,
        }
        if not params["ToCountry"]:
            del params["ToCountry"]
        if not params["FromCountry"]:
            del params["FromCountry"]
        if emulator.messaging_service_sid is not None:
            params["MessagingServiceSid"] = emulator.messaging_service_sid
        keyword = emulator._keyword(body)
        if keyword is not None:
            params["OptOutType"] = keyword
        token = emulator._new_idempotency_token()
        self._last_delivery = (params, token)
        self.inbound.append(params)
        self.sent_at.append(time.time())
        return await emulator._deliver_inbound(self, url, params, token)

    async def resend_last(self) -> int:
        """Deliver the latest SMS again, same MessageSid and idempotency token (a Twilio
        retry), so that the service's duplicate handling can be tested."""
        if self._last_delivery is None:
            raise RuntimeError(f"Phone {self.number} has not sent anything yet")
        params, token = self._last_delivery
        url = self._emulator._inbound_url()
        return await self._emulator._deliver_inbound(self, url, params, token)

    async def next_message(self, timeout: float = 5.0) -> SentSms:  # noqa: ASYNC109
        """The next SMS to this phone not yet returned here, waiting up to ``timeout`` s."""

        def describe() -> str:
            last = self.last
            seen = f"the last was {last.body!r}" if last else "none yet"
            return (
                f"The service sent {self.number} no new SMS within {timeout} s"
                f" ({len(self.received)} received; {seen})"
            )

        return await self._inbox.next(timeout, describe)

    def _receive(self, sms: SentSms) -> None:
        self.received.append(sms)
        self._inbox.put(sms)


class TwilioSmsEmulator(LocalServer):
    """An aiohttp server speaking Twilio's Message resource, with phones to talk to.

    ``numbers`` are our Twilio numbers (valid ``From`` values, and the pool of the
    Messaging Service ``messaging_service_sid``). ``rate`` limits accepted messages per
    second per sender (the ``From`` number, or the Messaging Service): over it the answer
    is 429 with code 20429. Status callbacks are posted ``callback_delay`` seconds apart,
    the first one that long after the answer (0: at once, in order). ``seed`` makes SIDs
    and ``fail_rate`` draws reproducible.
    """

    name = "Twilio SMS emulator"

    def __init__(
        self,
        *,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        numbers: Iterable[str] = ("+15005550006",),
        messaging_service_sid: str | None = DEFAULT_MESSAGING_SERVICE_SID,
        rate: float | None = None,
        callback_delay: float = 0.0,
        seed: int = 0,
    ) -> None:
        if _ACCOUNT_SID_RE.fullmatch(account_sid) is None:
            raise ValueError(f"account_sid must be AC and 32 hex digits, not {account_sid!r}")
        self.numbers: tuple[str, ...] = tuple(numbers)
        if not self.numbers:
            raise ValueError("numbers must name at least one Twilio number")
        for number in self.numbers:
            if _E164_RE.fullmatch(number) is None:
                raise ValueError(f"{number!r} is not an E.164 number (like +15005550006)")
        if rate is not None and rate <= 0:
            raise ValueError(f"rate must be positive or None, not {rate}")
        if callback_delay < 0:
            raise ValueError(f"callback_delay must not be negative, not {callback_delay}")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messaging_service_sid = messaging_service_sid
        self.rate = rate
        self.callback_delay = callback_delay
        self.api_keys: dict[str, str] = {}
        """API key SID (``SK...``) -> secret, also accepted for Basic auth."""

        self.sent: list[SentSms] = []
        """Every message created, in order (including those to unreachable phones)."""
        self.requests: list[RecordedRequest] = []
        self.callback_results: list[tuple[str, str, int]] = []
        """``(message sid, status, HTTP status)`` of each status callback posted; the HTTP
        status is 0 when the callback URL could not be reached."""
        self.auto_replies: list[AutoReply] = []
        self.inbound_webhook_url: str | None = None
        """Where phones send SMS (the service's ``POST /twilio/sms``), query string included."""

        self.invalid_numbers: set[str] = set()
        """``To`` numbers refused with 21211 although they are E.164."""
        self.landlines: set[str] = set()
        """``To`` numbers refused with 21614 (not a mobile number)."""
        self.fail_rate = 0.0
        """Fraction of message creations answered 500 (code 20500), from a seeded generator."""

        self._number_set = frozenset(self.numbers)
        self._phones: dict[str, EmulatedPhone] = {}
        self._by_sid: dict[str, SentSms] = {}
        self._opted_out: set[str] = set()
        self._unreachable: dict[str, int] = {}
        self._injected: deque[_TwilioError] = deque()
        self._buckets: dict[str, TokenBucket] = {}
        self._random = random.Random(seed)
        self._tasks: set[asyncio.Task[None]] = set()
        self._expected_authorization = "Basic " + base64.b64encode(
            f"{account_sid}:{auth_token}".encode()
        ).decode("ascii")
        self._account_uri = f"/{API_VERSION}/Accounts/{account_sid}"

        super().__init__(web.Application())
        accounts = f"/{API_VERSION}/Accounts/{{account_sid}}"
        self.app.router.add_post(f"{accounts}/Messages.json", self._handle_create)
        self.app.router.add_get(f"{accounts}/Messages.json", self._handle_list)
        self.app.router.add_get(f"{accounts}/Messages/{{sid}}.json", self._handle_fetch)
        self.app.router.add_route("*", "/{tail:.*}", self._handle_unknown)

    # Lifecycle

    async def _before_stop(self) -> None:
        """Status callbacks not yet posted are cancelled (to have them,
        ``await wait_for_callbacks()`` first)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def base_url(self) -> str:
        """What to assign to ``client.api.base_url`` (the library appends ``/2010-04-01/...``)."""
        return self.url

    async def wait_for_callbacks(self) -> None:
        """Wait until every status callback scheduled so far has been posted."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # The people

    def phone(self, number: str) -> EmulatedPhone:
        """The phone with this E.164 number, created on first use (then the same object)."""
        existing = self._phones.get(number)
        if existing is not None:
            return existing
        if _E164_RE.fullmatch(number) is None:
            raise ValueError(f"{number!r} is not an E.164 number (like +994501234567)")
        created = EmulatedPhone(self, number)
        self._phones[number] = created
        return created

    def messages_to(self, number: str) -> list[SentSms]:
        """What the service sent to ``number`` and the phone received, in order."""
        phone = self._phones.get(number)
        return list(phone.received) if phone is not None else []

    def message(self, sid: str) -> SentSms | None:
        return self._by_sid.get(sid)

    # Fault injection

    def opt_out(self, number: str) -> None:
        """Carrier-level opt-out: sends to ``number`` fail with 21610."""
        self._opted_out.add(number)

    def opt_in(self, number: str) -> None:
        self._opted_out.discard(number)

    def is_opted_out(self, number: str) -> bool:
        return number in self._opted_out

    def set_unreachable(self, number: str, code: int = 30003) -> None:
        """Sends to ``number`` are accepted but end "undelivered" with ``code`` (30003
        unreachable handset, 30005 unknown handset, 30006 landline or unreachable carrier,
        30007 carrier filtering), or "failed" without "sent" for 30001/30002."""
        self._unreachable[number] = code

    def set_reachable(self, number: str) -> None:
        self._unreachable.pop(number, None)

    def fail_next(
        self,
        count: int = 1,
        status: int = 500,
        code: int = 20500,
        message: str = "Internal Server Error",
    ) -> None:
        """Answer the next ``count`` message creations with this error instead."""
        self._injected.extend([_TwilioError(status, code, message)] * count)

    # REST API

    async def _handle_create(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        params = {key: value for key, value in form.items() if isinstance(value, str)}
        try:
            self._authenticate(request)
            sms = self._create(params)
        except _TwilioError as error:
            logger.debug("Messages.json -> %d %d %s", error.status, error.code, error.message)
            self.requests.append(RecordedRequest("POST", request.path, params, error.status))
            return error.response()
        self.requests.append(RecordedRequest("POST", request.path, params, 201))
        response = web.Response(
            text=_dumps(self._message_json(sms)), status=201, content_type="application/json"
        )
        if sms.status_callback is None and self.callback_delay == 0:
            self._advance_at_once(sms)
            return response
        # Answer first, so that callbacks do not overtake the answer on the wire.
        await response.prepare(request)
        await response.write_eof()
        self._schedule_lifecycle(sms)
        return response

    async def _handle_fetch(self, request: web.Request) -> web.Response:
        try:
            self._authenticate(request)
            sms = self._by_sid.get(request.match_info["sid"])
            if sms is None:
                raise self._not_found(request.path)
        except _TwilioError as error:
            self.requests.append(RecordedRequest("GET", request.path, {}, error.status))
            return error.response()
        self.requests.append(RecordedRequest("GET", request.path, {}, 200))
        return web.Response(text=_dumps(self._message_json(sms)), content_type="application/json")

    async def _handle_list(self, request: web.Request) -> web.Response:
        params = dict(request.query)
        try:
            self._authenticate(request)
            page_size = self._int_param(params, "PageSize", DEFAULT_PAGE_SIZE)
            page = self._int_param(params, "Page", 0)
        except _TwilioError as error:
            self.requests.append(RecordedRequest("GET", request.path, params, error.status))
            return error.response()
        page_size = min(max(page_size, 1), MAX_PAGE_SIZE)
        to, from_ = params.get("To"), params.get("From")
        # Newest first, like Twilio; a scan, but listing is not on the sending path.
        matching = [
            sms
            for sms in reversed(self.sent)
            if (to is None or sms.to == to) and (from_ is None or sms.from_ == from_)
        ]
        start = page * page_size
        chunk = matching[start : start + page_size]
        filters: dict[str, str | int] = {k: params[k] for k in ("To", "From") if k in params}
        path = f"{self._account_uri}/Messages.json"

        def page_uri(number: int) -> str:
            return f"{path}?{urlencode({**filters, 'PageSize': page_size, 'Page': number})}"

        body: JsonDict = {
            "messages": [self._message_json(sms) for sms in chunk],
            "start": start,
            "end": start + max(len(chunk) - 1, 0),
            "page": page,
            "page_size": page_size,
            "uri": page_uri(page),
            "first_page_uri": page_uri(0),
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
            "next_page_uri": page_uri(page + 1) if start + page_size < len(matching) else None,
        }
        self.requests.append(RecordedRequest("GET", request.path, params, 200))
        return web.Response(text=_dumps(body), content_type="application/json")

    async def _handle_unknown(self, request: web.Request) -> web.Response:
        self.requests.append(RecordedRequest(request.method, request.path, {}, 404))
        return self._not_found(request.path).response()

    @staticmethod
    def _not_found(path: str) -> _TwilioError:
        return _TwilioError(404, 20404, f"The requested resource {path} was not found")

    @staticmethod
    def _int_param(params: Mapping[str, str], name: str, default: int) -> int:
        raw = params.get(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise _bad_request(20001, f"Invalid {name}: {raw}") from None

    def _authenticate(self, request: web.Request) -> None:
        """Basic auth with the account SID and auth token (or an API key and its secret),
        for the account in the path."""
        if request.match_info.get("account_sid") != self.account_sid:
            raise _unauthorized()
        header = request.headers.get("Authorization", "")
        if header == self._expected_authorization:
            return
        if self.api_keys and header.startswith("Basic "):
            try:
                username, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                raise _unauthorized() from None
            secret = self.api_keys.get(username)
            if secret is not None and hmac.compare_digest(secret, password):
                return
        raise _unauthorized()

    def _create(self, params: Mapping[str, str]) -> SentSms:
        """Validate a Messages.json POST like Twilio, then create the message."""
        if self._injected:
            raise self._injected.popleft()
        if self.fail_rate and self._random.random() < self.fail_rate:
            raise _TwilioError(500, 20500, "Internal Server Error")

        to = params.get("To", "")
        if not to:
            raise _bad_request(21604, "A 'To' phone number is required.")
        if _E164_RE.fullmatch(to) is None or to in self.invalid_numbers:
            raise _bad_request(21211, f"The 'To' number {to} is not a valid phone number.")

        from_ = params.get("From") or None
        service_sid = params.get("MessagingServiceSid") or None
        if from_ is None and service_sid is None:
            raise _bad_request(
                21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message"
            )
        if service_sid is not None and (
            self.messaging_service_sid is None or service_sid != self.messaging_service_sid
        ):
            raise _bad_request(21701, f"The Messaging Service Sid {service_sid} is invalid.")
        if from_ is not None and from_ not in self._number_set:
            raise _bad_request(
                21606,
                f"The From phone number {from_} is not a valid message-capable Twilio phone"
                " number for this account.",
            )

        body = params.get("Body", "")
        if not body:
            raise _bad_request(21602, "Message body is required.")
        if len(body) > MAX_BODY_LENGTH:
            raise _bad_request(
                21617, "The concatenated message body exceeds the 1600 character limit."
            )
        if to in self.landlines:
            raise _bad_request(21614, "'To' number is not a valid mobile number")
        if to in self._opted_out:
            raise _bad_request(21610, "Attempt to send to unsubscribed recipient")

        sender = service_sid or from_
        assert sender is not None
        if self.rate is not None and not self._take_send_slot(sender):
            raise _TwilioError(429, 20429, "Too Many Requests")

        segments, encoding = sms_segments(body)
        now = time.time()
        sms = SentSms(
            sid=self._new_sid("SM"),
            to=to,
            from_=from_ or self.numbers[0],
            messaging_service_sid=service_sid,
            body=body,
            status="accepted" if service_sid is not None else "queued",
            error_code=None,
            status_callback=params.get("StatusCallback") or None,
            created=now,
            segments=segments,
            encoding=encoding,
            updated=now,
        )
        self._record(sms)
        return sms

    def _take_send_slot(self, sender: str) -> bool:
        rate = self.rate
        assert rate is not None
        now = time.monotonic()
        bucket = self._buckets.get(sender)
        if bucket is None:
            capacity = max(1.0, rate)
            bucket = self._buckets[sender] = TokenBucket(capacity, rate, capacity, now)
        bucket.rate = rate
        bucket.capacity = max(1.0, rate)
        return bucket.take(now)

    def _record(self, sms: SentSms) -> None:
        self.sent.append(sms)
        self._by_sid[sms.sid] = sms
        if sms.to not in self._unreachable:
            self.phone(sms.to)._receive(sms)
        logger.debug("SMS %s %s -> %s (%d segments)", sms.sid, sms.from_, sms.to, sms.segments)

    def _message_json(self, sms: SentSms) -> JsonDict:
        uri = f"{self._account_uri}/Messages/{sms.sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": sms.body,
            "date_created": _rfc2822(sms.created),
            "date_sent": _rfc2822(sms.sent_at) if sms.sent_at is not None else None,
            "date_updated": _rfc2822(sms.updated or sms.created),
            "direction": sms.direction,
            "error_code": sms.error_code,
            "error_message": None,
            "from": sms.from_,
            "messaging_service_sid": sms.messaging_service_sid,
            "num_media": "0",
            "num_segments": str(sms.segments),
            "price": None,
            "price_unit": "USD",
            "sid": sms.sid,
            "status": sms.status,
            "subresource_uris": {
                "media": f"{uri}/Media.json",
                "feedback": f"{uri}/Feedback.json",
            },
            "to": sms.to,
            "uri": f"{uri}.json",
        }

    # Message life and status callbacks

    def _lifecycle(self, sms: SentSms) -> tuple[tuple[str, int | None], ...]:
        """The statuses after creation, each reported by a callback."""
        steps: tuple[tuple[str, int | None], ...] = ()
        if sms.status == "accepted":
            steps = (("queued", None),)
        code = self._unreachable.get(sms.to)
        if code is None:
            return (*steps, ("sent", None), ("delivered", None))
        if code in _FAILED_CODES:
            return (*steps, ("failed", code))
        return (*steps, ("sent", None), ("undelivered", code))

    def _set_status(self, sms: SentSms, status: str, error_code: int | None) -> None:
        now = time.time()
        sms.status = status
        sms.updated = now
        if status == "sent":
            sms.sent_at = now
        if error_code is not None:
            sms.error_code = error_code

    def _advance_at_once(self, sms: SentSms) -> None:
        for status, code in self._lifecycle(sms):
            self._set_status(sms, status, code)

    def _schedule_lifecycle(self, sms: SentSms) -> None:
        task = asyncio.get_running_loop().create_task(self._run_lifecycle(sms))
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("Status callbacks failed", exc_info=task.exception())

    async def _run_lifecycle(self, sms: SentSms) -> None:
        for status, code in self._lifecycle(sms):
            if self.callback_delay > 0:
                await asyncio.sleep(self.callback_delay)
            self._set_status(sms, status, code)
            if sms.status_callback is not None:
                await self._post_status_callback(sms, sms.status_callback, status, code)

    async def _post_status_callback(
        self, sms: SentSms, url: str, status: str, error_code: int | None
    ) -> None:
        params: dict[str, str] = {
            "SmsSid": sms.sid,
            "SmsStatus": status,
            "MessageStatus": status,
            "To": sms.to,
            "MessageSid": sms.sid,
            "AccountSid": self.account_sid,
            "From": sms.from_,
            "ApiVersion": API_VERSION,
        }
        if sms.messaging_service_sid is not None:
            params["MessagingServiceSid"] = sms.messaging_service_sid
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        if status in ("delivered", "undelivered"):
            params["RawDlrDoneDate"] = time.strftime("%y%m%d%H%M", time.gmtime())
        try:
            http_status, _ = await self._post_signed(url, params, self._new_idempotency_token())
        except (aiohttp.ClientError, TimeoutError) as error:
            logger.warning("Status callback %s for %s failed: %s", url, sms.sid, error)
            http_status = 0
        self.callback_results.append((sms.sid, status, http_status))

    async def _post_signed(
        self, url: str, params: Mapping[str, str], token: str
    ) -> tuple[int, str]:
        """POST a form as Twilio does (signed for ``url``); the answer's status and text."""
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            SIGNATURE_HEADER: twilio_signature(self.auth_token, url, params),
            IDEMPOTENCY_HEADER: token,
            "User-Agent": "TwilioProxy/1.1",
        }
        async with self._client_session().post(
            url, data=urlencode(params), headers=headers
        ) as reply:
            return reply.status, await reply.text()

    def _client_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=30),
                connector=aiohttp.TCPConnector(limit=100),
            )
        return self._session

    # Inbound SMS

    @staticmethod
    def _keyword(body: str) -> str | None:
        """Twilio's ``OptOutType`` of an inbound body: STOP, START, HELP or None."""
        word = body.strip().upper()
        if word in _OPT_OUT_KEYWORDS:
            return "STOP"
        if word in _OPT_IN_KEYWORDS:
            return "START"
        if word in _HELP_KEYWORDS:
            return "HELP"
        return None

    def _inbound_url(self) -> str:
        url = self.inbound_webhook_url
        if url is None:
            raise RuntimeError(
                "Set emulator.inbound_webhook_url to the service's SMS webhook"
                " (e.g. http://127.0.0.1:8080/twilio/sms) before phones send SMS"
            )
        return url

    async def _deliver_inbound(
        self, phone: EmulatedPhone, url: str, params: dict[str, str], token: str
    ) -> int:
        try:
            status, text = await self._post_signed(url, params, token)
        finally:
            # Twilio handles the keywords itself, whatever the webhook does.
            self._apply_keyword(phone.number, params["To"], params.get("OptOutType"))
        phone.last_status = status
        phone.last_response_body = text
        if status >= 300:
            logger.debug("Inbound webhook answered %s with %d", params["MessageSid"], status)
        elif "<Message" in text:
            self._twiml_replies(phone.number, params["To"], text)
        return status

    def _apply_keyword(self, number: str, our_number: str, keyword: str | None) -> None:
        if keyword is None:
            return
        if keyword == "STOP":
            self.opt_out(number)
        elif keyword == "START":
            self.opt_in(number)
        self.auto_replies.append(AutoReply(number, our_number, _AUTO_REPLIES[keyword]))

    def _twiml_replies(self, number: str, our_number: str, twiml: str) -> None:
        """Send the ``<Message>`` verbs of a webhook's TwiML answer, as Twilio does."""
        try:
            root = ElementTree.fromstring(twiml)  # noqa: S314 (our own service's answer)
        except ElementTree.ParseError as error:
            logger.warning("Inbound webhook answered invalid TwiML (%s): %r", error, twiml[:200])
            return
        if root.tag != "Response":
            return
        for verb in root.iter("Message"):
            body_element = verb.find("Body")
            body = (body_element.text if body_element is not None else verb.text) or ""
            to = verb.get("to") or number
            from_ = verb.get("from") or our_number
            if not body or to in self._opted_out:
                logger.debug("TwiML <Message> to %s not sent (empty or opted out)", to)
                continue
            segments, encoding = sms_segments(body)
            now = time.time()
            sms = SentSms(
                sid=self._new_sid("SM"),
                to=to,
                from_=from_,
                messaging_service_sid=None,
                body=body,
                status="queued",
                error_code=None,
                status_callback=verb.get("statusCallback") or None,
                created=now,
                segments=segments,
                encoding=encoding,
                direction="outbound-reply",
                updated=now,
            )
            self._record(sms)
            if sms.status_callback is None and self.callback_delay == 0:
                self._advance_at_once(sms)
            else:
                self._schedule_lifecycle(sms)

    # Identifiers

    def _new_sid(self, prefix: str) -> str:
        return f"{prefix}{self._random.getrandbits(128):032x}"

    def _new_idempotency_token(self) -> str:
        return f"{self._random.getrandbits(128):032x}"
