"""What every JSON broker wire format shares: JSON bodies parsed with money as `Decimal` from its text (never
through float), rows converted to msgspec structs with a failure naming the broker's field, and the exchange's
time zone; and a list answer's rows kept by their bytes, so that only the rows that changed are decoded again.
Raises `WireError`; no I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Generic, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

import msgspec

EXCHANGE_TZ = ZoneInfo("Asia/Kolkata")

Row = TypeVar("Row", bound=msgspec.Struct)
Mapped = TypeVar("Mapped")

_FIELD_IN_ERROR = re.compile(r"`\$(?:\[\d+\])?\.(\w+)`|required field `(\w+)`")
_json_decoder = msgspec.json.Decoder(float_hook=Decimal)


class WireError(Exception):
    """A response that does not follow the wire format; `field` is the broker's field at fault."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.detail = detail


def decode_json(body: bytes) -> Any:
    """Parse a body; JSON numbers with a fraction become `Decimal` from their text."""
    try:
        return _json_decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise WireError("body", f"not JSON ({exc})") from None


def convert(value: Any, row_type: type[Row], what: str, *, blank_is_none: frozenset[str] = frozenset()) -> Row:
    """Convert decoded JSON to `row_type`, numbers accepted as strings, `""` as None for the fields
    `blank_is_none` names; a failure, or a money field that is not a finite number, names the field."""
    if isinstance(value, dict) and blank_is_none:
        value = {key: (None if item == "" and key in blank_is_none else item) for key, item in value.items()}
    try:
        row = msgspec.convert(value, row_type, strict=False)
    except msgspec.ValidationError as exc:
        match = _FIELD_IN_ERROR.search(str(exc))
        field = next((group for group in match.groups() if group), what) if match else what
        raise WireError(field, f"{what}: {exc}") from None
    for field in row.__struct_fields__:
        amount = getattr(row, field)
        if isinstance(amount, Decimal) and not amount.is_finite():
            raise WireError(field, f"{what}: {field} is {amount}, not a finite number")
    return row


def convert_rows(rows: Any, row_type: type[Row], what: str, *, listed_in: str,
                 blank_is_none: frozenset[str] = frozenset()) -> list[Row]:
    """Each row of the list `rows` (the envelope's field `listed_in`) as `row_type`."""
    if not isinstance(rows, list):
        raise WireError(listed_in, f"{what}: expected a list of rows")
    return [convert(row, row_type, f"{what} row {index}", blank_is_none=blank_is_none)
            for index, row in enumerate(rows)]


class ListedRows(NamedTuple, Generic[Mapped]):
    """A list answer's rows in its order, the same rows by their bytes (to keep for the next answer), and how
    many of them were new and decoded."""

    rows: list[Mapped]
    by_bytes: dict[bytes, Mapped]
    decoded: int


def rows_by_bytes(raw_rows: Sequence[msgspec.Raw], previous: Mapping[bytes, Mapped],
                  decode_new: Callable[[list[tuple[int, bytes]]], list[Mapped]]) -> ListedRows[Mapped]:
    """The rows of a list answer: a row whose bytes are those of a row of `previous` is that row again, the
    others are decoded together by `decode_new` (given each new row's index in the answer and its bytes)."""
    keys = [bytes(raw) for raw in raw_rows]
    new = [(index, key) for index, key in enumerate(keys) if key not in previous]
    fresh = dict(zip((key for _, key in new), decode_new(new), strict=True)) if new else {}
    rows = [fresh[key] if key in fresh else previous[key] for key in keys]
    return ListedRows(rows, dict(zip(keys, rows, strict=True)), len(new))
