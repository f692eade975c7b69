"""The service's message families as msgspec Structs: commands, events, WebSocket frames. No logic."""
