"""UserTurns: one holder of a user's turn at a time, in arrival order; other users never wait; nothing kept after."""

from __future__ import annotations

import asyncio

from service.user_turns import UserTurns


async def test_a_users_turns_run_one_at_a_time_in_order_and_other_users_do_not_wait():
    turns, seen = UserTurns(), []

    async def hold(user_id: int, name: str, release: asyncio.Event) -> None:
        async with turns.turn(user_id):
            seen.append(f"{name} in")
            await release.wait()
            seen.append(f"{name} out")

    first, second, other = asyncio.Event(), asyncio.Event(), asyncio.Event()
    tasks = [asyncio.create_task(hold(1, "a", first)), asyncio.create_task(hold(1, "b", second)),
             asyncio.create_task(hold(2, "c", other))]
    await asyncio.sleep(0.01)
    assert seen == ["a in", "c in"] and len(turns) == 2
    second.set()
    await asyncio.sleep(0.01)
    assert seen == ["a in", "c in"], "b waits for a, whatever b's own release"
    first.set()
    other.set()
    await asyncio.gather(*tasks)
    assert seen == ["a in", "c in", "a out", "c out", "b in", "b out"]
    assert len(turns) == 0, "no lock kept once nobody holds or waits"


async def test_a_turn_left_by_an_error_is_free_for_the_next():
    turns = UserTurns()
    try:
        async with turns.turn(7):
            raise ValueError("step failed")
    except ValueError:
        pass
    async with turns.turn(7):
        assert len(turns) == 1
    assert len(turns) == 0
