"""The replica tests use the storage suite's fresh MariaDB database per test."""

from tests.storage.conftest import fresh_mysql_url  # noqa: F401 - fixture
