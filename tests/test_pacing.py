"""The pacer keeps to a platform's limits and lets replies go first."""

from __future__ import annotations

import asyncio

import pytest

from polls.pacing import Pacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Time that moves only when the pacer sleeps, so tests are exact and instant."""
    fake = FakeClock()
    real_sleep = asyncio.sleep

    async def sleep(seconds: float) -> None:
        fake.now += seconds
        await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    return fake


async def test_overall_rate_is_kept(clock: FakeClock) -> None:
    pacer = Pacer(30, clock=clock)
    for _ in range(3):  # a full bucket: a tenth of a second's worth at once
        await pacer.acquire(bulk=True)
    assert clock.now == 0
    for _ in range(300):
        await pacer.acquire(bulk=True)
    assert clock.now == pytest.approx(10.0, rel=0.01)  # then 30 a second


async def test_one_recipient_gets_a_short_burst_then_one_a_second(clock: FakeClock) -> None:
    pacer = Pacer(None, per_recipient=1.0, recipient_burst=3, clock=clock)
    for _ in range(3):
        await pacer.acquire("chat-1")
    assert clock.now == 0
    await pacer.acquire("chat-1")
    assert clock.now == pytest.approx(1.0)
    await pacer.acquire("chat-2")  # another chat is not held up
    assert clock.now == pytest.approx(1.0)


async def test_a_pause_holds_everyone(clock: FakeClock) -> None:
    pacer = Pacer(1000, clock=clock)
    pacer.pause(5.0)
    await pacer.acquire()
    assert clock.now >= 5.0


async def test_replies_go_before_bulk_sends() -> None:
    pacer = Pacer(20)  # real time: 50 ms a slot once the bucket is empty
    for _ in range(2):
        await pacer.acquire(bulk=True)
    order: list[str] = []

    async def send(kind: str) -> None:
        await pacer.acquire(bulk=kind == "bulk")
        order.append(kind)

    bulk = [asyncio.create_task(send("bulk")) for _ in range(3)]
    await asyncio.sleep(0)  # the bulk sends are already waiting
    reply = asyncio.create_task(send("reply"))
    await asyncio.gather(reply, *bulk)
    assert order[0] == "reply"


async def test_no_limit_never_waits() -> None:
    pacer = Pacer(None)
    for _ in range(10_000):
        await pacer.acquire("x", bulk=True)
    assert pacer.waited == 0
