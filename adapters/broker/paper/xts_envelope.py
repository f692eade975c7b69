"""XTS's response envelope as the paper broker's XTS faces send it (Interactive and Market Data):
`{"type", "code", "description", "result"}`, with the invalid-session answer both faces share."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from adapters.broker.paper.calls import Answer
from adapters.broker.xts_wire import SESSION_EXPIRED_CODE, encode_json


def answer(status: int, type_: str, code: str, description: str, result: Any) -> Answer:
    return Answer(status, encode_json({"type": type_, "code": code, "description": description, "result": result}))


def success(code: str, description: str, result: Any) -> web.Response:
    return answer(200, "success", code, description, result).response()


def error(status: int, code: str, description: str, result: Any = None) -> web.Response:
    return answer(status, "error", code, description, {} if result is None else result).response()


def invalid_token() -> web.Response:
    return error(400, SESSION_EXPIRED_CODE, "Invalid Token")
