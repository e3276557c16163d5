"""Foreground services stop on SIGTERM or Ctrl-C, however busy their main loop is."""

from __future__ import annotations

import os
import signal
import threading
import time

from madoguchi.signals import SignalEvent, stop_on_signals


def test_sigterm_sets_the_stop_event_and_the_old_handler_comes_back() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with stop_on_signals() as stop:
        assert not stop.is_set()
        assert not stop.wait(0.01)
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.wait(5), "SIGTERM did not set the stop event"
        assert stop.is_set()
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_stop_set_from_another_thread_wakes_a_waiting_main_loop() -> None:
    stop = SignalEvent()
    threading.Timer(0.05, stop.set).start()
    began = time.monotonic()
    assert stop.wait(5)
    assert time.monotonic() - began < 4
    stop.close()


def test_signals_hammering_a_polling_loop_never_deadlock_it() -> None:
    """GIVEN a loop polling wait(0) WHEN signals arrive thousands of times THEN it always sees them."""
    with stop_on_signals() as stop:
        sender = threading.Thread(target=lambda: [os.kill(os.getpid(), signal.SIGHUP) for _ in range(2000)])
        sender.start()
        deadline = time.monotonic() + 20
        while not stop.wait(0) and time.monotonic() < deadline:
            pass
        sender.join(20)
        assert stop.is_set()
