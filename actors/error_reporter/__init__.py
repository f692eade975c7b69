"""The report step and the cycle summary: what the user's clients are told at the end of every cycle."""
