"""The HTTP API's OpenAPI 3.1 document, served at `GET /api/openapi.json`: every route, its parameters, body and
answers, with the schemas built from the msgspec types the handlers decode and encode
(`msgspec.json.schema_components`), so the document cannot drift from what the API accepts and answers.
"""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from domain.records import CycleRecord, OrderRow
from messages.api import (
    BatchAnswer,
    BatchRequest,
    DeskFairPriceCleared,
    DeskFairPricesAnswer,
    DeskFairPricesRequest,
    ErrorAnswer,
    LoginNeededAnswer,
    PauseRequest,
    SessionAnswer,
    SessionRequest,
)
from messages.frames import AccountsFrame, SymbolPnl
from replay.timeline import Timeline
from service.recent import PnlHistory


class OrdersAnswer(msgspec.Struct, frozen=True, kw_only=True):
    orders: tuple[OrderRow, ...]


class PnlAnswer(msgspec.Struct, frozen=True, kw_only=True):
    rows: tuple[SymbolPnl, ...]


class CyclesAnswer(msgspec.Struct, frozen=True, kw_only=True):
    cycles: tuple[CycleRecord, ...]


class PauseAnswer(msgspec.Struct, frozen=True, kw_only=True):
    paused: bool
    reason: str | None = None
    """The reason as stored (a pause only)."""


class HealthAnswer(msgspec.Struct, frozen=True, kw_only=True):
    status: str


class ReadinessAnswer(msgspec.Struct, frozen=True, kw_only=True):
    ready: bool


_TYPES = (BatchRequest, BatchAnswer, ErrorAnswer, SessionRequest, SessionAnswer, LoginNeededAnswer, PauseRequest,
          PauseAnswer, OrdersAnswer, PnlAnswer, CyclesAnswer, Timeline, HealthAnswer, ReadinessAnswer, AccountsFrame,
          PnlHistory, DeskFairPricesRequest, DeskFairPricesAnswer, DeskFairPriceCleared)


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(refs: dict[type, dict[str, Any]], *statuses: tuple[int, str]) -> dict[str, Any]:
    return {str(status): _json(refs[ErrorAnswer], why) for status, why in statuses}


def openapi_document() -> dict[str, Any]:
    refs_list, components = msgspec.json.schema_components(_TYPES, ref_template="#/components/schemas/{name}")
    refs = dict(zip(_TYPES, refs_list, strict=True))
    unauthorized = (401, "missing or invalid API token")
    bad_body = (400, "a body that is not JSON or not this route's schema")
    secured: dict[str, Any] = {"security": [{"bearer": []}]}
    admin: dict[str, Any] = {"security": [{"admin": []}]}
    admin_unauthorized = (401, "missing or invalid admin token (a user's API token is not one)")
    batch = {
        **secured,
        "summary": "Place a batch of entry orders, each with its future stop-loss and take-profit",
        "description": "Every order is checked before anything is written; each is answered on its own: "
                       "`placed`, `rejected`, `in_flight` (the request may have reached the broker; the next "
                       "cycle settles it), `not_placed` (nothing sent, nothing left pending) or `invalid`. "
                       "An order outside `BatchOrder` is `invalid` alone. With an `Idempotency-Key`, a repeat "
                       "within a day gets the first answer and sends nothing. On a replica that does not monitor "
                       "the user, with the fan-out on, the batch goes to the one that does, and its answer comes "
                       "back.",
        "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[!-~]+$"}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": refs[BatchRequest]}}},
        "responses": {"200": _json(refs[BatchAnswer], "one result per order, in the order given"),
                      **_errors(refs, bad_body, unauthorized, (409, "automation is paused, or the key's first "
                                                                     "request has not answered"),
                                (422, "the Idempotency-Key was used for a different request"),
                                (429, "too many batch requests this minute"),
                                (503, "this replica does not monitor the user, and the one that does could "
                                      "not be reached (or there is no fan-out): nothing written or sent (see "
                                      "Retry-After and `reason`)"),
                                (504, "forwarded to the replica monitoring the user, which gave no answer in "
                                      "time: the batch may have been placed there"))},
    }
    account_id = {"name": "account_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    cycle_id = {"name": "cycle_id", "in": "path", "required": True, "schema": {"type": "string"}}
    limit = {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer"}}
    paths = {
        "/api/algo-place-batch-orders": {"post": batch},
        "/api/orders": {"get": {**secured, "summary": "Your orders with their three legs",
                                "responses": {"200": _json(refs[OrdersAnswer], "your orders"),
                                              **_errors(refs, unauthorized)}}},
        "/api/pnl": {"get": {**secured, "summary": "FIFO PnL per account and symbol",
                             "responses": {"200": _json(refs[PnlAnswer], "PnL rows"), **_errors(refs, unauthorized)}}},
        "/api/pnl/history": {"get": {**secured, "summary": "Today's PnL (Asia/Kolkata day) per account as each "
                                                           "cycle computed it",
                                     "responses": {"200": _json(refs[PnlHistory], "oldest first"),
                                                   **_errors(refs, unauthorized)}}},
        "/api/accounts": {"get": {**secured, "summary": "Your accounts: state, last fetch, day PnL; the total and "
                                                        "the daily loss limit (the `accounts` frame)",
                                  "responses": {"200": _json(refs[AccountsFrame], "every active account"),
                                                **_errors(refs, unauthorized)}}},
        "/api/cycles": {"get": {**secured, "summary": "Your recent cycles (limit clamped to 1..500)",
                                "parameters": [limit],
                                "responses": {"200": _json(refs[CyclesAnswer], "newest first"),
                                              **_errors(refs, (400, "limit is not a whole number"), unauthorized)}}},
        "/api/cycles/{cycle_id}": {"get": {**secured, "summary": "One of your cycles as a checked timeline",
                                           "parameters": [cycle_id],
                                           "responses": {"200": _json(refs[Timeline], "the timeline"),
                                                         **_errors(refs, unauthorized, (404, "no such cycle"))}}},
        "/api/accounts/{account_id}/session": {"post": {
            **secured, "summary": "Renew an account's broker session: a session token from the broker's login, "
                                  "a request token from a login by hand (Kite), or none to log in with the "
                                  "stored keys (XTS)",
            "parameters": [account_id],
            "requestBody": {"required": False, "content": {"application/json": {"schema": refs[SessionRequest]}}},
            "responses": {"200": _json(refs[SessionAnswer], "the session is renewed"),
                          "409": _json(refs[LoginNeededAnswer], "the broker needs a login by hand first"),
                          **_errors(refs, bad_body, unauthorized, (404, "no such account of yours"),
                                    (502, "the broker's login failed"))}}},
        "/api/pause": {"post": {
            **secured, "summary": "Pause automation (the kill switch)",
            "requestBody": {"required": False, "content": {"application/json": {"schema": refs[PauseRequest]}}},
            "responses": {"200": _json(refs[PauseAnswer], "paused"),
                          **_errors(refs, bad_body, unauthorized, (503, "the pause could not be stored"))}}},
        "/api/resume": {"post": {
            **secured, "summary": "Resume automation",
            "responses": {"200": _json(refs[PauseAnswer], "resumed"),
                          **_errors(refs, unauthorized, (503, "the resume could not be stored"))}}},
        "/api/fair-prices": {"post": {
            **admin, "summary": "Set the desk's own fair prices: they take precedence over the market-data feed's",
            "description": "All are written in one transaction with `updated_at` now, marked `desk`, or none is: a "
                           "400 names the first entry refused (a price not above zero, not below 10^14, with more "
                           "than 4 decimal places, or a symbol given twice).",
            "requestBody": {"required": True, "content": {"application/json": {"schema": refs[DeskFairPricesRequest]}}},
            "responses": {"200": _json(refs[DeskFairPricesAnswer], "every price is written"),
                          **_errors(refs, (400, "a body that is not JSON or not this route's schema, or an entry "
                                                "refused (named)"), admin_unauthorized)}}},
        "/api/fair-prices/{symbol}": {"delete": {
            **admin, "summary": "Hand an instrument back to the feed: remove the desk's fair price of it",
            "parameters": [{"name": "symbol", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": _json(refs[DeskFairPriceCleared], "the desk's price is removed"),
                          **_errors(refs, admin_unauthorized, (404, "the desk has no fair price of this symbol"))}}},
        "/api/openapi.json": {"get": {"summary": "This document",
                                      "responses": {"200": {"description": "OpenAPI 3.1",
                                                            "content": {"application/json": {}}}}}},
        "/healthz": {"get": {"summary": "Alive", "responses": {"200": _json(refs[HealthAnswer], "alive")}}},
        "/readyz": {"get": {"summary": "Ready when the database and every broker in use answer",
                            "responses": {"200": _json(refs[ReadinessAnswer], "ready"),
                                          "503": _json(refs[ReadinessAnswer], "not ready (why: the log, /metrics)")}}},
        "/metrics": {"get": {"summary": "Prometheus metrics",
                             "responses": {"200": {"description": "Prometheus text format",
                                                   "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
    }
    return {"openapi": "3.1.0",
            "info": {"title": "Monitoring loop API", "version": "1"},
            "paths": paths,
            "components": {"schemas": components,
                           "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                          "description": "a user's API token"},
                                               "admin": {"type": "http", "scheme": "bearer",
                                                         "description": "an admin token (`run.py admin-tokens "
                                                                        "add`), in the Authorization header"}}}}


_DOCUMENT = msgspec.json.encode(openapi_document())


async def serve_document(request: web.Request) -> web.Response:
    return web.Response(body=_DOCUMENT, content_type="application/json")
