"""What the order-rule tests are given in common: the moment the rules judge at, a Wednesday noon in Mumbai."""

from datetime import UTC, datetime

T = datetime(2026, 11, 25, 6, 30, tzinfo=UTC)
