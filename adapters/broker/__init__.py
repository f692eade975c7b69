"""Brokers: the Broker port, the XTS HTTP adapter and the paper broker that serves the same wire format."""
