"""Loads the named SQL of one dialect from the `sql` package (source tree or installed wheel).

`sql/<dialect>/NNN_name.sql` are migrations; any other `.sql` is a named query (`queries["orders/update"]`), from
`sql/common/` (`?` placeholders, rendered per dialect) or the dialect's own folder. Each opens with a `--` comment
(not sent); `/*repeat*/ ... /*end*/` groups repeat n times for `Query.sql(n, ...)`; `{name}` stands for the text of
`sql/common/fragments/name.sql` (a column list written once), in either folder. Values are never formatted in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.abc import Traversable

DIALECTS = ("mysql", "sqlite")
COMMON = "common"
# Each dialect's own connection and transaction statements (MySQL: init, isolation; SQLite: init, begin,
# commit, rollback): the one area whose names need no twin in the other dialect.
_DIALECT_OWN_AREA = "session/"
# Pieces of statement text (not statements) that other files include as `{name}`.
_FRAGMENTS = "fragments/"
_FRAGMENT_REFERENCE = re.compile(r"\{([a-z0-9_]+)\}")
_MIGRATION_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
_REPEAT = re.compile(r"/\*repeat\*/(.*?)/\*end\*/", re.DOTALL)
_STATEMENT_END = re.compile(r";\s*$", re.MULTILINE)
# What a common statement's rendering looks at: quoted text and comments (kept as written, a `?` in them is
# no placeholder), an unclosed quote (to its end), the `?` placeholder, and `%` (or a stray `%s`).
_COMMON_TOKEN = re.compile(r"""'[^']*'?|"[^"]*"?|`[^`]*`?|--[^\n]*|/\*.*?(?:\*/|\Z)|\?|%s?""", re.DOTALL)


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


def _statement(text: str) -> str:
    return _strip_comments(text).rstrip().rstrip(";").rstrip()


def _query(name: str, statement: str) -> Query:
    pieces = _REPEAT.split(statement)
    return Query(name=name, parts=tuple(pieces[0::2]), groups=tuple(pieces[1::2]))


def _render(name: str, statement: str, dialect: str) -> str:
    """The common `statement` (`?` placeholders) in `dialect`'s placeholder style; quoted text keeps its `?`.

    MySQL's `%s` text goes through aiomysql's `%` formatting whole, so every `%` (in quoted text too) is
    doubled there and reaches the server as written.
    """

    def token(match: re.Match[str]) -> str:
        text = match[0]
        if text[0] in "'\"`" and (len(text) == 1 or text[-1] != text[0]):
            raise SqlFileError(f"sql/{COMMON}/{name}.sql: a quote is never closed")
        if text[0] in "'\"" and "\\" in text:
            raise SqlFileError(
                f"sql/{COMMON}/{name}.sql: a backslash in quoted text is an escape to MySQL and itself to SQLite;"
                " write the statement in each dialect's folder"
            )
        if text == "%s":
            raise SqlFileError(f"sql/{COMMON}/{name}.sql: a common statement's placeholder is ?, not %s")
        if dialect == "sqlite":
            return text
        return "%s" if text == "?" else text.replace("%", "%%")

    return _COMMON_TOKEN.sub(token, statement)


def _expand(path: str, statement: str, fragments: Mapping[str, str]) -> str:
    """`statement` with each `{name}` replaced by the fragment of that name; an unknown name is an error."""

    def fragment(match: re.Match[str]) -> str:
        if match[1] not in fragments:
            raise SqlFileError(
                f"{path}: {match[0]} names no fragment, sql/{COMMON}/{_FRAGMENTS}{match[1]}.sql is missing"
            )
        return fragments[match[1]]

    return _FRAGMENT_REFERENCE.sub(fragment, statement)


def _fragments(common: dict[str, str]) -> dict[str, str]:
    """Takes the fragments out of the common statements, keyed by their name under `fragments/`."""
    names = [name for name in common if name.startswith(_FRAGMENTS)]
    fragments = {name.removeprefix(_FRAGMENTS): common.pop(name) for name in names}
    for name, text in fragments.items():
        if _FRAGMENT_REFERENCE.search(text):
            raise SqlFileError(f"sql/{COMMON}/{_FRAGMENTS}{name}.sql: a fragment includes no other fragment")
    return fragments


def _walk(folder: Traversable, prefix: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for entry in folder.iterdir():
        if entry.is_dir():
            if not entry.name.startswith("__"):
                found.update(_walk(entry, f"{prefix}{entry.name}/"))
        elif entry.name.endswith(".sql"):
            name = f"{prefix}{entry.name[:-4]}"
            found[name] = _statement(_read(entry, name))
    return found


def _named_statements(folder: Traversable, where: str) -> dict[str, str]:
    """Every named statement under `folder`'s sub-folders; a `.sql` file at its top must be a dialect's migration."""
    statements: dict[str, str] = {}
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.name.startswith("__"):
            statements.update(_walk(entry, f"{entry.name}/"))
        elif entry.name.endswith(".sql") and (where == COMMON or not _MIGRATION_NAME.match(entry.name)):
            raise SqlFileError(
                f"sql/{where}/{entry.name}: not a named query (those live in a sub-folder) nor a migration"
                " (NNN_name.sql, in each dialect's folder)"
            )
    return statements


def read_query_set(root: Traversable) -> dict[str, dict[str, Query]]:
    """The named queries of every dialect under `root` (the `sql` package): its own folder's and the common ones.

    A name in the common folder and a dialect's is an error, as is a name (outside `session/`) in one dialect's
    folder without a file of the same name in the other's, a `{name}` without its fragment, and a fragment no
    statement includes.
    """
    common = _named_statements(root.joinpath(COMMON), COMMON)
    fragments = _fragments(common)
    own = {dialect: _named_statements(root.joinpath(dialect), dialect) for dialect in DIALECTS}
    problems = [
        f"{name}: in sql/{COMMON}/ and in sql/{dialect}/; a statement is one common file or one file per dialect"
        for dialect in DIALECTS
        for name in sorted(common.keys() & own[dialect].keys())
    ]
    problems += [
        f"{name}: sql/{dialect}/{name}.sql has no twin, sql/{other}/{name}.sql is missing"
        for dialect in DIALECTS
        for other in DIALECTS
        for name in sorted(own[dialect].keys() - own[other].keys())
        if not name.startswith(_DIALECT_OWN_AREA)
    ]
    statements = [*common.values(), *(s for dialect in DIALECTS for s in own[dialect].values())]
    included = {name for statement in statements for name in _FRAGMENT_REFERENCE.findall(statement)}
    problems += [
        f"sql/{COMMON}/{_FRAGMENTS}{name}.sql: no statement includes it as {{{name}}}"
        for name in sorted(fragments.keys() - included)
    ]
    if problems:
        raise SqlFileError("; ".join(problems))
    return {dialect: _dialect_queries(common, own[dialect], fragments, dialect) for dialect in DIALECTS}


def _dialect_queries(
    common: Mapping[str, str], own: Mapping[str, str], fragments: Mapping[str, str], dialect: str
) -> dict[str, Query]:
    """One dialect's queries: the common ones rendered, its own as written, each with its fragments filled in."""
    rendered = {name: _render(f"{_FRAGMENTS}{name}", text, dialect) for name, text in fragments.items()}
    return {
        **{
            name: _query(name, _expand(f"sql/{COMMON}/{name}.sql", _render(name, statement, dialect), rendered))
            for name, statement in common.items()
        },
        **{
            name: _query(name, _expand(f"sql/{dialect}/{name}.sql", statement, rendered))
            for name, statement in own.items()
        },
    }


def _check_dialect(dialect: str) -> None:
    if dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}; expected one of {', '.join(DIALECTS)}")


@cache
def _installed_query_set() -> dict[str, dict[str, Query]]:
    return read_query_set(resources.files("sql"))


def load_queries(dialect: str) -> Mapping[str, Query]:
    """Every named query of `dialect`, keyed by its path under `sql/common/` or `sql/<dialect>/` without `.sql`."""
    _check_dialect(dialect)
    return _installed_query_set()[dialect]


@cache
def load_migrations(dialect: str) -> tuple[Migration, ...]:
    """The numbered migrations of `dialect`, in version order."""
    migrations = []
    _check_dialect(dialect)
    for entry in resources.files("sql").joinpath(dialect).iterdir():
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
