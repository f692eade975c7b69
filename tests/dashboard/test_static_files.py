"""The dashboard's files as the service serves and ships them: /favicon.ico answers without a token (so a
browser's own request for it is not a 404), the page links its icon and the vendored uPlot (nothing from a
CDN), and a built wheel carries every file under service/web/static."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import aiohttp
import pytest

from tests.web.conftest import Served

ON_SQLITE = pytest.mark.parametrize("served", ["sqlite"], indirect=True)
ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "service" / "web" / "static"


def fetch(served: Served, path: str) -> tuple[int, str, bytes]:
    """GET without a token: status, content type and body."""
    async def get() -> tuple[int, str, bytes]:
        async with aiohttp.ClientSession() as session, session.get(served.url + path) as response:
            return response.status, response.content_type, await response.read()
    return served.io.call(get())


@ON_SQLITE
def test_the_favicon_answers_without_a_token(served: Served):
    status, content_type, body = fetch(served, "/favicon.ico")

    assert (status, content_type) == (200, "image/svg+xml")
    assert body == (STATIC / "favicon.svg").read_bytes()


@ON_SQLITE
def test_the_page_links_only_files_the_service_serves(served: Served):
    _, _, page = fetch(served, "/")
    links = re.findall(r'(?:href|src)="([^"]+)"', page.decode())

    assert "/static/favicon.svg" in links
    assert "/static/vendor/uplot/uPlot.iife.min.js" in links
    assert all(link.startswith("/static/") for link in links), links
    for link in links:
        status, _, body = fetch(served, link)
        assert status == 200 and body == (STATIC / link.removeprefix("/static/")).read_bytes(), link
    assert fetch(served, "/static/vendor/uplot/LICENSE")[0] == 200


def test_the_vendored_uplot_is_version_1_6_32_with_its_licence():
    assert (STATIC / "vendor/uplot/uPlot.iife.min.js").read_text().startswith(
        "/*! https://github.com/leeoniya/uPlot (v1.6.32) */")
    assert "The MIT License (MIT)" in (STATIC / "vendor/uplot/LICENSE").read_text()


def test_a_built_wheel_ships_every_dashboard_file(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "*.db*", "test-output"))
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
         "-w", str(tmp_path / "dist"), str(source)],
        capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("monitoring_loop-*.whl"))
    shipped = set(zipfile.ZipFile(wheel).namelist())

    expected = {path.relative_to(ROOT).as_posix() for path in STATIC.rglob("*") if path.is_file()}
    assert "service/web/static/vendor/uplot/uPlot.iife.min.js" in expected
    assert expected <= shipped, sorted(expected - shipped)
