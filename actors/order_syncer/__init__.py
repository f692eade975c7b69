"""The database side of the cycle: its context, the orders sync (Step 3), archiving (7), regeneration rows (8)."""
