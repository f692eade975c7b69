"""The loader reads named queries by path, repeats placeholder groups, and works from an installed wheel."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from adapters.store.sql_loader import load_queries
from domain.records import UPDATABLE_ORDER_COLUMNS

ROOT = Path(__file__).resolve().parents[2]


def test_a_repeat_group_is_written_once_per_row():
    query = load_queries("sqlite")["permissions/insert"]

    assert query.sql(3).endswith("VALUES (?, ?), (?, ?), (?, ?)")
    with pytest.raises(ValueError):
        query.sql()


def test_a_query_with_two_in_lists_repeats_each_by_its_own_count():
    sql = load_queries("mysql")["archive/for_regeneration"].sql(2, 3)

    assert "a.account_id IN (%s, %s)" in sql
    assert "a.strategy IN (%s, %s, %s)" in sql


@pytest.mark.parametrize("dialect", ["mysql", "sqlite"])
def test_the_order_update_sets_exactly_the_allowed_columns_in_allow_list_order(dialect):
    sql = load_queries(dialect)["orders/update"].sql()
    placeholder = "%s" if dialect == "mysql" else "?"
    lines = [line.strip() for line in sql.splitlines() if "CASE WHEN" in line]

    assert lines == [
        f"{column} = CASE WHEN {placeholder} THEN {placeholder} ELSE {column} END,"
        for column in UPDATABLE_ORDER_COLUMNS
    ]


def test_queries_load_from_a_built_wheel(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "*.db*"
        ),
    )
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(tmp_path / "dist"),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if build.returncode != 0:
        pytest.fail(f"wheel build failed: {build.stderr[-2000:]}")
    wheel = next((tmp_path / "dist").glob("monitoring_loop-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "sql/mysql/orders/update.sql" in names
    assert "sql/sqlite/001_schema.sql" in names

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = (
        "import adapters.store.sql_loader as l, pathlib, sys;"
        "assert pathlib.Path(l.__file__).is_relative_to(sys.argv[1]), l.__file__;"
        "q = l.load_queries('mysql'); m = l.load_migrations('sqlite');"
        "print(len(q), q['orders/update'].name, m[0].name)"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(site)
    loaded = subprocess.run(
        [sys.executable, "-c", probe, str(site)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split()[1:] == ["orders/update", "001_schema"]
