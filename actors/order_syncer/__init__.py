"""The database side of the cycle: its context, the orders sync, archiving rejected orders, regeneration rows."""
