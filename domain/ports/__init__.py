"""The ports: what actors ask of the world outside (the broker, the clock), as Protocols adapters implement."""
