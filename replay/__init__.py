"""Replay and audit of the event log: re-fold cycles through the decider, check them, show them."""
