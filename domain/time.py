"""Time in the domain: every timestamp is timezone-aware and kept in UTC; people see Asia/Kolkata."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

UtcDateTime = Annotated[datetime, msgspec.Meta(tz=True)]
"""A timezone-aware timestamp; the service keeps UTC inside and converts only for people."""
