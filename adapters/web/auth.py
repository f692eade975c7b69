"""Who is calling: the user of an API token (`Authorization: Bearer <token>`, or `?token=` for browsers),
and whether a browser's Origin is allowed. A missing or wrong token is a 401, before anything else runs."""

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


def check_origin(request: web.Request, allowed: Collection[str]) -> None:
    """Browsers send Origin on WebSocket upgrades; a non-browser client may send none. `*` allows any."""
    origin = request.headers.get("Origin")
    if origin is None or "*" in allowed:
        return
    host_origin = f"{request.scheme}://{request.host}"
    if origin != host_origin and origin not in allowed:
        raise web.HTTPForbidden(text='{"error": "origin not allowed"}', content_type="application/json")
