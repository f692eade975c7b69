"""The per-user monitor: a pure cycle decider (cycle.py) inside a thin pykka shell (actor.py)."""
