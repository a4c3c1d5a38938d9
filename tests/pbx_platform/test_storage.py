"""The storage contract, the same for every backend: the filesystem (``FileStore``) and
an S3-compatible bucket (``S3Store``, against moto's server on a loopback port)."""

from __future__ import annotations

import hashlib
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pbx_platform import storage
from pbx_platform.storage_s3 import S3Store


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto in server mode: a real HTTP endpoint, so boto3 runs its whole stack."""
    from moto.server import ThreadedMotoServer

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "ap-northeast-1")
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def make_s3(endpoint: str, prefix: str = "") -> S3Store:
    bucket = f"pbx-{uuid.uuid4().hex[:12]}"
    store = S3Store(bucket, prefix=prefix, endpoint_url=endpoint, region="ap-northeast-1")
    store.client.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"}
    )
    return store


@pytest.fixture(params=["file", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> storage.Store:
    if request.param == "file":
        return storage.FileStore(tmp_path / "store")
    return make_s3(request.getfixturevalue("s3_endpoint"), prefix="install-a")


def test_put_streams_and_names_the_file_by_its_hash(store):
    body = os.urandom(3 * storage.CHUNK + 17)
    chunks = [body[i : i + 65536] for i in range(0, len(body), 65536)]
    stored = store.put("recordings/7", iter(chunks))
    sha = hashlib.sha256(body).hexdigest()
    assert stored == storage.StoredFile(storage.key_for("recordings/7", sha), sha, len(body))
    assert stored.key == f"recordings/7/{sha[:2]}/{sha[2:4]}/{sha}"
    assert b"".join(store.iter_bytes(stored.key)) == body
    assert store.size(stored.key) == len(body)
    assert store.exists(stored.key)


def test_byte_ranges(store):
    body = bytes(range(256)) * 40
    key = store.put("recordings/7", [body]).key
    assert b"".join(store.iter_bytes(key, 100, 200)) == body[100:200]
    assert b"".join(store.iter_bytes(key, 10_000)) == body[10_000:]
    assert b"".join(store.iter_bytes(key, 0, 1)) == body[:1]
    assert b"".join(store.iter_bytes(key, len(body))) == b""
    assert b"".join(store.iter_bytes(key, 50, 50)) == b""


def test_missing_keys(store):
    key = storage.key_for("recordings/7", "ab" * 32)
    assert not store.exists(key)
    with pytest.raises(storage.Missing):
        store.size(key)
    with pytest.raises(storage.Missing):
        b"".join(store.iter_bytes(key))
    with pytest.raises(storage.Missing):
        store.modified_at(key)
    store.delete(key)  # deleting what is not there is no error
    assert not store.exists("../../etc/passwd")


def test_delete_and_keys(store):
    first = store.put("recordings/7", [b"first"]).key
    second = store.put("prompts/7", [b"second"]).key
    assert sorted(store.keys()) == sorted([first, second])
    store.delete(first)
    assert not store.exists(first)
    assert list(store.keys()) == [second]


def test_the_listing_gives_each_files_size_and_time(store):
    before = time.time() - 5
    stored = store.put("recordings/7", [b"twelve bytes"])
    store.put("prompts/7", [b"x" * 3000])
    entries = {entry.key: entry for entry in store.listing()}
    assert set(entries) == set(store.keys())
    assert entries[stored.key].size == 12
    assert before <= entries[stored.key].modified_at <= time.time() + 5


def test_too_large_leaves_nothing(store):
    with pytest.raises(storage.TooLarge):
        store.put("recordings/7", [b"x" * 600, b"y" * 600], max_bytes=1000)
    assert list(store.keys()) == []
    if isinstance(store, storage.FileStore):
        assert [p for p in store.root.rglob("*") if p.is_file()] == []


def test_same_content_twice_is_one_object(store):
    first = store.put("recordings/7", [b"same bytes"])
    again = store.put("recordings/7", [b"same ", b"bytes"])
    assert first == again
    assert list(store.keys()) == [first.key]
    # The same bytes in another tenant's namespace are that tenant's own file.
    other = store.put("recordings/8", [b"same bytes"])
    assert other.key != first.key and sorted(store.keys()) == sorted([first.key, other.key])


def test_a_rewrite_of_the_same_content_counts_as_new_for_the_sweep(store):
    """An orphan that an upload writes again is young again: the sweep's hour of grace
    protects the row that is about to refer to it."""
    key = store.put("recordings/7", [b"kept"]).key
    first = store.modified_at(key)
    if isinstance(store, storage.FileStore):
        os.utime(store._path(key), (first - 7200, first - 7200))
        first -= 7200
    else:
        import time

        time.sleep(1.1)  # S3 keeps whole seconds
    store.put("recordings/7", [b"kept"])
    assert store.modified_at(key) > first


def test_namespaces_are_checked(store):
    with pytest.raises(storage.Missing):
        store.put("../x", [b"x"])


def test_large_upload_goes_in_parts(s3_endpoint):
    """Past the multipart threshold the upload is multipart (the ETag says "-<parts>")."""
    s3 = make_s3(s3_endpoint)
    body = os.urandom(17 * 1024 * 1024)
    key = s3.put(
        "recordings/1", [body[i : i + storage.CHUNK] for i in range(0, len(body), storage.CHUNK)]
    ).key
    head = s3.client.head_object(Bucket=s3.bucket, Key=key)
    assert head["ETag"].strip('"').endswith("-2")
    assert hashlib.sha256(b"".join(s3.iter_bytes(key))).hexdigest() == key.rsplit("/", 1)[1]


def test_the_prefix_keeps_installations_apart(s3_endpoint):
    s3 = make_s3(s3_endpoint, prefix="/one/")
    key = s3.put("recordings/1", [b"abc"]).key
    listed = s3.client.list_objects_v2(Bucket=s3.bucket)["Contents"]
    assert [item["Key"] for item in listed] == [f"one/{key}"]
    assert list(s3.keys()) == [key]


def test_keys_are_paged(s3_endpoint):
    s3 = make_s3(s3_endpoint)
    made = {s3.put("recordings/1", [str(n).encode()]).key for n in range(1005)}
    assert set(s3.keys()) == made


def test_the_configuration_chooses_the_backend(s3_endpoint, tmp_path):
    from pbx_platform.config import ConfigError, load_config

    config = load_config(
        str(tmp_path),
        {
            "PBX_STORAGE": "s3",
            "PBX_S3_BUCKET": "recordings",
            "PBX_S3_ENDPOINT_URL": s3_endpoint,
            "PBX_S3_REGION": "ap-northeast-1",
            "PBX_S3_PREFIX": "prod",
        },
    )
    made = storage.make_store(config)
    assert isinstance(made, S3Store)
    assert (made.bucket, made.prefix) == ("recordings", "prod/")
    assert made.client.meta.endpoint_url == s3_endpoint
    with pytest.raises(ConfigError, match="PBX_S3_BUCKET"):
        load_config(str(tmp_path), {"PBX_STORAGE": "s3"})
    assert isinstance(storage.make_store(load_config(str(tmp_path), {})), storage.FileStore)
