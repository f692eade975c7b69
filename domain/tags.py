"""Deterministic order tags (XTS `orderUniqueIdentifier`, at most 20 characters).

`M<order id base36><E|S|T><attempt base36>`: one intent, one tag, and any tag at the broker names its order and
leg; it is written to the row (with the leg's `PendingSubmit`, `domain/status.py`) before the request goes out.
"""

from __future__ import annotations

from domain.broker import MAX_TAG_LENGTH
from domain.records import Leg

TAG_PREFIX = "M"
_LEG_CODE: dict[str, str] = {"entry": "E", "sl": "S", "tp": "T"}
_CODE_LEG: dict[str, Leg] = {"E": "entry", "S": "sl", "T": "tp"}
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(number: int) -> str:
    if number < 0:
        raise ValueError(f"cannot tag a negative number: {number}")
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = _DIGITS[rest] + digits
        if number == 0:
            return digits


def order_tag(order_id: int, leg: Leg, attempt: int) -> str:
    """The tag of `leg` of internal order `order_id`, attempt 1, 2, ..."""
    if attempt < 1:
        raise ValueError(f"attempts count from 1, got {attempt}")
    tag = f"{TAG_PREFIX}{_base36(order_id)}{_LEG_CODE[leg]}{_base36(attempt)}"
    if len(tag) > MAX_TAG_LENGTH:
        raise ValueError(f"tag {tag!r} is longer than {MAX_TAG_LENGTH} characters")
    return tag


def parse_tag(tag: str | None) -> tuple[int, Leg, int] | None:
    """(order id, leg, attempt) of a tag this service made, or None for anyone else's tag."""
    if not tag or not tag.startswith(TAG_PREFIX) or len(tag) > MAX_TAG_LENGTH:
        return None
    body = tag[len(TAG_PREFIX):]
    codes = [index for index, char in enumerate(body) if char in _CODE_LEG]
    if len(codes) != 1:
        return None
    order_part, attempt_part = body[:codes[0]], body[codes[0] + 1:]
    if not order_part or not attempt_part or not all(c in _DIGITS for c in order_part + attempt_part):
        return None
    return int(order_part, 36), _CODE_LEG[body[codes[0]]], int(attempt_part, 36)
