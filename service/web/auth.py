"""Who is calling: the user of an API token (`Authorization: Bearer <token>`, or `?token=` for browsers), or
on the desk's routes the admin token (`Authorization: Bearer <token>` only), and whether a browser's Origin is
allowed. A missing or wrong token is a 401, before anything else runs; a user's token is never an admin token,
nor an admin token a user's (each is looked up only among its own kind).

A browser's Origin is checked against the server's public origin and the configured ones, never against the
request's own Host header: a page of `http://evil.example` whose name resolves to this server (DNS
rebinding) sends `Origin: http://evil.example` and `Host: evil.example`, and is refused."""

from __future__ import annotations

from collections.abc import Collection

from aiohttp import web

from adapters.store.port import Store


def bearer_token(request: web.Request, in_query: bool = True) -> str | None:
    """The token as sent (in the query too, unless not `in_query`), or None when there is none, or when it is
    not the visible ASCII every API token is made of (a header with invalid UTF-8, such as the bytes ED A0 80,
    is simply no token)."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        token = header[len("Bearer "):].strip()
    else:
        token = request.query.get("token", "") if in_query else ""
    return token if token and all("!" <= char <= "~" for char in token) else None


def _unauthorized(kind: str) -> web.HTTPUnauthorized:
    return web.HTTPUnauthorized(text=f'{{"error": "missing or invalid {kind}"}}', content_type="application/json",
                                headers={"WWW-Authenticate": "Bearer"})


async def authenticated_user(request: web.Request, store: Store) -> int:
    token = bearer_token(request)
    user_id = await store.user_for_token(token) if token else None
    if user_id is None:
        raise _unauthorized("API token")
    return user_id


async def authenticated_admin(request: web.Request, store: Store) -> str:
    """The name of the admin token sent in the Authorization header."""
    token = bearer_token(request, in_query=False)
    name = await store.admin_for_token(token) if token else None
    if name is None:
        raise _unauthorized("admin token")
    return name


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
