"""The Twilio SMS emulator, driven by the real ``twilio`` library over HTTP (nothing mocked)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from outreach.emulators.twilio_sms import (
    SIGNATURE_HEADER,
    EmulatedPhone,
    TwilioSmsEmulator,
    sms_segments,
    twilio_signature,
)

OUR_NUMBER = "+15005550006"
PERSON = "+994501234567"

# twilio 9.13 still passes ``auth=BasicAuth(...)`` to aiohttp, which 3.14 deprecates.
pytestmark = [
    pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The 'auth' parameter is deprecated:DeprecationWarning"),
]
SID_RE = re.compile(r"SM[0-9a-f]{32}")


class FakeService:
    """Our service's Twilio webhooks, reduced to recording what arrives and checking the
    signature the way the service must: RequestValidator over the URL Twilio requested."""

    def __init__(self, auth_token: str) -> None:
        self.validator = RequestValidator(auth_token)
        self.inbound: list[dict[str, str]] = []
        self.inbound_urls: list[str] = []
        self.callbacks: list[dict[str, str]] = []
        self.signatures_valid: list[bool] = []
        self.twiml = "<Response/>"
        self.inbound_status = 200
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _check(self, request: web.Request) -> dict[str, str]:
        form = await request.post()
        params = {key: str(value) for key, value in form.items()}
        signature = request.headers.get(SIGNATURE_HEADER, "")
        self.signatures_valid.append(self.validator.validate(str(request.url), params, signature))
        return params

    async def _sms(self, request: web.Request) -> web.Response:
        self.inbound.append(await self._check(request))
        self.inbound_urls.append(str(request.url))
        return web.Response(text=self.twiml, content_type="text/xml", status=self.inbound_status)

    async def _status(self, request: web.Request) -> web.Response:
        self.callbacks.append(await self._check(request))
        return web.Response(status=204)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/twilio/sms", self._sms)
        app.router.add_post("/twilio/status", self._status)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture(autouse=True)
def no_twilio_edge(monkeypatch: pytest.MonkeyPatch) -> None:
    """An edge or region from the environment would make the client rewrite the host."""
    monkeypatch.delenv("TWILIO_EDGE", raising=False)
    monkeypatch.delenv("TWILIO_REGION", raising=False)


@pytest.fixture
async def emulator() -> AsyncIterator[TwilioSmsEmulator]:
    async with TwilioSmsEmulator() as emu:
        yield emu


def make_client(
    emu: TwilioSmsEmulator, *, token: str | None = None, max_retries: int | None = None
) -> Client:
    """The client as the service builds it (inside the running loop), aimed at ``emu``."""
    client = Client(
        emu.account_sid,
        token if token is not None else emu.auth_token,
        http_client=AsyncTwilioHttpClient(max_retries=max_retries),
    )
    client.api.base_url = emu.base_url
    return client


@pytest.fixture
async def client(emulator: TwilioSmsEmulator) -> AsyncIterator[Client]:
    twilio_client = make_client(emulator)
    yield twilio_client
    await twilio_client.http_client.close()  # type: ignore[attr-defined]


@pytest.fixture
async def service(emulator: TwilioSmsEmulator) -> AsyncIterator[FakeService]:
    fake = FakeService(emulator.auth_token)
    await fake.start()
    emulator.inbound_webhook_url = f"{fake.url}/twilio/sms"
    yield fake
    await emulator.stop()  # callbacks in flight must not outlive the service
    await fake.stop()


async def send(client: Client, **kwargs: Any) -> Any:
    kwargs.setdefault("to", PERSON)
    if "messaging_service_sid" not in kwargs:
        kwargs.setdefault("from_", OUR_NUMBER)
    kwargs.setdefault("body", "Hello")
    return await client.messages.create_async(**kwargs)


async def rest_error(client: Client, **kwargs: Any) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as caught:
        await send(client, **kwargs)
    return caught.value


# Sending


async def test_real_client_reaches_the_emulator_and_gets_twilios_message(
    emulator: TwilioSmsEmulator, client: Client
) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", emulator.base_url)
    message = await send(client, body="Hello from the UN country team")

    assert SID_RE.fullmatch(message.sid)
    assert message.status == "queued"
    assert message.to == PERSON and message.from_ == OUR_NUMBER
    assert message.body == "Hello from the UN country team"
    assert message.num_segments == "1" and message.num_media == "0"
    assert message.direction == "outbound-api" and message.api_version == "2010-04-01"
    assert message.account_sid == emulator.account_sid
    assert message.messaging_service_sid is None
    assert message.price is None and message.price_unit == "USD"
    assert message.error_code is None and message.error_message is None
    assert message.date_created is not None and message.date_created.tzinfo is not None
    assert abs(message.date_created.timestamp() - time.time()) < 5
    assert message.uri == f"/2010-04-01/Accounts/{emulator.account_sid}/Messages/{message.sid}.json"
    assert "media" in message.subresource_uris

    (request,) = emulator.requests
    assert request.method == "POST" and request.status == 201
    assert request.path == f"/2010-04-01/Accounts/{emulator.account_sid}/Messages.json"
    assert request.params == {"To": PERSON, "From": OUR_NUMBER, "Body": message.body}

    (sent,) = emulator.sent
    assert sent.sid == message.sid and sent.segments == 1 and sent.encoding == "GSM-7"
    assert emulator.messages_to(PERSON) == [sent]
    phone = emulator.phone(PERSON)
    assert phone is emulator.phone(PERSON) and phone.last is sent

    # Without a status callback the message moves on at once; fetch and list see it.
    fetched = await client.messages(message.sid).fetch_async()
    assert fetched.status == "delivered" and fetched.date_sent is not None
    for _ in range(4):
        await send(client, to="+994551112233")
    listed = await client.messages.list_async(to="+994551112233", page_size=3)
    assert len(listed) == 4  # two pages, followed by the library
    assert [m.sid for m in listed] == [s.sid for s in reversed(emulator.sent[1:])]
    with pytest.raises(TwilioRestException) as missing:
        await client.messages("SM" + "f" * 32).fetch_async()
    assert (missing.value.status, missing.value.code) == (404, 20404)


async def test_messaging_service_send(emulator: TwilioSmsEmulator, client: Client) -> None:
    message = await send(client, messaging_service_sid=emulator.messaging_service_sid)
    assert message.status == "accepted"
    assert message.messaging_service_sid == emulator.messaging_service_sid
    assert message.from_ == OUR_NUMBER  # Twilio says null at first; see the module docstring
    error = await rest_error(client, messaging_service_sid="MG" + "1" * 32)
    assert (error.status, error.code) == (400, 21701)


SEGMENT_CASES = [
    ("Hello, how are you?", 1, "GSM-7"),
    ("a" * 160, 1, "GSM-7"),
    ("a" * 161, 2, "GSM-7"),
    ("a" * 306, 2, "GSM-7"),
    ("a" * 307, 3, "GSM-7"),
    ("Ça coûte 5 €?", 1, "UCS-2"),  # û is not GSM-7
    ("€" * 80, 1, "GSM-7"),  # extension characters take two septets: 160
    ("€" * 81, 2, "GSM-7"),
    ("a" + "€" * 80, 2, "GSM-7"),  # 161 septets
    ("Salam, necəsiniz? Şəhər", 1, "UCS-2"),
    ("ə" * 70, 1, "UCS-2"),
    ("ə" * 71, 2, "UCS-2"),
    ("ə" * 134, 2, "UCS-2"),
    ("ə" * 135, 3, "UCS-2"),
    ("Здравствуйте! Как у вас дела в регионе?", 1, "UCS-2"),
    ("Ж" * 71, 2, "UCS-2"),
    ("😀" * 35, 1, "UCS-2"),  # 70 UTF-16 units
    ("😀" * 36, 2, "UCS-2"),
    ("a" * 66 + "😀" * 34, 3, "UCS-2"),  # 134 units, but a surrogate pair is never split
]


async def test_segments_as_twilio_counts_them(emulator: TwilioSmsEmulator, client: Client) -> None:
    for body, segments, encoding in SEGMENT_CASES:
        assert sms_segments(body) == (segments, encoding), body
        message = await send(client, body=body)
        assert message.num_segments == str(segments), body
        assert emulator.sent[-1].encoding == encoding
    # An escape pair is not split across parts either: 306 septets, yet three parts.
    assert sms_segments("a" * 152 + "€" + "a" * 152) == (3, "GSM-7")
    assert sms_segments("a" * 151 + "€" + "a" * 153) == (2, "GSM-7")


# Errors, as TwilioRestException with Twilio's codes


async def test_validation_errors(emulator: TwilioSmsEmulator, client: Client) -> None:
    emulator.invalid_numbers.add("+15005550001")
    emulator.landlines.add("+994121234567")
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"to": "0501234567"}, 21211, "The 'To' number 0501234567 is not a valid phone number."),
        ({"to": "+15005550001"}, 21211, "is not a valid phone number"),
        ({"to": "+994121234567"}, 21614, "'To' number is not a valid mobile number"),
        ({"body": ""}, 21602, "Message body is required."),
        ({"body": "a" * 1601}, 21617, "exceeds the 1600 character limit"),
        ({"from_": "+15005550009"}, 21606, "+15005550009 is not a valid message-capable"),
    ]
    for kwargs, code, text in cases:
        error = await rest_error(client, **kwargs)
        assert (error.status, error.code) == (400, code), kwargs
        assert text in error.msg
    await send(client, body="a" * 1600)  # the limit itself is fine

    with pytest.raises(TwilioRestException) as caught:
        await client.messages.create_async(to=PERSON, body="no sender")
    assert (caught.value.status, caught.value.code) == (400, 21603)
    assert "A 'From' or 'MessagingServiceSid' parameter is required" in caught.value.msg
    assert [r.status for r in emulator.requests].count(201) == 1
    assert len(emulator.sent) == 1  # refused requests create nothing


async def test_opt_out_refuses_with_21610(emulator: TwilioSmsEmulator, client: Client) -> None:
    emulator.opt_out(PERSON)
    error = await rest_error(client)
    assert (error.status, error.code) == (400, 21610)
    assert "Attempt to send to unsubscribed recipient" in error.msg
    emulator.opt_in(PERSON)
    await send(client)


async def test_wrong_credentials_and_api_keys(emulator: TwilioSmsEmulator) -> None:
    bad = make_client(emulator, token="f" * 32)
    try:
        error = await rest_error(bad)
    finally:
        await bad.http_client.close()  # type: ignore[attr-defined]
    assert (error.status, error.code) == (401, 20003)
    assert "Authenticate" in error.msg

    emulator.api_keys["SK" + "1" * 32] = "key-secret"
    keyed = Client(
        "SK" + "1" * 32, "key-secret", emulator.account_sid, http_client=AsyncTwilioHttpClient()
    )
    keyed.api.base_url = emulator.base_url
    try:
        assert (await send(keyed)).status == "queued"
    finally:
        await keyed.http_client.close()


async def test_rate_limit_per_sender_answers_429() -> None:
    async with TwilioSmsEmulator(rate=2.0) as emu:
        client = make_client(emu)
        try:
            await send(client)
            await send(client)
            error = await rest_error(client)
            assert (error.status, error.code) == (429, 20429)
            # Another sender has its own budget.
            await send(client, messaging_service_sid=emu.messaging_service_sid)
        finally:
            await client.http_client.close()  # type: ignore[attr-defined]


async def test_server_errors(emulator: TwilioSmsEmulator, client: Client) -> None:
    emulator.fail_next()
    error = await rest_error(client)
    assert (error.status, error.code) == (500, 20500)
    emulator.fail_next(status=503, code=20503, message="Service Unavailable")
    error = await rest_error(client)
    assert (error.status, error.code) == (503, 20503)
    await send(client)  # injected failures are used up

    emulator.fail_rate = 1.0
    error = await rest_error(client)
    assert (error.status, error.code) == (500, 20500)
    emulator.fail_rate = 0.0
    assert len(emulator.sent) == 1


async def test_async_client_retries_posts_only_when_max_retries_is_set(
    emulator: TwilioSmsEmulator, client: Client
) -> None:
    """AsyncTwilioHttpClient(max_retries=None), the default, sends a POST once. With a
    number it retries POSTs on every 5xx (aiohttp_retry): a possible double send."""
    emulator.fail_next(count=10)
    await rest_error(client)
    assert len(emulator.requests) == 1

    emulator.requests.clear()
    retrying = make_client(emulator, max_retries=3)
    try:
        error = await rest_error(retrying)
    finally:
        await retrying.http_client.close()  # type: ignore[attr-defined]
    assert error.status == 500
    assert [r.method for r in emulator.requests] == ["POST"] * 3


# Status callbacks


async def test_status_callbacks_signed_in_order(
    emulator: TwilioSmsEmulator, client: Client, service: FakeService
) -> None:
    callback = f"{service.url}/twilio/status"
    message = await send(client, status_callback=callback)
    assert message.status == "queued"
    await emulator.wait_for_callbacks()

    assert [c["MessageStatus"] for c in service.callbacks] == ["sent", "delivered"]
    assert all(service.signatures_valid)
    first, last = service.callbacks
    assert first["MessageSid"] == first["SmsSid"] == message.sid
    assert first["SmsStatus"] == "sent" and first["AccountSid"] == emulator.account_sid
    assert (first["From"], first["To"], first["ApiVersion"]) == (OUR_NUMBER, PERSON, "2010-04-01")
    assert "ErrorCode" not in last and "MessagingServiceSid" not in last
    assert emulator.callback_results == [
        (message.sid, "sent", 204),
        (message.sid, "delivered", 204),
    ]
    assert emulator.sent[-1].status == "delivered"

    # Through a Messaging Service the message starts "accepted", so "queued" is reported.
    service.callbacks.clear()
    await send(
        client, messaging_service_sid=emulator.messaging_service_sid, status_callback=callback
    )
    await emulator.wait_for_callbacks()
    assert [c["MessageStatus"] for c in service.callbacks] == ["queued", "sent", "delivered"]
    assert service.callbacks[0]["MessagingServiceSid"] == emulator.messaging_service_sid


async def test_unreachable_phone_ends_undelivered(
    emulator: TwilioSmsEmulator, client: Client, service: FakeService
) -> None:
    emulator.set_unreachable(PERSON)
    message = await send(client, status_callback=f"{service.url}/twilio/status")
    assert message.status == "queued"  # accepted: the failure comes later
    await emulator.wait_for_callbacks()
    assert [c["MessageStatus"] for c in service.callbacks] == ["sent", "undelivered"]
    assert service.callbacks[-1]["ErrorCode"] == "30003"
    assert "ErrorCode" not in service.callbacks[0]
    assert all(service.signatures_valid)
    assert emulator.phone(PERSON).received == []
    fetched = await client.messages(message.sid).fetch_async()
    assert (fetched.status, fetched.error_code) == ("undelivered", 30003)

    emulator.set_unreachable("+994551112233", code=30001)  # queue overflow: never sent
    await send(client, to="+994551112233", status_callback=f"{service.url}/twilio/status")
    await emulator.wait_for_callbacks()
    assert service.callbacks[-1]["MessageStatus"] == "failed"
    assert service.callbacks[-1]["ErrorCode"] == "30001"


async def test_stop_cancels_pending_callbacks(service: FakeService) -> None:
    async with TwilioSmsEmulator(callback_delay=30.0) as emu:
        client = make_client(emu)
        try:
            message = await send(client, status_callback=f"{service.url}/twilio/status")
        finally:
            await client.http_client.close()  # type: ignore[attr-defined]
        started = time.monotonic()
    assert time.monotonic() - started < 2
    assert emu.callback_results == [] and service.callbacks == []
    assert emu.sent[0].sid == message.sid and emu.sent[0].status == "queued"


# Phones texting the service


async def test_inbound_sms_is_signed_for_the_exact_url(
    emulator: TwilioSmsEmulator, service: FakeService
) -> None:
    emulator.inbound_webhook_url = f"{service.url}/twilio/sms?campaign=youth&lang=az"
    phone = emulator.phone(PERSON)
    assert await phone.send("Salam! 2") == 200
    assert phone.last_status == 200 and phone.last_response_body == "<Response/>"

    (params,) = service.inbound
    assert service.inbound_urls == [emulator.inbound_webhook_url]
    assert service.signatures_valid == [True]
    assert SID_RE.fullmatch(params["MessageSid"])
    assert params["SmsSid"] == params["SmsMessageSid"] == params["MessageSid"]
    assert params["From"] == PERSON and params["To"] == OUR_NUMBER
    assert params["Body"] == "Salam! 2" and params["NumMedia"] == "0"
    assert params["NumSegments"] == "1" and params["SmsStatus"] == "received"
    assert params["AccountSid"] == emulator.account_sid
    assert params["MessagingServiceSid"] == emulator.messaging_service_sid
    assert params["ApiVersion"] == "2010-04-01" and params["FromCountry"] == "AZ"
    assert "OptOutType" not in params
    # The signature covers the query string: without it the check fails.
    validator = RequestValidator(emulator.auth_token)
    signature = twilio_signature(emulator.auth_token, emulator.inbound_webhook_url, params)
    assert validator.compute_signature(emulator.inbound_webhook_url, params) == signature
    assert not validator.validate(f"{service.url}/twilio/sms", params, signature)

    # Twilio retrying: the same MessageSid, again validly signed.
    assert await phone.resend_last() == 200
    assert service.inbound[1] == params and service.signatures_valid == [True, True]
    assert phone.inbound == [params]

    service.inbound_status = 500
    assert await phone.send("again", to=OUR_NUMBER) == 500 and phone.last_status == 500
    assert service.inbound[-1]["MessageSid"] != params["MessageSid"]


async def test_inbound_needs_a_webhook_url(emulator: TwilioSmsEmulator) -> None:
    with pytest.raises(RuntimeError, match="inbound_webhook_url"):
        await emulator.phone(PERSON).send("hi")
    with pytest.raises(ValueError, match="not one of the emulator's numbers"):
        await emulator.phone(PERSON).send("hi", to="+15005550009")
    with pytest.raises(ValueError, match=r"E\.164"):
        emulator.phone("0501234567")


async def test_next_message_cursor_and_timeout(emulator: TwilioSmsEmulator, client: Client) -> None:
    phone: EmulatedPhone = emulator.phone(PERSON)
    with pytest.raises(TimeoutError, match=r"\+994501234567 no new SMS within 0.05 s"):
        await phone.next_message(timeout=0.05)

    await send(client, body="first")
    await send(client, body="second")
    assert (await phone.next_message()).body == "first"
    assert (await phone.next_message()).body == "second"

    waiting = asyncio.ensure_future(phone.next_message(timeout=2))
    await asyncio.sleep(0)
    await send(client, body="third")
    assert (await waiting).body == "third"
    with pytest.raises(TimeoutError, match="3 received; the last was 'third'"):
        await phone.next_message(timeout=0.01)


async def test_stop_then_start(
    emulator: TwilioSmsEmulator, client: Client, service: FakeService
) -> None:
    phone = emulator.phone(PERSON)
    assert await phone.send("Stop please") == 200  # not a keyword: a message like any other
    assert not emulator.is_opted_out(PERSON)

    assert await phone.send("  stop ") == 200
    assert service.inbound[-1]["Body"] == "  stop " and service.inbound[-1]["OptOutType"] == "STOP"
    assert emulator.is_opted_out(PERSON)
    assert emulator.auto_replies[-1].to == PERSON
    assert emulator.auto_replies[-1].body.startswith("You have successfully been unsubscribed")
    error = await rest_error(client)
    assert (error.status, error.code) == (400, 21610)
    assert phone.received == []

    await phone.send("Start")
    assert service.inbound[-1]["OptOutType"] == "START"
    assert not emulator.is_opted_out(PERSON)
    assert "re-subscribed" in emulator.auto_replies[-1].body
    await send(client, body="Welcome back")
    assert phone.last is not None and phone.last.body == "Welcome back"

    for keyword in ("STOPALL", "unsubscribe", "Cancel", "END", "quit", "revoke", "OPTOUT"):
        await phone.send(keyword)
        assert emulator.is_opted_out(PERSON), keyword
        await phone.send("yes")
        assert not emulator.is_opted_out(PERSON)
    await phone.send("HELP")
    assert service.inbound[-1]["OptOutType"] == "HELP" and not emulator.is_opted_out(PERSON)


async def test_twiml_reply_reaches_the_phone(
    emulator: TwilioSmsEmulator, service: FakeService
) -> None:
    service.twiml = "<Response><Message>Təşəkkürlər! Next question?</Message></Response>"
    phone = emulator.phone(PERSON)
    await phone.send("1")
    reply = await phone.next_message(timeout=1)
    assert reply.body == "Təşəkkürlər! Next question?" and reply.direction == "outbound-reply"
    assert (reply.from_, reply.to, reply.encoding) == (OUR_NUMBER, PERSON, "UCS-2")

    await phone.send("STOP")  # a reply to STOP is blocked: the number just opted out
    assert len(phone.received) == 1


async def test_many_concurrent_sends(emulator: TwilioSmsEmulator, client: Client) -> None:
    numbers = [f"+99450{i:07d}" for i in range(300)]
    messages = await asyncio.gather(*(send(client, to=n, body=f"Q1 {n}") for n in numbers))
    assert len({m.sid for m in messages}) == 300
    assert all(emulator.messages_to(n)[0].body == f"Q1 {n}" for n in numbers)
