"""Self-installing entry: make `python3 run.py ...` work from a fresh clone with only Python 3.11+.

Owns the project virtualenv (`.venv`): creates it, installs the project with its dev extra when
pyproject.toml, setup.py or the compiled FIFO loop's C source changed since the last install (the
install compiles that loop where a C compiler is found), and re-executes the command inside it. Uses
only the standard library, because it runs before any dependency exists. Set MONITOR_NO_BOOTSTRAP=1 where the
package is already installed (containers, system packages).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent
VENV_DIR = PROJECT_ROOT / ".venv"
STAMP = VENV_DIR / ".installed-sha256"
INSTALL_INPUTS = ("pyproject.toml", "setup.py", "actors/pnl_calculator/_fifo_match.c")
"""What the install reads: a change to any of them installs (and compiles) again."""


def _venv_python() -> Path:
    return VENV_DIR / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _install_inputs_digest() -> str:
    digest = hashlib.sha256()
    for name in INSTALL_INPUTS:
        digest.update(name.encode() + b"\0" + (PROJECT_ROOT / name).read_bytes())
    return digest.hexdigest()


def _running_inside_project_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV_DIR.resolve()


def ensure_environment() -> None:
    """Return when dependencies are importable here; otherwise install them and re-exec in .venv."""
    if os.environ.get("MONITOR_NO_BOOTSTRAP") == "1":
        return
    if sys.version_info < (3, 11):  # noqa: UP036 - this runs before anything checks the version
        sys.exit(f"Python 3.11 or newer is required (this is {sys.version.split()[0]})")
    digest = _install_inputs_digest()
    installed = STAMP.read_text().strip() if STAMP.exists() else ""
    if _running_inside_project_venv() and installed == digest:
        return
    if not _venv_python().exists():
        print(f"bootstrap: creating {VENV_DIR}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV_DIR)
    if installed != digest:
        print("bootstrap: installing the project and its dependencies into .venv", file=sys.stderr)
        subprocess.run(
            [str(_venv_python()), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "-e", f"{PROJECT_ROOT}[dev]"],
            check=True,
        )
        STAMP.write_text(digest)
    os.execv(str(_venv_python()), [str(_venv_python()), *sys.argv])
