"""The fetch step: fetch every account's order book and positions at once and store the snapshot."""
