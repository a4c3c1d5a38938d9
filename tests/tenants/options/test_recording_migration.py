"""Migration 0012 moves the database-stored recordings and IVR prompts into the
storage and back, losing nothing: the SHA-256 of every WAV before equals the row's and
the file's after; each circle's counter is the sum of its recordings; each recording
gets its legacy call record. Through the ``pbx`` command, like an operator: on SQLite,
and on a fresh PostgreSQL database when ``TEST_DATABASE_URL`` names a server."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.call_helpers import wav_bytes
from tests.conftest import _drop_postgres, _postgres_urls


@pytest.fixture(params=["sqlite", "postgresql"])
def urls(request, tmp_path) -> Iterator[tuple[str, str]]:
    """(the owner's url, the app's url) of a database made for this test."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
        yield url, url
        return
    server = os.environ.get("TEST_DATABASE_URL", "")
    if not server.startswith("postgresql"):
        pytest.skip("TEST_DATABASE_URL names no PostgreSQL server")
    owner, app_url, name = _postgres_urls(server)
    try:
        yield owner, app_url
    finally:
        _drop_postgres(server, name)


def test_recordings_and_prompts_move_into_the_storage_and_back(tmp_path, urls):
    owner_url, app_url = urls
    files = tmp_path / "recordings"
    env = {
        **os.environ,
        "PBX_ENV": "development",
        "PBX_SECRET_KEY": "migration-test",
        "DATABASE_URL": app_url,
        "PBX_STORAGE": "file",
        "PBX_STORAGE_DIR": str(files),
    }
    env.pop("MIGRATE_DATABASE_URL", None)
    if owner_url != app_url:
        env["MIGRATE_DATABASE_URL"] = owner_url
    pbx = str(Path(sys.executable).with_name("pbx"))
    engine = create_engine(owner_url)

    def run(*args: str) -> None:
        done = subprocess.run([pbx, *args], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr

    def query(sql: str, params: dict | None = None) -> list[tuple]:
        with engine.begin() as connection:
            result = connection.execute(text(sql), params or {})
            return [tuple(row) for row in result] if result.returns_rows else []

    run("db", "upgrade")
    run("demo", "load")
    assert query("SELECT COUNT(*) FROM recording")[0][0] > 0
    run("db", "downgrade", "0011")
    # The files went back into the columns; one prompt more, as a 0011 database has.
    prompt = wav_bytes(3000, fill=7)
    ivr_id = query("SELECT MIN(id) FROM ivr")[0][0]
    query("UPDATE ivr SET prompt_wav = :wav WHERE id = :id", {"wav": prompt, "id": ivr_id})
    recordings = {
        rid: (circle, hashlib.sha256(bytes(wav)).hexdigest(), len(wav))
        for rid, circle, wav in query("SELECT id, circle_id, wav FROM recording")
    }
    prompts = {
        iid: hashlib.sha256(bytes(wav)).hexdigest()
        for iid, wav in query("SELECT id, prompt_wav FROM ivr WHERE prompt_wav IS NOT NULL")
    }
    assert len(recordings) > 10 and prompts[ivr_id] == hashlib.sha256(prompt).hexdigest()
    shutil.rmtree(files)  # nothing left from before: the upgrade writes every file

    run("db", "upgrade")

    def file_hash(key: str) -> str:
        return hashlib.sha256((files / key).read_bytes()).hexdigest()

    after = query("SELECT id, circle_id, sha256, storage_key, size_bytes FROM recording")
    assert {rid for rid, *_ in after} == set(recordings)
    for rid, circle, sha, key, size in after:
        assert (circle, sha, size) == recordings[rid]
        assert file_hash(key) == sha and key.startswith(f"recordings/{circle}/")
    for iid, sha, key, size in query(
        "SELECT id, prompt_sha256, prompt_key, prompt_bytes FROM ivr WHERE prompt_key IS NOT NULL"
    ):
        assert sha == prompts[iid] == file_hash(key) and size == (files / key).stat().st_size
    assert {iid for (iid,) in query("SELECT id FROM ivr WHERE prompt_key IS NOT NULL")} == set(
        prompts
    )
    sums = dict(query("SELECT circle_id, SUM(size_bytes) FROM recording GROUP BY circle_id"))
    assert dict(query("SELECT circle_id, used_bytes FROM recording_limit")) == sums
    legacy = query(
        "SELECT r.id, c.call_id, c.source FROM recording r JOIN call_record c "
        "ON c.id = r.call_record_id"
    )
    assert sorted(legacy) == sorted(
        (rid, f"legacy-recording-{rid}", "legacy") for rid in recordings
    )
    # The check agrees: every row has its file, no orphan, no drift.
    check = subprocess.run(
        [pbx, "recordings", "verify", "--hash"], env=env, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    engine.dispose()
