"""The Dask client in a process of its own, so a rogue worker or scheduler reaches no secret and hangs nothing.

Dask's wire protocol unpickles what the cluster sends back — results, and exceptions by a path that no
``deserializers`` setting closes (``distributed.protocol.core.loads``' ``__Pickled__`` frames) — so
whoever runs a worker or the scheduler can run code in the process that holds the client. And a port
that accepts TCP and never speaks hangs ``Client()`` whatever its ``timeout``. So the building process
never holds a Dask client. It starts this module as a child process:

- with an environment that has no secret in it (``BRIEFS_SMTP_*`` and any variable whose name says
  password, secret or token are removed), after marking itself non-dumpable (``PR_SET_DUMPABLE``), so
  that a process of the same user — the child, if a worker took it over — cannot read the parent's
  ``/proc/<pid>/environ`` or attach to it;
- over two pipes: calls go down pickled (the parent trusts its own child); outcomes come back as
  msgpack of plain values (bytes, text, numbers, lists, maps: nothing msgpack can turn into code),
  checked field by field against the outcome types (`decode_outcome`) before the parent uses them;
- under deadlines the parent keeps: connecting and finding a worker within the connect timeout (Dask's
  ``distributed.comm.timeouts.connect``, 30 s by default) plus a margin, and then an outcome at least
  every time limit × tries plus a margin; past a deadline the child is killed and the briefs still due
  fail, each saying why. The child fails the briefs still due when the cluster has had no worker for
  the connect timeout.

The parent's side is `DaskRelay`; ``python -m briefs.pipeline.dask_relay ADDRESS SECONDS`` is the child.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any, TypeVar

from briefs.data.audiences import TemplateDirs
from briefs.errors import BuildError, Problem

log = logging.getLogger(__name__)

K = TypeVar("K")

SECRET_WORDS = ("PASSWORD", "PASSWD", "SECRET", "TOKEN")
"""An environment variable whose name holds one of these never reaches the Dask client's process."""

MARGIN = 15.0
"""Seconds the parent allows the child beyond its own deadlines (starting Python, importing Dask)."""

MAX_FRAME = 256 << 20
"""The largest message either side accepts (a brief's outputs are a few MB)."""

_HEADER = struct.Struct(">Q")


def child_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` without the mail settings and anything named like a secret."""
    return {
        name: value
        for name, value in environ.items()
        if not name.upper().startswith("BRIEFS_SMTP_") and not any(w in name.upper() for w in SECRET_WORDS)
    }


def _not_dumpable() -> None:
    """Keep processes of the same user out of this one's memory and /proc files (Linux; elsewhere nothing)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0)  # 4: PR_SET_DUMPABLE
    except (OSError, AttributeError):
        pass


# --- frames --------------------------------------------------------------------------------------


def _write_frame(stream: IO[bytes], payload: bytes) -> None:
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def _read_exactly(fd: int, n: int, deadline: float | None) -> bytes:
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _read_frame(fd: int, deadline: float | None) -> bytes:
    (length,) = _HEADER.unpack(_read_exactly(fd, _HEADER.size, deadline))
    if length > MAX_FRAME:
        raise ValueError(f"a message of {length} bytes (at most {MAX_FRAME})")
    return _read_exactly(fd, length, deadline)


def _plain_dumps(value: Any) -> bytes:
    import msgpack

    return msgpack.packb(value, use_bin_type=True)  # type: ignore[no-any-return]


def _plain_loads(payload: bytes) -> Any:
    """msgpack to plain values only: an extension type is refused, not built."""
    import msgpack

    def refuse(code: int, data: bytes) -> Any:
        raise ValueError(f"msgpack extension type {code}")

    return msgpack.unpackb(payload, raw=False, strict_map_key=True, ext_hook=refuse, use_list=True)


# --- outcomes as plain values --------------------------------------------------------------------


def encode_outcome(outcome: Any) -> dict[str, Any]:
    """A group's outcome (`briefs.pipeline.task.GroupOutcome`) as plain values."""
    from briefs.compose.fit import Rendered

    if isinstance(outcome, Rendered):
        return {
            "kind": "rendered",
            "files": dict(outcome.files),
            "pages": outcome.pages,
            "dropped": list(outcome.dropped),
            "errors": dict(outcome.errors),
            "seconds": float(outcome.seconds),
            "drop_order": list(outcome.drop_order),
            "notes": dict(outcome.notes),
            "extra_dropped": {k: list(v) for k, v in outcome.extra_dropped.items()},
            "assets": {k: list(v) for k, v in outcome.assets.items()},
            "word_cut": list(outcome.word_cut),
            "heights": list(outcome.heights),
        }
    if isinstance(outcome, list) and all(isinstance(p, Problem) for p in outcome):
        return {
            "kind": "problems",
            "problems": [[p.file, p.line, p.column, p.key, p.message] for p in outcome],
        }
    if isinstance(outcome, BaseException):
        return {"kind": "error", "message": str(outcome)}
    return {"kind": "error", "message": f"a worker returned {type(outcome).__name__}, not a brief"}


class _ShapeError(ValueError):
    """What the child sent does not have the shape of an outcome."""


def _want(value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise _ShapeError(f"{what}: expected {names}, found {type(value).__name__}")
    return value


def _fields(value: Any, count: int, what: str) -> list[Any]:
    items: list[Any] = _want(value, list, what)
    if len(items) != count:
        raise _ShapeError(f"{what}: expected {count} fields, found {len(items)}")
    return items


def _texts(value: Any, what: str) -> list[str]:
    return [_want(v, str, what) for v in _want(value, list, what)]


def _text_map(value: Any, what: str, values: type = str) -> dict[str, Any]:
    return {_want(k, str, what): _want(v, values, what) for k, v in _want(value, dict, what).items()}


def decode_outcome(value: Any) -> Any:
    """The outcome `encode_outcome` made, checked field by field; _ShapeError (a ValueError) if it is anything else."""
    from briefs.compose.fit import Rendered

    _want(value, dict, "outcome")
    kind = value.get("kind")
    if kind == "rendered":
        pages = value.get("pages")
        return Rendered(
            files=_text_map(value.get("files"), "files", bytes),
            pages=None if pages is None else _want(pages, int, "pages"),
            dropped=_texts(value.get("dropped"), "dropped"),
            errors=_text_map(value.get("errors"), "errors"),
            seconds=float(_want(value.get("seconds"), (int, float), "seconds")),
            drop_order=_texts(value.get("drop_order"), "drop_order"),
            notes=_text_map(value.get("notes"), "notes"),
            extra_dropped={
                k: _texts(v, "extra_dropped")
                for k, v in _text_map(value.get("extra_dropped"), "extra_dropped", list).items()
            },
            assets={k: _texts(v, "assets") for k, v in _text_map(value.get("assets", {}), "assets", list).items()},
            word_cut=_texts(value.get("word_cut", []), "word_cut"),
            heights=_texts(value.get("heights", []), "heights"),
        )
    if kind == "problems":
        problems = []
        for item in _want(value.get("problems"), list, "problems"):
            file, line, column, key, message = _fields(item, 5, "problem")
            problems.append(
                Problem(
                    _want(file, str, "problem file"),
                    None if line is None else _want(line, int, "problem line"),
                    None if column is None else _want(column, int, "problem column"),
                    _want(key, str, "problem key"),
                    _want(message, str, "problem message"),
                )
            )
        return problems
    if kind == "error":
        return BuildError(_want(value.get("message"), str, "message"))
    raise _ShapeError(f"an outcome of kind {kind!r}")


# --- the parent's side -----------------------------------------------------------------------------


DASK_CONNECT_DEFAULT = "30s"
"""distributed's own default for ``distributed.comm.timeouts.connect`` (its distributed.yaml)."""


def connect_seconds() -> float:
    """Dask's connect timeout, as this process's Dask configuration sets it, else distributed's default.

    Read without importing distributed, whose defaults join Dask's configuration only when it is imported:
    the build starts the child before it has (`briefs.pipeline.executors.prestart`). Asked for the key
    without a default, Dask raised KeyError there, and the child only started once the data was loaded.
    A setting of the user's (a Dask YAML file, ``DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT``) is read as before.
    """
    import dask
    from dask.utils import parse_timedelta

    value = dask.config.get("distributed.comm.timeouts.connect", default=DASK_CONNECT_DEFAULT)
    return float(parse_timedelta(value, default="seconds"))


class DaskRelay:
    """The Executor the build uses for a Dask cluster: a child process holds the client (module docstring)."""

    def __init__(self, address: str, time_limit: float | None) -> None:
        self.address = address
        self.time_limit = time_limit
        self.wait = connect_seconds()
        _not_dumpable()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "briefs.pipeline.dask_relay", address, repr(self.wait)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=child_environment(os.environ),
            close_fds=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None and self.process.stderr is not None
        self._stdin: IO[bytes] = self.process.stdin
        self._fd = self.process.stdout.fileno()
        self._stderr_lines: list[str] = []
        threading.Thread(target=self._drain, args=(self.process.stderr,), name="dask relay stderr", daemon=True).start()
        self._deadline = time.monotonic() + 2 * self.wait + MARGIN
        self._ready = False

    def wait_ready(self) -> None:
        """Wait until the child has connected and found a worker; BuildError (and the child ended) if not.

        The child is started before the build loads its data (`prestart`), so importing Dask and
        connecting overlap with loading; the deadline counts from the start.
        """
        if self._ready:
            return
        try:
            ready = self._receive(max(self._deadline, time.monotonic() + 1))
        except BuildError as exc:
            self.close()
            raise BuildError(f"cannot reach the Dask scheduler at {self.address}: {exc}; nothing written") from None
        if ready.get("error"):
            self.close()
            raise BuildError(f"{ready['error']}; nothing written")
        self._ready = True

    def _drain(self, stream: IO[bytes]) -> None:
        """The child's own messages (Dask's logging), shown with --verbose; never the channel."""
        for raw in stream:
            line = raw.decode("utf-8", "replace").rstrip()
            self._stderr_lines = [*self._stderr_lines[-19:], line]
            log.debug("dask client: %s", line)

    def alive(self) -> bool:
        return self.process.poll() is None

    def _receive(self, deadline: float | None) -> dict[str, Any]:
        """One message from the child, checked to be a map; BuildError if it is late, gone or malformed."""
        try:
            message = _plain_loads(_read_frame(self._fd, deadline))
        except TimeoutError:
            self.close()
            raise BuildError("no answer from the Dask cluster in time") from None
        except EOFError:
            self.process.wait()
            said = next((line for line in reversed(self._stderr_lines) if line.strip()), "")
            said = f": {said}" if said else ""
            raise BuildError(f"the Dask client ended (exit {self.process.returncode}){said}") from None
        except ValueError as exc:
            self.close()
            raise BuildError(f"the Dask client sent something that is not a message ({exc})") from None
        if not isinstance(message, dict):
            self.close()
            raise BuildError("the Dask client sent something that is not a message")
        return message

    def map_groups(self, fn: Callable[..., Any], calls: Mapping[K, tuple[Any, ...]]) -> Iterator[tuple[K, Any]]:
        """Every call's outcome as the child hands it back; the calls still due fail if it stops answering."""
        if not calls:
            return
        from briefs.compose.fit import Rendered

        keys = list(calls)
        pending = set(range(len(keys)))
        tries = 1 + 2  # dask_worker.RETRIES
        gap = None if not self.time_limit else self.time_limit * tries + self.wait + MARGIN
        try:
            level = logging.getLogger("briefs").getEffectiveLevel()
            # Each call pickled once, here: the child passes the bytes on to Dask as they are, and the
            # worker unpickles them (no second pickling of every dataset in the child).
            values = list(calls.values())
            dirs = next(arg for call in values for arg in call if isinstance(arg, TemplateDirs))
            packed = [pickle.dumps(call, protocol=pickle.HIGHEST_PROTOCOL) for call in values]
            _write_frame(self._stdin, pickle.dumps((fn, dirs, packed, level)))
        except OSError as exc:
            self.close()
            for i in sorted(pending):
                yield keys[i], BuildError(f"the Dask client is gone ({exc})")
            return
        while pending:
            try:
                message = self._receive(None if gap is None else time.monotonic() + gap)
                if message.get("done"):
                    raise BuildError("the Dask client finished with briefs still due")
                if "error" in message:
                    raise BuildError(str(message["error"]))
                index = message.get("index")
                if not isinstance(index, int) or isinstance(index, bool) or index not in pending:
                    raise BuildError(f"the Dask client answered for a brief not asked for ({index!r})")
                outcome = decode_outcome(message.get("outcome"))
                asked = calls[keys[index]][3] if len(calls[keys[index]]) > 3 else []  # GroupCall's formats
                if isinstance(outcome, Rendered) and isinstance(asked, list):
                    lacking = [f for f in asked if f not in outcome.files and f not in outcome.errors]
                    if lacking:
                        raise _ShapeError(f"no {', '.join(lacking)} in a brief that was asked for it")
                records = [_fields(r, 3, "record") for r in _want(message.get("records", []), list, "records")]
                for name, number, text in records:
                    logger = logging.getLogger(_want(name, str, "record name"))
                    logger.log(_want(number, int, "record level"), "%s", _want(text, str, "record"))
            except _ShapeError as exc:
                self.close()
                error = BuildError(f"the Dask client sent a malformed outcome ({exc})")
                for i in sorted(pending):
                    yield keys[i], error
                return
            except BuildError as exc:
                self.close()
                for i in sorted(pending):
                    yield keys[i], BuildError(f"on the Dask cluster: {exc}")
                return
            pending.discard(index)
            yield keys[index], outcome
        with contextlib.suppress(BuildError):
            self._receive(time.monotonic() + MARGIN)  # its "done"

    def close(self) -> None:
        """End the child (the cluster goes on)."""
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                self._stdin.close()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- the child's side ------------------------------------------------------------------------------


def _child(address: str, wait: float, channel: IO[bytes]) -> int:
    def send(message: dict[str, Any]) -> None:
        _write_frame(channel, _plain_dumps(message))

    try:
        from distributed import Client

        from briefs.pipeline.dask_worker import check_address

        check_address(address)
        client = Client(address, timeout=wait)  # the default client: distributed.wait uses it
    except Exception as exc:
        why = (str(exc).strip().splitlines() or [""])[0]
        send({"error": f"cannot reach the Dask scheduler at {address}: {type(exc).__name__}: {why}"})
        return 1
    try:
        client.wait_for_workers(1, timeout=wait)
    except Exception:
        send({"error": f"the Dask scheduler at {address} has no workers (waited {wait:g} s)"})
        return 1
    send({"ready": True})
    while True:
        try:
            job = _read_frame(sys.stdin.fileno(), None)
        except EOFError:
            break
        fn, dirs, calls, level = pickle.loads(job)
        try:
            for index, outcome, records in _render(client, fn, dirs, calls, level, wait):
                send({"index": index, "outcome": encode_outcome(outcome), "records": records})
        except Exception as exc:
            send({"error": f"{type(exc).__name__}: {exc}"})
            continue
        send({"done": True})
    with contextlib.suppress(Exception):
        client.close()
    return 0


def _render(
    client: Any, fn: Callable[..., Any], dirs: Any, calls: list[bytes], level: int, wait: float
) -> Iterator[tuple[int, Any, list[list[Any]]]]:
    """Submit every call (slowest first, as ordered); each outcome as it arrives; fail the rest with no worker."""
    from distributed import wait as wait_for

    from briefs.pipeline.dask_worker import RETRIES, TemplateBundle, _identity, render_batch_on_worker, versions

    bundle = TemplateBundle.of(dirs)
    shipped = client.submit(_identity, bundle, key=f"briefs-inputs-{bundle.digest}", pure=False)
    expected = versions()
    size = batch_size(len(calls), _slots(client))
    futures: dict[Any, list[int]] = {}
    for start in range(0, len(calls), size):
        indexes = list(range(start, min(start + size, len(calls))))
        future = client.submit(
            render_batch_on_worker,
            fn,
            shipped,
            [calls[i] for i in indexes],
            level,
            expected,
            key=f"briefs-render-{bundle.digest[:12]}-{os.getpid()}-{time.monotonic_ns()}-{start}",
            retries=RETRIES,
            priority=len(calls) - start,
            pure=False,
        )
        futures[future] = indexes
    no_worker_since: float | None = None
    try:
        while futures:
            try:
                done, _ = wait_for(list(futures), timeout=2, return_when="FIRST_COMPLETED")
            except TimeoutError:  # nothing finished in those 2 s (Dask raises rather than return none)
                done = set()
            for future in done:
                indexes = futures.pop(future)
                try:
                    results = future.result()
                except Exception as exc:  # a worker died too often (KilledWorker), or the task itself failed
                    error = BuildError(f"on the Dask cluster: {type(exc).__name__}: {exc}")
                    results = [(error, [])] * len(indexes)
                if not isinstance(results, list) or len(results) != len(indexes):
                    error = BuildError(f"a batch of {len(indexes)} briefs came back as {type(results).__name__}")
                    results = [(error, [])] * len(indexes)
                for i, result in zip(indexes, results, strict=True):
                    outcome, records = result if isinstance(result, tuple) and len(result) == 2 else (result, [])
                    yield i, outcome, [[r["name"], r["levelno"], r["msg"]] for r in records]
            if done:
                no_worker_since = None
                continue
            if client.scheduler_info().get("workers"):
                no_worker_since = None
            elif no_worker_since is None:
                no_worker_since = time.monotonic()
            elif time.monotonic() - no_worker_since > wait:
                for future, indexes in list(futures.items()):
                    del futures[future]
                    for i in indexes:
                        yield i, BuildError(f"the Dask cluster has had no worker for {math.ceil(wait)} s"), []
    finally:
        for future in futures:
            future.release()
        shipped.release()


BATCH_MAX = 16
"""At most this many briefs in one Dask task."""


def batch_size(calls: int, slots: int) -> int:
    """How many briefs one task renders: about four tasks per worker thread, at most `BATCH_MAX` briefs each.

    One brief a task when there are few (a watch rebuild: each comes back as soon as it is ready);
    for a thousand small briefs on two workers, 16 a task cuts Dask's per-task cost sixteenfold.
    """
    return max(1, min(BATCH_MAX, calls // (4 * max(1, slots))))


def _slots(client: Any) -> int:
    """The cluster's worker threads."""
    try:
        return sum(int(w.get("nthreads", 1)) for w in client.scheduler_info().get("workers", {}).values()) or 1
    except Exception:  # the scheduler is slow to answer: assume one
        return 1


def main(argv: list[str]) -> int:
    """The child: ``ADDRESS SECONDS``; messages on the stdout it was given, anything else on stderr."""
    address, wait = argv[0], float(argv[1])
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print() from Dask or a plugin goes to stderr, never into the channel
    sys.stdout = sys.stderr
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    return _child(address, wait, channel)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
