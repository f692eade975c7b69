"""Running a store write again, whole, when the database aborted its transaction to resolve a conflict.

Only `TransactionAborted` (MySQL 1213 and 1205, Galera certification, SQLite's busy timeout) runs again, after
doubling, fully jittered waits; a lost connection, a timeout or an unknown COMMIT may have written and never does.
A wrapped method must leave nothing outside its transaction half done. Retries log at WARNING, never a parameter.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

import msgspec

from domain.errors import TransactionAborted

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")


class RerunPolicy(msgspec.Struct, frozen=True, kw_only=True):
    attempts: int = 5
    """Attempts in all, the first included (at least 1)."""
    first_delay_s: float = 0.02
    """The longest wait before the second attempt; each later one may wait twice as long as the one before."""
    max_delay_s: float = 1.0
    """No wait is longer than this."""

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("a rerun policy makes at least 1 attempt")
        if not 0 <= self.first_delay_s <= self.max_delay_s:
            raise ValueError("a rerun policy's delays satisfy 0 <= first_delay_s <= max_delay_s")

    def delay_s(self, failed_attempts: int, draw: Callable[[], float] = random.random) -> float:
        """The wait after `failed_attempts` aborted attempts: a uniform draw below the attempt's bound."""
        return draw() * min(self.max_delay_s, self.first_delay_s * 2 ** (failed_attempts - 1))


RERUN_POLICY = RerunPolicy()
"""The store's: 5 attempts, waits below 20, 40, 80 and 160 ms (0.3 s in all at most)."""


class Rerunnable(Protocol):
    rerun_policy: RerunPolicy


R = TypeVar("R", bound=Rerunnable)


def _scope(signature: inspect.Signature, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The user and account a write is about, from its `user_id` / `account_id` arguments or its `row`."""
    arguments = signature.bind_partial(None, *args, **kwargs).arguments
    row = arguments.get("row")
    return {name: value for name in ("user_id", "account_id")
            if (value := arguments.get(name, getattr(row, name, None))) is not None}


def rerun_when_aborted(
    method: Callable[Concatenate[R, P], Awaitable[T]],
) -> Callable[Concatenate[R, P], Awaitable[T]]:
    """Run the store method again, whole, after each `TransactionAborted`, as its owner's policy allows."""
    signature = inspect.signature(method)

    @functools.wraps(method)
    async def rerun(self: R, *args: P.args, **kwargs: P.kwargs) -> T:
        policy = self.rerun_policy
        for attempt in range(1, policy.attempts):
            try:
                return await method(self, *args, **kwargs)
            except TransactionAborted as aborted:
                delay = policy.delay_s(attempt)
                scope = _scope(signature, args, kwargs)
                log.warning("%s %s: the database aborted attempt %d of %d (%s); running it again in %.3f s",
                            method.__name__, " ".join(f"{k}={v}" for k, v in scope.items()), attempt,
                            policy.attempts, aborted.message, delay, extra={**scope, "step": method.__name__})
                await asyncio.sleep(delay)
        try:
            return await method(self, *args, **kwargs)
        except TransactionAborted as aborted:
            raise TransactionAborted(f"{aborted.message} (aborted {policy.attempts} times; given up)") from None

    return rerun
