"""The loader reads named queries by path, renders the common ones per dialect, repeats placeholder groups,
fills in the fragments they name, refuses a name that does not resolve once for each dialect, and works from an
installed wheel."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import aiomysql
import pytest

from adapters.store.sql_loader import DIALECTS, SqlFileError, load_queries, read_query_set
from domain.records import UPDATABLE_ORDER_COLUMNS, OrderRow
from tests.storage.conftest import mysql_admin, require_mysql

ROOT = Path(__file__).resolve().parents[2]
# A common statement with quoted text holding a `?`, `%`, `%s` and a doubled quote, a `?` in a trailing
# comment, and a repeat group: only the placeholders outside quotes and comments are placeholders.
QUOTED = (
    "SELECT 'why? it''s 50% off, 100%s' AS note, ? AS echoed,\n"
    "    CASE WHEN ? IN (/*repeat*/?/*end*/) THEN 'in' ELSE 'out' END AS found -- which? 5%"
)
QUOTED_ROW = {"note": "why? it's 50% off, 100%s", "echoed": 7, "found": "in"}


def a_sql_tree(tmp_path: Path, files: dict[str, str]) -> Path:
    """An `sql` package tree holding `files` (path under sql/ -> statement), each behind its opening comment."""
    root = tmp_path / "sql"
    for folder in ("common", *DIALECTS):
        (root / folder).mkdir(parents=True)
    for path, statement in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(f"-- {path}, for the test. No index.\n{statement};\n")
    return root


def test_a_common_query_is_one_file_rendered_in_each_dialects_placeholder_style():
    assert (ROOT / "sql/common/permissions/insert.sql").is_file()
    assert not any((ROOT / "sql" / dialect / "permissions/insert.sql").exists() for dialect in DIALECTS)

    assert load_queries("mysql")["permissions/insert"].sql(2).endswith("VALUES (%s, %s), (%s, %s)")
    assert load_queries("sqlite")["permissions/insert"].sql(2).endswith("VALUES (?, ?), (?, ?)")


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


def test_the_order_insert_names_the_order_rows_fields_in_their_order_and_a_value_for_each():
    sql = load_queries("sqlite")["orders/insert"].sql()
    columns = sql[sql.index("(") + 1:sql.index(")")]

    assert [column.strip() for column in columns.split(",")] == [f for f in OrderRow.__struct_fields__ if f != "id"]
    assert sql.count("?") == len(OrderRow.__struct_fields__) - 1


def test_quoted_text_and_comments_keep_their_question_marks_and_percent_signs(tmp_path):
    queries = read_query_set(a_sql_tree(tmp_path, {"common/probe/quoted.sql": QUOTED}))

    assert queries["sqlite"]["probe/quoted"].sql(3) == QUOTED.replace("/*repeat*/?/*end*/", "?, ?, ?")
    assert queries["mysql"]["probe/quoted"].sql(3) == (
        "SELECT 'why? it''s 50%% off, 100%%s' AS note, %s AS echoed,\n"
        "    CASE WHEN %s IN (%s, %s, %s) THEN 'in' ELSE 'out' END AS found -- which? 5%%"
    )
    with sqlite3.connect(":memory:") as connection:
        connection.row_factory = sqlite3.Row
        row = connection.execute(queries["sqlite"]["probe/quoted"].sql(3), [7, 2, 1, 2, 3]).fetchone()
    assert dict(row) == QUOTED_ROW


def test_a_fragment_is_filled_in_where_a_common_or_a_dialect_statement_names_it(tmp_path):
    root = a_sql_tree(
        tmp_path,
        {
            "common/fragments/probe_columns.sql": "id, note",
            "common/probe/by_id.sql": "SELECT {probe_columns} FROM probe WHERE id = ?",
            "common/probe/copy.sql": "INSERT INTO kept ({probe_columns}, why) SELECT {probe_columns}, ? FROM probe",
            "mysql/probe/lock.sql": "SELECT {probe_columns} FROM probe WHERE id = %s FOR UPDATE",
            "sqlite/probe/lock.sql": "SELECT {probe_columns} FROM probe WHERE id = ?",
        },
    )

    queries = read_query_set(root)

    assert set(queries["mysql"]) == set(queries["sqlite"]) == {"probe/by_id", "probe/copy", "probe/lock"}
    assert queries["mysql"]["probe/by_id"].sql() == "SELECT id, note FROM probe WHERE id = %s"
    assert queries["sqlite"]["probe/copy"].sql() == "INSERT INTO kept (id, note, why) SELECT id, note, ? FROM probe"
    assert queries["mysql"]["probe/lock"].sql() == "SELECT id, note FROM probe WHERE id = %s FOR UPDATE"


def test_a_fragment_is_rendered_in_each_dialects_style_like_a_common_statement(tmp_path):
    root = a_sql_tree(
        tmp_path,
        {
            "common/fragments/discounted.sql": "price * ? AS discounted, '50% off' AS note",
            "mysql/probe/lock.sql": "SELECT {discounted} FROM probe WHERE id = %s FOR UPDATE",
            "sqlite/probe/lock.sql": "SELECT {discounted} FROM probe WHERE id = ?",
        },
    )

    queries = read_query_set(root)

    assert queries["mysql"]["probe/lock"].sql() == (
        "SELECT price * %s AS discounted, '50%% off' AS note FROM probe WHERE id = %s FOR UPDATE"
    )
    assert queries["sqlite"]["probe/lock"].sql() == (
        "SELECT price * ? AS discounted, '50% off' AS note FROM probe WHERE id = ?"
    )


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        (
            {"common/probe/by_id.sql": "SELECT {probe_columns} FROM probe WHERE id = ?"},
            "sql/common/probe/by_id.sql: {probe_columns} names no fragment,"
            " sql/common/fragments/probe_columns.sql is missing",
        ),
        (
            {
                "mysql/probe/lock.sql": "SELECT {probe_columns} FROM probe WHERE id = %s FOR UPDATE",
                "sqlite/probe/lock.sql": "SELECT id FROM probe WHERE id = ?",
            },
            "sql/mysql/probe/lock.sql: {probe_columns} names no fragment,"
            " sql/common/fragments/probe_columns.sql is missing",
        ),
        (
            {"common/fragments/probe_columns.sql": "id, note", "common/probe/by_id.sql": "SELECT id FROM probe"},
            "sql/common/fragments/probe_columns.sql: no statement includes it as {probe_columns}",
        ),
        (
            {
                "common/fragments/probe_columns.sql": "id, {more_columns}",
                "common/fragments/more_columns.sql": "note",
                "common/probe/by_id.sql": "SELECT {probe_columns}, {more_columns} FROM probe",
            },
            "sql/common/fragments/probe_columns.sql: a fragment includes no other fragment",
        ),
    ],
    ids=["unknown in common", "unknown in a dialect", "never included", "nested"],
)
def test_a_fragment_that_does_not_resolve_is_refused_at_load_time(tmp_path, files, reason):
    with pytest.raises(SqlFileError) as refused:
        read_query_set(a_sql_tree(tmp_path, files))
    assert str(refused.value) == reason


def test_the_order_columns_fragment_names_every_field_of_an_order_row_once():
    sql = load_queries("sqlite")["orders/by_id"].sql()
    columns = [column.strip() for column in sql[len("SELECT"):sql.index("FROM")].split(",")]

    assert sorted(columns) == sorted(OrderRow.__struct_fields__)


@pytest.mark.mysql
async def test_a_rendered_common_query_reaches_mariadb_with_its_quoted_text_as_written(tmp_path):
    sql = read_query_set(a_sql_tree(tmp_path, {"common/probe/quoted.sql": QUOTED}))["mysql"]["probe/quoted"].sql(3)
    connection = await mysql_admin(require_mysql())
    try:
        cursor = await connection.cursor(aiomysql.DictCursor)
        await cursor.execute(sql, [7, 2, 1, 2, 3])
        assert await cursor.fetchall() == [QUOTED_ROW]
    finally:
        connection.close()


def test_a_name_in_the_common_folder_and_a_dialect_folder_is_refused(tmp_path):
    root = a_sql_tree(
        tmp_path,
        {
            "common/orders/by_id.sql": "SELECT id FROM orders WHERE id = ?",
            "mysql/orders/by_id.sql": "SELECT id FROM orders FORCE INDEX (PRIMARY) WHERE id = %s",
            "sqlite/orders/by_id.sql": "SELECT id FROM orders WHERE id = ?",
        },
    )

    with pytest.raises(SqlFileError) as refused:
        read_query_set(root)
    assert "orders/by_id: in sql/common/ and in sql/mysql/" in str(refused.value)
    assert "orders/by_id: in sql/common/ and in sql/sqlite/" in str(refused.value)


def test_a_dialect_query_without_its_twin_is_refused_naming_the_missing_file(tmp_path):
    root = a_sql_tree(
        tmp_path,
        {
            "mysql/orders/lock.sql": "SELECT id FROM orders WHERE id = %s FOR UPDATE",
            "mysql/session/isolation.sql": "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
        },
    )

    with pytest.raises(SqlFileError) as refused:
        read_query_set(root)
    assert str(refused.value) == (
        "orders/lock: sql/mysql/orders/lock.sql has no twin, sql/sqlite/orders/lock.sql is missing"
    )

    (root / "sqlite/orders").mkdir()
    (root / "sqlite/orders/lock.sql").write_text(
        "-- The order, for the test. No index.\nSELECT id FROM orders WHERE id = ?;\n"
    )
    queries = read_query_set(root)
    assert set(queries["mysql"]) == {"orders/lock", "session/isolation"}
    assert set(queries["sqlite"]) == {"orders/lock"}


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        ("SELECT id FROM orders WHERE id = %s", "placeholder is ?, not %s"),
        ("SELECT id FROM orders WHERE note = 'a\\'' OR id = ?", "backslash in quoted text"),
        ("SELECT id FROM orders WHERE note = 'open", "a quote is never closed"),
    ],
)
def test_a_common_query_that_two_dialects_would_read_differently_is_refused(tmp_path, statement, reason):
    with pytest.raises(SqlFileError, match=re.escape(reason)):
        read_query_set(a_sql_tree(tmp_path, {"common/orders/odd.sql": statement}))


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
    assert "sql/common/orders/update.sql" in names
    assert "sql/mysql/orders/for_archive.sql" in names
    assert "sql/common/fragments/order_columns.sql" in names
    assert "sql/sqlite/001_schema.sql" in names

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = (
        "import adapters.store.sql_loader as l, pathlib, sys;"
        "assert pathlib.Path(l.__file__).is_relative_to(sys.argv[1]), l.__file__;"
        "q = l.load_queries('mysql'); m = l.load_migrations('sqlite');"
        "print(len(q), q['orders/update'].sql().count('%s'), len(l.load_queries('sqlite')), m[0].name)"
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
    assert loaded.stdout.split() == [
        str(len(load_queries("mysql"))),
        str(load_queries("mysql")["orders/update"].sql().count("%s")),
        str(len(load_queries("sqlite"))),
        "001_schema",
    ]
