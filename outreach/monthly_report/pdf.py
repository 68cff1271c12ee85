"""The report as PDF, printed by headless Chromium when one is installed.

No PDF library is added: WeasyPrint needs Pango and other system libraries a
fresh machine lacks, and the page is already made for paper (``@page``, print
styles). Chromium reads the local file only: the report has no external link
to fetch.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from polls.errors import OutreachError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PRINT_SECONDS = 120


class PdfUnavailable(OutreachError):
    pass


def find_browser() -> str | None:
    """A headless-capable Chromium on PATH (or CHROMIUM_PATH), or None."""
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return configured if Path(configured).is_file() else None
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def print_pdf(html_file: Path, pdf_file: Path) -> None:
    """Print ``html_file`` to ``pdf_file`` with headless Chromium; raise PdfUnavailable if not."""
    browser = find_browser()
    if browser is None:
        raise PdfUnavailable(
            "no PDF: Chromium is not installed (looked for "
            + ", ".join(BROWSERS)
            + " on PATH, or CHROMIUM_PATH). Open the HTML report in a browser and print it "
            "to PDF, or install Chromium and run again with --pdf."
        )
    with tempfile.TemporaryDirectory(prefix="outreach-pdf-") as profile:
        command = [
            browser,
            "--headless",
            "--disable-gpu",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-default-browser-check",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf_file.resolve()}",
            html_file.resolve().as_uri(),
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        try:
            subprocess.run(  # noqa: S603 - our own file, a browser found on PATH
                command, check=True, capture_output=True, timeout=PRINT_SECONDS
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
            raise PdfUnavailable(f"no PDF: Chromium could not print the report ({error})") from None
    if not pdf_file.is_file() or pdf_file.stat().st_size == 0:
        raise PdfUnavailable("no PDF: Chromium ran but wrote no file")
