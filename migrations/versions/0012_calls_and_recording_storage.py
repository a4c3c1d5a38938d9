"""Calls and recording storage: call records, recordings and IVR prompts moved from
database columns into the object storage, each circle's exact stored bytes, a daily
snapshot of them, and the reseller's retention period

Every recording and prompt is written to the storage (``pbx_platform.storage``,
configured as the application is) one row at a time, then its column is dropped.
Each existing recording gets a call record (``source = 'legacy'``) so that the call
history shows it. ``recording_limit.used_bytes`` starts at each circle's exact sum.

Revision ID: 0012
Revises: 0011
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import context, op

import pbx_platform.db
from pbx_platform import rls, storage

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "recording_storage_day",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("stored_bytes", sa.BigInteger(), nullable=False),
        sa.Column("circle_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_recording_storage_day_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["circle_id"],
            ["circle.id"],
            name=op.f("fk_recording_storage_day_circle_id_circle"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reseller_id"],
            ["reseller.id"],
            name=op.f("fk_recording_storage_day_reseller_id_reseller"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_storage_day")),
        sa.UniqueConstraint(
            "circle_id", "day", name=op.f("uq_recording_storage_day_circle_id_day")
        ),
    )
    with op.batch_alter_table("recording_storage_day", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recording_storage_day_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_recording_storage_day_circle_id"), ["circle_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_recording_storage_day_reseller_id"), ["reseller_id"], unique=False
        )

    op.create_table(
        "call_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=100), nullable=False),
        sa.Column("unique_id", sa.Integer(), nullable=True),
        sa.Column("extension", sa.String(length=10), nullable=True),
        sa.Column(
            "direction",
            sa.Enum(
                "in",
                "out",
                "internal",
                name="call_direction",
                native_enum=False,
                create_constraint=True,
                length=10,
            ),
            nullable=False,
        ),
        sa.Column("caller", sa.String(length=32), nullable=False),
        sa.Column("called", sa.String(length=32), nullable=False),
        sa.Column("started_at", pbx_platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", pbx_platform.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", pbx_platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("talk_seconds", sa.Integer(), nullable=False),
        sa.Column(
            "disposition",
            sa.Enum(
                "answered",
                "no_answer",
                "busy",
                "failed",
                name="call_disposition",
                native_enum=False,
                create_constraint=True,
                length=10,
            ),
            nullable=False,
        ),
        sa.Column(
            "source",
            sa.Enum(
                "api",
                "csv",
                "legacy",
                name="call_source",
                native_enum=False,
                create_constraint=True,
                length=10,
            ),
            nullable=False,
        ),
        sa.Column("created_at", pbx_platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("circle_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("reseller_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_call_record_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["circle_id"],
            ["circle.id"],
            name=op.f("fk_call_record_circle_id_circle"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reseller_id"],
            ["reseller.id"],
            name=op.f("fk_call_record_reseller_id_reseller"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["unique_id"],
            ["unique_entry.id"],
            name=op.f("fk_call_record_unique_id_unique_entry"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_record")),
        sa.UniqueConstraint(
            "reseller_id", "call_id", name=op.f("uq_call_record_reseller_id_call_id")
        ),
    )
    with op.batch_alter_table("call_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_record_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_call_record_circle_id"), ["circle_id"], unique=False)
        batch_op.create_index(
            "ix_call_record_circle_started", ["circle_id", "started_at", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_call_record_reseller_id"), ["reseller_id"], unique=False
        )
        batch_op.create_index(
            "ix_call_record_unique_started",
            ["circle_id", "unique_id", "started_at", "id"],
            unique=False,
        )

    op.add_column("ivr", sa.Column("prompt_key", sa.String(length=200), nullable=True))
    op.add_column("ivr", sa.Column("prompt_sha256", sa.String(length=64), nullable=True))
    op.add_column("ivr", sa.Column("prompt_bytes", sa.Integer(), nullable=True))
    for name, kind in (
        ("call_record_id", sa.Integer()),
        ("sha256", sa.String(length=64)),
        ("storage_key", sa.String(length=200)),
        ("created_at", pbx_platform.db.UTCDateTime(timezone=True)),
    ):
        op.add_column("recording", sa.Column(name, kind, nullable=True))
    op.add_column(
        "recording_limit",
        sa.Column("used_bytes", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.add_column(
        "reseller",
        sa.Column("recording_retention_days", sa.Integer(), server_default="90", nullable=False),
    )

    connection = op.get_bind()
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        # The owner runs migrations and FORCE ROW LEVEL SECURITY applies to it too;
        # lifted while the files move, forced again by rls.apply below.
        for table in ("recording", "ivr", "recording_limit", "call_record"):
            op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    _move_files(connection)

    with op.batch_alter_table("recording", schema=None) as batch_op:
        for name in ("call_record_id", "sha256", "storage_key", "created_at"):
            batch_op.alter_column(name, nullable=False)
        batch_op.alter_column(
            "size_bytes", existing_type=sa.INTEGER(), type_=sa.BigInteger(), existing_nullable=False
        )
        batch_op.create_index(
            "ix_recording_circle_started", ["circle_id", "started_at", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_recording_storage_key"), ["storage_key"], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_recording_call_record_id"), ["call_record_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_recording_call_record_id_call_record"),
            "call_record",
            ["call_record_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_check_constraint("size_not_negative", "size_bytes >= 0")
        batch_op.drop_column("remote_number")
        batch_op.drop_column("wav")
        batch_op.drop_column("direction")
    with op.batch_alter_table("ivr", schema=None) as batch_op:
        batch_op.drop_column("prompt_wav")

    # The new tenant tables get their row-level security policies (PostgreSQL only).
    rls.apply(connection, context.get_context().opts.get("app_role", "pbx_app"))


def _move_files(connection):
    """Every recording and IVR prompt from its database column into the storage, one
    row in memory at a time; each recording gets the call record it belongs to, and
    each circle's byte counter the exact sum of its recordings."""
    store = storage.get_store()
    recordings = connection.execute(
        sa.text(
            "SELECT r.id, r.reseller_id, r.account_id, r.circle_id, r.unique_id, "
            "r.started_at, r.duration_seconds, r.direction, r.remote_number, u.extension "
            "FROM recording r LEFT JOIN unique_entry u ON u.id = r.unique_id ORDER BY r.id"
        )
    ).all()
    for row in recordings:
        wav = connection.execute(
            sa.text("SELECT wav FROM recording WHERE id = :id"), {"id": row.id}
        ).scalar_one()
        stored = store.put(f"recordings/{row.circle_id}", [bytes(wav)])
        started = _utc(row.started_at)
        direction = row.direction if row.direction in ("in", "out") else "internal"
        own, other = row.extension or "", row.remote_number or ""
        caller, called = (other, own) if direction == "in" else (own, other)
        call_id = connection.execute(
            sa.text(
                "INSERT INTO call_record (reseller_id, account_id, circle_id, call_id, "
                "unique_id, extension, direction, caller, called, started_at, answered_at, "
                "ended_at, talk_seconds, disposition, source, created_at) VALUES (:reseller, "
                ":account, :circle, :call_id, :unique_id, :extension, :direction, :caller, "
                ":called, :started, :started, :ended, :seconds, 'answered', 'legacy', :now) "
                "RETURNING id"
            ),
            {
                "reseller": row.reseller_id,
                "account": row.account_id,
                "circle": row.circle_id,
                "call_id": f"legacy-recording-{row.id}",
                "unique_id": row.unique_id,
                "extension": row.extension,
                "direction": direction,
                "caller": caller[:32],
                "called": called[:32],
                "started": started,
                "ended": started + timedelta(seconds=row.duration_seconds or 0),
                "seconds": row.duration_seconds or 0,
                "now": datetime.now(UTC),
            },
        ).scalar_one()
        connection.execute(
            sa.text(
                "UPDATE recording SET call_record_id = :call, sha256 = :sha, "
                "storage_key = :key, size_bytes = :size, created_at = :now WHERE id = :id"
            ),
            {
                "call": call_id,
                "sha": stored.sha256,
                "key": stored.key,
                "size": stored.size,
                "now": datetime.now(UTC),
                "id": row.id,
            },
        )
    for ivr_id, circle_id in connection.execute(
        sa.text("SELECT id, circle_id FROM ivr WHERE prompt_wav IS NOT NULL ORDER BY id")
    ).all():
        wav = connection.execute(
            sa.text("SELECT prompt_wav FROM ivr WHERE id = :id"), {"id": ivr_id}
        ).scalar_one()
        stored = store.put(f"prompts/{circle_id}", [bytes(wav)])
        connection.execute(
            sa.text(
                "UPDATE ivr SET prompt_key = :key, prompt_sha256 = :sha, prompt_bytes = :size "
                "WHERE id = :id"
            ),
            {"key": stored.key, "sha": stored.sha256, "size": stored.size, "id": ivr_id},
        )
    totals = connection.execute(
        sa.text(
            "SELECT reseller_id, account_id, circle_id, SUM(size_bytes) AS used "
            "FROM recording GROUP BY reseller_id, account_id, circle_id"
        )
    ).all()
    for total in totals:
        updated = connection.execute(
            sa.text("UPDATE recording_limit SET used_bytes = :used WHERE circle_id = :circle"),
            {"used": int(total.used), "circle": total.circle_id},
        ).rowcount
        if not updated:
            connection.execute(
                sa.text(
                    "INSERT INTO recording_limit (reseller_id, account_id, circle_id, "
                    "limit_gb, used_bytes, created_at, updated_at) VALUES (:reseller, "
                    ":account, :circle, 100, :used, :now, :now)"
                ),
                {
                    "reseller": total.reseller_id,
                    "account": total.account_id,
                    "circle": total.circle_id,
                    "used": int(total.used),
                    "now": datetime.now(UTC),
                },
            )


def _utc(value):
    if isinstance(value, str):  # SQLite hands back text
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def downgrade():
    """The files back into their columns (the storage keeps its copies); call records
    and the daily snapshots are dropped."""
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        for table in ("recording", "ivr"):
            op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.add_column("recording", sa.Column("wav", sa.LargeBinary(), nullable=True))
    op.add_column("recording", sa.Column("direction", sa.String(length=10), nullable=True))
    op.add_column("recording", sa.Column("remote_number", sa.String(length=20), nullable=True))
    op.add_column("ivr", sa.Column("prompt_wav", sa.LargeBinary(), nullable=True))
    store = storage.get_store()
    rows = connection.execute(
        sa.text(
            "SELECT r.id, r.storage_key, c.direction, c.caller, c.called FROM recording r "
            "JOIN call_record c ON c.id = r.call_record_id ORDER BY r.id"
        )
    ).all()
    for row in rows:
        direction = row.direction if row.direction in ("in", "out") else "internal"
        connection.execute(
            sa.text(
                "UPDATE recording SET wav = :wav, direction = :direction, "
                "remote_number = :remote WHERE id = :id"
            ),
            {
                "wav": storage.read_all(store, row.storage_key),
                "direction": direction,
                "remote": (row.caller if direction == "in" else row.called)[:20],
                "id": row.id,
            },
        )
    for row in connection.execute(
        sa.text("SELECT id, prompt_key FROM ivr WHERE prompt_key IS NOT NULL")
    ).all():
        connection.execute(
            sa.text("UPDATE ivr SET prompt_wav = :wav WHERE id = :id"),
            {"wav": storage.read_all(store, row.prompt_key), "id": row.id},
        )
    with op.batch_alter_table("recording", schema=None) as batch_op:
        for name in ("wav", "direction", "remote_number"):
            batch_op.alter_column(name, nullable=False)
        batch_op.drop_constraint("size_not_negative", type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_recording_call_record_id_call_record"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_recording_call_record_id"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_recording_storage_key"))
        batch_op.drop_index("ix_recording_circle_started")
        batch_op.alter_column(
            "size_bytes", existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False
        )
        for name in ("created_at", "storage_key", "sha256", "call_record_id"):
            batch_op.drop_column(name)
    with op.batch_alter_table("ivr", schema=None) as batch_op:
        for name in ("prompt_bytes", "prompt_sha256", "prompt_key"):
            batch_op.drop_column(name)
    with op.batch_alter_table("reseller", schema=None) as batch_op:
        batch_op.drop_column("recording_retention_days")
    with op.batch_alter_table("recording_limit", schema=None) as batch_op:
        batch_op.drop_column("used_bytes")
    op.drop_table("call_record")
    op.drop_table("recording_storage_day")
    rls.apply(connection, context.get_context().opts.get("app_role", "pbx_app"))
