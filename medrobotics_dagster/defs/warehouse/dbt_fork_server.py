"""A warm dbt: one process that has imported dbt-core forks a dbt process for every `medrobotics-dbt` invocation.

dagster-dbt starts a dbt process for every dbt step, and every one imported dbt-core anew (1.1 CPU-s here, most of
a small step's cost). The server imports it once; for each invocation it forks a supervisor, which forks the dbt
process with the client's arguments, environment, working directory and standard streams (file descriptors passed
over a Unix socket), reports its pid (the client forwards signals to it) and then its exit status. A client that
goes away (killed) takes its dbt process along: it is interrupted as a cancelled step's is.

The socket is named by the interpreter and the state of its site-packages, so that installing or upgrading a
package (dbt itself) makes later invocations start a new server; a server exits after `IDLE_EXIT_S` without a
request. The protocol is the client's: `dbt_executable.py`.
"""

from __future__ import annotations

import fcntl
import gc
import hashlib
import json
import os
import select
import signal
import socket
import struct
import sys
import sysconfig
import tempfile
import traceback
from pathlib import Path

IDLE_EXIT_S = 600
HEADER = struct.Struct("!I")  # the request's length, sent with the three standard streams
STREAMS = 3
BACKLOG = 64
POLL_S = 0.1
# What the command forwards to its dbt process (`dbt_executable`): held back in the dbt process until its handlers
# are set. A signal that arrives while Python reinitializes after the fork is dropped (CPython clears the signals
# pending for Python in a forked child), and dbt then ran to its end although interrupted.
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def dbt_cli():
    """dbt's command line (click), imported with the collector kept off the objects the import allocates."""
    from medrobotics_dagster.long_lived_imports import long_lived_objects

    with long_lived_objects():
        from dbt.cli.main import cli
    return cli


def socket_path() -> Path:
    """Where this interpreter's server listens: a directory of this user's alone, named by what the server would
    import."""
    packages = sysconfig.get_paths()["purelib"]
    # the interpreter itself, not the name it was started by (a virtualenv's python and python3 share one server)
    key = f"{os.path.realpath(sys.executable)}\0{packages}\0{os.stat(packages).st_mtime_ns}"
    folder = Path(tempfile.gettempdir()) / f"medrobotics-dbt-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    owner = folder.stat()
    if owner.st_uid != os.getuid() or owner.st_mode & 0o077:  # whoever can reach the socket runs dbt as this user
        raise PermissionError(f"{folder} must be this user's alone (mode 700) for a dbt server to listen there")
    return folder / f"{hashlib.sha256(key.encode()).hexdigest()[:16]}.sock"


def send_request(sock: socket.socket, request: dict) -> None:
    """The request (argv, env, cwd, umask) and this process's stdin, stdout and stderr."""
    payload = json.dumps(request).encode()
    socket.send_fds(sock, [HEADER.pack(len(payload))], list(range(STREAMS)))
    sock.sendall(payload)


def _receive_request(sock: socket.socket) -> tuple[dict, list[int]]:
    header, fds, _, _ = socket.recv_fds(sock, HEADER.size, STREAMS)
    if len(header) != HEADER.size or len(fds) != STREAMS:
        raise ConnectionError("incomplete request")
    (size,) = HEADER.unpack(header)
    payload = bytearray()
    while len(payload) < size:
        chunk = sock.recv(size - len(payload))
        if not chunk:
            raise ConnectionError("incomplete request")
        payload += chunk
    return json.loads(payload), fds


def _become_dbt(request: dict, fds: list[int]) -> None:
    """In the forked child: take the client's streams, directory, environment and arguments, run dbt, exit."""
    code = 1
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.umask(request["umask"])
        os.environ.clear()
        os.environ.update(request["env"])
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, FORWARDED_SIGNALS)  # one already forwarded is delivered here
        if os.environ.get("PYTHONUNBUFFERED"):
            sys.stdout.reconfigure(write_through=True)
        sys.argv = ["dbt", *request["args"]]
        dbt_cli()()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        if not isinstance(exit_.code, int | None):
            print(exit_.code, file=sys.stderr)
    except KeyboardInterrupt:
        code = 130
    except BaseException:
        traceback.print_exc()
    finally:
        _free_dbt_adapters()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _free_dbt_adapters() -> None:
    """Close dbt's connections and free its adapters before `os._exit`: each adapter holds a multiprocessing lock, a
    named semaphore that a normal exit releases and `os._exit` does not (Python's resource tracker then printed
    "leaked semaphore objects" on the client's stderr after every served invocation)."""
    try:
        from dbt.adapters.factory import reset_adapters

        reset_adapters()
        gc.collect()  # the adapters sit in reference cycles; about 10 ms after a parse
    except Exception:
        traceback.print_exc()


def _supervise(conn: socket.socket) -> None:
    """In a child of the server: start the dbt process, tell the client its pid, then its exit status."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the server ignores it (so that supervisors are reaped)
    request, fds = _receive_request(conn)
    signal.pthread_sigmask(signal.SIG_BLOCK, FORWARDED_SIGNALS)
    pid = os.fork()
    if pid == 0:
        conn.close()
        _become_dbt(request, fds)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, FORWARDED_SIGNALS)
    for fd in fds:
        os.close(fd)
    try:
        conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
        status = _wait_unless_the_client_goes(pid, conn)
    except OSError:
        status = None
    if status is None:  # the client was killed (a run worker stopped hard): stop its dbt as a cancelled step does
        os.kill(pid, signal.SIGINT)
        os.waitpid(pid, 0)
        return
    conn.sendall(json.dumps({"status": status}).encode() + b"\n")


def _wait_unless_the_client_goes(pid: int, conn: socket.socket) -> int | None:
    """The dbt process's wait status, or None as soon as the client's end of the connection closes."""
    try:
        ended = [os.pidfd_open(pid)]
    except OSError:  # no pidfd: look every POLL_S
        ended = []
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        readable, _, _ = select.select([conn, *ended], [], [], None if ended else POLL_S)
        if conn in readable and not conn.recv(1):
            return None


def serve(path: Path) -> None:
    """Import dbt, listen on `path` until `IDLE_EXIT_S` pass without a request, serve each request in a child.
    Returns at once when another server holds the path's lock (two clients started one each)."""
    from medrobotics_dagster.long_lived_imports import long_lived_objects

    lock = os.open(_lock_path(path), os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return
    os.ftruncate(lock, 0)
    os.write(lock, str(os.getpid()).encode())
    with long_lived_objects():
        import dbt.adapters.postgres  # noqa: F401  (the adapters of the project's targets: local and production)
        import dbt.adapters.redshift  # noqa: F401
    dbt_cli()

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    staging = path.with_name(f"{path.name}.{os.getpid()}")
    listener.bind(str(staging))
    listener.listen(BACKLOG)
    os.replace(staging, path)  # atomically: a client never connects to a server still importing
    bound = os.stat(path).st_ino

    def remove_socket() -> None:  # unless a newer server's replaced it
        if path.exists() and os.stat(path).st_ino == bound:
            path.unlink()

    def stop(_signal: int, _frame) -> None:  # at once: an exception raised here may land in a finalizer and be lost
        remove_socket()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    listener.settimeout(IDLE_EXIT_S)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        while True:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                return
            if os.fork() == 0:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                listener.close()
                os.close(lock)  # held by the server alone: a long dbt run must not keep the next server out
                code = 0
                try:
                    conn.settimeout(None)
                    _supervise(conn)
                except Exception:  # the client went away; nothing to tell it
                    code = 1
                os._exit(code)
            conn.close()
    finally:
        remove_socket()
        listener.close()


def _lock_path(path: Path) -> Path:
    return path.with_name(f"{path.name}.lock")


def stop_server(path: Path) -> bool:
    """Stop the server listening on `path`, if one runs (dbt processes it started run on); True if one was stopped."""
    try:
        lock = os.open(_lock_path(path), os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False  # nobody holds it: no server
    except BlockingIOError:
        pid = int(os.read(lock, 32) or 0)
    finally:
        os.close(lock)
    if pid:
        os.kill(pid, signal.SIGTERM)
    return bool(pid)


def start_server(path: Path) -> None:
    """Start a server on `path` in the background, detached from this process and its terminal."""
    import subprocess

    # `-c`, not `-m`: click names the program after `python -m <module>` when __main__ is a package's module
    command = f"import sys; from {__name__} import serve; serve(__import__('pathlib').Path(sys.argv[1]))"
    subprocess.Popen(
        [sys.executable, "-c", command, str(path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )
