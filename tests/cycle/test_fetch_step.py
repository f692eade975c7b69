"""Step 1 for real: three accounts fetched at once from the paper broker into the database."""

from messages.frames import SessionNeeded
from tests.cycle.conftest import CycleRig


def test_three_accounts_one_expired_one_timing_out_one_stored(rig: CycleRig):
    rig.given_user("GOOD", "EXPIRED", "SLOW")
    rig.place_entry("GOOD", side="BUY", quantity=10, entry_type="LIMIT", entry_limit_price="100")
    rig.place_entry("EXPIRED", side="BUY", quantity=10, entry_type="LIMIT", entry_limit_price="100")
    rig.sim("expire", account="EXPIRED")
    rig.sim("faults", route="positions", account="SLOW", kind="timeout", delay_ms=5000, count=1)

    summary = rig.run_cycle()

    outcomes = {(r.step, r.account_id): r.outcome for r in summary.steps}
    good, expired, slow = (rig.accounts[c] for c in ("GOOD", "EXPIRED", "SLOW"))
    assert outcomes[("fetch", good)] == "ok" and outcomes[("pnl", good)] == "ok"
    assert outcomes[("fetch", expired)] == "failed" and outcomes[("pnl", expired)] == "skipped"
    assert outcomes[("fetch", slow)] == "failed" and outcomes[("pnl", slow)] == "skipped"
    kinds = {(e.account_id, e.kind) for e in rig.errors()}
    assert (expired, "session_expired") in kinds and (slow, "timeout") in kinds
    snapshot = rig.io.call(rig.store.broker_snapshot(rig.user_id, good))
    assert [o.tag for o in snapshot.orders] == [rig.orders("GOOD")[0].entry_tag]
    context = rig.io.call(rig.store.load_cycle_context(rig.user_id))
    assert expired in context.awaiting_session and good in context.account_ids and slow in context.account_ids


def test_a_base_url_written_with_interactive_is_reported_as_configuration_and_needs_no_session(rig: CycleRig):
    rig.given_user("GOOD")
    wrong = rig.io.call(rig.store.add_account(rig.user_id, "paper", rig.paper.url + "/interactive", "WRONG",
                                              app_key="WRONG", secret_key="s3cret"))

    summary = rig.run_cycle()

    outcomes = {(r.step, r.account_id): r.outcome for r in summary.steps}
    assert outcomes[("fetch", rig.accounts["GOOD"])] == "ok" and outcomes[("fetch", wrong)] == "failed"
    [error] = [e for e in rig.errors() if e.account_id == wrong]
    assert error.kind == "configuration"
    assert f"{rig.paper.url}/interactive/interactive/user/session" in error.message and "base_url" in error.message
    context = rig.io.call(rig.store.load_cycle_context(rig.user_id))
    assert wrong not in context.awaiting_session and wrong in context.account_ids
    assert not [f for _, f in rig.notifier.sent if isinstance(f, SessionNeeded)]
