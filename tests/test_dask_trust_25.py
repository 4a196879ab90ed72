"""The Dask trust model (issue 25): what a rogue worker or scheduler, a planted bundle or a silent port can do.

- A worker's result is unpickled only in a child process that holds no secret; the building process
  reads plain values back, checked field by field.
- A bundle found on a worker is used only if it holds the bytes the build sent, in a folder of the
  worker's user that no one else may write.
- No worker, a port that never speaks, a malformed or unsupported address: the build ends, says why in
  one line, and writes nothing.

The cluster tests start a real ``distributed.LocalCluster`` on 127.0.0.1 and stop it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from briefs.data.audiences import TemplateDirs
from briefs.errors import BuildError, Problem
from briefs.pipeline import dask_relay, dask_worker, executors
from tests.conftest import RunCli, write_tree

distributed = pytest.importorskip("distributed", reason="Dask distributed is not installed: pip install -e '.[dask]'")


# --- plain values back ---------------------------------------------------------------------------


def test_outcomes_travel_as_plain_values_and_come_back_whole() -> None:
    from briefs.compose.fit import Rendered

    rendered = Rendered(
        files={"pdf": b"%PDF-1.7", "md": b"# x"},
        pages=2,
        dropped=["the timeline"],
        errors={"docx": "pandoc failed"},
        seconds=1.5,
        drop_order=["timeline"],
        notes={"pdf": "2 pages"},
        extra_dropped={"docx": ["annex"]},
        assets={"pdf": ["base/fonts/x.ttf"]},
    )
    # Every field of a rendered brief travels: a field added to Rendered must be added to the codec too.
    import dataclasses

    assert set(dask_relay.encode_outcome(rendered)) - {"kind"} == {f.name for f in dataclasses.fields(Rendered)}
    problems = [Problem("data/x.yaml", 3, 4, "title", "expected a text")]
    for outcome in (rendered, problems):
        payload = dask_relay._plain_dumps(dask_relay.encode_outcome(outcome))
        assert dask_relay.decode_outcome(dask_relay._plain_loads(payload)) == outcome
    error = dask_relay.decode_outcome(dask_relay.encode_outcome(BuildError("boom")))
    assert isinstance(error, BuildError) and str(error) == "boom"


@pytest.mark.parametrize(
    "value",
    [
        {"kind": "rendered", "files": {"pdf": "not bytes"}},
        {"kind": "rendered", "files": {}, "pages": True, "dropped": [], "errors": {}, "seconds": 0},
        {"kind": "problems", "problems": [["f", 1, 2, "k"]]},
        {"kind": "problems", "problems": [["f", "one", 2, "k", "m"]]},
        {"kind": "pickle", "data": b"\x80\x04"},
        ["kind", "error"],
    ],
)
def test_anything_but_an_outcome_is_refused(value: object) -> None:
    with pytest.raises(ValueError):
        dask_relay.decode_outcome(value)


def test_msgpack_extension_types_are_refused_not_built() -> None:
    import msgpack

    with pytest.raises(ValueError, match="extension type"):
        dask_relay._plain_loads(msgpack.packb(msgpack.ExtType(1, b"x")))


def test_the_child_environment_holds_no_secret() -> None:
    env = {
        "PATH": "/bin",
        "BRIEFS_SMTP_PASSWORD": "hunter2",
        "BRIEFS_SMTP_USER": "me",
        "AWS_SECRET_ACCESS_KEY": "k",
        "GITHUB_TOKEN": "t",
        "DB_PASSWD": "p",
        "BRIEFS_SCHEDULER": "tcp://127.0.0.1:8786",
    }
    assert dask_relay.child_environment(env) == {"PATH": "/bin", "BRIEFS_SCHEDULER": "tcp://127.0.0.1:8786"}


# --- bundles on a worker -------------------------------------------------------------------------


def _bundle(tmp_path: Path) -> dask_worker.TemplateBundle:
    user = write_tree(tmp_path / "tpl", {"audiences/desk.md.j2": "Desk on {{ info.title }}\n"})
    shipped = write_tree(tmp_path / "shipped", {"base.md.j2": "base\n"})
    return dask_worker.TemplateBundle.of(TemplateDirs(shipped=shipped, user=user))


def test_a_planted_bundle_is_not_trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder named by the bundle's digest, with ``.complete``, but other bytes: written again."""
    monkeypatch.setattr(dask_worker, "_materialised", {})
    bundle = _bundle(tmp_path)
    under = tmp_path / "tmp"
    under.mkdir()
    planted = dask_worker.private_folder(under) / bundle.digest
    write_tree(planted, {"0/audiences/desk.md.j2": "{{ evil }}\n", "1/base.md.j2": "base\n", ".complete": ""})
    dirs = dask_worker.materialise(bundle, under)
    assert dirs.user is not None
    assert (dirs.user / "audiences/desk.md.j2").read_text() == "Desk on {{ info.title }}\n"
    # An extra file planted beside the right ones is not trusted either.
    monkeypatch.setattr(dask_worker, "_materialised", {})
    (planted / "0" / "audiences" / "extra.yaml").write_text("title: planted\n")
    dirs = dask_worker.materialise(bundle, under)
    assert not (dirs.shipped.parent / "0" / "audiences" / "extra.yaml").exists()
    assert dask_worker._holds(planted, bundle)


def test_a_bundle_another_worker_wrote_meanwhile_stays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two worker processes on one machine that both find no folder both write one: the second keeps the first's.

    Replacing it pulled the templates from under the first worker mid-render ("template 'base/layout.md.j2'
    not found", seen in CI with a 2-worker LocalCluster).
    """
    monkeypatch.setattr(dask_worker, "_materialised", {})
    bundle = _bundle(tmp_path)
    under = tmp_path / "tmp"
    under.mkdir()
    first = dask_worker.materialise(bundle, under)  # the other process: written, and in use
    in_use = first.shipped.parent.stat().st_ino
    monkeypatch.setattr(dask_worker, "_materialised", {})
    real = dask_worker._holds
    seen: list[bool] = []

    def first_look_finds_nothing(folder: Path, b: dask_worker.TemplateBundle) -> bool:
        seen.append(True)
        return False if len(seen) == 1 else real(folder, b)  # this process looked before the other renamed

    monkeypatch.setattr(dask_worker, "_holds", first_look_finds_nothing)
    second = dask_worker.materialise(bundle, under)
    assert second == first and second.shipped.parent.stat().st_ino == in_use
    assert sorted(p.name for p in (under / f"briefs-inputs-{os.getuid()}").iterdir()) == [bundle.digest]


@pytest.mark.parametrize("attack", ["world-writable", "symlink"])
def test_a_shared_bundle_folder_is_refused(attack: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dask_worker, "_materialised", {})
    under = tmp_path / "tmp"
    under.mkdir()
    folder = under / f"briefs-inputs-{os.getuid()}"
    if attack == "world-writable":
        folder.mkdir()
        folder.chmod(0o777)
    else:
        (tmp_path / "elsewhere").mkdir(mode=0o700)
        folder.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(BuildError, match="is not a private folder of this user"):
        dask_worker.materialise(_bundle(tmp_path), under)


# --- a real cluster ------------------------------------------------------------------------------


ROGUE = """
import os
import briefs.pipeline.dask_worker as dask_worker

MARK = "@MARK@"  # the test's file (Dask runs a copy of this preload script, elsewhere)
CODE = (
    "import os\\n"
    f"line = '%d %s\\\\n' % (os.getpid(), os.environ.get('BRIEFS_SMTP_PASSWORD'))\\n"
    f"open({MARK!r}, 'a').write(line)\\n"
)


class Payload:
    # Unpickled by whoever reads this worker's result: it records where it ran and what it could read.
    def __reduce__(self):
        return (exec, (CODE,))


def rogue(*args, **kwargs):
    return Payload(), []


dask_worker.render_on_worker = rogue
"""


@pytest.fixture
def rogue_cluster(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A LocalCluster whose one worker answers every brief with a pickle that runs code where it is read."""
    mark = tmp_path / "ran"
    preload = tmp_path / "rogue_worker.py"
    preload.write_text(ROGUE.replace("@MARK@", str(mark)))
    cluster = distributed.LocalCluster(
        n_workers=1,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
        preload=[str(preload)],
    )
    try:
        yield cluster.scheduler_address, mark
    finally:
        executors._close_clients()
        cluster.close()


@pytest.mark.slow
def test_a_rogue_workers_pickle_never_runs_in_the_building_process(
    rogue_cluster: tuple[str, Path], mini_data: Path, tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    address, mark = rogue_cluster
    monkeypatch.setenv("BRIEFS_SMTP_PASSWORD", "hunter2")
    out = tmp_path / "out"
    code, _, stderr = run_cli("--data", mini_data, "--out", out, "--format", "md", "--scheduler", address)
    assert code == 1, stderr
    assert "FAILED mini/desk.md" in stderr and "not a brief" in stderr
    ran = [line.split() for line in mark.read_text().splitlines()]
    assert ran, "the payload never ran: the attack did not happen"
    # It ran in the Dask client's own process, which has no password, never in the building process.
    assert all(int(pid) != os.getpid() and secret == "None" for pid, secret in ran), ran
    assert not list(out.glob("mini/*.md"))


def _hang_here() -> tuple[str, socket.socket]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(listener.accept()[0])  # and never say a word
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    return f"tcp://127.0.0.1:{listener.getsockname()[1]}", listener


@pytest.mark.slow
def test_a_port_that_never_speaks_ends_the_build(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    import dask

    address, listener = _hang_here()
    out = tmp_path / "out"
    started = time.monotonic()
    try:
        with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
            code, _, stderr = run_cli("--data", mini_data, "--out", out, "--scheduler", address)
    finally:
        listener.close()
    assert code == 1, stderr
    assert f"cannot reach the Dask scheduler at {address}" in stderr and "nothing written" in stderr
    assert time.monotonic() - started < 2 * 1 + dask_relay.MARGIN + 10
    assert not out.exists()


@pytest.mark.slow
def test_a_scheduler_with_no_workers_ends_the_build(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    import dask

    cluster = distributed.LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address=None)
    out = tmp_path / "out"
    try:
        with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
            code, _, stderr = run_cli("--data", mini_data, "--out", out, "--scheduler", cluster.scheduler_address)
    finally:
        executors._close_clients()
        cluster.close()
    assert code == 1, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    expected = f"the Dask scheduler at {cluster.scheduler_address} has no workers (waited 2 s)"
    assert len(errors) == 1 and expected in errors[0], stderr
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["tls", "ucx", "inproc", "ws"])
def test_every_kind_of_address_fails_in_one_line(scheme: str, mini_data: Path, tmp_path: Path) -> None:
    """No traceback, no half-made client complaining at exit, whatever the scheme."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "out"
    env = dict(os.environ, DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="2s")
    argv = [sys.executable, "-m", "briefs", "--data", str(mini_data), "--out", str(out)]
    argv += ["--scheduler", f"{scheme}://127.0.0.1:{port}"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False, env=env)
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [done.stderr.strip()], done.stderr
    assert "cannot reach the Dask scheduler" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


LIAR = """
import briefs.pipeline.dask_worker as dask_worker
from briefs.compose.fit import Rendered


def liar(*args, **kwargs):
    return Rendered(files={}), []  # a brief with none of the files it was asked for


dask_worker.render_on_worker = liar
"""


@pytest.mark.slow
def test_a_worker_that_leaves_out_a_format_fails_its_brief(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    preload = tmp_path / "liar_worker.py"
    preload.write_text(LIAR)
    cluster = distributed.LocalCluster(
        n_workers=1,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
        preload=[str(preload)],
    )
    out = tmp_path / "out"
    try:
        code, _, stderr = run_cli(
            "--data", mini_data, "--out", out, "--format", "md", "--scheduler", cluster.scheduler_address
        )
    finally:
        executors._close_clients()
        cluster.close()
    assert code == 1, stderr
    assert "malformed outcome (no md in a brief that was asked for it)" in stderr and "Traceback" not in stderr
    assert not list(out.glob("mini/*.md"))


def test_many_small_briefs_go_a_few_to_a_task_and_a_watch_rebuild_one() -> None:
    """Dask's cost is per task (issue 27): a thousand briefs on two workers go 16 a task; one brief, one."""
    assert dask_relay.batch_size(1, 2) == 1
    assert dask_relay.batch_size(7, 2) == 1
    assert dask_relay.batch_size(40, 2) == 5
    assert dask_relay.batch_size(1000, 2) == dask_relay.BATCH_MAX == 16
    assert dask_relay.batch_size(1000, 64) == 3
