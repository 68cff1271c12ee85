"""Analysis benchmark: breakdowns and exports over 1,000,000 survey answers.

Goals (issue 7): a region by age breakdown under 2 s on SQLite and on PostgreSQL;
a full export to Parquet under 30 s and to FLOIP under 60 s, with peak memory
under 300 MB. For comparison, a KoBoToolbox export of 132,000 submissions was
reported not to finish in 30 minutes.

The data: ``--answers`` answers (default 1,000,000) to one 10-question survey of
every kind (single and multiple choice, yes/no, ratings, a number, free text),
from people spread over the 14 default regions, 7 age bands, genders (some not
said), three languages, Telegram and SMS; about 8% stop part way (the funnel).
Rows are bulk-inserted through ``Database.write`` (bench/bench_database.py).

Measured, through the service's own code:
* ``breakdown``: every question of the survey by region x age band, as published
  (counts, Wilson intervals, small cells suppressed), ``--repeat`` times: p50 and max;
* ``funnel``: started, each question, finished;
* exports (each in a child process, so its peak RSS is its own): Parquet, FLOIP,
  CSV and XLSX of the whole survey, seconds and peak RSS.

    python -m bench.analysis
    python -m bench.analysis --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test
    python -m bench.analysis --answers 100000                  # a quick run

Prints figures as it goes and ends with one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_database import (  # noqa: E402
    CHUNK,
    bulk_insert,
    open_database,
    postgres_admin,
    reset_sequences,
    use_schema,
    vacuum_analyze,
)
from polls.onboarding import AGE_BANDS, DEFAULT_REGIONS, GENDERS, region_value  # noqa: E402
from polls.survey import Survey  # noqa: E402
from polls.survey_loader import parse_survey  # noqa: E402
from storage.analysis import ANSWERS, CHOICES, RESPONDENTS, SESSIONS  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.models import SurveyVersion  # noqa: E402

SURVEY_ID = "bench_survey"
QUESTIONS = 10
DEFAULT_SCHEMA = "bench_analysis"
GOALS = {"breakdown_s": 2.0, "parquet_s": 30.0, "floip_s": 60.0, "peak_rss_mb": 300.0}
REGION_WEIGHTS = (30, 6, 2, 7, 4, 5, 5, 9, 9, 5, 5, 6, 3, 4)
AGE_WEIGHTS = (2, 18, 35, 22, 13, 7, 3)
GENDER_WEIGHTS = (48, 44, 1, 4)
TEXTS = (
    "Daha çox iş yeri və gənclər üçün təcrübə proqramları lazımdır",
    "Kənddə təmiz içməli su yoxdur, su xətti çəkilsin",
    "Нужно больше бесплатных курсов и кружков для школьников",
    "Чистый воздух и парки в нашем городе",
    "Better public transport between villages and the regional centre",
    "More women in local decision making",
    "Məktəblərdə internet və kompüter otağı",
)


def survey_document() -> dict[str, Any]:
    """A valid 10-question survey of every kind (parse_survey checks it)."""

    def text(label: str) -> dict[str, str]:
        return {"en": label}

    def choices(count: int, stem: str) -> list[dict[str, Any]]:
        return [{"value": f"{stem}{i + 1}", "label": text(f"{stem} {i + 1}")} for i in range(count)]

    questions: list[dict[str, Any]] = [
        {"id": "q01_priority", "kind": "single_choice", "choices": choices(8, "p")},
        {
            "id": "q02_goals",
            "kind": "multiple_choice",
            "min_picks": 1,
            "max_picks": 3,
            "choices": choices(17, "g"),
        },
        {"id": "q03_heard", "kind": "rating", "min": 1, "max": 5},
        {"id": "q04_forum", "kind": "yes_no"},
        {"id": "q05_minutes", "kind": "number", "integer": True, "min": 0, "max": 600},
        {"id": "q06_source", "kind": "single_choice", "choices": choices(4, "s")},
        {"id": "q07_trust", "kind": "single_choice", "choices": choices(5, "t")},
        {"id": "q08_volunteer", "kind": "yes_no"},
        {"id": "q09_future", "kind": "rating", "min": 0, "max": 10},
        {"id": "q10_idea", "kind": "text", "max_length": 300, "required": False},
    ]
    for question in questions:
        question["text"] = text(f"Question {question['id']}?")
    return {
        "id": SURVEY_ID,
        "title": text("Benchmark survey"),
        "languages": ["en"],
        "questions": questions,
    }


class Generator:
    """Rows for every table from one seed; answers come in chunks."""

    def __init__(self, answers: int, seed: int) -> None:
        self.target = answers
        self.rng = random.Random(seed)
        self.survey: Survey = parse_survey(survey_document(), source="<bench>")
        self.started = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
        self.people = 0
        self.answers = 0
        self.choices = 0
        self.completed = 0

    def rows(self) -> Iterator[tuple[list[dict[str, Any]], ...]]:
        """(respondents, sessions, answers, choices) in chunks, until the target is reached."""
        rng = self.rng
        regions = [region_value(r) for r in DEFAULT_REGIONS]
        ages = [value for value, _label in AGE_BANDS]
        genders = [value for value, _label in GENDERS]
        answer_id = choice_id = 0
        people: list[dict[str, Any]] = []
        sessions: list[dict[str, Any]] = []
        answers: list[dict[str, Any]] = []
        picks: list[dict[str, Any]] = []
        while self.answers < self.target:
            self.people += 1
            person = self.people
            moment = self.started + timedelta(seconds=person * 23)
            channel = "sms" if rng.random() < 0.3 else "telegram"
            people.append(
                {
                    "id": person,
                    "created_at": moment,
                    "language": rng.choice(("az", "az", "az", "ru", "en")),
                    "region": rng.choices(regions, weights=REGION_WEIGHTS)[0],
                    "age_band": rng.choices(ages, weights=AGE_WEIGHTS)[0],
                    "gender": rng.choices([*genders, None], weights=(*GENDER_WEIGHTS, 3))[0],
                    "consent_at": moment,
                    "consent_version": "v1",
                    "last_seen_at": moment,
                }
            )
            stop = QUESTIONS if rng.random() > 0.08 else rng.randrange(1, QUESTIONS)
            stop = min(stop, self.target - self.answers)
            complete = stop == QUESTIONS
            self.completed += complete
            sessions.append(
                {
                    "id": person,
                    "respondent_id": person,
                    "survey_id": SURVEY_ID,
                    "survey_version_id": 1,
                    "channel": channel,
                    "status": "completed" if complete else "active",
                    "started_at": moment,
                    "updated_at": moment,
                    "completed_at": moment + timedelta(minutes=3) if complete else None,
                }
            )
            for position, question in enumerate(self.survey.questions[:stop]):
                answer_id += 1
                value = self.value(question.id)
                kind = question.kind.value
                answers.append(
                    {
                        "id": answer_id,
                        "session_id": person,
                        "respondent_id": person,
                        "survey_id": SURVEY_ID,
                        "survey_version_id": 1,
                        "question_id": question.id,
                        "kind": kind,
                        "value": value,
                        "number": float(value) if isinstance(value, int) else None,
                        "text": value if kind == "text" else None,
                        "text_status": rng.choice(("approved", None)) if kind == "text" else None,
                        "channel": channel,
                        "answered_at": moment + timedelta(seconds=15 * position),
                    }
                )
                if kind in ("single_choice", "multiple_choice", "yes_no", "rating"):
                    for picked in value if isinstance(value, list) else [value]:
                        choice_id += 1
                        picks.append(
                            {
                                "id": choice_id,
                                "answer_id": answer_id,
                                "respondent_id": person,
                                "survey_id": SURVEY_ID,
                                "question_id": question.id,
                                "value": str(picked),
                            }
                        )
            self.answers = answer_id
            self.choices = choice_id
            if len(answers) >= 5 * CHUNK or self.answers >= self.target:
                yield people, sessions, answers, picks
                people, sessions, answers, picks = [], [], [], []

    def value(self, question_id: str) -> Any:
        rng = self.rng
        match question_id:
            case "q01_priority":
                return f"p{min(8, int(rng.expovariate(0.4)) + 1)}"
            case "q02_goals":
                return [f"g{g}" for g in sorted(rng.sample(range(1, 18), rng.randint(1, 3)))]
            case "q03_heard":
                return rng.choices((1, 2, 3, 4, 5), weights=(20, 30, 25, 15, 10))[0]
            case "q04_forum" | "q08_volunteer":
                return rng.choice(("yes", "no"))
            case "q05_minutes":
                return min(600, int(rng.expovariate(1 / 25)))
            case "q06_source":
                return f"s{rng.randint(1, 4)}"
            case "q07_trust":
                return f"t{rng.randint(1, 5)}"
            case "q09_future":
                return rng.randint(0, 10)
            case _:
                return rng.choice(TEXTS)


async def populate(db: Database, generator: Generator) -> dict[str, float]:
    began = time.perf_counter()
    survey = generator.survey
    await bulk_insert(
        db,
        SurveyVersion.__table__,  # type: ignore[arg-type]
        [
            {
                "id": 1,
                "survey_id": SURVEY_ID,
                "version": 1,
                "content_hash": survey.content_hash,
                "definition": dict(survey.raw),
                "source": "<bench>",
                "loaded_at": generator.started,
            }
        ],
    )
    for people, sessions, answers, picks in generator.rows():
        await bulk_insert(db, RESPONDENTS, people)
        await bulk_insert(db, SESSIONS, sessions)
        await bulk_insert(db, ANSWERS, answers)
        await bulk_insert(db, CHOICES, picks)
        rate = generator.answers / (time.perf_counter() - began)
        print(f"  {generator.answers:>9,} answers ({rate:,.0f}/s with the rest)", flush=True)
    if not db.is_sqlite:
        tables = ("respondents", "survey_versions", "survey_sessions", "answers", "answer_choices")
        await reset_sequences(db, tables)
    return {"total": round(time.perf_counter() - began, 1)}


async def measure_breakdown(db: Database, repeat: int) -> dict[str, Any]:
    from outreach.survey_results import survey_results

    timings = []
    result: Any = None
    for _ in range(repeat + 1):  # the first is a warm-up
        began = time.perf_counter()
        result = await survey_results(db, SURVEY_ID, dimensions=("region", "age_band"))
        timings.append(time.perf_counter() - began)
    timings = timings[1:]
    hidden = sum(table.hidden for table in result.breakdowns)
    shown = sum(len(table.cells) + len(table.answered) for table in result.breakdowns) - hidden
    return {
        "runs": repeat,
        "p50_s": round(statistics.median(timings), 3),
        "max_s": round(max(timings), 3),
        "ratio": round(max(timings) / GOALS["breakdown_s"], 3),
        "met": max(timings) < GOALS["breakdown_s"],
        "cells_shown": shown,
        "cells_suppressed": hidden,
    }


def export_child(url: str, schema: str, fmt: str, out: str) -> None:
    """Run in a child process: one export, then its time and peak RSS as a JSON line."""
    from outreach.exports import ExportFormat, export_survey

    async def run() -> int:
        db = Database(url)
        if not db.is_sqlite:
            use_schema(db, schema)
        try:
            result = await export_survey(
                db,
                survey_id=SURVEY_ID,
                export_format=ExportFormat(fmt),
                out=Path(out),
                secret="b" * 40,
            )
            return result.rows
        finally:
            await db.dispose()

    began = time.perf_counter()
    rows = asyncio.run(run())
    seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": rows, "seconds": round(seconds, 1), "peak_rss_mb": round(peak, 1)}))


def measure_export(url: str, schema: str, fmt: str, work: Path) -> dict[str, Any]:
    out = work / f"export-{fmt}"
    child = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bench.analysis", "--child-export", fmt, url, schema, str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        raise SystemExit(f"export {fmt} failed:\n{child.stderr}")
    figures: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    goal = GOALS.get(f"{fmt}_s")
    if goal is not None:
        figures["ratio"] = round(figures["seconds"] / goal, 3)
        figures["met"] = figures["seconds"] < goal and figures["peak_rss_mb"] < GOALS["peak_rss_mb"]
    figures["bytes"] = sum(f.stat().st_size for f in [out, *out.rglob("*")] if f.is_file())
    return figures


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    db, work = await open_database(args.database_url, args.schema)
    scratch = work or Path(tempfile.mkdtemp(prefix=f"{args.schema}-exports-"))
    scratch.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite+aiosqlite:///{work / 'bench.db'}"
    result: dict[str, Any] = {"engine": "sqlite" if db.is_sqlite else "postgresql"}
    try:
        generator = Generator(args.answers, args.seed)
        print(f"loading {args.answers:,} answers ...", flush=True)
        result["populate_s"] = await populate(db, generator)
        if not db.is_sqlite:
            tables = ("respondents", "survey_sessions", "answers", "answer_choices")
            result["populate_s"]["vacuum_analyze"] = round(
                await vacuum_analyze(url, args.schema, tables), 1
            )
        result["data"] = {
            "people": generator.people,
            "answers": generator.answers,
            "answer_choices": generator.choices,
            "completed": generator.completed,
        }
        print("measuring the region x age breakdown ...", flush=True)
        result["breakdown"] = await measure_breakdown(db, args.repeat)
        print(f"  {result['breakdown']}", flush=True)
        await db.dispose()
        result["exports"] = {}
        for fmt in args.formats:
            print(f"exporting {fmt} ...", flush=True)
            result["exports"][fmt] = measure_export(url, args.schema, fmt, scratch)
            print(f"  {result['exports'][fmt]}", flush=True)
    finally:
        await db.dispose()
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
            await postgres_admin(url, f'DROP SCHEMA IF EXISTS "{args.schema}" CASCADE')
    met = [result["breakdown"]["met"]] + [
        figures["met"] for figures in result["exports"].values() if "met" in figures
    ]
    result["goals"] = GOALS
    result["goal_met"] = all(met)
    result["kobo_comparison"] = "KoBoToolbox: 132,000 submissions did not export in 30 minutes"
    return result


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child-export":
        _flag, fmt, url, schema, out = sys.argv[1:6]
        export_child(url, schema, fmt, out)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default SQLite)")
    parser.add_argument("--schema", default=DEFAULT_SCHEMA)
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--formats", nargs="*", default=["parquet", "floip", "csv", "xlsx"], help="exports to time"
    )
    args = parser.parse_args()
    result = asyncio.run(bench(args))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
