"""A time limit on rendering one brief, so a hostile template or a pathological layout cannot hang a build.

The limit is a SIGALRM interval timer (``signal.setitimer``) whose handler raises `TimeLimitExceeded`
in the main thread. Jinja and most of WeasyPrint are Python bytecode, so the exception lands within
milliseconds; a single long call into C (one Pango shaping call, one huge ``str.join``) delays it
until that call returns. `TimeLimitExceeded` derives from BaseException because WeasyPrint catches
``Exception`` around resource loading and would otherwise swallow it; the timer re-fires every half
second until the limited block is left, in case it is swallowed anyway.

Signals reach only a process's main thread, so the limit works in a single-process build and in each
worker of a process pool (each worker runs its tasks in its own main thread). In any other thread it
is not enforced, and that is logged. See docs/security.md for what this does not bound (memory).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from briefs.errors import BuildError
from briefs.fastpath import DEFAULT_SECONDS as _DEFAULT

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
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        log.debug("%s: no time limit outside the main thread", what)
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
