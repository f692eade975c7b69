"""A refused write is logged once at WARNING with the user, the account, the cycle and the step, end to end:
the paper broker over HTTP refuses the stop-loss and take-profit of a filled entry, on SQLite and MariaDB."""

import logging

from tests.cycle.conftest import CycleRig
from tests.cycle.test_order_stories import given_a_filled_long


def test_protective_orders_the_broker_refuses_are_logged_once_at_warning_with_user_account_and_step(
        rig: CycleRig, caplog):
    given_a_filled_long(rig)
    rig.sim("faults", route="place", kind="session_expired", count=10)

    with caplog.at_level(logging.WARNING):
        summary = rig.run_cycle()

    [record] = [r for r in caplog.records if getattr(r, "step", None) == "protect"]
    assert (record.levelno, record.user_id, record.account_id, record.cycle_id) == (
        logging.WARNING, rig.user_id, rig.accounts["PAPER1"], summary.cycle_id)
    assert "SL not placed" in record.getMessage() and "TP not placed" in record.getMessage()
    assert "s3cret" not in record.getMessage()
