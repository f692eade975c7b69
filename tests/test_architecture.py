"""The house's shape, checked by import-linter (`[tool.importlinter]` in pyproject.toml): domain/ imports no
other layer, messages/ import domain/ only, actors/ no service/ module, adapters/ no actors/, service/ or
replay/ module, and the actors' rooms do not import each other, not even through a third module; and each
step asks the store only what its narrow port declares. Planted violations of both are reported, so the
checks are known to bite."""

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
    assert "Contracts: 5 kept, 0 broken." in result.stdout


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
    with (tmp_path / "adapters" / "store" / "kept.py").open("a") as kept:
        kept.write("\nfrom actors import account_memo\n")

    result = lint_imports(tmp_path)

    assert result.returncode == 1
    assert "Contracts: 1 kept, 4 broken." in result.stdout
    assert "actors.order_syncer is not allowed to import actors.order_placer" in result.stdout
    assert "domain.tags -> messages.events" in result.stdout
    assert "actors.worker -> service.clock" in result.stdout
    assert "adapters.store.kept -> actors.account_memo" in result.stdout


def store_calls_outside_their_port() -> list[str]:
    """Each `store` an actor's function or class is given is typed with a narrow port: every method called on
    it (`store.x(...)`, or `self._store.x(...)` in the class that takes it) must be one that port declares."""
    import ast
    import importlib

    outside = []
    for path in sorted((ROOT / "actors").rglob("*.py")):
        module_name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        tree = ast.parse(path.read_text())
        module = importlib.import_module(module_name)
        scopes = [(node, node) for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
        scopes += [(cls, init) for cls in tree.body if isinstance(cls, ast.ClassDef)
                   for init in cls.body if isinstance(init, ast.FunctionDef) and init.name == "__init__"]
        for scope, signature in scopes:
            typed = [a for a in signature.args.args if a.arg == "store" and isinstance(a.annotation, ast.Name)]
            if not typed:
                continue
            port = getattr(module, typed[0].annotation.id)
            holder = "_store" if isinstance(scope, ast.ClassDef) else "store"
            for node in ast.walk(scope):
                target = node.value if isinstance(node, ast.Attribute) else None
                named = (isinstance(target, ast.Name) and target.id == holder == "store") or (
                    isinstance(target, ast.Attribute) and target.attr == holder == "_store")
                if named and not hasattr(port, node.attr):
                    outside.append(f"{module_name}: {holder}.{node.attr} is not in {port.__name__}")
    return outside


def test_every_step_asks_the_store_only_what_its_narrow_port_declares():
    assert store_calls_outside_their_port() == []
    typed = [line for line in (ROOT / "actors").rglob("*.py") if "store: Store" in line.read_text()]
    assert typed == [], "no actor takes the whole Store"


def test_a_step_calling_what_its_port_does_not_declare_is_reported(monkeypatch):
    from actors.broker_fetcher import step
    from adapters.store.port import AccountStore

    monkeypatch.setattr(step, "FetchStore", AccountStore)  # the fetch step's port, narrowed past what it calls

    assert store_calls_outside_their_port() == [
        "actors.broker_fetcher.step: _store.replace_broker_snapshot is not in AccountStore"]
