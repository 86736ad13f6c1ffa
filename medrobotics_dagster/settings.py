"""Where configuration comes from: environment variables, read when used, never at import time."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit

ENV = "MEDROBOTICS_ENV"
HOME = "MEDROBOTICS_HOME"
SOURCE_DB_URL = "MEDROBOTICS_SOURCE_DB_URL"
WAREHOUSE_URL = "MEDROBOTICS_WAREHOUSE_URL"
LAKE_URL = "MEDROBOTICS_LAKE_URL"
REDSHIFT_IAM_ROLE = "MEDROBOTICS_REDSHIFT_IAM_ROLE"
DAGSTER_STORAGE_URL = "MEDROBOTICS_DAGSTER_STORAGE_URL"
HISTORY_START = "MEDROBOTICS_HISTORY_START"
FILE_SENSOR_INTERVAL = "MEDROBOTICS_FILE_SENSOR_INTERVAL_S"

ENVIRONMENTS = ("local", "prod")
SOURCE_DB_NAME = "medrobotics_source"
WAREHOUSE_DB_NAME = "medrobotics_warehouse"


class ConfigError(Exception):
    """A setting is missing, malformed or points at something unusable; names the setting."""

    def __init__(self, setting: str, problem: str):
        self.setting = setting
        self.problem = problem
        super().__init__(f"{setting}: {problem}")


def environment() -> str:
    value = os.environ.get(ENV, "local").strip() or "local"
    if value not in ENVIRONMENTS:
        raise ConfigError(ENV, f"must be one of {', '.join(ENVIRONMENTS)}, got {value!r}")
    return value


# The first day of history: the first daily partition, and the first day of a world `medrobotics` generates.
DEFAULT_HISTORY_START = "2024-12-01"


def history_start() -> date:
    """The first daily partition (MEDROBOTICS_HISTORY_START, YYYY-MM-DD). Read when the definitions are built:
    every process of one deployment must see the same value."""
    text = os.environ.get(HISTORY_START, "").strip() or DEFAULT_HISTORY_START
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(HISTORY_START, f"expected a date YYYY-MM-DD, got {text!r}") from None


DEFAULT_FILE_SENSOR_INTERVAL_S = 30


def file_sensor_interval() -> int:
    """Seconds between two looks of the file sensor at raw/telemetry/ (MEDROBOTICS_FILE_SENSOR_INTERVAL_S): a
    file waits half of it on average. Read when the definitions are built."""
    text = os.environ.get(FILE_SENSOR_INTERVAL, "").strip()
    if not text:
        return DEFAULT_FILE_SENSOR_INTERVAL_S
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(FILE_SENSOR_INTERVAL, f"expected a whole number of seconds, at least 1, got {text!r}")
    return int(text)


def warehouse_dialect() -> str:
    """The warehouse's SQL dialect: Redshift in production, PostgreSQL locally."""
    return "redshift" if environment() == "prod" else "postgres"


def home() -> Path:
    """The directory that holds local state (embedded PostgreSQL, lake, Dagster instance, logs): `.medrobotics/`."""
    return Path(os.environ.get(HOME) or Path.cwd() / ".medrobotics").resolve()


def pin_home() -> Path:
    """Fix the local state directory for this process and its children: `home()` defaults to the *current*
    directory, which dagster-dbt changes (to sql/) while it streams dbt's events; without this, a later call
    would start a second, empty embedded PostgreSQL under sql/.medrobotics."""
    path = home()
    os.environ[HOME] = str(path)
    return path


def dagster_home() -> Path:
    """The Dagster instance of local mode (run and event storage, compute logs, the UI's onboarding marker)."""
    return home() / "dagster"


def log_dir() -> Path:
    """Where commands write their full logs (dbt and Dagster) when the terminal gets a summary."""
    return home() / "logs"


def command_log(command: str) -> Path:
    """The full log of one invocation of a command: logs/<command>-<UTC time>.log."""
    return log_dir() / f"{command}-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}.log"


def database_url(setting: str) -> str | None:
    """The URL in `setting`, checked; None in local mode when unset (the caller starts an embedded database)."""
    url = os.environ.get(setting, "").strip()
    if url:
        check_database_url(setting, url)
        return url
    if environment() == "prod":
        raise ConfigError(setting, "is required when MEDROBOTICS_ENV=prod")
    return None


def check_database_url(setting: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres", "redshift") or not (parts.hostname or "host=" in parts.query):
        raise ConfigError(
            setting, f"expected postgresql://user:password@host:port/database (or redshift://...), got {redact(url)!r}"
        )
    if not parts.path.strip("/"):
        raise ConfigError(setting, f"names no database: {redact(url)!r}")


def lake_url() -> str:
    url = os.environ.get(LAKE_URL, "").strip()
    if url:
        return url
    if environment() == "prod":
        raise ConfigError(LAKE_URL, "is required when MEDROBOTICS_ENV=prod")
    return str(home() / "lake")


def redact(url: str) -> str:
    """The URL with any password replaced, for messages and logs."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url
