"""`admin_tokens` as `SqlStore` keeps them (mixed into it): the tokens of a desk's pricing, by name, stored as
their SHA-256 like the users' API tokens and shown once, at creation. They live apart from `users`: a user's
token is never looked up here, nor an admin token among the users', so neither opens the other's routes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from adapters.store.rerun import RerunPolicy, rerun_when_aborted
from adapters.store.tokens import hash_token, new_token, row_of_token
from domain.errors import DatabaseError
from domain.records import AdminTokenListing

if TYPE_CHECKING:
    from adapters.store.repository import Database


class AdminTokenRows:
    database: Database
    rerun_policy: RerunPolicy
    _now: Callable[[], datetime]

    @rerun_when_aborted
    async def add_admin_token(self, name: str) -> str:
        token = new_token()
        async with self.database.transaction() as tx:
            if await tx.fetch_all("admin_tokens/by_name", (name,)):
                raise DatabaseError(f"an admin token named {name!r} already exists")
            await tx.insert("admin_tokens/insert", (name, hash_token(token), self._now()))
        return token

    async def admin_for_token(self, token: str) -> str | None:
        digest = hash_token(token)
        async with self.database.autocommit() as tx:
            row = row_of_token(await tx.fetch_all("admin_tokens/by_token_hash", (digest,)), digest)
        return None if row is None else row["name"]

    async def list_admin_tokens(self) -> list[AdminTokenListing]:
        async with self.database.autocommit() as tx:
            return [AdminTokenListing(**row) for row in await tx.fetch_all("admin_tokens/list")]

    @rerun_when_aborted
    async def remove_admin_token(self, name: str) -> bool:
        async with self.database.autocommit() as tx:  # one idempotent DELETE
            return await tx.execute("admin_tokens/remove", (name,)) > 0
