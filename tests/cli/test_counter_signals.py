"""The counter's terminal never sleeps through a signal.

A signal that arrives just before the terminal starts waiting for a key (the program is between
its last Python step and the wait itself) used to leave the wait blind to it: Ctrl-C or a
hang-up then did nothing until the idle time ran out.  A signal taken by a thread other than
the one waiting makes that moment happen every time, so these tests send it that way.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from stsvend_cli.counter_term import SessionEnd, Terminal

IDLE = 20.0


@pytest.fixture
def term() -> Iterator[Terminal]:
    read_end, write_end = os.pipe()
    # The keys come from a pipe this test holds open and never writes.
    terminal = Terminal(IDLE, fd=read_end)
    terminal.install()
    try:
        yield terminal
    finally:
        terminal.uninstall()
        os.close(read_end)
        os.close(write_end)


def _signal_from_another_thread(signum: int) -> None:
    def send() -> None:
        time.sleep(0.3)
        signal.pthread_kill(threading.get_ident(), signum)

    threading.Thread(target=send, daemon=True).start()


def test_ctrl_c_reaches_a_waiting_prompt(term: Terminal) -> None:
    _signal_from_another_thread(signal.SIGINT)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        term.ask("Amount? ")
    assert time.monotonic() - started < IDLE / 2


def test_a_hang_up_reaches_a_waiting_prompt(term: Terminal) -> None:
    _signal_from_another_thread(signal.SIGHUP)
    with pytest.raises(SessionEnd) as ended:
        term.ask("Amount? ", mid_sale=True)
    assert ended.value.reason == "hangup"


def test_ctrl_c_while_a_sale_is_written_is_ignored_and_the_wait_goes_on(term: Terminal) -> None:
    with term.busy():
        _signal_from_another_thread(signal.SIGINT)
        time.sleep(0.6)  # the signal came and went while busy
    term.idle_seconds = 1.0
    with pytest.raises(SessionEnd) as ended:
        term.ask("Sell? ")
    assert ended.value.reason == "idle"


def test_uninstall_gives_the_signals_back() -> None:
    before = signal.getsignal(signal.SIGINT), signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(before[1])
    terminal = Terminal(IDLE, fd=0)
    terminal.install()
    terminal.uninstall()
    assert signal.getsignal(signal.SIGINT) is before[0]
    assert signal.set_wakeup_fd(-1) == before[1]
    signal.set_wakeup_fd(before[1])
