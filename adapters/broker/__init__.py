"""Brokers: the Broker port, the registry of adapters by broker name, the XTS HTTP adapter and the paper broker
that serves the same wire format."""
