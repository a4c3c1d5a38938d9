"""The S3-compatible backend of ``pbx_platform.storage`` (AWS S3, MinIO, Ceph, ...).

Settings: ``PBX_S3_BUCKET`` (required), ``PBX_S3_ENDPOINT_URL`` (empty: AWS),
``PBX_S3_REGION`` and ``PBX_S3_PREFIX`` (a folder inside the bucket, so that one
bucket can serve several installations). Credentials come from boto3's usual chain
(``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a profile, an instance role), never
from the repository.

``put`` spools the stream to a local temporary file while hashing it (the key is the
content's SHA-256, known only at the end), then uploads that file with multipart
transfers; a key that already holds an object of the same size is the same content
and is not uploaded again. Reads stream with an HTTP Range GET.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from pbx_platform.storage import (
    CHUNK,
    Entry,
    Missing,
    StorageError,
    StoredFile,
    _safe_key,
    spool,
)

# Parts of 16 MB: an hour of 8 kHz 16-bit mono (~58 MB) goes in four parts.
TRANSFER = TransferConfig(
    multipart_threshold=16 * 1024 * 1024,
    multipart_chunksize=16 * 1024 * 1024,
    max_concurrency=4,
)
_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}


def _not_found(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in _NOT_FOUND


class S3Store:
    """Objects in one bucket, below an optional prefix."""

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        spool_dir: str | None = None,
        client: Any = None,
    ) -> None:
        if not bucket:
            raise StorageError("PBX_S3_BUCKET must be set for PBX_STORAGE=s3")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.spool_dir = spool_dir
        self.client = client or boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            config=Config(retries={"max_attempts": 5, "mode": "standard"}),
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> S3Store:
        return cls(
            config.get("S3_BUCKET", ""),
            prefix=config.get("S3_PREFIX", ""),
            endpoint_url=config.get("S3_ENDPOINT_URL") or None,
            region=config.get("S3_REGION") or None,
        )

    def _object(self, key: str) -> str:
        _safe_key(key)
        return self.prefix + key

    def put(
        self, namespace: str, chunks: Iterable[bytes], *, max_bytes: int | None = None
    ) -> StoredFile:
        _safe_key(f"{namespace}/00/00/0")
        handle, stored = spool(namespace, chunks, self.spool_dir, max_bytes)
        try:
            name = self._object(stored.key)
            if self._size_or_none(name) != stored.size:
                self.client.upload_fileobj(handle, self.bucket, name, Config=TRANSFER)
            else:
                # Same content, same name: an object of this size under this key is
                # already these bytes (a retried upload), so nothing is sent. It is
                # copied onto itself so that its time is now: an orphan that a new row
                # is about to use is young again, and the sweep leaves it alone.
                self.client.copy_object(
                    Bucket=self.bucket,
                    Key=name,
                    CopySource={"Bucket": self.bucket, "Key": name},
                    MetadataDirective="REPLACE",
                )
        finally:
            handle.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(handle.name)
        return stored

    def _size_or_none(self, name: str) -> int | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if _not_found(exc):
                return None
            raise
        return int(head["ContentLength"])

    def iter_bytes(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        name = self._object(key)
        if end is not None and end <= start:
            return iter(())
        extra = {}
        if start or end is not None:
            extra["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=name, **extra)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code"))
            if code == "InvalidRange":  # start at or past the end: nothing to send
                return iter(())
            if _not_found(exc):
                raise Missing(key) from exc
            raise
        return _stream(response["Body"])

    def size(self, key: str) -> int:
        size = self._size_or_none(self._object(key))
        if size is None:
            raise Missing(key)
        return size

    def exists(self, key: str) -> bool:
        try:
            return self._size_or_none(self._object(key)) is not None
        except Missing:
            return False

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._object(key))

    def keys(self) -> Iterator[str]:
        return (entry.key for entry in self.listing())

    def listing(self) -> Iterator[Entry]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", ()):
                yield Entry(
                    item["Key"][len(self.prefix) :],
                    int(item["Size"]),
                    float(item["LastModified"].timestamp()),
                )

    def modified_at(self, key: str) -> float:
        """The object's last change as a POSIX timestamp (the sweep's hour of grace)."""
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._object(key))
        except ClientError as exc:
            if _not_found(exc):
                raise Missing(key) from exc
            raise
        return float(head["LastModified"].timestamp())


def _stream(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK)
    finally:
        body.close()
