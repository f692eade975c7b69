"""Fixtures of the robustness suite: the broker suite's paper broker, XTS adapter and control client, and the
web suite's running service."""

from tests.broker.conftest import account, broker, http, paper, sim  # noqa: F401 - fixtures
from tests.web.conftest import served  # noqa: F401 - fixture
