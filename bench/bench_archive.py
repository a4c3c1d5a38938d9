"""Stream a 2 GB recording archive through the app and compare it with `zip -1 -r`.

    .venv/bin/pip install -e ".[production]"     # gunicorn
    sudo apt-get install zip                       # Debian's zip, if missing
    .venv/bin/python bench/bench_archive.py [--gb 2] [--dir /work/tmp]

Generates WAV files (8 kHz 16-bit mono, one minute each: a tone with noise in the low
bits, about as compressible as speech) into the filesystem store of a fresh SQLite
database, registered as recordings of one circle through ``recording.store``. Then, in
the same run and on the same files (warm in the page cache for both):

* the app: gunicorn with the gthread worker on a loopback port (README's command),
  the circle logs in and downloads ``/portal/recording/archive.zip`` for the whole
  range; the body is read and discarded while the RSS of the gunicorn worker is sampled every 50 ms;
* ``zip -1 -r -`` on the circle's storage folder, written to /dev/null (the target's
  reference), and ``zip -0 -r -`` (stored, the same work as the app's archive).

Prints both throughputs (MB/s of WAV bytes), their ratio and the worker's peak RSS.
Needs about ``--gb`` of free disk space under ``--dir``; removes everything at the end.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402

from pbx_platform import create_app, passwords  # noqa: E402
from pbx_platform.db import db  # noqa: E402
from pbx_platform.tenancy import Scope, circle_scope, platform_bypass, use_scope  # noqa: E402
from tenants.calls import records  # noqa: E402
from tenants.calls.models import Direction, Disposition  # noqa: E402
from tenants.models import Circle  # noqa: E402
from tenants.options import recording  # noqa: E402
from tenants.options.models import OptionKind  # noqa: E402
from tenants.services import provisioning as p  # noqa: E402

HOST = "bench.localhost"
PASSWORD = "Bench#Pass2026"  # noqa: S105  (a throw-away database)
SECONDS = 60
RATE = 8000
DAY = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)


def wav(index: int) -> bytes:
    """One minute of a tone (its pitch by ``index``) with random low bytes."""
    frequency = 300 + (index * 37) % 900
    period = [
        int(8000 * math.sin(2 * math.pi * frequency * n / RATE)) & 0xFFFF for n in range(RATE)
    ]
    second = struct.pack(f"<{RATE}H", *period)
    tone = int.from_bytes(second * SECONDS, "little")
    size = 2 * RATE * SECONDS
    mask = int.from_bytes(b"\x3f\x00" * (RATE * SECONDS), "little")
    noise = int.from_bytes(os.urandom(size), "little") & mask
    data = (tone ^ noise).to_bytes(size, "little")
    header = (
        b"RIFF"
        + struct.pack("<I", 36 + size)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, RATE, 2 * RATE, 2, 16)
        + b"data"
        + struct.pack("<I", size)
    )
    return header + data


def seed(work: Path, gigabytes: float) -> tuple[str, Path, int, int]:
    """A database with one circle holding ``gigabytes`` of recordings on one day."""
    database = f"sqlite:///{work / 'bench.sqlite3'}"
    store_dir = work / "store"
    os.environ["MIGRATE_DATABASE_URL"] = database
    app = create_app(
        {
            "TESTING": True,
            "ENV": "testing",
            "SECRET_KEY": "bench-secret",
            "SQLALCHEMY_DATABASE_URI": database,
            "RATELIMIT_STORAGE_URI": "memory://",
            "STORAGE_DIR": str(store_dir),
        }
    )
    passwords.configure_hasher(time_cost=1, memory_cost=1024)
    with app.app_context():
        upgrade()
        with platform_bypass("bench.seed"):
            reseller = p.create_reseller(slug="bench", name="Bench", base_domain="localhost")
        with use_scope(Scope(reseller.id)):
            p.create_brand(reseller, product_name="Bench Phone")
            account = p.create_account(reseller, company_name="ベンチ株式会社")
            circle = p.create_circle(account, name="本社", login_id="bench", password=PASSWORD)
            p.add_circle_option(circle, OptionKind.CALL_RECORDING, starts_on=DAY.date())
            db.session.flush()
            ids = (reseller.id, account.id, circle.id)
            db.session.commit()
        with circle_scope(*ids):
            circle = db.session.get(Circle, ids[2])
            recording.set_limit(circle, 100, DAY.date())
            size = len(wav(0))
            count = math.ceil(gigabytes * 1e9 / size)
            total = 0
            for index in range(count):
                started = DAY + timedelta(seconds=20 * index)
                call, _ = records.add(
                    circle,
                    records.CallInput(
                        call_id=f"bench-{index}",
                        direction=Direction.IN,
                        started_at=started,
                        answered_at=started,
                        ended_at=started + timedelta(seconds=SECONDS),
                        disposition=Disposition.ANSWERED,
                        unique=None,
                        caller=f"+8135555{index:04d}",
                        called="201",
                    ),
                )
                stored, _ = recording.store(circle, call, [wav(index)])
                total += stored.size_bytes
                if index % 200 == 199:
                    db.session.commit()
                    print(f"  {index + 1}/{count} files", end="\r", flush=True)
            db.session.commit()
            folder = store_dir / recording.namespace(circle)
    os.environ.pop("MIGRATE_DATABASE_URL", None)
    print(f"  {count} files, {total / 1e6:,.0f} MB")
    return database, folder, count, total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return 0
    found = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(found.group(1)) if found else 0


def children(pid: int) -> list[int]:
    try:
        raw = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return []
    return [int(x) for x in raw.split()]


def through_the_app(
    database: str,
    store_root: Path,
    total: int,
    *,
    worker: str = "gthread",
    timeout: int = 60,
    slow_seconds: float = 0,
) -> tuple[float, int, int]:
    """Seconds of the download, the worker's RSS before it and its peak (kB).

    ``slow_seconds``: read the body as a slow client would, spread over that long."""
    port = free_port()
    log = (store_root.parent / f"gunicorn-{worker}.log").open("ab")
    env = dict(
        os.environ,
        DATABASE_URL=database,
        PBX_STORAGE_DIR=str(store_root),
        PBX_SECRET_KEY="bench-secret",  # noqa: S106  (a throw-away server)
        PBX_BASE_DOMAIN="localhost",
    )
    server = subprocess.Popen(  # noqa: S603
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "-k",
            worker,
            "--threads",
            "8" if worker == "gthread" else "1",  # sync with threads would be gthread
            "-w",
            "2",
            "--timeout",
            str(timeout),
            "--bind",
            f"127.0.0.1:{port}",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        session = requests.Session()
        session.headers["Host"] = f"{HOST}:{port}"
        for _ in range(600):
            try:
                page = session.get(f"{base}/login", timeout=120)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            raise SystemExit("gunicorn did not start")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        answer = session.post(
            f"{base}/login",
            data={
                "login_id": "bench",
                "password": PASSWORD,
                "csrf_token": token.group(1) if token else "",
            },
            allow_redirects=False,
            timeout=30,
        )
        if answer.status_code != 302:
            raise SystemExit(f"login failed: HTTP {answer.status_code}")
        workers = children(server.pid)  # the download is served by one of them
        before = max(rss_kb(w) for w in workers)
        peak = before
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max([peak] + [rss_kb(w) for w in workers])
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        day = DAY.date().isoformat()
        started = time.perf_counter()
        url = f"{base}/portal/recording/archive.zip?from={day}&to={day}"
        try:
            received, announced = _download(session, url, slow_seconds)
        finally:
            done.set()
            sampler.join()
        elapsed = time.perf_counter() - started
        if received != announced or received < total:
            raise SystemExit(f"archive: {received} bytes, {announced} announced")
        return elapsed, before, peak
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _download(session: requests.Session, url: str, slow_seconds: float) -> tuple[int, int]:
    """Bytes received and announced; ``slow_seconds``: spread the reading over that long."""
    received = 0
    with session.get(url, stream=True, timeout=600) as response:
        if response.status_code != 200:
            raise SystemExit(f"archive: HTTP {response.status_code}")
        announced = int(response.headers["Content-Length"])
        pause = slow_seconds / max(1, announced >> 20)
        try:
            for chunk in response.iter_content(1 << 20):
                received += len(chunk)
                if pause:
                    time.sleep(pause)
        except requests.RequestException as exc:
            raise SystemExit(f"archive broken off after {received:,} bytes: {exc}") from exc
    return received, announced


def with_zip(folder: Path, level: str = "-1") -> float:
    if shutil.which("zip") is None:
        raise SystemExit("zip is missing: apt-get install zip")
    started = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        subprocess.run(  # noqa: S603
            ["zip", level, "-r", "-q", "-", "."],  # noqa: S607
            cwd=folder,
            stdout=sink,
            check=True,
        )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gb", type=float, default=2.0)
    parser.add_argument("--dir", default=None, help="where the files go (default: the temp dir)")
    parser.add_argument(
        "--slow-client",
        type=float,
        default=0,
        help="also download slowly over this many seconds with --timeout 5, through the "
        "gthread worker and the sync worker (README: why gthread)",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pbx-bench-archive-", dir=args.dir))
    try:
        print(f"Generating {args.gb:g} GB of WAV files under {work}")
        database, folder, count, total = seed(work, args.gb)
        store_root = work / "store"
        app_seconds, before, peak = through_the_app(database, store_root, total)
        zip_seconds = with_zip(folder)
        store_seconds = with_zip(folder, "-0")
        mb = total / 1e6
        app_rate, zip_rate = mb / app_seconds, mb / zip_seconds
        print(f"Archive of {count} files, {mb:,.0f} MB of WAV")
        print(f"  app (gunicorn gthread, HTTP): {app_seconds:6.1f} s  {app_rate:7.1f} MB/s")
        print(f"  zip -1 -r:                    {zip_seconds:6.1f} s  {zip_rate:7.1f} MB/s")
        print(f"  app / zip throughput:         {app_rate / zip_rate:6.0%}")
        store_rate = mb / store_seconds
        print(f"  zip -0 -r (stored, as the app): {store_seconds:4.1f} s  {store_rate:7.1f} MB/s")
        print(f"  app / zip -0 throughput:      {app_rate / store_rate:6.0%}")
        print(f"  worker RSS: {before / 1024:.0f} MB before, {peak / 1024:.0f} MB peak")
        if args.slow_client:
            for worker in ("gthread", "sync"):
                try:
                    seconds, _, _ = through_the_app(
                        database,
                        store_root,
                        total,
                        worker=worker,
                        timeout=5,
                        slow_seconds=args.slow_client,
                    )
                    print(f"  slow client, {worker}, --timeout 5: complete in {seconds:.0f} s")
                except SystemExit as exc:
                    print(f"  slow client, {worker}, --timeout 5: {exc}")
    finally:
        if os.environ.get("BENCH_KEEP"):
            print(f"  kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
