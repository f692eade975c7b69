"""The modules mutation testing covers and the tests that cover each: one `MutationTarget` a module.

A target's tests are the fast, pure tests that state its rules; selecting them is what keeps a run bounded
(mutmut then runs, for each mutant, only those of them that call the mutated function). The gate targets
are the order rules and the decider: CI fails on any of their surviving mutants not listed as equivalent.
"""

from __future__ import annotations

import msgspec

GATE_SCORE = 100.0
"""A gate target may keep no surviving mutant that docs/MUTATION.md does not list as equivalent."""
CORE_SCORE = 95.0
"""Every other target kills at least this share of its non-equivalent mutants."""


class MutationTarget(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    source: str
    """The module mutated, relative to the project root."""
    tests: tuple[str, ...]
    """pytest paths (files or node ids) whose tests state the module's rules."""
    gate: bool = False
    """Checked in CI: no surviving mutant unless listed as equivalent."""

    @property
    def required_score(self) -> float:
        return GATE_SCORE if self.gate else CORE_SCORE


TARGETS: tuple[MutationTarget, ...] = (
    MutationTarget(name="rules", source="actors/order_placer/rules.py", gate=True,
                   tests=("tests/orders/test_protection_rules.py", "tests/orders/test_fair_price_rules.py")),
    MutationTarget(name="decider", source="actors/user_monitor/cycle.py", gate=True,
                   tests=("tests/core/test_decider.py", "tests/core/test_cycle_matrix.py",
                          "tests/core/test_decider_properties.py")),
    MutationTarget(name="sync", source="actors/order_syncer/sync.py", gate=True,
                   tests=("tests/orders/test_sync_rules.py", "tests/orders/test_fair_price_rules.py")),
    MutationTarget(name="book", source="domain/book.py", gate=True,
                   tests=("tests/orders/test_book_index.py", "tests/orders/test_sync_rules.py",
                          "tests/orders/test_protection_rules.py")),
    MutationTarget(name="trade", source="domain/trade.py", gate=True,
                   tests=("tests/orders/test_sync_rules.py", "tests/orders/test_fair_price_rules.py",
                          "tests/orders/test_protection_rules.py")),
    MutationTarget(name="window", source="actors/user_monitor/window.py", tests=("tests/core/test_window.py",)),
    MutationTarget(name="tags", source="domain/tags.py", tests=("tests/orders/test_tags.py",)),
    MutationTarget(name="fifo", source="actors/pnl_calculator/fifo.py",
                   tests=("tests/pnl/test_fifo_examples.py", "tests/pnl/test_fifo_matching_rules.py",
                          "tests/pnl/test_fifo_fill_order.py", "tests/pnl/test_fifo_loop_choice.py",
                          "tests/pnl/test_fills_from_order_book.py")),
    MutationTarget(name="limits", source="domain/limits.py", tests=("tests/orders/test_limits.py",)),
    MutationTarget(name="exposure", source="actors/order_placer/exposure.py", tests=("tests/orders/test_exposure.py",)),
    MutationTarget(name="batch", source="service/web/batch_validation.py",
                   tests=("tests/web/test_batch_validation.py",)),
)
"""Every target, gate targets first."""


def select(names: list[str], gate_only: bool) -> list[MutationTarget]:
    """The targets named (all when none), or the gate targets; an unknown name is a ValueError."""
    by_name = {target.name: target for target in TARGETS}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise ValueError(f"unknown mutation target {', '.join(unknown)}; known: {', '.join(by_name)}")
    chosen = [by_name[name] for name in names] if names else list(TARGETS)
    return [target for target in chosen if target.gate] if gate_only else chosen
