"""Fixtures of the replay suite: the real service (`rig`) and fresh stores, each on SQLite and MariaDB."""

from tests.cycle.conftest import broker_name, rig  # noqa: F401 - fixtures
from tests.storage.conftest import database_url, fresh_mysql_url, store  # noqa: F401 - fixtures
