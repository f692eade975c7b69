"""The OpenAPI document against the running service: `run.py serve` as a real process on MariaDB, with a real
user, API token and paper-broker account, and an admin token for the desk's routes, is fuzzed by Schemathesis on
every route the document lists. No answer is a 5xx, and every answer (status, content type, body) is one the
document declares."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from actors.io_loop import IoLoop
from adapters.broker.paper import run_paper_broker
from adapters.store.factory import connect_store, migrate_url
from tests.secret_key import SECRET_KEY_ENV
from tests.storage.conftest import fresh_mysql_url  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_PER_ROUTE = 15
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance]


class Serving(NamedTuple):
    url: str
    token: str
    admin_token: str

    def token_for(self, operation: schemathesis.APIOperation) -> str:
        """The admin token where the operation asks for one (`security: [{"admin": []}]`), else the user's."""
        security = operation.definition.raw.get("security", [])
        return self.admin_token if any("admin" in scheme for scheme in security) else self.token


async def _given_a_user_with_an_account(database_url: str, broker_url: str) -> tuple[str, str]:
    await migrate_url(database_url)
    store = await connect_store(database_url, timeout_s=10)
    try:
        user_id, token = await store.add_user("fuzzer")
        await store.add_account(user_id, "paper", broker_url, "FUZZ1", app_key="FUZZ1", secret_key="s3cret")
        return token, await store.add_admin_token("fuzzing-desk")
    finally:
        await store.close()


@pytest.fixture
def serving(fresh_mysql_url: str, tmp_path: Path) -> Iterator[Serving]:  # noqa: F811 - the imported fixture
    io = IoLoop("paper-broker")
    stack = contextlib.AsyncExitStack()
    paper = io.call(stack.enter_async_context(run_paper_broker("127.0.0.1", 0, seed=11)))
    token, admin_token = io.call(_given_a_user_with_an_account(fresh_mysql_url, paper.url))
    config = tmp_path / "monitor.toml"
    config.write_text("[server]\nport = 0\n")
    with (tmp_path / "serve.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "run.py"), "serve", "--config", str(config)], stdout=subprocess.PIPE,
            stderr=log, text=True, cwd=tmp_path,
            env={"MONITOR_NO_BOOTSTRAP": "1", "PATH": "/usr/bin:/bin", **SECRET_KEY_ENV,
                 "MONITOR_DATABASE_URL": fresh_mysql_url})
        try:
            line = process.stdout.readline()
            assert line.startswith("Serving on "), (tmp_path / "serve.log").read_text()
            yield Serving(line.strip().removeprefix("Serving on "), token, admin_token)
        finally:
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=60)
            io.call(stack.aclose())
            io.stop()


@pytest.mark.mysql
def test_every_route_answers_as_its_openapi_document_says_and_never_with_a_server_error(serving: Serving):
    with urllib.request.urlopen(f"{serving.url}/api/openapi.json", timeout=10) as answer:
        document = json.loads(answer.read())
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {operation.path for operation in operations} == set(document["paths"])

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_ROUTE, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def answers_as_documented(case: schemathesis.Case) -> None:
            token = serving.token_for(case.operation)
            case.call_and_validate(base_url=serving.url, headers={"Authorization": f"Bearer {token}"},
                                   checks=CHECKS, timeout=30)

        answers_as_documented()
