"""monitor.example.toml shows every setting the service reads: each field of each config struct, walked from
ServiceConfig (a section added later is walked too), is an uncommented key there whose value is the field's
default, and the file as a whole decodes to the defaults."""

from __future__ import annotations

import tomllib
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from service.config import ServiceConfig, load_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "monitor.example.toml"


def section_type(annotation: Any) -> type[msgspec.Struct] | None:
    """The config struct a field holds (also as `Struct | None`), or None for a plain setting."""
    candidates = typing.get_args(annotation) if isinstance(annotation, types.UnionType) \
        or typing.get_origin(annotation) is typing.Union else (annotation,)
    structs = [c for c in candidates if isinstance(c, type) and issubclass(c, msgspec.Struct)]
    return structs[0] if structs else None


def settings(struct: type[msgspec.Struct], path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...],
                                                                                         msgspec.structs.FieldInfo]]:
    for field in msgspec.structs.fields(struct):
        section = section_type(field.type)
        if section is None:
            yield (*path, field.encode_name), field
        else:
            yield from settings(section, (*path, field.encode_name))


def default_of(field: msgspec.structs.FieldInfo) -> Any:
    return field.default_factory() if field.default is msgspec.NODEFAULT else field.default


SETTINGS = list(settings(ServiceConfig))


def test_the_walk_reaches_the_nested_sections_and_their_fields():
    paths = {".".join(path) for path, _ in SETTINGS}
    assert {"database_url", "server.port", "cycle.window.holidays", "cycle.step_timeouts_s",
            "rules.inflight_settle_s", "rules.regeneration_backoff_s", "logging.json"} <= paths
    assert not {"server", "cycle", "cycle.window"} & paths


@pytest.mark.parametrize(("path", "field"), SETTINGS, ids=[".".join(path) for path, _ in SETTINGS])
def test_the_example_config_shows_the_setting_with_its_default(path, field):
    table: dict[str, Any] = tomllib.loads(EXAMPLE.read_text())
    for depth, key in enumerate(path[:-1], start=1):
        assert key in table, f"monitor.example.toml has no [{'.'.join(path[:depth])}] section"
        table = table[key]
    name = ".".join(path)
    assert path[-1] in table, f"monitor.example.toml does not show {name} (default {default_of(field)!r})"
    assert msgspec.convert(table[path[-1]], field.type) == default_of(field), \
        f"monitor.example.toml shows {name} = {table[path[-1]]!r}, not its default {default_of(field)!r}"


def test_the_example_config_decodes_to_the_defaults():
    assert load_config(str(EXAMPLE), {}) == ServiceConfig()
