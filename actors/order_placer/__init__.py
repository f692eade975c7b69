"""Everything the cycle sends to brokers: SL/TP with OCO, fair-price modifications, regenerated entries."""
