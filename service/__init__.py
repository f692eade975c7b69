"""Runtime plumbing: config, clock, the asyncio loop thread, the tick scheduler."""
