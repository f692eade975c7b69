"""The actor system: one UserMonitor per monitored user, shared stateless workers, the Supervisor."""
