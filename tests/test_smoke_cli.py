"""The CLI's entry point parses and lists its commands."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_run_py_help_lists_the_test_command():
    result = subprocess.run([sys.executable, str(ROOT / "run.py"), "--help"], capture_output=True, text=True,
                            env={"MONITOR_NO_BOOTSTRAP": "1", "PATH": "/usr/bin:/bin"}, check=True)
    assert "test" in result.stdout
