"""The ports: what actors and adapters ask of the world outside (the broker, the clock, the send guard), as
Protocols that adapters and the service implement."""
