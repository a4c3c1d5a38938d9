"""Migration 0012 moves the database-stored recordings and IVR prompts into the
storage and back, losing nothing: the SHA-256 of every WAV before equals the row's and
the file's after; each circle's counter is the sum of its recordings; each recording
gets its legacy call record. SQLite, through the ``pbx`` command, like an operator."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.call_helpers import wav_bytes


def test_recordings_and_prompts_move_into_the_storage_and_back(tmp_path):
    database = tmp_path / "migrate.sqlite3"
    files = tmp_path / "recordings"
    env = {
        **os.environ,
        "PBX_ENV": "development",
        "PBX_SECRET_KEY": "migration-test",
        "DATABASE_URL": f"sqlite:///{database}",
        "PBX_STORAGE": "file",
        "PBX_STORAGE_DIR": str(files),
    }
    env.pop("MIGRATE_DATABASE_URL", None)
    pbx = str(Path(sys.executable).with_name("pbx"))

    def run(*args: str) -> None:
        subprocess.run([pbx, *args], env=env, check=True, capture_output=True)

    def query(sql: str, params: tuple = ()) -> list[tuple]:
        with sqlite3.connect(database) as connection:
            return connection.execute(sql, params).fetchall()

    run("db", "upgrade")
    run("demo", "load")
    assert query("SELECT COUNT(*) FROM recording")[0][0] > 0
    run("db", "downgrade", "0011")
    # The files went back into the columns; one prompt more, as a 0011 database has.
    prompt = wav_bytes(3000, fill=7)
    ivr_id = query("SELECT MIN(id) FROM ivr")[0][0]
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE ivr SET prompt_wav = ? WHERE id = ?", (prompt, ivr_id))
    recordings = {
        rid: (circle, hashlib.sha256(wav).hexdigest(), len(wav))
        for rid, circle, wav in query("SELECT id, circle_id, wav FROM recording")
    }
    prompts = {
        iid: hashlib.sha256(wav).hexdigest()
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
