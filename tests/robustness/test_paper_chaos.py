"""The paper broker's chaos mode (`POST /_sim/chaos`), which the soak uses: at rate 1 every XTS request is
faulted with a kind drawn from the list and counted; at rate 0 none is; a rate outside [0, 1] is refused."""

from __future__ import annotations

import pytest

from domain.broker_errors import BrokerUnavailable
from tests.broker.conftest import SimControl


async def test_chaos_at_rate_one_faults_every_call_and_counts_it(broker, account, sim: SimControl):
    await sim.post("chaos", rate=1.0, kinds=["http_500"])
    for _ in range(3):
        with pytest.raises(BrokerUnavailable):
            await broker.order_book(account)
    assert (await sim.post("chaos", rate=0.0))["injected"] == {"http_500": 3}
    assert await broker.order_book(account) == []


async def test_a_chaos_rate_outside_zero_to_one_is_refused(http, paper):
    async with http.post(f"{paper.url}/_sim/chaos", json={"rate": 1.5}) as response:
        assert response.status == 400
