"""A time limit on rendering one brief, so a hostile template or a pathological layout cannot hang a build.

The limit is a SIGALRM interval timer (``signal.setitimer``) whose handler raises `TimeLimitExceeded`
in the main thread. Jinja and most of WeasyPrint are Python bytecode, so the exception lands within
milliseconds; a single long call into C (one Pango shaping call, one huge ``str.join``) delays it
until that call returns. `TimeLimitExceeded` derives from BaseException because WeasyPrint catches
``Exception`` around resource loading and would otherwise swallow it; the timer re-fires every half
second until the limited block is left, in case it is swallowed anyway.

Signals reach only a process's main thread, so the limit works that way in a single-process build and
in each worker of a process pool (each worker runs its tasks in its own main thread). A Dask worker
runs its tasks in other threads (issue 18): there a timer thread raises the same exception in the
rendering thread with CPython's ``PyThreadState_SetAsyncExc``, which, like a signal handler, strikes
between two bytecodes. See docs/security.md for what this does not bound (memory).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from briefs.errors import BuildError
from briefs.pipeline.fastpath import DEFAULT_SECONDS as _DEFAULT

log = logging.getLogger(__name__)

DEFAULT_SECONDS = _DEFAULT  # with the command line's other choices
"""Per brief (one dataset × one audience, every format and every trimming pass). A brief takes ~3 s."""

_REFIRE = 0.5


class TimeLimitExceeded(BaseException):  # like KeyboardInterrupt: nothing may catch it as an Exception
    """Raised by the alarm handler inside the limited block."""


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise TimeLimitExceeded


def _stop_timer(previous: signal._HANDLER) -> None:
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def time_limit(seconds: float | None, what: str) -> Iterator[None]:
    """Raise BuildError naming ``what`` if the block runs longer than ``seconds`` (None or 0: no limit)."""
    if not seconds or seconds <= 0:
        yield
        return
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        with _thread_limit(seconds, what):
            yield
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds, _REFIRE)
    try:
        try:
            yield
        finally:
            _stop_timer(previous)
    except TimeLimitExceeded:
        _stop_timer(previous)  # the alarm may have struck inside the finally above, before the timer stopped
        raise BuildError(f"{what}: rendering took longer than the {seconds:g} s time limit; stopped") from None


def _raise_in(thread: int, exc: type[BaseException] | None) -> None:
    """Make ``thread`` raise ``exc`` at its next bytecode (None: forget one not raised yet)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread), ctypes.py_object(exc) if exc else None)


@contextlib.contextmanager
def _thread_limit(seconds: float, what: str) -> Iterator[None]:
    """`time_limit` in any thread: a timer thread raises TimeLimitExceeded in this one, again every half second."""
    if not hasattr(ctypes, "pythonapi"):  # not CPython
        log.debug("%s: no time limit outside the main thread here", what)
        yield
        return
    target = threading.get_ident()
    lock = threading.Lock()
    done = threading.Event()
    inside = [True]

    def strike() -> None:
        if done.wait(seconds):
            return
        while True:
            with lock:
                if not inside[0]:
                    return
                _raise_in(target, TimeLimitExceeded)
            if done.wait(_REFIRE):
                return

    timer = threading.Thread(target=strike, name=f"time limit: {what}", daemon=True)
    timer.start()
    try:
        try:
            yield
        finally:
            with lock:
                inside[0] = False
                _raise_in(target, None)  # one set but not raised yet must not strike after the block
            done.set()
    except TimeLimitExceeded:
        with lock:
            inside[0] = False
            _raise_in(target, None)
        done.set()
        raise BuildError(f"{what}: rendering took longer than the {seconds:g} s time limit; stopped") from None
