"""The SMS channel end to end: signed webhooks from the Twilio emulator, the real twilio client.

A "phone" texts the service through the emulator, which signs its webhook as
Twilio does; the service answers through twilio's REST client, pointed at the
emulator; delivery statuses come back as signed callbacks.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner
from pydantic import SecretStr
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from outreach.app import Outreach, running
from outreach.cli import main as cli
from outreach.emulators.twilio_sms import EmulatedPhone, TwilioSmsEmulator
from outreach.settings import Settings
from storage.models import Answer, ChannelIdentity, OutboundMessage, Respondent
from tests.conftest import EXAMPLE_SURVEYS, free_port

pytestmark = pytest.mark.storage

NUMBER = "+994501234567"
PSEUDONYM_SECRET = "p3Xq9T_xRb2mYp4Lc8Vn-Hd6Jf1Gs5Qe7aKw0"


@pytest.fixture
async def twilio() -> AsyncIterator[TwilioSmsEmulator]:
    async with TwilioSmsEmulator(numbers=("+15005550006",)) as emulator:
        yield emulator


@pytest.fixture
def make_settings(database_url: str, twilio: TwilioSmsEmulator) -> Callable[..., Settings]:
    def build(**overrides: object) -> Settings:
        port = free_port()
        values: dict[str, object] = {
            "database_url": database_url,
            "twilio_account_sid": twilio.account_sid,
            "twilio_auth_token": SecretStr(twilio.auth_token),
            "twilio_from_number": "+15005550006",
            "twilio_api_base_url": twilio.base_url,
            "public_base_url": f"http://127.0.0.1:{port}",
            "pseudonym_secret": SecretStr(PSEUDONYM_SECRET),
            "surveys_dir": EXAMPLE_SURVEYS,
            "port": port,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[arg-type, call-arg]

    return build


@pytest.fixture
async def service(
    make_settings: Callable[..., Settings], twilio: TwilioSmsEmulator
) -> AsyncIterator[Outreach]:
    settings = make_settings()
    async with running(settings, "127.0.0.1", settings.port) as outreach:
        twilio.inbound_webhook_url = f"{settings.public_base_url}/twilio/sms"
        yield outreach


async def text(phone: EmulatedPhone, body: str) -> str:
    """Send an SMS and wait for the service's answer to it."""
    status = await phone.send(body)
    assert status == 200, phone.last_response_body
    return (await phone.next_message()).body


async def count(outreach: Outreach, model: type) -> int:
    return await outreach.db.read(
        lambda s: int(s.scalar(select(func.count()).select_from(model)) or 0)
    )


async def join(phone: EmulatedPhone) -> str:
    """JOIN and onboard in English; returns the survey menu."""
    first = await text(phone, "JOIN")
    assert "STOP" in first
    await text(phone, "3")  # English
    await text(phone, "1")  # I agree
    await text(phone, "Baku")
    return await text(phone, "18-24")


async def test_a_whole_survey_by_sms_then_stop_and_come_back(
    service: Outreach, twilio: TwilioSmsEmulator, database_url: str
) -> None:
    phone = twilio.phone(NUMBER)
    menu = await join(phone)
    assert "Open surveys:" in menu and "Reply with a number." in menu
    first = await text(phone, "1")  # public_services (surveys are listed by id)
    assert "1/6" in first and "1. " in first and "Reply a number from 1 to 7." in first
    assert "2/6" in await text(phone, " 1 ")
    assert "3/6" in await text(phone, "5.")
    reprompt = await text(phone, "about an hour")
    assert reprompt.startswith("Please type a number.") and "3/6" in reprompt
    assert "4/6" in await text(phone, "45")
    multiple = await text(phone, "yes")
    assert "5/6" in multiple and "Reply with up to 2 numbers, e.g. 1,3." in multiple

    # STOP: Twilio confirms its own word; nothing more comes from us until START.
    await phone.send("STOP")
    assert twilio.is_opted_out(NUMBER)
    sent_before = len(phone.received)
    await phone.send("1,2")
    await asyncio.sleep(0.2)
    await service.sms_webhooks.close()  # type: ignore[union-attr]
    assert len(phone.received) == sent_before
    assert await count(service, Answer) == 5  # the answer still counts: they wrote it

    back = await text(phone, "START")
    assert back.startswith("Welcome back!") and "6/6" in back
    final = await text(phone, "SKIP")
    assert final.startswith("Thank you")
    assert await count(service, Answer) == 5

    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        ["results", "public_services", "--json", "--by", "channel"],
        env={"DATABASE_URL": database_url},
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["completed"] == {"count": None, "text": "<5"}  # one person
    (by_channel,) = document["breakdowns"][:1]
    assert [s["segment"] for s in by_channel["segments"]] == [{"channel": "sms"}]


async def test_localized_stop_is_confirmed_in_the_persons_language(
    service: Outreach, twilio: TwilioSmsEmulator
) -> None:
    phone = twilio.phone(NUMBER)
    await join(phone)
    confirmation = await text(phone, "DAYAN")
    assert "START" in confirmation
    assert await service.db.read(
        lambda s: s.scalar(select(ChannelIdentity.opted_out_at)) is not None
    )


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("HELP", "START"),
        ("INFO", "START"),
        ("KÖMƏK", "START"),
        ("ПОМОЩЬ", "START"),
        ("POMOSHCH", "START"),
    ],
    ids=["help-en", "info-en", "help-az", "help-ru", "help-ru-transliterated"],
)
async def test_help_words(
    service: Outreach, twilio: TwilioSmsEmulator, word: str, expected: str
) -> None:
    answer = await text(twilio.phone(NUMBER), word)
    assert expected in answer


@pytest.mark.parametrize(
    "word", ["STOP", "stop", "Stop.", "UNSUBSCRIBE", "CANCEL", "DAYAN", "СТОП"], ids=str
)
async def test_stop_words_opt_out(service: Outreach, twilio: TwilioSmsEmulator, word: str) -> None:
    phone = twilio.phone(NUMBER)
    await join(phone)
    assert await phone.send(word) == 200
    stopped = await service.db.read(lambda s: s.scalar(select(ChannelIdentity.opted_out_at)))
    assert stopped is not None


@pytest.mark.parametrize("word", ["START", "JOIN", "BAŞLA", "СТАРТ"], ids=str)
async def test_join_words_opt_back_in(
    service: Outreach, twilio: TwilioSmsEmulator, word: str
) -> None:
    phone = twilio.phone(NUMBER)
    await join(phone)
    await phone.send("DAYAN")
    await phone.next_message()
    answer = await text(phone, word)
    assert answer.startswith("Welcome back!")
    stopped = await service.db.read(lambda s: s.scalar(select(ChannelIdentity.opted_out_at)))
    assert stopped is None


def _signed(url: str, params: dict[str, str], token: str) -> str:
    return RequestValidator(token).compute_signature(url, params)


def _inbound(
    sid: str = "SM" + "a" * 32, sender: str = NUMBER, body: str = "JOIN"
) -> dict[str, str]:
    return {"MessageSid": sid, "From": sender, "To": "+15005550006", "Body": body}


@pytest.mark.parametrize(
    ("params", "signature", "status"),
    [
        (_inbound(), "valid", 200),
        (_inbound(), "wrong", 403),
        (_inbound(), "missing", 403),
        ({"From": NUMBER, "Body": "JOIN"}, "valid", 400),
        ({"MessageSid": "SM" + "b" * 32, "Body": "JOIN"}, "valid", 400),
        (_inbound(sender="12"), "valid", 400),
        (_inbound(sender="not a number"), "valid", 400),
    ],
    ids=[
        "valid",
        "wrong-signature",
        "missing-signature",
        "no-message-sid",
        "no-from",
        "invalid-number",
        "garbage-number",
    ],
)
async def test_inbound_webhook_table(
    service: Outreach,
    twilio: TwilioSmsEmulator,
    params: dict[str, str],
    signature: str,
    status: int,
) -> None:
    url = f"{service.settings.public_base_url}/twilio/sms"
    headers = {}
    if signature == "valid":
        headers["X-Twilio-Signature"] = _signed(url, params, twilio.auth_token)
    elif signature == "wrong":
        headers["X-Twilio-Signature"] = _signed(url, params, "0" * 32)
    async with (
        aiohttp.ClientSession() as client,
        client.post(url, data=params, headers=headers) as response,
    ):
        assert response.status == status
        body = await response.text()
    if status == 200:
        assert body.startswith("<?xml") and "<Response/>" in body
    else:
        assert await count(service, Respondent) == 0


async def test_not_a_form_is_refused(service: Outreach) -> None:
    url = f"{service.settings.public_base_url}/twilio/sms"
    async with (
        aiohttp.ClientSession() as client,
        client.post(url, json={"MessageSid": "x"}) as response,
    ):
        assert response.status == 403


async def test_a_retried_message_sid_counts_once(
    service: Outreach, twilio: TwilioSmsEmulator
) -> None:
    phone = twilio.phone(NUMBER)
    await join(phone)
    await text(phone, "2")
    await text(phone, "1")
    assert await count(service, Answer) == 1
    assert await phone.resend_last() == 200
    await asyncio.sleep(0.1)
    assert await count(service, Answer) == 1


async def test_an_opted_out_number_gets_nothing_from_any_sender(
    service: Outreach, twilio: TwilioSmsEmulator
) -> None:
    from polls.errors import SendError

    phone = twilio.phone(NUMBER)
    await join(phone)
    await phone.send("STOP")
    assert service.sms is not None
    with pytest.raises(SendError) as refused:
        await service.sms.send(NUMBER, "A campaign message")
    assert refused.value.reason == "opted_out" and not refused.value.retryable
    assert all(m.body != "A campaign message" for m in phone.received)


async def test_twilio_refusals_become_typed_errors(
    service: Outreach, twilio: TwilioSmsEmulator
) -> None:
    from polls.errors import SendError

    assert service.sms is not None
    twilio.opt_out("+994501111111")
    with pytest.raises(SendError) as opted_out:
        await service.sms.send("+994501111111", "hello")
    assert opted_out.value.reason == "opted_out" and opted_out.value.code == 21610
    twilio.fail_next(status=500, code=20500)
    with pytest.raises(SendError) as broken:
        await service.sms.send("+994502222222", "hello")
    assert broken.value.retryable and broken.value.reason == "provider"
    assert len([m for m in twilio.sent if m.to == "+994502222222"]) == 0  # not resent by the client


async def test_delivery_statuses_are_recorded(service: Outreach, twilio: TwilioSmsEmulator) -> None:
    phone = twilio.phone(NUMBER)
    await text(phone, "JOIN")
    await twilio.wait_for_callbacks()
    statuses = await service.db.read(lambda s: list(s.scalars(select(OutboundMessage.status))))
    assert statuses == ["delivered"]
    twilio.set_unreachable("+994503333333", code=30003)
    assert service.sms is not None
    await service.sms.send("+994503333333", "hello")
    await twilio.wait_for_callbacks()
    rows = await service.db.read(
        lambda s: s.execute(
            select(OutboundMessage.status, OutboundMessage.error_code).where(
                OutboundMessage.address == "+994503333333"
            )
        ).all()
    )
    assert [tuple(r) for r in rows] == [("undelivered", 30003)]


async def test_forged_status_callbacks_change_nothing(service: Outreach) -> None:
    url = f"{service.settings.public_base_url}/twilio/status"
    async with (
        aiohttp.ClientSession() as client,
        client.post(url, data={"MessageSid": "SM1", "MessageStatus": "delivered"}) as response,
    ):
        assert response.status == 403


async def test_transliteration_makes_sms_gsm7(
    make_settings: Callable[..., Settings], twilio: TwilioSmsEmulator
) -> None:
    settings = make_settings(sms_transliterate=True, default_language="az")
    async with running(settings, "127.0.0.1", settings.port):
        twilio.inbound_webhook_url = f"{settings.public_base_url}/twilio/sms"
        phone = twilio.phone(NUMBER)
        await text(phone, "JOIN")
        consent = await text(phone, "1")  # Azərbaycan
        assert "ə" not in consent and "ş" not in consent
        assert phone.last is not None and phone.last.encoding == "GSM-7"


def test_sms_cost_command() -> None:
    result = CliRunner().invoke(cli, ["sms", "cost", "Salam! Necəsiniz?", "--language", "az"])
    assert result.exit_code == 0, result.output
    assert "UCS-2" in result.output and "GSM-7" in result.output
    assert "ə" in result.output  # names the character that forces UCS-2


async def test_phone_linking_counts_one_person_once(
    service: Outreach, twilio: TwilioSmsEmulator, tmp_path: Path
) -> None:
    phone = twilio.phone(NUMBER)
    await join(phone)
    await text(phone, "2")  # youth_priorities
    await text(phone, "4")
    conversation = service.conversation
    from polls.messages import Channel, Inbound, InboundKind

    async def telegram(kind: InboundKind, value: str, argument: str = "") -> list[str]:
        key = f"t{kind}{value}{argument}"
        reply = await conversation.handle(
            Inbound(Channel.TELEGRAM, "777", kind, value, argument, dedup_key=key)
        )
        return [m.text for m in reply.messages]

    await telegram(InboundKind.COMMAND, "start")
    for answer in ("English", "1", "Baku", "18–24", "Prefer not to say"):
        await telegram(InboundKind.TEXT, answer)
    await telegram(InboundKind.COMMAND, "phone")
    linked = await telegram(InboundKind.CONTACT, "994501234567")
    assert "linked" in linked[0]
    assert await count(service, Respondent) == 1
    channels = await service.db.read(lambda s: set(s.scalars(select(ChannelIdentity.channel))))
    assert channels == {"sms", "telegram"}
    again = await telegram(InboundKind.COMMAND, "start", "youth_priorities")
    assert any("Let's continue" in t and "2/5" in t for t in again)
    assert await count(service, Answer) == 1
