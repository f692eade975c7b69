"""Everything the cycle sends to brokers: SL/TP (Step 4), modifications (5, 6), regenerated entries (9)."""
