"""The house's shape, checked by import-linter (`[tool.importlinter]` in pyproject.toml): domain/ imports no
other layer, messages/ import domain/ only, actors/ import no service/ module, and the actors' rooms do not
import each other, not even through a third module. Planted forbidden imports are reported, so the check is
known to bite."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("domain", "messages", "actors", "adapters", "service", "replay")
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def lint_imports(where: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LINT_IMPORTS, "--no-cache"], cwd=where, capture_output=True, text=True, timeout=300)


def test_the_import_contracts_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 4 kept, 0 broken." in result.stdout


def test_planted_forbidden_imports_are_reported(tmp_path):
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "actors" / "go_between.py").write_text('"""Planted."""\nfrom actors.order_placer import rules\n')
    with (tmp_path / "actors" / "order_syncer" / "sync.py").open("a") as sync:
        sync.write("\nfrom actors import go_between\n")
    with (tmp_path / "domain" / "tags.py").open("a") as tags:
        tags.write("\nfrom messages import events\n")
    with (tmp_path / "actors" / "worker.py").open("a") as worker:
        worker.write("\nfrom service import clock\n")

    result = lint_imports(tmp_path)

    assert result.returncode == 1
    assert "Contracts: 1 kept, 3 broken." in result.stdout
    assert "actors.order_syncer is not allowed to import actors.order_placer" in result.stdout
    assert "domain.tags -> messages.events" in result.stdout
    assert "actors.worker -> service.clock" in result.stdout
