"""--executor dask: a LocalCluster of 2 worker processes renders the same bytes as this machine (issue 18).

Skipped without Dask distributed: pip install -e '.[dask]'.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunCli, write_tree
from tests.test_jobs import outputs

distributed = pytest.importorskip("distributed", reason="Dask distributed is not installed: pip install -e '.[dask]'")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A LocalCluster on 127.0.0.1: 2 worker processes of 1 thread each, each under a nanny that restarts it."""
    from briefs.pipeline import executors

    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    )
    try:
        yield cluster.scheduler_address
    finally:
        executors._close_clients()  # before the scheduler goes, or the kept client tries to reconnect
        cluster.close()


def test_a_dask_build_writes_the_same_bytes_as_a_local_one(
    two_datasets: Path, tmp_path: Path, run_cli: RunCli, scheduler: str
) -> None:
    argv = ("--data", two_datasets, "--format", "pdf", "--format", "md", "--format", "html")
    code, _, stderr = run_cli(*argv, "--out", tmp_path / "local", "--jobs", "2")
    assert code == 0, stderr
    code, stdout, stderr = run_cli(*argv, "--out", tmp_path / "dask", "--scheduler", scheduler)
    assert code == 0, stderr
    assert "24 built, 0 up to date, 0 failed" in stdout
    local, dask = outputs(tmp_path / "local"), outputs(tmp_path / "dask")
    assert len(local) == 2 * 4 * 3 and local.keys() == dask.keys()
    assert [name for name in local if local[name] != dask[name]] == []
    # The coordinator recorded stamps and editions as for a local build: the next build has nothing to do.
    code, stdout, _ = run_cli(*argv, "--out", tmp_path / "dask", "--scheduler", scheduler)
    assert code == 0 and "0 built, 24 up to date" in stdout
    assert len(list((tmp_path / "dask").glob("*/.editions/*/0001.json"))) == 8


def test_the_workers_read_the_templates_as_data(
    tmp_path: Path, mini_data: Path, run_cli: RunCli, scheduler: str
) -> None:
    """A user's template reaches the workers as bytes, written under their temporary folder, not read from here."""
    templates = write_tree(tmp_path / "tpl", {"audiences/desk.md.j2": "Desk brief on {{ info.title }}\n"})
    argv = ("--data", mini_data, "--templates", templates, "--audience", "desk", "--audience", "public")
    code, _, stderr = run_cli(*argv, "--format", "md", "--out", tmp_path / "out", "--scheduler", scheduler)
    assert code == 0, stderr
    assert (tmp_path / "out" / "mini" / "desk.md").read_text(encoding="utf-8").startswith("Desk brief on ")

    def materialised() -> list[str]:
        from briefs.pipeline import dask_worker

        return [str(dirs.user) for dirs in dask_worker._materialised.values() if dirs.user is not None]

    with distributed.Client(scheduler, set_as_default=False) as client:
        folders = [f for found in client.run(materialised).values() for f in found]
    assert folders and all("briefs-inputs" in f and not f.startswith(str(tmp_path)) for f in folders)


def test_a_worker_killed_mid_brief_still_yields_every_brief(
    two_datasets: Path, tmp_path: Path, run_cli: RunCli, scheduler: str
) -> None:
    from distributed.diagnostics.plugin import WorkerPlugin

    marker = str(tmp_path / "killed")

    class KillOnce(WorkerPlugin):  # type: ignore[misc]
        """The first worker to start rendering a brief is killed (SIGKILL) a moment later, mid-brief."""

        def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
            if finish != "executing" or not str(key).startswith("briefs-render"):
                return
            try:
                fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                return
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            import signal
            import threading

            threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGKILL)).start()

    argv = ("--data", two_datasets, "--format", "pdf", "--format", "md")
    with distributed.Client(scheduler, set_as_default=False) as client:
        client.register_plugin(KillOnce(), name="kill-once")
        try:
            code, stdout, stderr = run_cli(*argv, "--out", tmp_path / "dask", "--scheduler", scheduler)
        finally:
            client.unregister_worker_plugin("kill-once")
    assert code == 0, stderr
    assert "16 built, 0 up to date, 0 failed" in stdout
    killed = int(Path(marker).read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(killed, 0)  # that worker is gone; its brief was rendered by another
    code, _, stderr = run_cli(*argv, "--out", tmp_path / "local", "--jobs", "1")
    assert code == 0, stderr
    local, dask = outputs(tmp_path / "local"), outputs(tmp_path / "dask")
    assert [name for name in local if local[name] != dask.get(name)] == []


def test_a_failing_brief_fails_alone_and_the_time_limit_holds(
    mini_data: Path, tmp_path: Path, run_cli: RunCli, scheduler: str
) -> None:
    """A Dask worker runs tasks outside its main thread, where SIGALRM cannot reach: the limit holds anyway."""
    slow = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    templates = write_tree(
        tmp_path / "tpl",
        {
            "audiences/slow.yaml": "title: Slow\nformats: [md]\nsections: [summary]\n",
            "audiences/slow.md.j2": slow,
        },
    )
    out = tmp_path / "out"
    argv = ("--data", mini_data, "--templates", templates, "--out", out, "--format", "md", "--time-limit", "5")
    code, _, stderr = run_cli(*argv, "--scheduler", scheduler)
    assert code == 1, stderr
    assert "FAILED mini/slow.md" in stderr and "longer than the 5 s time limit" in stderr
    assert not (out / "mini" / "slow.md").exists()
    for audience in ("principal", "desk", "congress", "public"):
        assert (out / "mini" / f"{audience}.md").read_text(encoding="utf-8").strip()


def test_an_unreachable_scheduler_exits_1_and_writes_nothing(mini_data: Path, tmp_path: Path, run_cli: RunCli) -> None:
    import dask

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "out"
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        code, _, stderr = run_cli("--data", mini_data, "--out", out, "--scheduler", f"tcp://127.0.0.1:{port}")
    assert code == 1
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in errors[0], stderr
    assert "nothing written" in errors[0]
    assert not out.exists()


def test_executor_dask_without_a_scheduler_is_bad_usage(
    mini_data: Path, tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BRIEFS_SCHEDULER", raising=False)
    code, _, stderr = run_cli("--data", mini_data, "--out", tmp_path / "out", "--executor", "dask")
    assert code == 2 and "--scheduler" in stderr
    assert not (tmp_path / "out").exists()


def test_a_template_error_on_a_worker_names_the_users_file(
    mini_data: Path, tmp_path: Path, run_cli: RunCli, scheduler: str
) -> None:
    """Bad input found on a worker is bad input here: exit 2, nothing written, the file as the user named it."""
    templates = write_tree(tmp_path / "tpl", {"audiences/desk.md.j2": "{{ no_such_variable }}\n"})
    out = tmp_path / "out"
    code, _, stderr = run_cli("--data", mini_data, "--templates", templates, "--out", out, "--scheduler", scheduler)
    assert code == 2, stderr
    assert f"{templates}/audiences/desk.md.j2:1" in stderr and "'no_such_variable' is not defined" in stderr
    assert "briefs-inputs" not in stderr and "nothing written" in stderr
    assert not (out / "mini").exists()


@pytest.mark.parametrize("address", ["tcp://127.0.0.1", "127.0.0.1:x", "foo://127.0.0.1:8786"])
def test_a_malformed_scheduler_address_is_one_line(address: str, mini_data: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    out = tmp_path / "out"
    argv = [sys.executable, "-m", "briefs", "--data", str(mini_data), "--out", str(out), "--scheduler", address]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [done.stderr.strip()] and "cannot reach the Dask scheduler" in done.stderr
    assert not out.exists()


def test_the_client_process_starts_before_the_data_loads(two_datasets: Path, tmp_path: Path, scheduler: str) -> None:
    # The build starts the Dask client's process first, so it connects while the data loads. It once failed
    # silently there (Dask's connect timeout asked of a configuration without distributed's defaults) and
    # started only after planning: a second or two of every Dask build.
    import subprocess
    import sys

    from tests.conftest import REPO

    script = f"""
import sys
import briefs.pipeline.build as build
from briefs.pipeline import executors
from briefs.cli import main
planned = build.make_plan
def make_plan(options):
    print("relay before planning:", list(executors._relays) == [{scheduler!r}], "distributed imported:",
          "distributed" in sys.modules, flush=True)
    return planned(options)
build.make_plan = make_plan
sys.exit(main(["--data", {str(two_datasets)!r}, "--out", {str(tmp_path / "out")!r}, "--format", "md",
               "--scheduler", {scheduler!r}]))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "relay before planning: True distributed imported: False" in done.stdout


def test_the_connect_timeout_default_is_distributed_s() -> None:
    import dask
    import yaml
    from dask.utils import parse_timedelta

    from briefs.pipeline.dask_relay import DASK_CONNECT_DEFAULT, connect_seconds

    own = yaml.safe_load((Path(distributed.__file__).parent / "distributed.yaml").read_text(encoding="utf-8"))
    found = own["distributed"]["comm"]["timeouts"]["connect"]
    assert parse_timedelta(found, default="seconds") == parse_timedelta(DASK_CONNECT_DEFAULT, default="seconds")
    with dask.config.set({"distributed.comm.timeouts.connect": "7s"}):
        assert connect_seconds() == 7.0
