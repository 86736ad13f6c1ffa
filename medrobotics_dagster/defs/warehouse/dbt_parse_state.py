"""dbt's parse state of the project under sql/: `target/partial_parse.msgpack`, kept current for the connection
settings the invocations run with, so that each one parses only what changed (no Dagster or dbt imported here)."""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import orjson

from medrobotics_dagster.defs.warehouse.dbt_executable import dbt_executable
from medrobotics_dagster.project_paths import DBT_TARGET_DIR, SQL_DIR, dbt_project_changed_since

PARTIAL_PARSE_FILE = "partial_parse.msgpack"
MANIFEST_FILE = "manifest.json"  # what dbt writes beside it; target/manifest.json is the one Dagster loads
# The connection settings target/partial_parse.msgpack was written with (no password): dbt refuses a partial
# parse when the profile it renders differs, and re-parses the whole project on every invocation.
PARSE_PROFILE_FILE = "medrobotics_parse_profile.json"
# Earlier parses, one folder per connection profile: going back to a warehouse parsed before (a second target, the
# embedded one and a configured one) installs its state instead of parsing the whole project again (5 to 7 s).
PARSE_STATES_DIR = "parse-states"
KEPT_PARSE_STATES = 8


def put_dbt_on_path() -> None:
    """dagster-dbt runs dbt from PATH; a virtualenv used without activation has it only beside its Python."""
    bin_dir = Path(sys.executable).parent
    path = os.environ.get("PATH", "")
    if (bin_dir / "dbt").exists() and str(bin_dir) not in path.split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([str(bin_dir), path]) if path else str(bin_dir)


def dbt_command(subcommand: str, target_path: Path, project_dir: Path = SQL_DIR) -> list[str]:
    """A dbt command line for the project (its profiles beside it) with a target path of its own."""
    return [
        dbt_executable(),
        subcommand,
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
        "--target-path",
        str(target_path),
    ]


def manifest_path() -> Path:
    return DBT_TARGET_DIR / MANIFEST_FILE


def manifest_is_stale() -> bool:
    """No manifest yet, or a dbt file changed after it was written."""
    manifest = manifest_path()
    return not manifest.exists() or dbt_project_changed_since(manifest.stat().st_mtime)


def parsed_manifest_database() -> str | None:
    """The database the current manifest's models were parsed for."""
    try:
        nodes = orjson.loads(manifest_path().read_bytes()).get("nodes", {})
    except (OSError, ValueError):
        return None
    return next((n.get("database") for n in nodes.values() if n.get("resource_type") == "model"), None)


def _parse_profile(env: Mapping[str, str]) -> dict[str, str]:
    dbt_version = importlib.metadata.version("dbt-core")
    return {**{k: v for k, v in sorted(env.items()) if k != "MEDROBOTICS_DBT_PASSWORD"}, "dbt": dbt_version}


class _ProjectParse:
    """The project's parse state for the connection settings `env`: where it lives, whether it is current, a lock."""

    def __init__(self, env: Mapping[str, str], with_manifest: bool = False):
        self.env, self.with_manifest = env, with_manifest
        self.wanted = _parse_profile(env)
        DBT_TARGET_DIR.mkdir(parents=True, exist_ok=True)
        self.marker = DBT_TARGET_DIR / PARSE_PROFILE_FILE
        self.partial = DBT_TARGET_DIR / PARTIAL_PARSE_FILE
        profile_hash = hashlib.sha256(json.dumps(self.wanted, sort_keys=True).encode()).hexdigest()[:16]
        self.saved = DBT_TARGET_DIR / PARSE_STATES_DIR / profile_hash

    def current(self) -> bool:
        """Written with these settings after the last change of the project (and so is the manifest, if wanted)."""
        try:
            fresh = (
                json.loads(self.marker.read_text()) == self.wanted
                and not dbt_project_changed_since(self.partial.stat().st_mtime)
                and (not self.with_manifest or not manifest_is_stale())
            )
            database = self.env.get("MEDROBOTICS_DBT_DBNAME")
            return fresh and (not self.with_manifest or parsed_manifest_database() == database)
        except (OSError, ValueError):
            return False

    @contextmanager
    def locked_unless_current(self) -> Iterator[bool]:
        """Whether the state needs writing, asked again under the lock (one writer at a time: runs of `dagster dev`
        start in parallel); the lock is held only when it does."""
        if self.current():
            yield False
            return
        with open(DBT_TARGET_DIR / ".medrobotics_parse.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield not self.current()

    def seed(self) -> Path:
        """What a parse for these settings starts from: their own last parse (dbt re-parses the files changed since),
        else the project's state (another profile's: dbt then parses all)."""
        saved = self.saved / PARTIAL_PARSE_FILE
        return saved if saved.exists() else self.partial

    def put_back_saved(self) -> bool:
        """Install the saved parse for these settings, when there is one and no dbt file changed after it."""
        if not _install_saved_parse(self.saved, self.partial, self.with_manifest):
            return False
        _write_parse_profile(self.marker, self.wanted)
        return True

    def adopt(self, target_path: Path) -> None:
        """Make the state a dbt invocation with these settings wrote in `target_path` the project's (and saved)."""
        _save_parse(target_path, self.saved)
        if self.with_manifest:
            os.replace(target_path / MANIFEST_FILE, manifest_path())
        _copy_atomically(target_path / PARTIAL_PARSE_FILE, self.partial)
        _write_parse_profile(self.marker, self.wanted)


def ensure_partial_parse(env: Mapping[str, str], with_manifest: bool = False) -> bool:
    """Make `target/partial_parse.msgpack` (which dagster-dbt copies into every invocation's target path) one
    written with the connection settings `env` the invocations will run with, after the last change of the project,
    so they parse only what changed. Parses once per connection profile and change of the project, itself starting
    from the last parse for these settings (dbt re-parses what changed since); returns True when it parsed.
    `with_manifest`: the parse also installs its manifest.json (for the database in `env`)."""
    state = _ProjectParse(env, with_manifest)
    with state.locked_unless_current() as stale:
        if not stale or state.put_back_saved():
            return False
        put_dbt_on_path()
        with tempfile.TemporaryDirectory(dir=DBT_TARGET_DIR, prefix="parse-") as scratch:
            start_from(state.seed(), Path(scratch))
            try:
                parsed = subprocess.run(
                    [*dbt_command("parse", Path(scratch)), "--quiet"],
                    env={**os.environ, **env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
                    capture_output=True,
                )
            except OSError:  # no dbt to run
                return False  # the invocation itself will report what is wrong
            if parsed.returncode != 0 or not (Path(scratch) / PARTIAL_PARSE_FILE).exists():
                return False  # the invocation itself will parse in full and report what is wrong
            state.adopt(Path(scratch))
    return True


@contextmanager
def parsing_for_the_project(env: Mapping[str, str], target_path: Path) -> Iterator[None]:
    """Around a dbt invocation with the settings `env` and a target path of its own: it starts from the last parse
    for `env` (put back as the project's when current), and when the project's state was not current for `env`,
    the state the invocation wrote becomes the project's, so no separate `dbt parse` runs before it."""
    state = _ProjectParse(env)
    with state.locked_unless_current() as stale:
        if stale:
            state.put_back_saved()
    start_from(state.seed(), target_path)
    yield  # an invocation that failed (raised) leaves the project's state as it was
    with state.locked_unless_current() as stale:
        if stale and (target_path / PARTIAL_PARSE_FILE).exists():
            state.adopt(target_path)


def start_from(state: Path, target_path: Path) -> None:
    """Put a parse state into an invocation's target path (none when the project never parsed: it then says why)."""
    if state.exists():
        target_path.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(state, target_path / PARTIAL_PARSE_FILE)


def _write_parse_profile(marker: Path, wanted: Mapping[str, str]) -> None:
    tmp_marker = marker.with_suffix(".tmp")
    tmp_marker.write_text(json.dumps(wanted, sort_keys=True))
    os.replace(tmp_marker, marker)


def _save_parse(scratch: Path, saved: Path) -> None:
    """Keep a copy of a parse's state and manifest for its profile; only the newest KEPT_PARSE_STATES stay."""
    staging = saved.with_name(saved.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in (PARTIAL_PARSE_FILE, MANIFEST_FILE):
        shutil.copyfile(scratch / name, staging / name)
    shutil.rmtree(saved, ignore_errors=True)
    os.replace(staging, saved)
    states = sorted(saved.parent.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in states[KEPT_PARSE_STATES:]:
        shutil.rmtree(old, ignore_errors=True)


def _install_saved_parse(saved: Path, partial: Path, with_manifest: bool) -> bool:
    """Put a saved parse for this profile in place, when there is one and no dbt file changed after it."""
    state = saved / PARTIAL_PARSE_FILE
    if not state.exists() or dbt_project_changed_since(state.stat().st_mtime):
        return False
    copies = [(state, partial)]
    if with_manifest:
        copies.append((saved / MANIFEST_FILE, manifest_path()))
    for source, destination in copies:
        _copy_atomically(source, destination)
    os.utime(saved)  # recently used: kept longest
    return True


def _copy_atomically(source: Path, destination: Path) -> None:
    """A reader of `destination` sees the old file or the new one, never a part."""
    partial = destination.with_name(destination.name + ".tmp")
    shutil.copyfile(source, partial)
    os.replace(partial, destination)
