#!/usr/bin/env python3
"""Quick start with nothing but Python 3.11+.

    python3 run.py serve   # run the service on SQLite
    python3 run.py test    # run the test suite (extra arguments go to pytest)

The first run makes a virtual environment in .venv and installs the project
with its test tools; later runs reuse it (and reinstall when pyproject.toml changes).
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".installed"


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_environment() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}.")
    if not venv_python().exists():
        print("Creating .venv ...", flush=True)
        venv.create(VENV, with_pip=True)
    pyproject = ROOT / "pyproject.toml"
    if not STAMP.exists() or STAMP.stat().st_mtime < pyproject.stat().st_mtime:
        print("Installing sdg-outreach and its dependencies into .venv ...", flush=True)
        pip = [str(venv_python()), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.check_call([*pip, "--upgrade", "pip"])
        subprocess.check_call([*pip, "-e", f"{ROOT}[test]"])
        STAMP.touch()


def main() -> None:
    command, *rest = sys.argv[1:] or ["serve"]
    if command not in ("serve", "test"):
        sys.exit(__doc__)
    ensure_environment()
    python = str(venv_python())
    os.chdir(ROOT)
    if command == "serve":
        arguments = [python, "-m", "outreach", "serve", *rest]
    else:
        arguments = [python, "-m", "pytest", *rest]
    if os.name == "nt":
        sys.exit(subprocess.call(arguments))
    os.execv(python, arguments)


if __name__ == "__main__":
    main()
