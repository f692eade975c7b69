"""What another process does to the embedded SQLite store: it holds the database's write lock while a
step's transaction waits in BEGIN and the step is cancelled at its deadline. The transaction is given up
whole: the next transaction works, and writes outside a transaction are committed, not left inside one."""

from __future__ import annotations

import asyncio
import sqlite3

from adapters.store.factory import connect_store, migrate_url
from tests.storage.conftest import given_user_with_account


async def test_a_transaction_cancelled_while_begin_waits_for_the_write_lock_leaves_no_transaction_open(tmp_path):
    path = tmp_path / "monitor.db"
    url = f"sqlite:///{path}"
    await migrate_url(url)
    store = await connect_store(url)
    try:
        user_id, _ = await given_user_with_account(store, "alice")
        other_process = sqlite3.connect(path, isolation_level=None)
        other_process.execute("BEGIN IMMEDIATE")

        waiting = asyncio.create_task(store.set_paused(user_id, True, "kill switch"))
        await asyncio.sleep(0.3)  # BEGIN IMMEDIATE is waiting on the database thread for the lock
        waiting.cancel()
        await asyncio.sleep(0.05)
        other_process.execute("ROLLBACK")
        await asyncio.gather(waiting, return_exceptions=True)

        await store.set_paused(user_id, True, "kill switch")
        assert other_process.execute("SELECT paused FROM users WHERE id = ?", (user_id,)).fetchone() == (1,)
        other_process.close()
    finally:
        await store.close()
