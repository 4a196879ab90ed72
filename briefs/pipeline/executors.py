"""Where briefs are rendered: this machine's worker processes, or a Dask cluster (issue 18).

The build says *what* to render — one call of a render function per (dataset, audience) group, made
of plain picklable values — and an executor says *how*: `Executor.map_groups` hands back every
group's outcome as it is ready, in any order. The building process alone writes, records stamps and
editions, and reports, so outputs never depend on where they were rendered.

- `LocalPool`: ``--jobs N`` forked worker processes, kept for the life of the process so a watch
  loop's workers stay warm (issue 8). Their log records travel to the parent through a queue.
- a Dask distributed scheduler (``--executor dask --scheduler tcp://HOST:8786``), reached through a
  client in a process of its own (`briefs.pipeline.dask_relay`: no secret there, plain values back,
  deadlines on every answer).
  Inputs travel as data: the validated records in each call, and the template folders (templates,
  CSS, fonts) as bytes, written once per worker into a temporary folder named by their content hash.
  A worker needs the same ``briefs`` installed, not the coordinator's file system.

``distributed`` is imported only for a Dask build: ``pip install -e '.[dask]'``.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import functools
import logging
import logging.handlers
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from briefs.errors import BuildError

if TYPE_CHECKING:  # the pool's modules cost ~20 ms to import; a no-op build never needs them (issue 8)
    import multiprocessing.context
    import multiprocessing.queues
    from concurrent.futures import Future, ProcessPoolExecutor

    from briefs.pipeline.dask_relay import DaskRelay

log = logging.getLogger(__name__)

EXECUTORS = ("local", "dask")
SCHEDULER_ENV = "BRIEFS_SCHEDULER"
EXECUTOR_ENV = "BRIEFS_EXECUTOR"
K = TypeVar("K")


class Executor(Protocol):
    """Renders groups somewhere and hands back each outcome as it is ready."""

    def map_groups(self, fn: Callable[..., Any], calls: Mapping[K, tuple[Any, ...]]) -> Iterator[tuple[K, Any]]:
        """``fn(*call)`` for every call, as ``(key, outcome)`` in completion order; a lost call is a BuildError."""
        ...

    def close(self) -> None:
        """Stop whatever this executor started (kept workers, connections)."""
        ...


def open_executor(kind: str, scheduler: str | None, jobs: int, time_limit: float | None = None) -> Executor:
    """The executor a build asked for, ready to use; raises BuildError when a scheduler cannot be reached.

    Called before the output folder is touched, so an unreachable scheduler writes nothing.
    """
    if kind == "dask":
        if not scheduler:
            raise BuildError(f"--executor dask needs --scheduler tcp://HOST:PORT (or {SCHEDULER_ENV})")
        return connect_dask(scheduler, time_limit)
    return LocalPool(jobs)


# --- this machine: a kept pool of forked worker processes ---------------------------------------------

_pools: dict[int, ProcessPoolExecutor] = {}
"""The kept pool, by its size, for the life of the process: a watch loop's workers stay warm
(WeasyPrint imported, fonts loaded) from one rebuild to the next (issue 8). A pool is as big as the
first build that needed it (at most --jobs): a later build with fewer briefs due reuses it."""

_log_pipe: _LogPipe | None = None


class _LogPipe:
    """Log records from pool workers, each sent whole in one write; a thread here hands them to this process's loggers.

    Handed to the logger of the record's name as it is set up *now* (the CLI replaces its handler on
    every run), so a worker never writes to a stream itself: none can be closed under it, and two
    workers' lines never interleave.
    """

    def __init__(self, context: multiprocessing.context.BaseContext) -> None:
        self.queue: multiprocessing.queues.SimpleQueue[logging.LogRecord | str | None] = context.SimpleQueue()
        self.waiting: dict[str, threading.Event] = {}
        self.thread = threading.Thread(target=self._run, name="briefs worker logs", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            if isinstance(item, str):  # a flush() token: every record sent before it has been handled
                event = self.waiting.pop(item, None)
                if event is not None:
                    event.set()
                continue
            logging.getLogger(item.name).handle(item)

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until the records workers sent before now are handled (a build's log ends before its summary)."""
        token = f"flush-{threading.get_ident()}-{len(self.waiting)}-{id(self)}"
        event = self.waiting[token] = threading.Event()
        self.queue.put(token)
        event.wait(timeout)

    def stop(self) -> None:
        """Handle what is left, then end the thread."""
        self.queue.put(None)
        self.thread.join(5.0)


class _PipeHandler(logging.handlers.QueueHandler):
    """A worker's only handler: each record, formatted, goes to the parent in one synchronous write."""

    def enqueue(self, record: logging.LogRecord) -> None:
        self.queue.put(record)  # type: ignore[attr-defined]  # a SimpleQueue: put() writes at once


def _shutdown_pools() -> None:
    """Stop every kept pool's workers while the interpreter is still whole (at exit)."""
    global _log_pipe
    for pool in _pools.values():
        pool.shutdown(wait=True, cancel_futures=True)
    _pools.clear()
    if _log_pipe is not None:
        _log_pipe.stop()  # after the workers: their last records are shown
        _log_pipe = None


MAX_JOBS_PER_CPU = 4
"""``--jobs`` above this many per CPU is cut to it: past it each worker only waits for a CPU (and forks cost memory)."""


def workers_for(jobs: int, due: int) -> int:
    """How many worker processes ``--jobs jobs`` needs for ``due`` calls: never more than the calls, nor the cap."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    cap = MAX_JOBS_PER_CPU * max(1, cpus)
    if jobs > cap and not _warned_cap:
        _warned_cap.append(jobs)
        log.warning("--jobs %d is more than %d per CPU on this machine; using at most %d", jobs, MAX_JOBS_PER_CPU, cap)
    return max(1, min(jobs, cap, due))


_warned_cap: list[int] = []


def _pool(workers: int) -> ProcessPoolExecutor:
    """A kept pool of at least ``workers`` processes: the smallest kept one that is big enough, or a new one.

    A fork pool starts all its workers at once, so a pool is made as big as the calls due, not as
    ``--jobs``; a bigger one replaces the smaller ones.
    """
    global _log_pipe
    for size in sorted(_pools):
        if size >= workers:
            return _pools[size]
    for size in list(_pools):
        _pools.pop(size).shutdown(wait=True, cancel_futures=True)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    if _log_pipe is None:
        # Left to garbage collection at interpreter teardown, a pool's clean-up fails noisily.
        atexit.register(_shutdown_pools)
        _log_pipe = _LogPipe(context)
    # fork: a worker starts in milliseconds with briefs imported; each imports WeasyPrint itself on
    # its first PDF, in parallel with the others.
    _pools[workers] = ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(os.getpid(), _log_pipe.queue)
    )
    return _pools[workers]


def _drop(pool: ProcessPoolExecutor) -> None:
    """Forget a pool whose worker died (the next build starts a new one)."""
    for size, kept in list(_pools.items()):
        if kept is pool:
            del _pools[size]


def _start_worker(parent: int, records: multiprocessing.queues.SimpleQueue[Any]) -> None:
    """A pool worker's set-up: it dies with its parent, and logs through the parent (`_LogPipe`).

    A forked worker inherits the parent's handlers, whose stream may since have been closed (a test's
    captured stderr: "--- Logging error --- ValueError: I/O operation on closed file"), and two
    workers writing one stream can cut each other's lines.
    """
    _die_with_parent(parent)
    sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
    root = logging.getLogger()
    for logger in (root, *(f for f in logging.root.manager.loggerDict.values() if isinstance(f, logging.Logger))):
        logger.handlers.clear()
    logging.getLogger("briefs").propagate = True
    root.handlers.append(_PipeHandler(records))  # type: ignore[arg-type]


def _die_with_parent(parent: int) -> None:
    """A worker ends when the building process does, even if it is killed (SIGKILL leaves no clean-up).

    Otherwise a killed build's workers wait for work forever. Linux's PR_SET_PDEATHSIG does it; where
    it is missing the workers still end when the pool shuts down normally.
    """
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)


def _call_in(cwd: Path, level: int, fn: Callable[..., Any], *args: Any) -> Any:
    """Run a task in the building process's working folder and log level (a kept worker was forked earlier)."""
    if Path.cwd() != cwd:
        os.chdir(cwd)
    briefs_log = logging.getLogger("briefs")
    if briefs_log.level != level:
        briefs_log.setLevel(level)
    return fn(*args)


def _task(fn: Callable[..., Any]) -> Callable[..., Any]:
    return functools.partial(_call_in, Path.cwd(), logging.getLogger("briefs").level, fn)


@dataclasses.dataclass(frozen=True)
class LocalPool:
    """``jobs`` worker processes on this machine (forked once, kept); one job renders here."""

    jobs: int

    def map_groups(self, fn: Callable[..., Any], calls: Mapping[K, tuple[Any, ...]]) -> Iterator[tuple[K, Any]]:
        """Every call's outcome as it is ready, rendered here or in the kept pool.

        Calls start in the order of ``calls``. The pool is used only when two or more calls are due: one
        brief (a watch rebuild after an edit to one audience) renders here, where WeasyPrint is already
        warm. A worker that dies costs the calls it had; the next build starts a new pool.
        """
        workers = workers_for(self.jobs, len(calls))
        if workers <= 1:
            for key, call in calls.items():
                yield key, fn(*call)
            return
        from concurrent.futures import as_completed
        from concurrent.futures.process import BrokenProcessPool

        pool = _pool(workers)
        task = _task(fn)
        futures: dict[Future[Any], K] = {pool.submit(task, *call): key for key, call in calls.items()}
        for future in as_completed(futures):
            key = futures[future]
            try:
                yield key, future.result()
            except BrokenProcessPool:
                _drop(pool)
                yield key, BuildError(f"{_name(key)}: the worker process rendering it died")
            except Exception as exc:  # an outcome that could not be sent back (pickling) fails its call only
                yield key, BuildError(f"{_name(key)}: {type(exc).__name__}: {exc}")
        if _log_pipe is not None:
            _log_pipe.flush()

    def map_loads(self, fn: Callable[[Path], Any], folders: list[Path]) -> list[Any]:
        """``fn`` over ``folders`` in the pool, in order (loading many datasets); here if the pool had died."""
        from concurrent.futures.process import BrokenProcessPool

        workers = workers_for(self.jobs, len(folders))
        pool = _pool(workers)
        try:
            chunks = max(1, len(folders) // (workers * 4))
            return list(pool.map(_task(fn), folders, chunksize=chunks))
        except BrokenProcessPool:  # a worker died since the last build (killed, out of memory): load here
            _drop(pool)
            log.info("the worker processes had died; loading the datasets here")
            return list(map(fn, folders))

    def warm(self, tasks: Iterable[tuple[Callable[..., Any], tuple[Any, ...]]], due: int | None = None) -> None:
        """Start each task once per worker, most likely, without waiting (a watcher's warm-up for ``due`` briefs)."""
        workers = workers_for(self.jobs, self.jobs if due is None else due)
        pool = _pool(workers)
        listed = list(tasks)
        for _ in range(workers):  # each takes ~0.6 s, so each worker most likely takes one round
            for fn, args in listed:
                pool.submit(_task(fn), *args)

    def close(self) -> None:
        """Stop this pool's workers (they are otherwise kept until the process ends)."""
        for size in list(_pools):
            _pools.pop(size).shutdown(wait=True, cancel_futures=True)


def _name(key: object) -> str:
    return "/".join(key) if isinstance(key, tuple) and all(isinstance(k, str) for k in key) else str(key)


# --- a Dask cluster -------------------------------------------------------------------------------


_relays: dict[str, DaskRelay] = {}
"""One Dask client process per scheduler address, kept for the life of the process (a watch loop's rebuilds)."""


def _close_clients() -> None:
    for relay in _relays.values():
        with contextlib.suppress(Exception):
            relay.close()
    _relays.clear()


def connect_dask(address: str, time_limit: float | None) -> DaskRelay:
    """The Dask client process for ``address`` (kept, or started); BuildError in one line if it cannot be reached."""
    try:
        import distributed  # noqa: F401  # the child imports it too; say so here, once
    except ImportError:
        raise BuildError(
            "--executor dask needs Dask distributed, which is not installed: pip install -e '.[dask]'"
        ) from None
    from briefs.pipeline.dask_relay import DaskRelay
    from briefs.pipeline.dask_worker import check_address

    relay = _relays.get(address)
    if relay is None or not relay.alive():
        try:
            check_address(address)
        except Exception as exc:  # ValueError for a malformed address, and Dask's own
            why = (str(exc).strip().splitlines() or [""])[0]
            raise BuildError(
                f"cannot reach the Dask scheduler at {address}: {type(exc).__name__}: {why}; nothing written"
            ) from None
        relay = DaskRelay(address, time_limit)
        if not _relays:
            atexit.register(_close_clients)
        _relays[address] = relay
    relay.time_limit = time_limit
    try:
        relay.wait_ready()
    except BuildError:
        _relays.pop(address, None)
        raise
    return relay


def close_kept() -> None:
    """Stop the kept worker pools and Dask clients now (as at exit): a process about to end calls it."""
    _shutdown_pools()
    _close_clients()


def prestart(kind: str, scheduler: str | None) -> None:
    """Start the Dask client's process now, without waiting for it (it connects while the build loads data).

    Anything wrong (no Dask, a malformed address) is left for `open_executor` to report.
    """
    if kind != "dask" or not scheduler or scheduler in _relays:
        return
    try:  # the child checks the address itself (importing Dask here would cost the time this saves)
        from briefs.pipeline.dask_relay import DaskRelay

        relay = DaskRelay(scheduler, None)
    except Exception:  # said by open_executor, in one line
        return
    if not _relays:
        atexit.register(_close_clients)
    _relays[scheduler] = relay
