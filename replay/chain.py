"""Checks one user's hash chain as its rows stream by in seq order: the audit's proof that no row was edited.

Each row is checked against its predecessor's stored hash, so a finding names the row where the chain breaks
(README.md, Auditing a cycle: the hash chain). Rows before the first hashed one predate the chain (unchained, not
a finding); started mid-log, the first row's hash is taken as given. Pure: no I/O.
"""

from __future__ import annotations

from adapters.store.event_chain import chain_hash, is_hash
from adapters.store.port import ChainLink
from replay.fold import Problem


class ChainTracker:
    def __init__(self, user_id: int, *, from_start: bool) -> None:
        """`from_start`: the first row fed is the user's first ever (seq 1), so it must chain from genesis."""
        self.user_id = user_id
        self.unchained: list[int] = []
        """The seq numbers of the rows written before the chain existed (no hash, before any hashed row)."""
        self._hashed_seen = False
        self._previous: str | None = None
        self._checkable = from_start

    def see(self, seq: int, link: ChainLink) -> Problem | None:
        """Check the next row (in seq order); the finding, if its hash is missing or does not match."""
        stored = link.hash
        if stored is None:
            if not self._hashed_seen:
                self.unchained.append(seq)
                self._checkable = True
                return None
            self._checkable = False
            return self._problem(seq, "has no hash, yet events before it have: its hash was stripped")
        if not is_hash(stored):
            self._hashed_seen, self._checkable = True, False
            return self._problem(seq, "has a hash that is not 64 lowercase hex characters: it was overwritten")
        previous, checkable = self._previous, self._checkable
        self._hashed_seen, self._previous, self._checkable = True, stored, True
        if not checkable or chain_hash(previous, link.canonical) == stored:
            return None
        after = "the chain's start" if previous is None else "the event before it"
        return self._problem(seq, f"hash does not match its row chained from {after}: this event was changed "
                                  "or moved, or the one before it deleted or changed")

    def unchained_note(self) -> str | None:
        """The note on the rows written before the chain existed, if any."""
        if not self.unchained:
            return None
        first, last = self.unchained[0], self.unchained[-1]
        span = f"seq {first}" if first == last else f"seq {first}..{last}"
        return (f"user {self.user_id}: {span} ({len(self.unchained)} events) written before the hash chain: "
                "not chained, checked by replay only")

    def _problem(self, seq: int, what: str) -> Problem:
        return Problem(kind="hash_chain", seq=seq, message=f"user {self.user_id}: seq {seq} {what}")
