"""StopSignal, the start-up of `serve` and `demo`: a stop signal sent while the service starts is held, not
fatal, and stops it once started; the threads the service starts never receive one; and a stop the wait was
not woken for is still seen within a slice."""

import signal
import threading
import time

import pytest

from service.cli.stop_signal import STOP_SIGNALS, StopSignal


@pytest.fixture
def stop_signal():
    handlers = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    yield StopSignal()
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


def test_a_sigterm_sent_while_the_service_starts_is_held_then_stops_it_once_started(stop_signal):
    signal.pthread_kill(threading.main_thread().ident, signal.SIGTERM)
    assert not stop_signal.wait(0)
    stop_signal.started()
    assert stop_signal.wait(0)


def test_threads_started_while_the_service_starts_leave_the_stop_signals_to_the_main_thread(stop_signal):
    blocked_in_thread: list[set[int]] = []
    thread = threading.Thread(target=lambda: blocked_in_thread.append(signal.pthread_sigmask(signal.SIG_BLOCK, [])))
    thread.start()
    thread.join()
    stop_signal.started()
    assert set(STOP_SIGNALS) <= blocked_in_thread[0]
    assert not set(STOP_SIGNALS) & signal.pthread_sigmask(signal.SIG_BLOCK, [])


def test_a_stop_whose_handler_ran_without_waking_the_wait_is_seen_within_a_slice(stop_signal):
    stop_signal.started()
    woken = threading.Event()
    waiter = threading.Thread(target=lambda: stop_signal.wait(5) and woken.set())
    waiter.start()
    time.sleep(0.1)  # the waiter is asleep in its wait
    stop_signal._stop._flag = True  # the flag set with no notify: the wakeup a blocking lock wait can miss

    waiter.join(timeout=5)
    assert woken.is_set() and not waiter.is_alive()
