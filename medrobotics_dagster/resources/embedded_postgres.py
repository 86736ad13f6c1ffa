"""A PostgreSQL server embedded in the project (pgserver), for local mode with nothing configured."""

from __future__ import annotations

import threading

from medrobotics_dagster import settings

_lock = threading.Lock()
_servers: dict[str, object] = {}


def embedded_database_url(db_name: str) -> str:
    """Start (or reuse) the embedded server under `settings.home()` and make sure `db_name` exists."""
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
                raise settings.ConfigError(settings.HOME, f"cannot start the embedded PostgreSQL in {pgdata}: {exc}")
            _servers[str(pgdata)] = server
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{db_name}';")
        if "(1 row)" not in exists:
            server.psql(f'CREATE DATABASE "{db_name}";')
        return server.get_uri(db_name)
