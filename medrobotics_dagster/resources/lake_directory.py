"""The lake in a local directory: keys are paths under its root, an object's ETag its mtime and size."""

from __future__ import annotations

import itertools
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from medrobotics_dagster.resources.lake_objects import LakeObject, LakeObjectNotFound

_TMP_NAMES = itertools.count()  # with the process id, names a directory write's temporary file uniquely


class DirectoryBackend:
    """The lake as a local directory (laptops and CI): files under the root, written atomically."""

    def __init__(self, root: Path):
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        return Path(self._file(key))

    def _file(self, key: str) -> str:
        # `Lake` passes only keys that `check_key` accepted (no '..', '.', empty or absolute parts), so a plain
        # join stays inside the root; resolving every key cost a system call per path component.
        return os.path.join(self.root, key)

    def list(self, prefix: str) -> Iterator[LakeObject]:
        # Plain string-prefix semantics, like S3: search from the prefix's folder, then filter.
        base = prefix.rsplit("/", 1)[0] + "/" if "/" in prefix else ""
        found: list[tuple[str, os.stat_result]] = []
        self._scan(self._file(base) if base else str(self.root), base, prefix, found)
        for key, info in sorted(found, key=lambda item: item[0]):
            yield LakeObject(
                key=key,
                last_modified=datetime.fromtimestamp(info.st_mtime_ns / 1e9, tz=UTC),
                etag=f"{info.st_mtime_ns:x}-{info.st_size:x}",
                size=info.st_size,
            )

    def _scan(self, directory: str, base: str, prefix: str, found: list[tuple[str, os.stat_result]]) -> None:
        """(key, stat) of the regular files under `directory` (key `base`...) whose keys start with `prefix`;
        folders that cannot hold such a key are skipped (pathlib's rglob took 6 s over 56,000 files)."""
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            key = base + entry.name
            if entry.is_dir(follow_symlinks=False):
                folder = key + "/"
                if folder.startswith(prefix) or prefix.startswith(folder):
                    self._scan(entry.path, folder, prefix, found)
            elif key.startswith(prefix) and not entry.name.startswith(".tmp-"):
                try:
                    info = entry.stat()
                except FileNotFoundError:  # removed since the scan saw it, or a broken link
                    continue
                if stat.S_ISREG(info.st_mode):
                    found.append((key, info))

    def get(self, key: str) -> bytes:
        try:
            with open(self._file(key), "rb") as file:
                return file.read()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise LakeObjectNotFound(f"no lake object {self.uri(key)}") from None

    def put(self, key: str, data: bytes) -> None:
        path = self._file(key)
        folder, name = os.path.split(path)
        tmp = os.path.join(folder, f".tmp-{os.getpid()}-{next(_TMP_NAMES)}-{name}")
        try:
            file = open(tmp, "wb")
        except FileNotFoundError:  # the folder's first object
            os.makedirs(folder, exist_ok=True)
            file = open(tmp, "wb")
        with file:
            file.write(data)
        try:
            # The ETag is mtime+size; coarse filesystem clocks could repeat an mtime, so keep it increasing.
            previous = os.stat(path).st_mtime_ns
            if os.stat(tmp).st_mtime_ns <= previous:
                os.utime(tmp, ns=(previous + 1, previous + 1))
        except FileNotFoundError:
            pass
        os.replace(tmp, path)  # readers never see half a file

    def copy(self, source_key: str, target_key: str) -> None:
        """A copy keeps the source's mtime, hence its ETag, as an S3 copy keeps an unencrypted-by-KMS ETag."""
        self.put(target_key, self.get(source_key))
        stat = self._path(source_key).stat()
        os.utime(self._path(target_key), ns=(stat.st_atime_ns, stat.st_mtime_ns))

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def uri(self, key: str) -> str:
        return self._path(key).as_uri()

    def check(self) -> None:
        """Opening the backend already created the directory and checked it is writable."""
