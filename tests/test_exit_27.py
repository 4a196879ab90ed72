"""Issue 27: build.py ends without the interpreter's teardown, and still does everything an exit owes.

`briefs.cli.exit_process` stops the kept pools, runs the exit handlers, flushes the streams and ends the
process with the command's status; with another thread still running, or under a tracer or profiler, it
exits as Python does. Each test runs a real process: the point is what the process does as it ends.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO

# An object whose finaliser runs only when the interpreter tears its modules down.
_TEARDOWN_PROBE = """
import atexit, sys
class Probe:
    def __del__(self):
        sys.__stdout__.write("torn down\\n"); sys.__stdout__.flush()
probe = Probe()
atexit.register(print, "exit handler ran")
print("buffered line")  # a pipe's stdout is block-buffered: lost unless flushed
"""


def _python(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "probe.py"
    script.write_text(textwrap.dedent(code), encoding="utf-8")
    # Buffered streams whatever the caller's setting (PYTHONUNBUFFERED), as a user's pipe has them.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run(
        [sys.executable, str(script)], cwd=REPO, capture_output=True, text=True, timeout=60, check=False, env=env
    )


def test_the_status_handlers_and_streams_survive_and_the_teardown_is_skipped(tmp_path: Path) -> None:
    done = _python(_TEARDOWN_PROBE + "from briefs.cli import exit_process\nexit_process(3)\n", tmp_path)
    assert done.returncode == 3
    assert done.stdout.splitlines() == ["buffered line", "exit handler ran"]  # no "torn down"
    assert done.stderr == ""


def test_the_same_probe_is_torn_down_by_a_plain_exit(tmp_path: Path) -> None:
    # The probe itself: without exit_process its finaliser runs, so the test above can tell the difference.
    done = _python(_TEARDOWN_PROBE + "raise SystemExit(3)\n", tmp_path)
    assert done.returncode == 3
    assert "torn down" in done.stdout.splitlines()


@pytest.mark.parametrize("hook", ["settrace", "setprofile", None])
def test_under_a_tracer_or_profiler_the_process_exits_as_python_does(tmp_path: Path, hook: str | None) -> None:
    # coverage, a debugger or `python -m cProfile` write what they found once the program returns: they must
    # get to. Without one, nothing runs after exit_process (its point), which the same script shows.
    code = f"""
    import sys
    {f"sys.{hook}(lambda *a: None)" if hook else ""}
    from briefs.cli import exit_process
    try:
        exit_process(4)
    finally:
        print("what the tool wrote after the program")
    """
    done = _python(code, tmp_path)
    assert done.returncode == 4
    assert ("what the tool wrote after the program" in done.stdout) is (hook is not None)


def test_a_running_thread_is_waited_for(tmp_path: Path) -> None:
    marker = tmp_path / "thread-finished"
    code = f"""
    import threading, time
    from pathlib import Path
    def work():
        time.sleep(0.3)
        Path({str(marker)!r}).write_text("done")
    threading.Thread(target=work).start()
    from briefs.cli import exit_process
    exit_process(0)
    """
    done = _python(code, tmp_path)
    assert done.returncode == 0 and marker.read_text() == "done"


def test_build_py_reports_writes_and_exits_with_its_status(two_datasets: Path, tmp_path: Path) -> None:
    data = two_datasets
    out = tmp_path / "out"
    build = [sys.executable, str(REPO / "build.py"), "--data", str(data), "--out", str(out), "--format", "md"]
    # Two briefs at once: the worker pool is stopped before the process ends, and no worker is left.
    done = subprocess.run([*build, "--jobs", "2"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "built" in done.stdout and "0 failed" in done.stdout  # the summary, flushed into a pipe
    assert sorted(p.name for p in out.rglob("*.md"))
    assert (out / ".briefs" / "state.json").is_file()
    again = subprocess.run(build, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "up to date" in again.stdout
    # Bad input: exit status 2 and every error on stderr, as before.
    (data / "mini" / "broken.yaml").write_text("sections: [unclosed\n", encoding="utf-8")
    bad = subprocess.run(build, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2
    assert "broken.yaml" in bad.stderr and "nothing written" in bad.stderr


def test_output_lost_at_the_last_flush_exits_120_as_python_does(tmp_path: Path) -> None:
    # A reader that went away before the last flush: what was written is lost, and the status says so.
    lost = """
    import os, sys
    sys.stdout.write("never read")  # buffered
    read, write = os.pipe()
    os.close(read)
    os.dup2(write, sys.stdout.fileno())  # stdout is now a pipe with no reader
    """
    lost = textwrap.dedent(lost)
    assert _python(lost + "from briefs.cli import exit_process\nexit_process(0)\n", tmp_path).returncode == 120
    assert _python(lost + "raise SystemExit(0)\n", tmp_path).returncode == 120  # Python's own exit
