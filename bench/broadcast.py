"""Broadcast benchmark: campaigns sent at the platform's pace, the dispatch path's headroom, memory.

Three measurements, in one run, each on a fresh SQLite database in a temporary
folder. The service runs in its own process exactly as in production (aiohttp,
python-telegram-bot over aiohttp, the campaign scheduler and dispatcher, SQLite);
this process plays Telegram with the Bot API emulator, which records the moment
each message was taken and answers 429 (retry_after) over its flood limits.

* pacing: N people (with consent and a Telegram identity, bulk-inserted) and an
  announcement to all of them, sent now (window 00:00-23:59). The emulator
  enforces a global limit of 30 msg/s (Telegram's) and then 1,000 msg/s (paid
  broadcasts), 1/s per chat (each person gets one message); the service runs with
  TELEGRAM_RATE set to the same limit. Both token buckets start full, so the first
  second may burst: the achieved rate is the steady one, counted from the emulator's
  own timestamps of the messages it took from one second after the first, to the
  last ((messages - 1) / time between the first and the last of them). Goal: at
  least 0.97 of the limit, with zero 429 answers.
* headroom: the emulator's limits off, 20,000 people. First the service as
  configured at TELEGRAM_RATE=1000 (the settings' maximum), then the same service
  with the campaign route's pacer replaced by ``Pacer(None)`` ("unpaced"): every
  message goes the whole way, pacer slot -> durable 'sending' mark (group commit)
  -> python-telegram-bot -> HTTP -> the emulator -> durable 'sent' mark. The send
  rate is from the first to the last message the emulator took; the durable rate
  runs until every outbox row reads 'sent'. Checks: every row 'sent', each chat
  messaged exactly once. Goal: at least 2,000 msg/s unpaced.
* memory: 1,000,000 people in SQLite, then ``fill_run`` writes the campaign's
  outbox in a fresh (spawned) process, whose peak resident memory is read once it
  is set up (imports, engine, the run created) and again after the fill: the peak,
  and what the fill added; and the fill's rows/s. Then a dispatch dry run (no-op
  send, ``Pacer(None)``) works through that outbox for a bounded time, to show
  dispatch memory stays flat. Goal: peak under 200 MB. The peak is the process's
  VmHWM, not ``ru_maxrss``: getrusage's figures survive exec, so a spawned child
  would report its parent's peak as its own.

Each run also reports the service's CPU time per message (from /proc, counted from
scheduling to the last 'sent' mark, so it includes writing the outbox) and this
process's (the emulator's). The service's scheduler looks for newly scheduled
campaigns every 5 s: the first message goes out up to 5 s after scheduling, which
no rate counts.

    python bench/broadcast.py            # full: 600 and 10,000, 20,000, 1,000,000 (7 min,
                                         # most of it fill_run writing 1,000,000 rows)
    python bench/broadcast.py --quick    # 240 and 4,000, 5,000, 100,000: about a minute
    python bench/broadcast.py --only pacing,headroom --messages 40000 --keep

Prints figures as it goes and ends with one JSON line. For comparison: RapidPro
sends on Telegram at 10 msg/s by default.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import free_port, wait_until  # noqa: E402
from outreach.emulators.telegram_bot_api import TelegramBotApiEmulator  # noqa: E402

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET = "bench_Z3kq9T_xRb2mYp4Lc8Vn-Hd6Jf1Gs5Qe7aKw0"
CAMPAIGN_ID = "bench_broadcast"
USER_BASE = 10_000_000
"""Telegram user id of respondent ``i``: USER_BASE + i."""
LANGUAGES = ("az", "ru", "en")
REGIONS = ("baku", "absheron-khizi", "ganja-dashkasan", "lankaran-astara", "shaki-zagatala")
RAPIDPRO_DEFAULT_RATE = 10
KEEP = {"files": False}
"""--keep: leave each phase's database folder in place (printed) for a look afterwards."""
GOAL_RATIO = 0.97
GOAL_MESSAGES_PER_S = 2000
GOAL_PEAK_MB = 200

CAMPAIGN = {
    "id": CAMPAIGN_ID,
    "kind": "announcement",
    "name": "Benchmark broadcast",
    "languages": list(LANGUAGES),
    "text": {
        "az": "Gənclər forumu şənbə günü saat 11:00-da keçiriləcək. Hamını dəvət edirik!",
        "ru": "Молодёжный форум пройдёт в субботу в 11:00. Приглашаем всех!",
        "en": "The youth forum takes place on Saturday at 11:00. Everyone is welcome!",
    },
    # The whole day, so the wall clock does not matter (but see wait_for_window).
    "window": {"start": "00:00", "end": "23:59"},
}


# ---------------------------------------------------------------- the database


def sqlite_path(database_url: str) -> str:
    return database_url.split(":///", 1)[1]


def sqlite_stamp(moment: datetime) -> str:
    """A date-time as the service's SQLAlchemy models store it in SQLite."""
    from sqlalchemy.dialects import sqlite

    process = sqlite.DATETIME().bind_processor(sqlite.dialect())
    assert process is not None
    return str(process(moment.astimezone(UTC).replace(tzinfo=None)))


async def create_database(work: Path) -> str:
    from storage.database import Database

    database_url = f"sqlite+aiosqlite:///{work / 'bench.db'}"
    db = Database(database_url)
    await db.migrate()
    await db.dispose()
    return database_url


ADD_RESPONDENTS = (
    "WITH RECURSIVE n(i) AS (SELECT :low UNION ALL SELECT i + 1 FROM n WHERE i < :high) "
    "INSERT INTO respondents (id, created_at, language, region, age_band, consent_at,"
    " consent_version, last_seen_at) "
    "SELECT i, :stamp,"
    " json_extract(:languages, '$[' || (i % json_array_length(:languages)) || ']'),"
    " json_extract(:regions, '$[' || (i % json_array_length(:regions)) || ']'),"
    " '18_24', :stamp, 'v1', :stamp FROM n"
)
ADD_IDENTITIES = (
    "WITH RECURSIVE n(i) AS (SELECT :low UNION ALL SELECT i + 1 FROM n WHERE i < :high) "
    "INSERT INTO channel_identities (respondent_id, channel, address, created_at) "
    "SELECT i, 'telegram', CAST(i + :user_base AS TEXT), :stamp FROM n"
)


def add_people(
    database_url: str, count: int, *, chunk: int = 100_000, verbose: bool = False
) -> float:
    """``count`` consenting people with a Telegram identity each (ids 1..count); seconds taken.

    Straight SQL (a recursive CTE per chunk of ids): a million people take seconds,
    not the minutes the service's own one-at-a-time path would.
    """
    stamp = sqlite_stamp(datetime(2026, 1, 1, tzinfo=UTC))
    constants = {
        "stamp": stamp,
        "languages": json.dumps(LANGUAGES),
        "regions": json.dumps(REGIONS),
        "user_base": USER_BASE,
    }
    began = time.perf_counter()
    with closing(sqlite3.connect(sqlite_path(database_url), isolation_level=None)) as connection:
        connection.execute("PRAGMA synchronous=NORMAL")
        for low in range(1, count + 1, chunk):
            values = {"low": low, "high": min(count, low + chunk - 1), **constants}
            connection.execute("BEGIN")
            connection.execute(ADD_RESPONDENTS, values)
            connection.execute(ADD_IDENTITIES, values)
            connection.execute("COMMIT")
            if verbose:
                done = values["high"]
                rate = done / (time.perf_counter() - began)
                print(f"  {done:>9,} people ({rate:,.0f}/s)", flush=True)
    return time.perf_counter() - began


async def create_campaign(database_url: str) -> None:
    """The announcement, as a draft (nothing fires until it is scheduled)."""
    from polls.campaign import parse_campaign
    from storage.campaigns import CampaignRepository
    from storage.database import Database

    campaign = parse_campaign(CAMPAIGN)
    db = Database(database_url)
    try:
        await db.write(lambda s: CampaignRepository(s).save(campaign=campaign))
    finally:
        await db.dispose()


def wait_for_window() -> None:
    """The window ends at 23:59 Baku time: in that last minute a send would wait a day."""
    while datetime.now(ZoneInfo("Asia/Baku")).strftime("%H:%M") == "23:59":
        print("waiting for 00:00 in Baku (the campaign's window) ...", flush=True)
        time.sleep(5)


# ---------------------------------------------------------------- service side


def run_service(
    database_url: str,
    surveys_dir: str,
    api_base: str,
    port: int,
    telegram_rate: float,
    unpaced: bool,
    ready: Any,
) -> None:
    """The real service, in this (child) process, until terminated."""
    import logging

    from pydantic import SecretStr

    from outreach.app import running
    from outreach.settings import Settings
    from polls.pacing import Pacer

    logging.basicConfig(level=logging.WARNING)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        telegram_bot_token=SecretStr(TOKEN),
        telegram_api_base_url=api_base,
        telegram_webhook_url=f"http://127.0.0.1:{port}/telegram/webhook",
        telegram_webhook_secret=SecretStr(SECRET),
        pseudonym_secret=SecretStr(SECRET + "p"),
        surveys_dir=Path(surveys_dir),
        port=port,
        telegram_rate=telegram_rate,
    )

    async def serve() -> None:
        async with running(settings, "127.0.0.1", port) as outreach:
            if unpaced:
                # Campaign sends take their slot from the route's pacer only (they pass
                # paced=True to PTB's limiter), so this lifts the limit for them alone.
                assert outreach.dispatcher is not None
                outreach.dispatcher.routes["telegram"].pacer = Pacer(None)
            ready.set()
            await asyncio.Event().wait()

    asyncio.run(serve())


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time of a process so far (Linux), None where unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- Telegram side


class CountingEmulator(TelegramBotApiEmulator):
    """The emulator, noting when each message was taken and each 429 it answered."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.taken: list[tuple[float, int]] = []
        """(time.monotonic(), chat id) of every message created."""
        self.refused: list[float] = []
        """time.monotonic() of every 429 answered."""

    async def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            message = await super()._send_message(params)
        except Exception as error:
            if getattr(error, "status", None) == 429:
                self.refused.append(time.monotonic())
            raise
        self.taken.append((time.monotonic(), message["chat"]["id"]))
        return message


def steady_rate(times: list[float], skip: float = 1.0) -> tuple[float | None, int]:
    """Messages/s from ``skip`` s after the first message to the last, and how many counted."""
    steady = [t for t in times if t >= times[0] + skip]
    if len(steady) < 2 or steady[-1] <= steady[0]:
        return None, len(steady)
    return (len(steady) - 1) / (steady[-1] - steady[0]), len(steady)


def per_second(times: list[float]) -> list[int]:
    """Messages taken in each whole second after the first (the last, partial, left out)."""
    counts = Counter(int(t - times[0]) for t in times)
    whole = int(times[-1] - times[0])
    return [counts.get(second, 0) for second in range(whole)]


async def outbox_counts(db: Any) -> dict[str, int]:
    from storage.campaigns import CampaignRepository

    counts: dict[str, int] = await db.read(
        lambda s: CampaignRepository(s).status_counts(campaign_id=CAMPAIGN_ID)
    )
    return {status: count for status, count in counts.items() if count}


async def broadcast(
    label: str,
    people: int,
    *,
    telegram_rate: float,
    emulator_rate: float | None,
    unpaced: bool = False,
) -> dict[str, Any]:
    """One campaign to ``people`` through the real service; figures as the emulator saw them."""
    from outreach.campaigns.manage import CampaignManager
    from storage.database import Database

    work = Path(tempfile.mkdtemp(prefix=f"bench-broadcast-{label}-"))
    (work / "surveys").mkdir()
    database_url = await create_database(work)
    add_people(database_url, people)
    await create_campaign(database_url)
    spawn = multiprocessing.get_context("spawn")
    ready = spawn.Event()
    per_chat = 1.0 if emulator_rate is not None else None
    async with CountingEmulator(global_rate=emulator_rate, per_chat_rate=per_chat) as emulator:
        for i in range(1, people + 1):
            emulator.user(USER_BASE + i)
        port = free_port()
        service = spawn.Process(
            target=run_service,
            args=(
                database_url,
                str(work / "surveys"),
                emulator.base_url,
                port,
                telegram_rate,
                unpaced,
                ready,
            ),
        )
        service.start()
        print(f"  service pid {service.pid}", flush=True)
        db = Database(database_url)
        try:
            await wait_until(lambda: ready.is_set() and emulator.webhook_url is not None)
            wait_for_window()
            cpu_before = cpu_seconds(service.pid)
            own_cpu_before = time.process_time()
            scheduled = time.monotonic()
            await CampaignManager(db).schedule(CAMPAIGN_ID)
            limit = emulator_rate or telegram_rate
            deadline = scheduled + 3 * people / limit + 60
            shown = scheduled
            while len(emulator.taken) < people:
                now = time.monotonic()
                if now > deadline:
                    raise TimeoutError(f"{label}: {len(emulator.taken)} of {people} sent")
                if not service.is_alive():
                    raise RuntimeError(f"{label}: the service stopped")
                if now - shown >= 2.0:
                    shown = now
                    print(
                        f"  {len(emulator.taken):>7,} / {people:,} sent, "
                        f"{len(emulator.refused)} x 429",
                        flush=True,
                    )
                await asyncio.sleep(0.02)
            # Durable: every row recorded 'sent' (the mark follows the send's answer).
            counts = await outbox_counts(db)
            while counts.get("sent", 0) + counts.get("failed", 0) + counts.get("unknown", 0) < (
                people
            ):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{label}: outbox still {counts}")
                await asyncio.sleep(0.05)
                counts = await outbox_counts(db)
            durable_at = time.monotonic()
            cpu_after = cpu_seconds(service.pid)
            own_cpu = time.process_time() - own_cpu_before
            await asyncio.sleep(0.5)  # a late duplicate would show here
        finally:
            service.terminate()
            service.join()
            await db.dispose()

    done_with(work)
    times = [t for t, _chat in emulator.taken]
    per_chat_counts = Counter(chat for _t, chat in emulator.taken)
    steady, counted = steady_rate(times)
    seconds = per_second(times)
    span = times[-1] - times[0]
    figures: dict[str, Any] = {
        "messages": people,
        "telegram_rate_setting": telegram_rate,
        "emulator_limit": emulator_rate,
        "pacer": "off (Pacer(None) on the campaign route)" if unpaced else f"{telegram_rate:g}/s",
        "sent_per_emulator": len(times),
        "429s": len(emulator.refused),
        "429s_at_s": [round(t - times[0], 2) for t in emulator.refused[:10]],
        "first_send_after_schedule_s": round(times[0] - scheduled, 2),
        "send_span_s": round(span, 3),
        "overall_rate": round((len(times) - 1) / span, 1) if span > 0 else None,
        "steady_rate": round(steady, 1) if steady else None,
        "steady_messages": counted,
        "first_second": seconds[0] if seconds else None,
        "per_second_min": min(seconds[1:]) if len(seconds) > 1 else None,
        "per_second_max": max(seconds[1:]) if len(seconds) > 1 else None,
        "durable_rate": round(people / (durable_at - times[0]), 1),
        "outbox": counts,
        "chats_messaged": len(per_chat_counts),
        "duplicates": sum(n - 1 for n in per_chat_counts.values()),
    }
    if cpu_before is not None and cpu_after is not None:
        figures["service_cpu_s"] = round(cpu_after - cpu_before, 2)
        figures["service_cpu_ms_per_message"] = round(1000 * (cpu_after - cpu_before) / people, 3)
    # This process: the emulator (and a status poll): the other side of each message.
    figures["emulator_cpu_s"] = round(own_cpu, 2)
    return figures


def pacing_figures(run: dict[str, Any], limit: float) -> dict[str, Any]:
    achieved = run["steady_rate"]
    return {
        "limit": limit,
        "achieved": achieved,
        "ratio": round(achieved / limit, 3) if achieved else None,
        "429s": run["429s"],
        "429s_at_s": run["429s_at_s"],
        "messages": run["messages"],
        "overall_rate_with_first_second": run["overall_rate"],
        "first_second": run["first_second"],
        "per_second_min": run["per_second_min"],
        "per_second_max": run["per_second_max"],
        "duplicates": run["duplicates"],
        "outbox": run["outbox"],
        "measured": "emulator timestamps, from 1 s after the first message to the last",
    }


# ---------------------------------------------------------------- memory


def rss_mb() -> float:
    """Resident memory now (Linux), in MB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    """This process's peak resident memory so far, in MB.

    VmHWM (Linux), not ``ru_maxrss``: getrusage's figures are kept across exec, so a
    spawned child starts with its parent's peak as its own (a child using 14 MB
    reports 300 MB when forked from a 300 MB parent). VmHWM belongs to the new program.
    """
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def memory_child(database_url: str, dry_run_seconds: float, results: Any) -> None:
    """Fill the outbox for the whole audience in this fresh process; report its memory."""

    async def main() -> dict[str, Any]:
        from outreach.campaigns.dispatcher import ChannelRoute, Dispatcher
        from outreach.campaigns.filling import fill_run
        from polls.pacing import Pacer
        from storage.campaigns import CampaignRepository
        from storage.database import Database

        db = Database(database_url)
        stored = await db.read(lambda s: CampaignRepository(s).get(campaign_id=CAMPAIGN_ID))
        assert stored is not None
        due = datetime.now(UTC)
        run_id = await db.write(
            lambda s: CampaignRepository(s).create_run(campaign_id=CAMPAIGN_ID, due_at=due)
        )
        assert run_id is not None
        figures: dict[str, Any] = {
            "setup_peak_rss_mb": round(peak_mb(), 1),
            "setup_rss_mb": round(rss_mb(), 1),
        }
        began = time.perf_counter()
        written = await fill_run(
            db, stored.campaign, run_id, due, zones={}, default_zone="Asia/Baku"
        )
        elapsed = time.perf_counter() - began
        figures.update(
            rows=written,
            fill_s=round(elapsed, 1),
            fill_rows_per_s=round(written / elapsed),
            peak_rss_mb=round(peak_mb(), 1),
            rss_after_fill_mb=round(rss_mb(), 1),
        )
        figures["fill_added_mb"] = round(figures["peak_rss_mb"] - figures["setup_peak_rss_mb"], 1)
        if dry_run_seconds > 0:
            await db.write(
                lambda s: CampaignRepository(s).set_status(
                    campaign_id=CAMPAIGN_ID, status="scheduled", only_from=("draft",)
                )
            )

            async def no_send(message: Any, outbound: Any) -> str:
                return f"dry-{message.id}"

            route = ChannelRoute("telegram", "telegram:dry-run", Pacer(None), no_send)
            dispatcher = Dispatcher(db, {"telegram": route}, zone=ZoneInfo("Asia/Baku"))
            began = time.perf_counter()
            await dispatcher.start()
            await asyncio.sleep(dry_run_seconds)
            await dispatcher.stop()
            elapsed = time.perf_counter() - began
            sent = dispatcher.counters.sent
            figures["dispatch_dry_run"] = {
                "seconds": round(elapsed, 1),
                "messages": sent,
                "messages_per_s": round(sent / elapsed),
                "peak_rss_mb": round(peak_mb(), 1),
                "rss_mb": round(rss_mb(), 1),
                "send": "no-op, Pacer(None): the database side of dispatch alone",
            }
        await db.dispose()
        return figures

    results.put(asyncio.run(main()))


def done_with(folder: Path) -> None:
    if KEEP["files"]:
        print(f"  kept {folder}", flush=True)
    else:
        shutil.rmtree(folder, ignore_errors=True)


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir())


async def memory(audience: int, dry_run_seconds: float) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-broadcast-memory-"))
    database_url = await create_database(work)
    print(f"inserting {audience:,} people ...", flush=True)
    insert_s = add_people(database_url, audience, verbose=True)
    await create_campaign(database_url)
    print(f"filling the outbox for {audience:,} people in a fresh process ...", flush=True)
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    child = spawn.Process(target=memory_child, args=(database_url, dry_run_seconds, results))
    child.start()
    figures: dict[str, Any] = await asyncio.to_thread(results.get)
    child.join()
    size = folder_size(work)
    done_with(work)
    return {
        "audience": audience,
        **figures,
        "people_insert_s": round(insert_s, 1),
        "database_mb": round(size / 2**20),
    }


# ---------------------------------------------------------------- the run


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    quick = args.quick
    seconds_30, seconds_1000 = (8, 4) if quick else (20, 10)
    messages = args.messages or (5_000 if quick else 20_000)
    audience = args.audience or (100_000 if quick else 1_000_000)
    only = set(args.only.split(",")) if args.only else {"pacing", "headroom", "memory"}
    figures: dict[str, Any] = {"cpus": os.cpu_count()}

    if "pacing" in only:
        for limit, seconds in ((30, seconds_30), (1000, seconds_1000)):
            people = limit * seconds
            print(f"pacing: {people:,} messages at a {limit}/s limit ...", flush=True)
            run = await broadcast(
                f"pacing{limit}", people, telegram_rate=limit, emulator_rate=limit
            )
            figures[f"pacing_{limit}"] = pacing_figures(run, limit)
            print(f"  {figures[f'pacing_{limit}']}", flush=True)

    if "headroom" in only:
        print(f"headroom: {messages:,} messages, limits off, TELEGRAM_RATE=1000 ...", flush=True)
        paced = await broadcast("paced", messages, telegram_rate=1000, emulator_rate=None)
        print(f"  {paced}", flush=True)
        print(f"headroom: {messages:,} messages, limits off, pacer off ...", flush=True)
        unpaced = await broadcast(
            "unpaced", messages, telegram_rate=1000, emulator_rate=None, unpaced=True
        )
        print(f"  {unpaced}", flush=True)
        figures["headroom"] = {
            "messages": messages,
            "messages_per_s": unpaced["overall_rate"],
            "durable_messages_per_s": unpaced["durable_rate"],
            "unpaced": unpaced,
            "paced_at_1000": paced,
        }

    if "memory" in only:
        figures["memory"] = await memory(audience, 5.0 if quick else 15.0)
        print(f"  {figures['memory']}", flush=True)

    goals: dict[str, Any] = {}
    for limit in (30, 1000):
        pacing = figures.get(f"pacing_{limit}")
        if pacing:
            goals[f"pacing_{limit}"] = {
                "goal": f"ratio >= {GOAL_RATIO} and 0 429s",
                "met": bool(pacing["ratio"] and pacing["ratio"] >= GOAL_RATIO)
                and pacing["429s"] == 0,
            }
    if "headroom" in figures:
        rate = figures["headroom"]["messages_per_s"]
        goals["headroom"] = {
            "goal": f">= {GOAL_MESSAGES_PER_S} msg/s",
            "met": bool(rate and rate >= GOAL_MESSAGES_PER_S),
        }
    if "memory" in figures:
        goals["memory"] = {
            "goal": f"peak < {GOAL_PEAK_MB} MB",
            "met": figures["memory"]["peak_rss_mb"] < GOAL_PEAK_MB,
        }
    figures["goals"] = goals
    figures["rapidpro_default_rate"] = RAPIDPRO_DEFAULT_RATE
    return figures


def summary(figures: dict[str, Any]) -> None:
    print()
    print("Summary")
    for limit in (30, 1000):
        p = figures.get(f"pacing_{limit}")
        if p:
            print(
                f"  pacing at {limit:>4}/s: {p['achieved']} msg/s steady = {p['ratio']} of the "
                f"limit, {p['429s']} x 429 (first second {p['first_second']}, then "
                f"{p['per_second_min']}-{p['per_second_max']} a second)"
            )
    h = figures.get("headroom")
    if h:
        u, p = h["unpaced"], h["paced_at_1000"]
        print(
            f"  headroom, pacer off: {u['overall_rate']} msg/s sent, {u['durable_rate']} msg/s "
            f"durable, outbox {u['outbox']}, {u['duplicates']} duplicates"
        )
        print(
            f"  headroom, TELEGRAM_RATE=1000: {p['overall_rate']} msg/s sent "
            f"(steady {p['steady_rate']}), outbox {p['outbox']}"
        )
    m = figures.get("memory")
    if m:
        print(
            f"  memory, {m['audience']:,} people: peak {m['peak_rss_mb']} MB "
            f"(set up {m['setup_peak_rss_mb']} MB, the fill added {m['fill_added_mb']} MB), "
            f"fill {m['fill_rows_per_s']:,} rows/s"
        )
        dry = m.get("dispatch_dry_run")
        if dry:
            print(
                f"  dispatch dry run: {dry['messages_per_s']:,} msg/s for {dry['seconds']} s, "
                f"peak {dry['peak_rss_mb']} MB"
            )
    for name, goal in figures["goals"].items():
        print(f"  goal {name}: {goal['goal']}: {'met' if goal['met'] else 'MISSED'}")
    rapidpro = RAPIDPRO_DEFAULT_RATE
    print(f"  for comparison: RapidPro sends on Telegram at {rapidpro} msg/s by default")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller run, under a minute")
    parser.add_argument("--only", default="", help="comma-separated: pacing, headroom, memory")
    parser.add_argument("--messages", type=int, default=0, help="headroom messages (20,000)")
    parser.add_argument("--audience", type=int, default=0, help="memory audience (1,000,000)")
    parser.add_argument("--keep", action="store_true", help="keep the databases (temp folders)")
    args = parser.parse_args()
    KEEP["files"] = args.keep
    figures = asyncio.run(bench(args))
    summary(figures)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
