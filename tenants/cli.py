"""The tenants context's commands: `pbx demo load`, `pbx recordings verify|snapshot|purge`."""

from __future__ import annotations

import sys
from datetime import date

import click
from celery.schedules import crontab
from flask import Flask, current_app
from flask.cli import with_appcontext

from pbx_platform import jobs
from pbx_platform.db import db
from tenants import demo
from tenants.options import recording_upkeep as upkeep


@click.group("demo")
def demo_group() -> None:
    """Demo data."""


@demo_group.command("load")
@with_appcontext
def demo_load() -> None:
    """Load the demo resellers, accounts and circles (idempotent)."""
    created = demo.load(current_app.config["BASE_DOMAIN"], current_app.config["CONSOLE_HOST"])
    db.session.commit()
    if created:
        click.echo(f"Loaded demo resellers: {', '.join(created)}")
    else:
        click.echo("Demo data already present; nothing added.")


@click.group("recordings")
def recordings_group() -> None:
    """Recording storage: the check, the daily snapshot and the retention purge."""


_LABELS = {
    "missing": "missing files",
    "orphan": "orphaned files",
    "size": "size drift",
    "hash": "hash drift",
    "counter": "counter drift",
}


@recordings_group.command("verify")
@click.option("--fix", is_flag=True, help="Delete old orphans and correct the counters.")
@click.option("--hash", "rehash", is_flag=True, help="Also re-hash every file (slow).")
@with_appcontext
def recordings_verify(fix: bool, rehash: bool) -> None:
    """Compare the recording and prompt rows with the storage.

    Exits with status 1 while problems remain (after --fix: missing files and drifted
    files, which cannot be repaired from here)."""
    report = upkeep.verify(fix=fix, rehash=rehash)
    db.session.commit()
    for problem in report.problems:
        state = "fixed" if problem.fixed else "found"
        click.echo(f"{state:5}  {_LABELS[problem.kind]:14}  {problem.key}  {problem.detail}")
    click.echo(f"\nChecked {report.rows} rows and {report.files} files.")
    click.echo(f"{'problem':16}{'found':>8}{'fixed':>8}{'left':>8}")
    for kind in upkeep.KINDS:
        found = report.count(kind)
        fixed = report.count(kind, fixed=True)
        click.echo(f"{_LABELS[kind]:16}{found:>8}{fixed:>8}{found - fixed:>8}")
    if report.young_orphans:
        click.echo(f"({report.young_orphans} unreferenced files younger than an hour left alone)")
    if report.remaining:
        sys.exit(1)


@recordings_group.command("snapshot")
@click.option(
    "--day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The Japan day to record (default: yesterday).",
)
@with_appcontext
def recordings_snapshot(day: object) -> None:
    """Write each circle's stored bytes for one day (run again: overwritten)."""
    chosen: date = day.date() if day is not None else upkeep.default_snapshot_day()  # type: ignore[attr-defined]
    count = upkeep.snapshot(chosen)
    db.session.commit()
    click.echo(f"Stored bytes of {count} circles written for {chosen.isoformat()}.")


@recordings_group.command("purge")
@with_appcontext
def recordings_purge() -> None:
    """Delete the recordings whose retention period after the option's end has passed."""
    done = upkeep.purge()
    db.session.commit()
    for item in done:
        click.echo(
            f"circle {item.circle_id}: {item.recordings} recordings, "
            f"{item.bytes} bytes, {item.files} files deleted"
        )
    click.echo(f"Purged {len(done)} circles.")


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_group)
    app.cli.add_command(recordings_group)
    # Japan time: the snapshot records the day that has just ended; the purge follows.
    jobs.schedule("recordings-snapshot", "tenants.recordings.snapshot", crontab(hour=0, minute=5))
    jobs.schedule("recordings-purge", "tenants.recordings.purge", crontab(hour=3, minute=30))
