"""`medrobotics-dbt`: dbt's own command line, run by a process forked from a warm dbt (`dbt_fork_server.py`).

dagster-dbt starts a dbt process for every dbt step, and each imported dbt-core anew: 1.1 CPU-s here. This command
hands its arguments, environment, directory and standard streams to the server, forwards the signals it gets to
the dbt process, and exits as that process did. Without a server (the first invocation, or after one went idle) it
runs dbt itself, without Python's collector walking what importing dbt allocates (`long_lived_imports`), and
starts a server for the next invocation. Arguments, output and exit code are dbt's either way.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sys

EXECUTABLE = "medrobotics-dbt"


def dbt_executable() -> str:
    """This command when installed (`pip install -e .` makes it), else plain `dbt`."""
    return EXECUTABLE if shutil.which(EXECUTABLE) else "dbt"


def run_on_server(args: list[str]) -> int | None:
    """dbt's exit code, run by the warm server; None when no server took the invocation (one is started)."""
    from medrobotics_dagster.defs.warehouse import dbt_fork_server as server

    try:
        path = server.socket_path()
    except PermissionError as refused:
        print(f"{EXECUTABLE}: {refused}; running dbt without it", file=sys.stderr)
        return None
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        client.connect(str(path))
    except OSError:  # none yet, or a socket left by a server that was killed
        client.close()
        server.start_server(path)
        return None
    with client, client.makefile("rb") as replies:
        umask = os.umask(0)
        os.umask(umask)
        try:
            server.send_request(client, {"args": args, "env": dict(os.environ), "cwd": os.getcwd(), "umask": umask})
            started = replies.readline()
        except OSError:
            return None
        if not started:  # the server went away before starting dbt (it was going idle)
            return None
        pid = json.loads(started)["pid"]
        for number in server.FORWARDED_SIGNALS:
            signal.signal(number, lambda received, _frame: os.kill(pid, received))
        ended = replies.readline()
    if not ended:
        print(f"{EXECUTABLE}: the dbt server ended before dbt (pid {pid}) did", file=sys.stderr)
        return 1
    code = os.waitstatus_to_exitcode(json.loads(ended)["status"])
    return 128 - code if code < 0 else code  # killed by a signal: as a shell reports it


def main() -> None:
    code = run_on_server(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from medrobotics_dagster.defs.warehouse.dbt_fork_server import dbt_cli

    sys.argv[0] = "dbt"
    sys.exit(dbt_cli()())
