"""A command's terminal (`demo`, `bench`): one line per step (a progress bar on long steps), the rest in a log."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO


class Console:
    """One line per step on the terminal; everything else (dbt, Dagster, warnings) in the log file."""

    def __init__(self, echo: Callable[[str], None] | None, log_path: Path, verbose: bool):
        self.log_path, self.verbose = log_path, verbose
        self._terminal: TextIO | None = None
        self._echo = echo
        self.interactive = False

    def say(self, text: str) -> None:
        if self._echo is not None:
            self._echo(text)
        else:
            stream = self._terminal or sys.stdout
            stream.write(text + "\n")
            stream.flush()

    @contextmanager
    def captured(self) -> Iterator[None]:
        """Route file descriptors 1 and 2 (this process, dbt's subprocesses, Python warnings) to the log file."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if self.verbose:
            yield
            return
        sys.stdout.flush()
        sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        self._terminal = os.fdopen(os.dup(saved[0]), "w", buffering=1)
        self.interactive = self._echo is None and self._terminal.isatty()
        log = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        # Python-level streams too: a host (pytest, a notebook) may have replaced sys.stdout/sys.stderr.
        streams = sys.stdout, sys.stderr
        text = os.fdopen(os.dup(log), "w", buffering=1)
        try:
            os.dup2(log, 1)
            os.dup2(log, 2)
            sys.stdout = sys.stderr = text
            yield
        finally:
            text.flush()
            sys.stdout, sys.stderr = streams
            text.close()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in (*saved, log):
                os.close(fd)
            self._terminal.close()
            self._terminal = None
            self.interactive = False

    @contextmanager
    def step(self, label: str, expected_events: int = 0) -> Iterator[None]:
        """`label ... 12.3 s`; with `expected_events`, a progress bar fed by the materializations in the log."""
        started = time.monotonic()
        bar = _ProgressBar(self, label, expected_events) if expected_events and self.interactive else None
        if bar is not None:
            bar.start()
        elif self.interactive and self._terminal is not None:
            self._terminal.write(f"{label} ...")
            self._terminal.flush()
        ok = False
        try:
            yield
            ok = True
        finally:
            if bar is not None:
                bar.stop()
            elif self.interactive and self._terminal is not None:
                self._terminal.write("\r\033[K")
            took = time.monotonic() - started
            self.say(f"{label}: {'done' if ok else 'FAILED'} in {took:.1f} s")


class _ProgressBar(threading.Thread):
    """Counts ASSET_MATERIALIZATION events appended to the log file and redraws one terminal line."""

    WIDTH = 30

    def __init__(self, console: Console, label: str, expected: int):
        super().__init__(daemon=True)
        self.console, self.label, self.expected = console, label, expected
        self.offset = console.log_path.stat().st_size if console.log_path.exists() else 0
        self.count = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            self._read()
            self._draw()

    def _read(self) -> None:
        try:
            with open(self.console.log_path, "rb") as log:
                log.seek(self.offset)
                chunk = log.read()
        except OSError:
            return
        complete = chunk.rfind(b"\n") + 1
        self.offset += complete
        self.count += chunk[:complete].count(b"ASSET_MATERIALIZATION")

    def _draw(self) -> None:
        share = min(1.0, self.count / self.expected)
        filled = int(share * self.WIDTH)
        terminal = self.console._terminal
        if terminal is not None:
            terminal.write(f"\r{self.label} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {share:4.0%}")
            terminal.flush()

    def stop(self) -> None:
        self.done.set()
        self.join()
        terminal = self.console._terminal
        if terminal is not None:
            terminal.write("\r\033[K")
            terminal.flush()
