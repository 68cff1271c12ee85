"""Exports started from the console: run in the background, kept as files in EXPORTS_DIR.

Each export has an id (``public_services-20261208T101500Z-3fa2c1``), a JSON
record beside its file (who asked, when, the format, where it stands, the
counts) and, once done, the file itself: ``<id>.csv``, ``.xlsx``, ``.parquet``,
or ``<id>.zip`` holding a FLOIP package. The records live in the folder, not
in a process, so any web process sharing the folder can list and serve them.

A running export belongs to the process that started it; stopping the service
cancels it and its record says so (start it again). The file is written by
``outreach.exports.export_survey``: pseudonymous ids only, approved free text
only unless asked otherwise, contact details masked.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from outreach.exports import ExportFormat, ExportOptions, export_survey
from outreach.exports.common import SurveyExport
from polls.errors import OutreachError
from storage.database import Database
from storage.export_rows import AnswerSpan

logger = logging.getLogger(__name__)

RUNNING, DONE, FAILED = "running", "done", "failed"
EXPORT_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}-\d{8}T\d{6}Z-[0-9a-f]{6}")
SUFFIXES = {
    ExportFormat.CSV: ".csv",
    ExportFormat.XLSX: ".xlsx",
    ExportFormat.PARQUET: ".parquet",
    ExportFormat.FLOIP: ".zip",
}
MEDIA_TYPES = {
    ExportFormat.CSV: "text/csv",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.PARQUET: "application/vnd.apache.parquet",
    ExportFormat.FLOIP: "application/zip",
}


class ExportNotFound(OutreachError):
    pass


class ExportNotReady(OutreachError):
    pass


@dataclass(frozen=True)
class ExportJob:
    id: str
    survey_id: str
    format: str
    language: str
    include_unmoderated_text: bool
    requested_by: str
    created_at: datetime
    status: str = RUNNING
    planned_rows: int = 0
    rows: int | None = None
    withheld: dict[str, int] = field(default_factory=dict)
    masked: int | None = None
    file_name: str | None = None
    size: int | None = None
    finished_at: datetime | None = None
    error: str | None = None

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[ExportFormat(self.format)]


def _encode(job: ExportJob) -> str:
    data = asdict(job)
    for key in ("created_at", "finished_at"):
        if data[key] is not None:
            data[key] = data[key].isoformat()
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _decode(text: str) -> ExportJob:
    data: dict[str, Any] = json.loads(text)
    for key in ("created_at", "finished_at"):
        if data.get(key) is not None:
            data[key] = datetime.fromisoformat(data[key])
    return ExportJob(**data)


class ExportJobs:
    """Starts exports in the background and finds them again by id."""

    def __init__(
        self,
        db: Database,
        folder: Path,
        *,
        secret: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.folder = folder
        self.secret = secret
        self.clock = clock
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def new_id(self, survey_id: str) -> str:
        return f"{survey_id}-{self.clock().strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"

    def _record_path(self, export_id: str) -> Path:
        if not EXPORT_ID.fullmatch(export_id):
            raise ExportNotFound(f"no export {export_id!r}: see the list of exports")
        return self.folder / f"{export_id}.json"

    async def _save(self, job: ExportJob) -> None:
        path = self._record_path(job.id)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            part = path.with_name(path.name + ".part")
            part.write_text(_encode(job), encoding="utf-8")
            part.replace(path)

        await asyncio.to_thread(write)

    async def start(
        self,
        *,
        export_id: str,
        survey_id: str,
        export_format: ExportFormat,
        options: ExportOptions,
        requested_by: str,
        plan: tuple[SurveyExport, AnswerSpan],
    ) -> ExportJob:
        """Record the export as running and write it in the background."""
        job = ExportJob(
            id=export_id,
            survey_id=survey_id,
            format=export_format.value,
            language=options.language,
            include_unmoderated_text=options.include_unmoderated_text,
            requested_by=requested_by,
            created_at=self.clock(),
            planned_rows=plan[1].count,
        )
        await self._save(job)
        task = asyncio.create_task(self._run(job, export_format, options, plan))
        self._tasks[job.id] = task
        task.add_done_callback(lambda _task: self._tasks.pop(job.id, None))
        return job

    async def _run(
        self,
        job: ExportJob,
        export_format: ExportFormat,
        options: ExportOptions,
        plan: tuple[SurveyExport, AnswerSpan],
    ) -> None:
        final = self.folder / f"{job.id}{SUFFIXES[export_format]}"
        floip = export_format is ExportFormat.FLOIP
        out = self.folder / f"{job.id}.floip" if floip else final
        try:
            result = await export_survey(
                self.db,
                survey_id=job.survey_id,
                export_format=export_format,
                out=out,
                secret=self.secret,
                options=options,
                plan=plan,
            )
            if floip:
                await asyncio.to_thread(_zip_folder, out, final)
            size = (await asyncio.to_thread(final.stat)).st_size
            done = replace(
                job,
                status=DONE,
                rows=result.rows,
                withheld=dict(result.withheld),
                masked=result.masked,
                file_name=final.name,
                size=size,
                finished_at=self.clock(),
            )
        except asyncio.CancelledError:
            await self._save(
                replace(
                    job,
                    status=FAILED,
                    error="the service stopped during the export: start it again",
                    finished_at=self.clock(),
                )
            )
            raise
        except Exception as error:
            logger.exception("export %s failed", job.id)
            message = str(error) if isinstance(error, OutreachError) else type(error).__name__
            done = replace(job, status=FAILED, error=message, finished_at=self.clock())
        finally:
            if floip:
                await asyncio.to_thread(shutil.rmtree, out, True)
        await self._save(done)

    async def get(self, export_id: str) -> ExportJob:
        path = self._record_path(export_id)
        try:
            text = await asyncio.to_thread(path.read_text, encoding="utf-8")
        except FileNotFoundError:
            raise ExportNotFound(f"no export {export_id!r}: see the list of exports") from None
        return _decode(text)

    async def all(self) -> list[ExportJob]:
        """Every export in the folder, the newest first."""

        def read() -> list[ExportJob]:
            if not self.folder.is_dir():
                return []
            jobs = []
            for path in self.folder.glob("*.json"):
                if not EXPORT_ID.fullmatch(path.stem):
                    continue
                with contextlib.suppress(OSError, ValueError, TypeError):
                    jobs.append(_decode(path.read_text(encoding="utf-8")))
            return sorted(jobs, key=lambda job: (job.created_at, job.id), reverse=True)

        return await asyncio.to_thread(read)

    async def file(self, export_id: str) -> tuple[ExportJob, Path]:
        """A finished export and its file; ExportNotReady while it runs or if it failed."""
        job = await self.get(export_id)
        if job.status != DONE or job.file_name is None:
            why = job.error if job.status == FAILED else "it is still being written"
            raise ExportNotReady(f"export {export_id} has no file: {why}")
        path = self.folder / Path(job.file_name).name
        if not await asyncio.to_thread(path.is_file):
            raise ExportNotFound(f"the file of export {export_id} is gone from {self.folder}")
        return job, path

    async def wait(self, export_id: str) -> ExportJob:
        """The export once it has finished (for tests and scripts in this process)."""
        task = self._tasks.get(export_id)
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(task)
        return await self.get(export_id)

    async def close(self) -> None:
        """Cancel the exports still running (the service is stopping)."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _zip_folder(folder: Path, target: Path) -> None:
    part = target.with_name(target.name + ".part")
    archive = shutil.make_archive(str(part), "zip", root_dir=folder)
    Path(archive).replace(target)
