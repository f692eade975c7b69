"""The web side: the Notifier port (frames to a user's WebSocket clients) and, later, the aiohttp app."""
