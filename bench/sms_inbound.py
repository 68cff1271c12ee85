"""SMS inbound benchmark: many phones answering a 5-question survey by SMS at once.

The service runs in its own process as in production: Twilio's signed webhook
-> signature check -> dialogue -> SQLite -> reply through the real twilio REST
client -> signed delivery callbacks back into the service. This process plays
Twilio and the phones (the Twilio emulator). An answer's latency runs from the
moment it was due until the reply SMS reaches the phone. The same load against
a bare route that only writes the raw request to the same database is the
baseline. Also: the SMS segments transliteration saves on the example surveys.

    python bench/sms_inbound.py [--people 1000] [--rate 500]

Ends with one JSON line of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.inbound import BENCH_SURVEY, TYPED  # noqa: E402
from bench.load import (  # noqa: E402
    closed_loop,
    free_port,
    gather_limited,
    open_loop,
    run_baseline,
)
from outreach.emulators.twilio_sms import EmulatedPhone, TwilioSmsEmulator  # noqa: E402

OUR_NUMBER = "+15005550006"
IN_FLIGHT = 100


def run_service(database_url: str, surveys_dir: str, api_base: str, port: int) -> None:
    """The real service, SMS only, in this (child) process until terminated."""
    import logging

    from pydantic import SecretStr

    from outreach.app import running
    from outreach.settings import Settings

    logging.basicConfig(level=logging.WARNING)
    emulator = TwilioSmsEmulator()  # only for its default credentials
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        twilio_account_sid=emulator.account_sid,
        twilio_auth_token=SecretStr(emulator.auth_token),
        twilio_from_number=OUR_NUMBER,
        twilio_api_base_url=api_base,
        public_base_url=f"http://127.0.0.1:{port}",
        pseudonym_secret=SecretStr("bench_Z3kq9T_xRb2mYp4Lc8Vn-Hd6Jf1Gs5Qe7aKw0"),
        surveys_dir=Path(surveys_dir),
        port=port,
    )

    async def serve() -> None:
        async with running(settings, "127.0.0.1", port):
            await asyncio.Event().wait()

    asyncio.run(serve())


async def text(phone: EmulatedPhone, body: str) -> bool:
    """Send an SMS and wait for the reply to reach the phone."""
    status = await phone.send(body)
    await phone.next_message(timeout=60)
    return status == 200


async def onboard(phone: EmulatedPhone) -> None:
    for body in ("JOIN", "3", "1", "Baku", "18-24", "1"):
        await text(phone, body)


async def answer_with_reply(phone: EmulatedPhone, step: int) -> bool:
    return await text(phone, TYPED[step])


async def answer_only(phone: EmulatedPhone, step: int) -> bool:
    return await phone.send(TYPED[step]) == 200


def transliteration_savings() -> dict[str, Any]:
    """Segments a person receives for each example survey, as written and transliterated."""
    from outreach.sms.survey_cost import survey_sms_costs
    from polls.survey_loader import load_survey_file

    savings: dict[str, Any] = {}
    for path in sorted((ROOT / "surveys").glob("*.yaml")):
        survey = load_survey_file(path)
        for language in ("az", "ru", "en"):
            costs = survey_sms_costs(survey, [language])
            before = sum(c.as_written.segments for c in costs)
            after = sum(c.transliterated.segments for c in costs)
            savings[f"{survey.id}.{language}"] = {
                "segments": before,
                "transliterated": after,
                "saved_share": round(1 - after / before, 3) if before else 0.0,
            }
    return savings


async def bench(people: int, rate: float) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-sms-"))
    surveys = work / "surveys"
    surveys.mkdir()
    (surveys / "bench5.yaml").write_text(BENCH_SURVEY, encoding="utf-8")
    database_url = f"sqlite+aiosqlite:///{work / 'bench.db'}"
    spawn = multiprocessing.get_context("spawn")
    figures: dict[str, Any] = {"people": people, "offered_rate": rate, "cpus": os.cpu_count()}
    steps = len(TYPED)

    async with TwilioSmsEmulator(numbers=(OUR_NUMBER,)) as twilio:
        port = free_port()
        service = spawn.Process(
            target=run_service, args=(database_url, str(surveys), twilio.base_url, port)
        )
        service.start()
        print(f"service pid {service.pid}", flush=True)
        try:
            twilio.inbound_webhook_url = f"http://127.0.0.1:{port}/twilio/sms"
            await _wait_for_port(port)
            crowd = [twilio.phone(f"+99450{1_000_000 + i}") for i in range(people * 2)]
            print(f"onboarding {len(crowd)} phones ...", flush=True)
            await gather_limited([onboard(p) for p in crowd], IN_FLIGHT)
            print(f"open loop at {rate:.0f} answers/s ...", flush=True)
            figures["service_open_loop"] = await open_loop(
                crowd[:people], steps, rate, answer_with_reply
            )
            print("closed loop, as fast as it goes ...", flush=True)
            figures["service_max"] = await closed_loop(
                crowd[people:], steps, IN_FLIGHT, answer_with_reply
            )
            await twilio.wait_for_callbacks()
        finally:
            service.terminate()
            service.join()

        port = free_port()
        baseline = spawn.Process(target=run_baseline, args=(database_url, port, "/twilio/sms"))
        baseline.start()
        try:
            twilio.inbound_webhook_url = f"http://127.0.0.1:{port}/twilio/sms"
            await _wait_for_port(port)
            crowd = [twilio.phone(f"+99455{1_000_000 + i}") for i in range(people * 2)]
            print("baseline ...", flush=True)
            figures["baseline_open_loop"] = await open_loop(
                crowd[:people], steps, rate, answer_only
            )
            figures["baseline_max"] = await closed_loop(
                crowd[people:], steps, IN_FLIGHT, answer_only
            )
        finally:
            baseline.terminate()
            baseline.join()

    figures["max_ratio_to_baseline"] = round(
        figures["service_max"]["answers_per_s"] / figures["baseline_max"]["answers_per_s"], 3
    )
    figures["goal_answers_per_s"] = 1000
    figures["transliteration"] = transliteration_savings()
    return figures


async def _wait_for_port(port: int) -> None:
    async with asyncio.timeout(60):
        while True:
            try:
                _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            writer.close()
            return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=1000, help="phones per phase")
    parser.add_argument("--rate", type=float, default=500.0, help="offered answers per second")
    args = parser.parse_args()
    figures = asyncio.run(bench(args.people, args.rate))
    for phase in ("service_open_loop", "service_max", "baseline_open_loop", "baseline_max"):
        print(f"{phase:>20}: {figures[phase]}")
    for survey, saving in figures["transliteration"].items():
        print(f"{survey:>28}: {saving}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
