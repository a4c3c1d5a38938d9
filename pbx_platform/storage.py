"""Object storage for large files (call recordings, IVR prompts).

Files are named by the SHA-256 of their content, in sharded folders below a
namespace (``recordings/42/ab/cd/abcd…``: the same bytes are kept once per
namespace and a key says what it holds). Namespaces are per tenant, so that the
question "does anything still use this file?" is answered inside one tenant's rows.
The backend is chosen by configuration: ``PBX_STORAGE=file`` (the default, under
``PBX_STORAGE_DIR``, ``instance/recordings/`` unless set) or ``PBX_STORAGE=s3``
(an S3-compatible bucket; see ``S3Store``).

Writes stream: ``put`` takes an iterable of chunks and never holds the whole file in
memory; it hashes while writing to a temporary file and moves that file into place
once the content is known. Reads stream too (``iter_bytes`` with an optional byte
range, for HTTP range requests and for archives).

The database rows that refer to a key are the truth; ``keys`` lists what the backend
holds so that a check can find missing and orphaned files.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from flask import current_app

CHUNK = 1024 * 1024


class StorageError(RuntimeError):
    pass


class TooLarge(StorageError):
    """The stream went past ``max_bytes``; nothing was kept."""


class Missing(StorageError):
    """No file under that key."""


@dataclass(frozen=True)
class StoredFile:
    key: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Entry:
    key: str
    size: int
    modified_at: float  # POSIX seconds


def key_for(namespace: str, sha256: str) -> str:
    return f"{namespace}/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def _safe_key(key: str) -> list[str]:
    parts = key.split("/")
    if len(parts) < 4 or not all(
        p and p.replace("-", "").replace("_", "").isalnum() for p in parts
    ):
        raise Missing(key)
    return parts


class Store(Protocol):
    def put(
        self, namespace: str, chunks: Iterable[bytes], *, max_bytes: int | None = None
    ) -> StoredFile: ...

    def iter_bytes(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes from ``start`` up to ``end`` (exclusive; ``None``: to the end)."""
        ...

    def size(self, key: str) -> int: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def keys(self) -> Iterator[str]: ...

    def listing(self) -> Iterator[Entry]:
        """Every file with its size and time, from one listing (no request per file)."""
        ...

    def modified_at(self, key: str) -> float:
        """When the file was written (POSIX seconds): the sweep leaves young orphans,
        which may be uploads in flight."""
        ...


def spool(
    namespace: str, chunks: Iterable[bytes], directory: str | None, max_bytes: int | None
) -> tuple[Any, StoredFile]:
    """Write ``chunks`` to a named temporary file while hashing them.

    Returns the open temporary file (positioned at 0; the caller moves or deletes it)
    and what its key will be. ``TooLarge`` past ``max_bytes``, with the file removed."""
    digest = hashlib.sha256()
    size = 0
    handle = tempfile.NamedTemporaryFile(dir=directory, prefix=".upload-", delete=False)
    try:
        for chunk in chunks:
            if not chunk:
                continue
            size += len(chunk)
            if max_bytes is not None and size > max_bytes:
                raise TooLarge(f"more than {max_bytes} bytes")
            digest.update(chunk)
            handle.write(chunk)
        handle.flush()
        os.fsync(handle.fileno())
        handle.seek(0)
    except BaseException:
        handle.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(handle.name)
        raise
    sha = digest.hexdigest()
    return handle, StoredFile(key=key_for(namespace, sha), sha256=sha, size=size)


class FileStore:
    """Files under one folder; the default backend."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*_safe_key(key))

    def put(
        self, namespace: str, chunks: Iterable[bytes], *, max_bytes: int | None = None
    ) -> StoredFile:
        _safe_key(f"{namespace}/00/00/0")
        self.root.mkdir(parents=True, exist_ok=True)
        handle, stored = spool(namespace, chunks, str(self.root), max_bytes)
        handle.close()
        target = self._path(stored.key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Same content, same name: an existing file is already these bytes.
        os.replace(handle.name, target)
        return stored

    def iter_bytes(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        path = self._path(key)
        try:
            handle = path.open("rb")
        except FileNotFoundError as exc:
            raise Missing(key) from exc
        return _read(handle, start, end)

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError as exc:
            raise Missing(key) from exc

    def exists(self, key: str) -> bool:
        try:
            return self._path(key).is_file()
        except Missing:
            return False

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()

    def modified_at(self, key: str) -> float:
        try:
            return self._path(key).stat().st_mtime
        except FileNotFoundError as exc:
            raise Missing(key) from exc

    def keys(self) -> Iterator[str]:
        return (entry.key for entry in self.listing())

    def listing(self) -> Iterator[Entry]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                stat = path.stat()
                key = "/".join(path.relative_to(self.root).parts)
                yield Entry(key, stat.st_size, stat.st_mtime)


def _read(handle: Any, start: int, end: int | None) -> Iterator[bytes]:
    with handle:
        handle.seek(start)
        left = None if end is None else max(0, end - start)
        while left is None or left > 0:
            chunk = handle.read(CHUNK if left is None else min(CHUNK, left))
            if not chunk:
                return
            if left is not None:
                left -= len(chunk)
            yield chunk


def read_all(store: Store, key: str) -> bytes:
    """A small file whole (an IVR prompt); never for recordings."""
    return b"".join(store.iter_bytes(key))


def make_store(config: dict[str, Any]) -> Store:
    backend = config.get("STORAGE", "file")
    if backend == "file":
        return FileStore(config["STORAGE_DIR"])
    if backend == "s3":
        from pbx_platform.storage_s3 import S3Store

        return S3Store.from_config(config)
    raise StorageError(f"unknown storage backend {backend!r}")


def get_store() -> Store:
    """The application's store, made once per application."""
    store = current_app.extensions.get("pbx_storage")
    if store is None:
        store = current_app.extensions["pbx_storage"] = make_store(current_app.config)
    return store
