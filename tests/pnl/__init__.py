"""Tests of the PnL worker's pure core: FIFO matching and fills from the order book."""
