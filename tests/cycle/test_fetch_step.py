"""Step 1 for real: accounts fetched at once from the paper broker into the database, their sessions logged in,
renewed or flagged, and `session_needed` sent for exactly the accounts the fetch left expired."""

import pytest

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
    assert [f.account_id for _, f in rig.notifier.sent if isinstance(f, SessionNeeded)] == [expired], \
        "the account the fetch left expired is told to log in again, and only it"


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


@pytest.mark.broker(session_renewal=True)
def test_an_expired_session_is_renewed_and_the_cycle_goes_on_each_time(rig: CycleRig):
    rig.given_user("DAILY")
    order_id = rig.place_entry("DAILY", side="BUY", quantity=10, entry_type="LIMIT", entry_limit_price="100")
    daily = rig.accounts["DAILY"]

    for _ in range(2):
        rig.sim("expire", account="DAILY")
        summary = rig.run_cycle()

        outcomes = {(r.step, r.account_id): r.outcome for r in summary.steps}
        assert outcomes[("fetch", daily)] == "ok" and outcomes[("pnl", daily)] == "ok"
        context = rig.io.call(rig.store.load_cycle_context(rig.user_id))
        assert daily in context.account_ids and daily not in context.awaiting_session
    assert not rig.errors() and not [f for _, f in rig.notifier.sent if isinstance(f, SessionNeeded)]
    assert rig.sent(rig.order(order_id).entry_tag) == 1


@pytest.mark.broker(session_renewal=True)
def test_a_login_refused_for_wrong_keys_is_a_configuration_error_held_back_by_the_backoff(rig: CycleRig):
    rig.given_user("GOOD", "ROTATED")
    rig.run_cycle()
    rig.sim("expire", account="ROTATED", secret_key="regenerated")
    rotated = rig.accounts["ROTATED"]

    first, second = rig.run_cycle(), rig.run_cycle()

    for summary in (first, second):
        outcomes = {(r.step, r.account_id): r.outcome for r in summary.steps}
        assert outcomes[("fetch", rig.accounts["GOOD"])] == "ok" and outcomes[("fetch", rotated)] == "failed"
    refused, held = [e for e in rig.errors() if e.account_id == rotated]
    assert refused.kind == held.kind == "configuration"
    assert "refused a new login" in refused.message and "check the account's keys" in refused.message
    assert "no new login before" in held.message
    context = rig.io.call(rig.store.load_cycle_context(rig.user_id))
    assert rotated in context.account_ids and rotated not in context.awaiting_session
    assert not [f for _, f in rig.notifier.sent if isinstance(f, SessionNeeded)]


def stored_token(rig: CycleRig, client_id: str) -> str:
    [account] = rig.io.call(rig.store.broker_accounts(rig.user_id, (rig.accounts[client_id],)))
    return account.token


def token_kept_through_a_failed_read(rig: CycleRig, client_id: str, kind: str) -> str:
    """Run a cycle whose read of the account after a login fails with `kind`, then another: the token the first
    stored, which the second fetched with (no second login)."""
    account = rig.accounts[client_id]
    failed = rig.run_cycle()
    token = stored_token(rig, client_id)
    fetched = rig.run_cycle()
    assert {(r.step, r.account_id): r.outcome for r in failed.steps}[("fetch", account)] == "failed"
    assert {(r.step, r.account_id): r.outcome for r in fetched.steps}[("fetch", account)] == "ok"
    assert [(e.account_id, e.kind) for e in rig.errors()] == [(account, kind)]
    assert stored_token(rig, client_id) == token, "the next cycle reads with it: no second login"
    return token


def test_the_token_of_a_first_login_is_stored_when_the_read_after_it_fails(rig: CycleRig):
    rig.given_user("FRESH")
    rig.sim("faults", route="order_book", account="FRESH", kind="http_500", count=1)

    token = token_kept_through_a_failed_read(rig, "FRESH", "unavailable")

    assert token, "the login's token is kept although the read after it failed"


@pytest.mark.broker(session_renewal=True)
def test_the_token_of_a_renewal_is_stored_when_the_read_after_it_fails(rig: CycleRig):
    rig.given_user("DAILY")
    rig.run_cycle()
    expired = stored_token(rig, "DAILY")
    rig.sim("expire", account="DAILY")
    rig.sim("faults", route="positions", account="DAILY", kind="timeout", delay_ms=5000, count=1)

    renewed = token_kept_through_a_failed_read(rig, "DAILY", "timeout")

    assert renewed and renewed != expired, "the renewal's token is kept although the read after it failed"
    context = rig.io.call(rig.store.load_cycle_context(rig.user_id))
    assert rig.accounts["DAILY"] not in context.awaiting_session
    assert not [f for _, f in rig.notifier.sent if isinstance(f, SessionNeeded)]


def test_an_order_step_meeting_an_expired_session_reports_it_but_sends_no_session_needed(rig: CycleRig):
    rig.given_user("PAPER1")
    rig.price("100")
    rig.place_entry(side="BUY", quantity=10, entry_type="LIMIT", entry_limit_price="99", sl_stop_price="95",
                    tp_price="110")
    rig.price("99")
    rig.sim("faults", route="place", account="PAPER1", kind="session_expired", count=1)

    summary = rig.run_cycle()

    account = rig.accounts["PAPER1"]
    outcomes = {(r.step, r.account_id): r.outcome for r in summary.steps}
    assert outcomes[("fetch", account)] == "ok"
    assert ("protect", account, "session_expired") in {(e.step, e.account_id, e.kind) for e in rig.errors()}
    assert not [f for _, f in rig.notifier.sent if isinstance(f, SessionNeeded)]
    context = rig.io.call(rig.store.load_cycle_context(rig.user_id))
    assert account in context.account_ids and account not in context.awaiting_session
