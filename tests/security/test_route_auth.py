"""Every HTTP and WebSocket route refuses a missing or wrong token (401 before anything runs), including a
stolen token hash and a token passed in the query, and a user's token on the desk's routes or an admin token on a
user's; only the public operations routes, the API's OpenAPI document and the dashboard's static page and icon
answer without one. The routes are read from the running application, so a route added later without a decision
here fails this test."""

from __future__ import annotations

import hashlib

import pytest

from tests.web.conftest import Served

PUBLIC = {("GET", "/"), ("GET", "/favicon.ico"), ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"),
          ("GET", "/api/openapi.json")}
PROTECTED = {("GET", "/ws"), ("POST", "/api/algo-place-batch-orders"), ("GET", "/api/orders"),
             ("GET", "/api/pnl"), ("GET", "/api/pnl/history"), ("GET", "/api/accounts"), ("GET", "/api/cycles"),
             ("GET", "/api/cycles/{cycle_id}"),
             ("POST", "/api/accounts/{account_id}/session"), ("POST", "/api/pause"), ("POST", "/api/resume"),
             ("POST", "/api/fair-prices"), ("DELETE", "/api/fair-prices/{symbol}")}
ADMIN = {("POST", "/api/fair-prices"), ("DELETE", "/api/fair-prices/{symbol}")}
"""The desk's routes: an admin token opens them, and nothing else does (a user's token included)."""


def app_routes(guarded: Served) -> set[tuple[str, str]]:
    routes = set()
    for route in guarded.service._runner.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("formatter") or info.get("path") or info.get("prefix")
        if route.method != "HEAD" and not path.startswith("/static"):
            routes.add((route.method, path))
    return routes


def test_every_route_is_either_public_or_protected(guarded: Served):
    assert app_routes(guarded) == PUBLIC | PROTECTED


@pytest.mark.parametrize(("method", "path"), sorted(PROTECTED))
def test_a_protected_route_refuses_missing_wrong_and_stolen_hash_tokens(guarded: Served, method, path):
    _, token, _ = guarded.user("alice", "A1")
    concrete = path.replace("{cycle_id}", "20260105T040000-abcdef").replace("{account_id}", "1").replace(
        "{symbol}", "SBIN")
    stolen_hash = hashlib.sha256(token.encode()).hexdigest()
    for credential in (None, "wrong-token", token[:-1], token + "x", stolen_hash, token.upper()):
        status, _ = guarded.request(method, concrete, credential)
        assert status == 401, (credential, concrete)
    assert guarded.request(method, f"{concrete}?token=wrong-token")[0] == 401


@pytest.mark.parametrize(("method", "path"), sorted(PROTECTED))
def test_a_users_token_never_opens_an_admin_route_nor_an_admin_token_a_users(guarded: Served, method, path):
    _, user_token, _ = guarded.user("alice", "A1")
    admin_token = guarded.io.call(guarded.store.add_admin_token("desk"))
    concrete = path.replace("{cycle_id}", "20260105T040000-abcdef").replace("{account_id}", "1").replace(
        "{symbol}", "SBIN")

    wrong = user_token if (method, path) in ADMIN else admin_token
    assert guarded.request(method, concrete, wrong)[0] == 401


def test_a_websocket_with_a_wrong_token_never_upgrades(guarded: Served):
    assert guarded.upgrade_status("?token=wrong") == 401
