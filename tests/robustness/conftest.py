"""Fixtures of the robustness suite: the broker suite's paper broker, XTS adapter and control client, the web
suite's running service and the cycle suite's end-to-end rig (each on SQLite and MariaDB)."""

from tests.broker.conftest import account, broker, http, paper, sim  # noqa: F401 - fixtures
from tests.cycle.conftest import broker_name, rig  # noqa: F401 - fixtures
from tests.storage.conftest import fresh_mysql_url  # noqa: F401 - fixture used by `served` and `rig`
from tests.web.conftest import served  # noqa: F401 - fixture
