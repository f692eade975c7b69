"""BrokerFetcher: Step 1, every active account's order book and positions fetched at once."""
