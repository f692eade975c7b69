"""Loads the named SQL of one dialect from the `sql` package (source tree or installed wheel).

Owns the file conventions: `sql/<dialect>/NNN_name.sql` are migrations (statements separated by `;` at a
line end), every other `.sql` under a sub-folder is one named query, `queries["orders/update"]`. Each file
must open with a `--` comment saying what it does and which index serves it; comment lines are dropped
from the text sent to the server. A query may mark one or more placeholder groups with `/*repeat*/ ...
/*end*/`; `Query.sql(n, ...)` repeats each group n times, joined by commas, for multi-row INSERTs and
IN-lists. Values are never formatted into SQL here or anywhere else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.abc import Traversable

DIALECTS = ("mysql", "sqlite")
_MIGRATION_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
_REPEAT = re.compile(r"/\*repeat\*/(.*?)/\*end\*/", re.DOTALL)
_STATEMENT_END = re.compile(r";\s*$", re.MULTILINE)


class SqlFileError(ValueError):
    """A file under `sql/` breaks the conventions this loader relies on."""


@dataclass(frozen=True)
class Query:
    """One named statement; `groups` are the placeholder groups between `parts` that may repeat."""

    name: str
    parts: tuple[str, ...]
    groups: tuple[str, ...]

    def sql(self, *counts: int) -> str:
        """The statement text with repeat group i written `counts[i]` times (each at least once)."""
        if len(counts) != len(self.groups):
            raise ValueError(
                f"query {self.name} has {len(self.groups)} repeat groups, got {len(counts)} counts"
            )
        pieces = [self.parts[0]]
        for group, count, part in zip(self.groups, counts, self.parts[1:], strict=True):
            if count < 1:
                raise ValueError(f"query {self.name}: a repeat group needs at least one row")
            pieces.append(", ".join([group] * count))
            pieces.append(part)
        return "".join(pieces)


@dataclass(frozen=True)
class Migration:
    """One numbered schema migration: its statements in file order."""

    version: int
    name: str
    statements: tuple[str, ...]


def _strip_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--")).strip()


def _read(file: Traversable, name: str) -> str:
    text = file.read_text(encoding="utf-8")
    if not text.lstrip().startswith("--"):
        raise SqlFileError(
            f"{name}: must start with a -- comment saying what it does and which index serves it"
        )
    return text


def _parse_query(name: str, text: str) -> Query:
    body = _strip_comments(text).rstrip().rstrip(";").rstrip()
    pieces = _REPEAT.split(body)
    return Query(name=name, parts=tuple(pieces[0::2]), groups=tuple(pieces[1::2]))


def _dialect_root(dialect: str) -> Traversable:
    if dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}; expected one of {', '.join(DIALECTS)}")
    return resources.files("sql").joinpath(dialect)


def _walk(folder: Traversable, prefix: str) -> dict[str, Query]:
    found: dict[str, Query] = {}
    for entry in folder.iterdir():
        if entry.is_dir():
            if not entry.name.startswith("__"):
                found.update(_walk(entry, f"{prefix}{entry.name}/"))
        elif entry.name.endswith(".sql"):
            name = f"{prefix}{entry.name[:-4]}"
            found[name] = _parse_query(name, _read(entry, name))
    return found


@cache
def load_queries(dialect: str) -> Mapping[str, Query]:
    """Every named query of `dialect`, keyed by its path under `sql/<dialect>/` without `.sql`."""
    root = _dialect_root(dialect)
    queries: dict[str, Query] = {}
    for entry in root.iterdir():
        if entry.is_dir() and not entry.name.startswith("__"):
            queries.update(_walk(entry, f"{entry.name}/"))
    return queries


@cache
def load_migrations(dialect: str) -> tuple[Migration, ...]:
    """The numbered migrations of `dialect`, in version order."""
    migrations = []
    for entry in _dialect_root(dialect).iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match is None:
            continue
        body = _strip_comments(_read(entry, entry.name))
        statements = tuple(s.strip() for s in _STATEMENT_END.split(body) if s.strip())
        migrations.append(Migration(version=int(match[1]), name=entry.name[:-4], statements=statements))
    migrations.sort(key=lambda m: m.version)
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise SqlFileError(f"sql/{dialect}: two migrations share a version number")
    return tuple(migrations)
