"""The service over real sockets: WebSocket auth and frames, isolation between users, the batch API, the
kill switch, health and metrics. A real aiohttp server, real actors, the paper broker, SQLite and MariaDB."""



from tests.web.conftest import Served

ORDER = {"strategy": "momentum", "symbol": "SBIN", "exchange_segment": "NSECM", "instrument_id": 3045,
         "side": "BUY", "quantity": 5, "entry_type": "LIMIT", "entry_limit_price": "99.50",
         "sl_stop_price": "95", "tp_price": "110"}


def frames_until(served: Served, token: str, wanted: str, send: list[dict] | None = None,
                 timeout: float = 20.0) -> list[dict]:
    """Connect with `token` as the bearer, send `send`, and collect frames until one of type `wanted` arrives."""
    return served.frames_until(wanted, send or [], headers={"Authorization": f"Bearer {token}"}, timeout=timeout)


def test_a_websocket_without_a_valid_token_is_refused_before_the_upgrade(served: Served):
    assert served.upgrade_status() == 401
    assert served.upgrade_status(headers={"Authorization": "Bearer not-a-token"}) == 401
    assert served.upgrade_status("?token=wrong") == 401


def test_a_client_is_greeted_and_a_manual_cycle_reports_to_it(served: Served):
    user_id, token, _ = served.user("alice", "PAPER1")
    frames = frames_until(served, token, "cycle_summary", send=[{"type": "run_cycle"}])
    types = [f["type"] for f in frames]
    assert types[0] == "hello" and frames[0]["user_id"] == user_id
    assert "cycle_started" in types and types[-1] == "cycle_summary"
    assert frames[-1]["summary"]["account_ids"] and frames[-1]["summary"]["user_id"] == user_id


def test_malformed_frames_get_an_error_and_the_connection_stays_up(served: Served):
    _, token, _ = served.user("bob", "PAPER2")
    frames = frames_until(served, token, "pong", send=[
        "not json at all", {"type": "launch_missiles"}, {"type": "pause", "reason": 42}, {"no_type": 1},
        {"type": "ping"}])
    errors = [f for f in frames if f["type"] == "error"]
    assert len(errors) == 4
    assert all(e["message"].startswith("not a valid frame") for e in errors)
    assert frames[-1]["type"] == "pong"


def test_users_see_and_touch_only_their_own_accounts_and_orders(served: Served):
    _, alice, [alice_account] = served.user("alice", "A1")
    _, bob, [bob_account] = served.user("bob", "B1")
    status, body = served.request("POST", "/api/algo-place-batch-orders", alice,
                                  json={"orders": [{**ORDER, "account_id": alice_account}]})
    assert status == 200 and body["results"][0]["outcome"] == "placed"

    status, body = served.request("POST", "/api/algo-place-batch-orders", bob,
                                  json={"orders": [{**ORDER, "account_id": alice_account}]})
    [refused] = body["results"]
    assert refused["outcome"] == "invalid" and "not an active account of yours" in refused["reason"]
    assert served.request("GET", "/api/orders", bob)[1]["orders"] == []
    assert len(served.request("GET", "/api/orders", alice)[1]["orders"]) == 1
    assert served.request("POST", f"/api/accounts/{alice_account}/session", bob, json={})[0] == 404
    assert served.request("POST", f"/api/accounts/{bob_account}/session", bob, json={})[0] == 200


def test_every_api_route_refuses_a_missing_or_wrong_token(served: Served):
    routes = [("POST", "/api/algo-place-batch-orders"), ("GET", "/api/orders"), ("GET", "/api/pnl"),
              ("GET", "/api/cycles"), ("POST", "/api/accounts/1/session"), ("POST", "/api/pause"),
              ("POST", "/api/resume")]
    for method, path in routes:
        assert served.request(method, path)[0] == 401, path
        assert served.request(method, path, "wrong-token")[0] == 401, path


def test_the_batch_api_validates_each_order_and_answers_per_order(served: Served):
    _, token, [account] = served.user("carol", "C1")
    orders = [
        {**ORDER, "account_id": account},
        {**ORDER, "account_id": account, "entry_limit_price": "99.53"},
        {**ORDER, "account_id": account, "sl_stop_price": "120"},
        {**ORDER, "account_id": account, "entry_type": "STOPLIMIT"},
        {**ORDER, "account_id": 999},
    ]
    status, body = served.request("POST", "/api/algo-place-batch-orders", token, json={"orders": orders})
    assert status == 200
    outcomes = [(r["index"], r["outcome"]) for r in body["results"]]
    assert outcomes == [(0, "placed"), (1, "invalid"), (2, "invalid"), (3, "invalid"), (4, "invalid")]
    reasons = [r["reason"] for r in body["results"][1:]]
    assert "tick" in reasons[0] and "below the entry" in reasons[1] and "entry_stop_price" in reasons[2]
    assert served.request("POST", "/api/algo-place-batch-orders", token, json={"orders": []})[0] == 400
    assert served.request("POST", "/api/algo-place-batch-orders", token, data=b"{not json")[0] == 400


def test_the_batch_api_is_rate_limited_per_user(served: Served):
    _, token, [account] = served.user("dave", "D1")
    _, other, [other_account] = served.user("erin", "E1")
    invalid = {"orders": [{**ORDER, "account_id": account, "quantity": 0}]}
    statuses = [served.request("POST", "/api/algo-place-batch-orders", token, json=invalid)[0] for _ in range(31)]
    assert statuses[:30] == [200] * 30 and statuses[30] == 429
    assert served.request("POST", "/api/algo-place-batch-orders", other,
                          json={"orders": [{**ORDER, "account_id": other_account}]})[0] == 200


def test_pausing_stops_new_orders_and_the_cycle_says_so(served: Served):
    _, token, [account] = served.user("frank", "F1")
    assert served.request("POST", "/api/pause", token, json={"reason": "lunch"})[1] == {"paused": True,
                                                                                       "reason": "lunch"}
    status, body = served.request("POST", "/api/algo-place-batch-orders", token,
                                  json={"orders": [{**ORDER, "account_id": account}]})
    assert status == 409 and "lunch" in body["error"]
    frames = frames_until(served, token, "cycle_summary", send=[{"type": "run_cycle"}])
    assert frames[0]["paused"] is True
    summary = frames[-1]["summary"]
    assert summary["paused"] is True and any("lunch" in n for n in summary["notices"])
    assert served.request("POST", "/api/resume", token)[1] == {"paused": False}


def test_health_readiness_and_metrics(served: Served):
    _, token, _ = served.user("gina", "G1")
    frames_until(served, token, "cycle_summary", send=[{"type": "run_cycle"}])
    assert served.request("GET", "/healthz") == (200, {"status": "ok"})
    assert served.request("GET", "/readyz") == (200, {"ready": True})
    status, text = served.request("GET", "/metrics")
    assert status == 200
    for name in ("monitor_cycle_duration_seconds_count", 'monitor_step_outcomes_total{result="ok",step="fetch"}',
                 "monitor_broker_call_seconds_count", "monitor_monitored_users", "monitor_event_log_lag_events",
                 "# TYPE monitor_ticks_skipped_total counter"):
        assert name in text, name
    statements = [line for line in text.splitlines() if line.startswith("monitor_db_statements_total ")]
    assert statements and float(statements[0].split()[1]) > 0  # the cycle above read and wrote the database


def test_a_cycle_timeline_is_served_to_its_own_user_only(served: Served):
    _, alice, _ = served.user("hana", "H1")
    _, bob, _ = served.user("ivan", "I1")
    frames = frames_until(served, alice, "cycle_summary", send=[{"type": "run_cycle"}])
    cycle_id = frames[-1]["summary"]["cycle_id"]
    status, timeline = served.request("GET", f"/api/cycles/{cycle_id}", alice)
    assert status == 200 and timeline["cycle_id"] == cycle_id
    assert [e["step"] for e in timeline["entries"] if e.get("step")][:2] == ["context", "context"]
    assert served.request("GET", f"/api/cycles/{cycle_id}", bob)[0] == 404
    assert served.request("GET", f"/api/cycles/{cycle_id}")[0] == 401
