"""Every core test must leave no actor and no thread behind."""

import threading
import time

import pykka
import pytest


@pytest.fixture(autouse=True)
def no_threads_left_behind():
    before = {t.ident for t in threading.enumerate()}
    yield
    assert pykka.ActorRegistry.get_all() == [], "actors left running"
    deadline = time.monotonic() + 5
    while True:
        extra = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert extra == [], f"threads left running: {[t.name for t in extra]}"
