"""A PostgreSQL server embedded in the project (pgserver), for local mode with nothing configured."""

from __future__ import annotations

import threading
import warnings

from medrobotics_dagster import settings

_lock = threading.Lock()
_servers: dict[str, object] = {}


def resolve_database_url(setting: str, embedded_db_name: str) -> str:
    """The URL in `setting`, or in local mode (unset) a database of the embedded PostgreSQL under the home."""
    return settings.database_url(setting) or embedded_database_url(embedded_db_name)


def embedded_database_url(db_name: str) -> str:
    """Start (or reuse) the embedded server under `settings.home()` and make sure `db_name` exists."""
    with warnings.catch_warnings():
        # platformdirs warns on import when XDG_RUNTIME_DIR is unset (containers, CI); pgserver's fallback is fine.
        warnings.simplefilter("ignore")
        import pgserver  # imported lazily: only local mode without URLs needs it

    pgdata = settings.home() / "pgdata"
    with _lock:
        server = _servers.get(str(pgdata))
        if server is None:
            try:
                pgdata.mkdir(parents=True, exist_ok=True)
                # cleanup_mode=None: the server outlives this process, so the CLI, `dagster dev`
                # and its run workers all share one server.
                server = pgserver.get_server(pgdata, cleanup_mode=None)
            except Exception as exc:  # pgserver raises plain exceptions for unusable directories
                raise settings.ConfigError(
                    settings.HOME, f"cannot start the embedded PostgreSQL in {pgdata}: {exc}"
                ) from exc
            _servers[str(pgdata)] = server
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{db_name}';")
        if "(1 row)" not in exists:
            server.psql(f'CREATE DATABASE "{db_name}";')
        return server.get_uri(db_name)


def running_database_url(db_name: str) -> str | None:
    """The URL of `db_name` on the embedded server when this process already started (or reused) it, else None."""
    server = _servers.get(str(settings.home() / "pgdata"))
    return server.get_uri(db_name) if server is not None else None


def stop_embedded_server() -> bool:
    """Stop the embedded server under `settings.home()` if it runs (fast shutdown); True if one was stopped."""
    import os
    import signal
    import time

    pid_file = settings.home() / "pgdata" / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().splitlines()[0])
    with _lock:
        _servers.pop(str(settings.home() / "pgdata"), None)
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        return False
    for _ in range(100):
        if not pid_file.exists():
            break
        time.sleep(0.1)
    return True
