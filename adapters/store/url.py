"""Database URLs: `mysql://user:pass@host:port/db` and `sqlite:///path/to/file.db` (the default).

Owns parsing and the redacted form for logs and CLI output; it never opens a connection. SQLite paths
follow the common convention: `sqlite:///monitor.db` is relative to the working directory,
`sqlite:////var/lib/monitor.db` (four slashes) is absolute, `sqlite:///:memory:` is in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote, urlsplit

DEFAULT_DATABASE_URL = "sqlite:///monitor.db"
DATABASE_URL_ENV = "MONITOR_DATABASE_URL"


class DatabaseUrlError(ValueError):
    """The URL is not one this service can use; the message never repeats a password."""


@dataclass(frozen=True)
class DatabaseUrl:
    dialect: Literal["mysql", "sqlite"]
    database: str = ""
    """MySQL: the database (schema) name, may be empty for a server-level URL. SQLite: the file path."""
    host: str = "127.0.0.1"
    port: int = 3306
    user: str = ""
    password: str = field(default="", repr=False)

    def redacted(self) -> str:
        """The URL with the password replaced, safe to print or log."""
        if self.dialect == "sqlite":
            return f"sqlite:///{self.database}"
        credentials = f"{self.user}:***@" if self.password else (f"{self.user}@" if self.user else "")
        return f"mysql://{credentials}{self.host}:{self.port}/{self.database}"

    def with_database(self, database: str) -> DatabaseUrl:
        return DatabaseUrl(self.dialect, database, self.host, self.port, self.user, self.password)


def parse_database_url(url: str) -> DatabaseUrl:
    scheme, _, rest = url.partition("://")
    if scheme == "sqlite":
        if not rest.startswith("/") or rest == "/":
            raise DatabaseUrlError("a SQLite URL looks like sqlite:///path/to/file.db")
        return DatabaseUrl("sqlite", database=rest[1:])
    if scheme in ("mysql", "mariadb"):
        parts = urlsplit(url)
        try:
            port = parts.port or 3306
        except ValueError:
            raise DatabaseUrlError("the MySQL URL has an invalid port") from None
        if not parts.hostname:
            raise DatabaseUrlError("a MySQL URL looks like mysql://user:pass@host:port/db")
        if parts.query or parts.fragment:
            raise DatabaseUrlError("a MySQL URL takes no query string or fragment")
        return DatabaseUrl(
            "mysql",
            database=unquote(parts.path.lstrip("/")),
            host=parts.hostname,
            port=port,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
        )
    raise DatabaseUrlError(
        "unsupported database URL: use mysql://user:pass@host:port/db or sqlite:///file.db"
    )
