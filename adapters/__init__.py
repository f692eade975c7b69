"""Adapters behind typing.Protocol ports: broker (XTS over HTTP, paper broker), store (MySQL, SQLite), web."""
