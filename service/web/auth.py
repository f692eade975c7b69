"""Who is calling: the user of an API token (`Authorization: Bearer <token>`, or `?token=` for browsers),
and whether a browser's Origin is allowed. A missing or wrong token is a 401, before anything else runs.

A browser's Origin is checked against the server's public origin and the configured ones, never against the
request's own Host header: a page of `http://evil.example` whose name resolves to this server (DNS
rebinding) sends `Origin: http://evil.example` and `Host: evil.example`, and is refused."""

from __future__ import annotations

from collections.abc import Collection

from aiohttp import web

from adapters.store.port import Store


def bearer_token(request: web.Request) -> str | None:
    """The token as sent, or None when there is none, or when it is not the visible ASCII every API token is
    made of (a header with invalid UTF-8, such as the bytes ED A0 80, is simply no token)."""
    header = request.headers.get("Authorization", "")
    token = header[len("Bearer "):].strip() if header.startswith("Bearer ") else request.query.get("token", "")
    return token if token and all("!" <= char <= "~" for char in token) else None


async def authenticated_user(request: web.Request, store: Store) -> int:
    token = bearer_token(request)
    user_id = await store.user_for_token(token) if token else None
    if user_id is None:
        raise web.HTTPUnauthorized(text='{"error": "missing or invalid API token"}', content_type="application/json",
                                   headers={"WWW-Authenticate": "Bearer"})
    return user_id


class Origins:
    """The browser origins allowed: the server's public origin and the configured `allowed` ones (`*`: any).
    `public` may be set once the server is bound, when it defaults to the bound `http://host:port`."""

    def __init__(self, allowed: Collection[str], public: str = "") -> None:
        self.allowed = frozenset(allowed)
        self.public = public

    def check(self, request: web.Request) -> None:
        """Browsers send Origin on WebSocket upgrades; a non-browser client may send none, and is let through."""
        origin = request.headers.get("Origin")
        if origin is None or "*" in self.allowed or origin == self.public or origin in self.allowed:
            return
        raise web.HTTPForbidden(text='{"error": "origin not allowed"}', content_type="application/json")
