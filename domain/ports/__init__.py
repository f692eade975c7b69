"""The ports: what actors ask of the world outside (the broker first), as Protocols adapters implement."""
