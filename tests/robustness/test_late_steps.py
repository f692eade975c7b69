"""A stop-loss request still being processed by a slow broker when its step's deadline passes must not be
placed twice by the next cycles: their order books, fetched while the request was held, cannot show it, so
Step 4 judges the leg only on a book fetched after it last changed and, while in flight, only after the
settle time (found by this test, which failed before that rule)."""

from __future__ import annotations

import time

from actors.user_monitor.config import CycleConfig
from actors.user_monitor.window import TradingWindow
from domain.tags import parse_tag
from messages.common import Step
from tests.cycle.conftest import CycleRig, wait_for


def test_a_stop_loss_held_past_its_steps_deadline_is_not_placed_twice_by_the_next_cycle(tmp_path):
    rig = CycleRig(f"sqlite:///{tmp_path / 'late.db'}",
                   cycle=CycleConfig(interval_s=86_400, window=TradingWindow(enabled=False),
                                     step_timeouts_s={Step.PROTECT: 0.5}))
    try:
        rig.given_user("PAPER1")
        rig.price("800")
        order_id = rig.place_entry("PAPER1", side="BUY", quantity=10, entry_type="MARKET",
                                   sl_stop_price="780", tp_price="820")
        rig.sim("faults", route="place", kind="slow", delay_ms=1500, count=1)
        rig.run_cycle()
        rig.run_cycle()
        held_until = time.monotonic() + 2.5
        wait_for(lambda: time.monotonic() > held_until, timeout=5)
        rig.run_cycle()
        stop_losses = [e for e in rig.journal() if e["route"] == "place" and e["outcome"] == "accepted"
                       and parse_tag(e["tag"])[:2] == (order_id, "sl")]
        assert len(stop_losses) == 1, stop_losses
        assert rig.order(order_id).sl_order_id == stop_losses[0]["app_order_id"]
    finally:
        rig.close()
