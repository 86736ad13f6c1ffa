"""`medrobotics-dbt` hands an invocation to the warm dbt server when one listens: dbt's output, exit code, this
process's environment and directory; a missing or dead server means dbt runs directly and a server is started;
a signal to the command reaches the dbt process, and killing the command stops it too; a stopped server removes
its socket; a socket folder others can enter is not used."""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from medrobotics_dagster.defs.warehouse import dbt_fork_server
from medrobotics_dagster.defs.warehouse.dbt_executable import EXECUTABLE, run_on_server
from medrobotics_dagster.defs.warehouse.dbt_parse_state import put_dbt_on_path

SERVER_START_S = 120


@pytest.fixture
def server_folder(monkeypatch):
    """A temporary directory of this test's (short: a Unix socket's path has at most 107 bytes), so the servers
    started here are this test's alone; they are stopped at the end."""
    folder = tempfile.mkdtemp(prefix="mr-dbt-", dir="/tmp")
    monkeypatch.setattr(tempfile, "tempdir", folder)
    monkeypatch.setenv("TMPDIR", folder)
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    put_dbt_on_path()
    yield Path(folder)
    with contextlib.suppress(OSError, psutil.NoSuchProcess):  # no server, or one stopped already
        path = dbt_fork_server.socket_path()
        server = server_process(path)
        if dbt_fork_server.stop_server(path):
            wait_until_gone(server)
    shutil.rmtree(folder)


def server_process(path: Path) -> psutil.Process:
    """The server listening on `path`: its pid is in the lock it holds."""
    return psutil.Process(int(path.with_name(f"{path.name}.lock").read_text()))


def wait_until_gone(process: psutil.Process, timeout: float = 30) -> None:
    """Ended (a server started from this process stays its zombie until reaped)."""
    deadline = time.monotonic() + timeout
    with contextlib.suppress(psutil.NoSuchProcess):
        while process.status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline, f"{process} still runs"
            time.sleep(0.05)


def wait_for_server(path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(path))
            return
        except OSError:
            time.sleep(0.1)
        finally:
            probe.close()
    raise AssertionError(f"no dbt server listens on {path}")


def test_without_a_server_dbt_runs_directly_and_the_next_invocation_is_served_as_dbt_would_answer(
    server_folder, capfd, tmp_path, monkeypatch
):
    path = dbt_fork_server.socket_path()
    first = subprocess.run([EXECUTABLE, "--version"], capture_output=True, text=True, timeout=120)
    assert first.returncode == 0 and "installed:" in first.stdout  # dbt ran in the command itself ...
    wait_for_server(path)  # ... and started the server for the next invocation
    capfd.readouterr()

    assert run_on_server(["--version"]) == 0
    assert "installed:" in capfd.readouterr().out
    assert run_on_server(["no-such-command"]) == 2
    assert "Error: No such command 'no-such-command'." in capfd.readouterr().err

    (tmp_path / "profiles.yml").write_text("{}\n")  # dbt looks for profiles.yml in its working directory first
    monkeypatch.chdir(tmp_path)
    assert run_on_server(["debug", "--config-dir"]) == 0
    assert str(tmp_path) in capfd.readouterr().out
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv("DBT_PROFILES_DIR", str(elsewhere))
    assert run_on_server(["debug", "--config-dir"]) == 0
    assert str(elsewhere) in capfd.readouterr().out


def test_a_served_dbt_that_opened_an_adapter_leaves_no_leaked_semaphore_warning(server_folder):
    """dbt's adapters hold multiprocessing locks; a forked dbt that exits without freeing them had Python's resource
    tracker print "leaked semaphore objects" on the command's stderr after every served invocation."""
    assert run_on_server(["--version"]) is None
    wait_for_server(dbt_fork_server.socket_path())
    project = Path(__file__).parents[2] / "sql"
    served = subprocess.run(  # the output is read to its end: the tracker, a child of dbt's, shares its stderr
        [EXECUTABLE, "parse", "--project-dir", str(project), "--profiles-dir", str(project)],
        env={**os.environ, "DBT_TARGET_PATH": str(server_folder / "target"), "DBT_LOG_PATH": str(server_folder)},
        capture_output=True,
        text=True,
        timeout=SERVER_START_S,
    )
    assert served.returncode == 0, served.stdout[-2000:] + served.stderr[-2000:]
    assert (server_folder / "target" / "manifest.json").exists()
    assert "leaked" not in served.stderr and "resource_tracker" not in served.stderr, served.stderr[-2000:]


def test_a_socket_left_by_a_killed_server_is_replaced(server_folder, capfd):
    path = dbt_fork_server.socket_path()
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(path))  # a socket file with nobody listening, as a killed server leaves it
    dead.close()

    assert run_on_server(["--version"]) is None  # refused: the caller runs dbt itself
    wait_for_server(path)
    assert run_on_server(["--version"]) == 0
    assert "installed:" in capfd.readouterr().out


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGKILL], ids=["interrupted", "killed"])
def test_an_interrupted_or_killed_command_stops_its_dbt_process(server_folder, stop):
    """SIGINT is forwarded; after SIGKILL (a run worker stopped hard) the server sees the command gone."""
    path = dbt_fork_server.socket_path()
    assert run_on_server(["--version"]) is None
    wait_for_server(path)
    server = server_process(path)
    project = Path(__file__).parents[2] / "sql"
    command = subprocess.Popen(
        [EXECUTABLE, "parse", "--no-partial-parse", "--project-dir", str(project), "--profiles-dir", str(project)],
        env={**os.environ, "DBT_TARGET_PATH": str(server_folder / "target"), "DBT_LOG_PATH": str(server_folder)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + SERVER_START_S
    while not (dbt := [p for p in server.children(recursive=True) if p.ppid() != server.pid]):
        assert time.monotonic() < deadline and command.poll() is None, "the server started no dbt process"
        time.sleep(0.02)

    command.send_signal(stop)
    assert command.wait(timeout=60) != 0  # dbt stopped before its parse was done
    gone, alive = psutil.wait_procs(dbt, timeout=60)
    assert not alive
    assert not (server_folder / "target" / "manifest.json").exists()  # interrupted, not finished


def test_a_signal_forwarded_the_moment_dbt_is_forked_still_interrupts_it(server_folder):
    """The command forwards a signal as soon as it learns dbt's pid, which the server sends right after the fork; one
    that reached the new process while Python reinitialized after the fork was dropped, and dbt ran to its end."""
    path = dbt_fork_server.socket_path()
    assert run_on_server(["--version"]) is None
    wait_for_server(path)
    project = str(Path(__file__).parents[2] / "sql")
    codes = []
    for attempt in range(5):
        env = {
            **os.environ,
            "DBT_TARGET_PATH": str(server_folder / f"target-{attempt}"),
            "DBT_LOG_PATH": str(server_folder),
        }
        args = ["parse", "--no-partial-parse", "--project-dir", project, "--profiles-dir", project]
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client, client.makefile("rb") as replies:
            client.connect(str(path))
            dbt_fork_server.send_request(client, {"args": args, "env": env, "cwd": os.getcwd(), "umask": 0o022})
            os.kill(json.loads(replies.readline())["pid"], signal.SIGINT)  # at once, as the command does
            codes.append(os.waitstatus_to_exitcode(json.loads(replies.readline())["status"]))
    assert 0 not in codes, codes
    assert not list(server_folder.glob("target-*/manifest.json"))


def test_a_stopped_server_takes_its_socket_along(server_folder, capfd):
    path = dbt_fork_server.socket_path()
    assert dbt_fork_server.stop_server(path) is False  # none yet
    assert run_on_server(["--version"]) is None
    wait_for_server(path)
    server = server_process(path)

    assert dbt_fork_server.stop_server(path) is True
    wait_until_gone(server)
    assert not path.exists()
    assert dbt_fork_server.stop_server(path) is False


def test_a_socket_folder_others_can_enter_is_not_used(server_folder, capfd):
    folder = server_folder / f"medrobotics-dbt-{os.getuid()}"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)

    assert run_on_server(["--version"]) is None
    assert "must be this user's alone (mode 700)" in capfd.readouterr().err
    time.sleep(1)
    assert list(folder.iterdir()) == []  # no server was started there


def test_one_server_for_every_name_of_the_interpreter(server_folder, monkeypatch):
    """`python` and `python3` of a virtualenv are one interpreter with one site-packages: one server, not two."""
    other_name = server_folder / "python-by-another-name"
    other_name.symlink_to(os.path.realpath(sys.executable))
    path = dbt_fork_server.socket_path()
    monkeypatch.setattr(sys, "executable", str(other_name))
    assert dbt_fork_server.socket_path() == path
