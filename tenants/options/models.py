"""Options held by circles and accounts, the cart, and the settings of each option."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pbx_platform.db import (
    AccountOwned,
    CircleOwned,
    Model,
    Timestamped,
    str_enum,
    utcnow,
)
from tenants.calls.models import CallRecord
from tenants.models import CirclePhoneNumber, Unique


class OptionKind(enum.StrEnum):
    # circle options
    CONFERENCE_ROOM = "conference_room"  # R3
    OUTBOUND_SELECTION = "outbound_selection"  # R4
    IVR = "ivr"  # R5
    CALL_RECORDING = "call_recording"  # R6
    MONITORING = "monitoring"  # R7
    WHISPERING = "whispering"  # R8
    # account options
    OEM_SERVER = "oem_server"  # R1
    INVOICE_MAILING = "invoice_mailing"  # R2


CIRCLE_KINDS = (
    OptionKind.CONFERENCE_ROOM,
    OptionKind.OUTBOUND_SELECTION,
    OptionKind.IVR,
    OptionKind.CALL_RECORDING,
    OptionKind.MONITORING,
    OptionKind.WHISPERING,
)
ACCOUNT_KINDS = (OptionKind.OEM_SERVER, OptionKind.INVOICE_MAILING)
# Bought by count: licences (R7, R8), and conference rooms, one room of 5 lines each (R3).
QUANTITY_KINDS = (OptionKind.MONITORING, OptionKind.WHISPERING, OptionKind.CONFERENCE_ROOM)
# R10: monitoring and whispering are cancelled by entering a count, and so are conference
# rooms, which are bought by count too (R3); the others by a tick.
CANCEL_BY_COUNT = (OptionKind.MONITORING, OptionKind.WHISPERING, OptionKind.CONFERENCE_ROOM)
LINES_PER_CONFERENCE_ROOM = 5


class CircleOption(CircleOwned, Timestamped, Model):
    """One purchase of a circle option: ``quantity`` units from ``starts_on`` to ``ends_on``.

    A pending cancellation has ``ends_on`` set in the future (R12); the option is
    usable through that day.
    """

    __tablename__ = "circle_option"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OptionKind] = mapped_column(str_enum(OptionKind, "option_kind", 30))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    cancel_requested_at: Mapped[datetime | None]

    __table_args__ = (CheckConstraint("quantity >= 1", name="quantity_positive"),)

    def active_on(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


class CartAction(enum.StrEnum):
    BUY = "buy"
    CANCEL = "cancel"


class CartStatus(enum.StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"


class Cart(AccountOwned, Timestamped, Model):
    """R11: pending purchases and cancellations, confirmed in one transaction.

    One open cart per owner (a login) and target (a circle, or the account when
    ``circle_id`` is empty), held by two partial unique indexes: parallel requests
    cannot open a second one. ``base_version`` is the target's ``options_version`` when
    the cart was opened: a different version at confirmation means someone else
    changed the options meanwhile (a stale cart).
    """

    __tablename__ = "cart"

    id: Mapped[int] = mapped_column(primary_key=True)
    circle_id: Mapped[int | None] = mapped_column(
        ForeignKey("circle.id", ondelete="CASCADE"), index=True
    )
    owner: Mapped[str] = mapped_column(String(40))
    status: Mapped[CartStatus] = mapped_column(
        str_enum(CartStatus, "cart_status", 30), default=CartStatus.OPEN
    )
    base_version: Mapped[int] = mapped_column(Integer, default=0)
    confirmed_at: Mapped[datetime | None]

    lines: Mapped[list[CartLine]] = relationship(
        back_populates="cart", cascade="all, delete-orphan", order_by="CartLine.id"
    )


# One open cart per owner and target: per circle, and per account (no circle).
_OPEN = Cart.status == CartStatus.OPEN
Index(
    "uq_cart_open_circle_cart",
    Cart.owner,
    Cart.circle_id,
    unique=True,
    postgresql_where=_OPEN & Cart.circle_id.is_not(None),
    sqlite_where=_OPEN & Cart.circle_id.is_not(None),
)
Index(
    "uq_cart_open_account_cart",
    Cart.owner,
    Cart.account_id,
    unique=True,
    postgresql_where=_OPEN & Cart.circle_id.is_(None),
    sqlite_where=_OPEN & Cart.circle_id.is_(None),
)


class CartLine(AccountOwned, Model):
    __tablename__ = "cart_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("cart.id", ondelete="CASCADE"), index=True)
    action: Mapped[CartAction] = mapped_column(str_enum(CartAction, "cart_action", 30))
    kind: Mapped[OptionKind] = mapped_column(str_enum(OptionKind, "option_kind", 30))
    quantity: Mapped[int] = mapped_column(Integer, default=1)

    cart: Mapped[Cart] = relationship(back_populates="lines")

    __table_args__ = (
        CheckConstraint("quantity >= 1", name="line_quantity_positive"),
        # One line per option in a cart: a second addition adds to its quantity.
        UniqueConstraint("cart_id", "kind"),
    )


class ConferenceRoom(CircleOwned, Timestamped, Model):
    """R3 settings. The room is a unique of kind conference_room (its extension)."""

    __tablename__ = "conference_room"

    id: Mapped[int] = mapped_column(primary_key=True)
    unique_id: Mapped[int] = mapped_column(
        ForeignKey("unique_entry.id", ondelete="CASCADE"), unique=True
    )
    # One number routes its incoming calls to one room only.
    phone_number_id: Mapped[int | None] = mapped_column(
        ForeignKey("circle_phone_number.id", ondelete="SET NULL"), unique=True
    )
    # R3 パスワード: the 4–8 digits a caller keys in to enter. Kept readable because the
    # PBX compares it; the column name makes the audit log redact it.
    entry_password: Mapped[str | None] = mapped_column(String(8))
    broadcast: Mapped[bool] = mapped_column(Boolean, default=False)

    unique: Mapped[Unique] = relationship(foreign_keys=[unique_id])
    phone_number: Mapped[CirclePhoneNumber | None] = relationship()
    members: Mapped[list[ConferenceMember]] = relationship(
        back_populates="room", cascade="all, delete-orphan"
    )


class ConferenceMember(CircleOwned, Model):
    """A unique rung when the broadcast room is called (R3)."""

    __tablename__ = "conference_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(
        ForeignKey("conference_room.id", ondelete="CASCADE"), index=True
    )
    unique_id: Mapped[int] = mapped_column(
        ForeignKey("unique_entry.id", ondelete="CASCADE"), index=True
    )

    room: Mapped[ConferenceRoom] = relationship(back_populates="members")

    __table_args__ = (UniqueConstraint("room_id", "unique_id"),)


class OutboundSelector(CircleOwned, Timestamped, Model):
    """R4: a selector unique (never a terminal) and the caller number it presents."""

    __tablename__ = "outbound_selector"

    id: Mapped[int] = mapped_column(primary_key=True)
    unique_id: Mapped[int] = mapped_column(
        ForeignKey("unique_entry.id", ondelete="CASCADE"), unique=True
    )
    # One selector per number: a second one would present the same caller number.
    phone_number_id: Mapped[int] = mapped_column(
        ForeignKey("circle_phone_number.id", ondelete="RESTRICT"), unique=True
    )

    unique: Mapped[Unique] = relationship()
    phone_number: Mapped[CirclePhoneNumber] = relationship()


class Ivr(CircleOwned, Timestamped, Model):
    """R5 settings of one IVR unique.

    ``business_hours``: {"mon": ["09:00", "18:00"] | null (closed), ...}, Japan time;
    ``closed_on_holidays``: Japanese public holidays count as closed. Destinations are
    {"type": "unique"|"conference"|"ivr", "id": <Unique.id>}, {"type": "ring_group",
    "id": <RingGroup.id>}, {"type": "outside", "number": <E.164>} or {"type": "hangup"};
    ``digit_map`` maps "0"-"9", "*", "#" to one. ``prompt_key``: an 8 kHz mono 16-bit
    PCM WAV in the object storage.
    """

    __tablename__ = "ivr"

    id: Mapped[int] = mapped_column(primary_key=True)
    unique_id: Mapped[int] = mapped_column(
        ForeignKey("unique_entry.id", ondelete="CASCADE"), unique=True
    )
    business_hours: Mapped[dict[str, list[str] | None]] = mapped_column(JSON, default=dict)
    closed_on_holidays: Mapped[bool] = mapped_column(Boolean, default=False)
    after_hours: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    answer_after_seconds: Mapped[int] = mapped_column(Integer, default=0)
    channels: Mapped[int] = mapped_column(Integer, default=2)
    digit_map: Mapped[dict[str, dict[str, object]]] = mapped_column(JSON, default=dict)
    timeout_destination: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    # The prompt's file in the object storage (``pbx_platform.storage``).
    # "prompts/<circle id>/xx/yy/<sha256>": 79 characters and the id's digits.
    prompt_key: Mapped[str | None] = mapped_column(String(200))
    prompt_sha256: Mapped[str | None] = mapped_column(String(64))
    prompt_bytes: Mapped[int | None] = mapped_column(Integer)
    prompt_source: Mapped[str | None] = mapped_column(String(20))  # upload | speech
    prompt_text: Mapped[str | None] = mapped_column(String(500))

    unique: Mapped[Unique] = relationship()


class RecordingLimit(CircleOwned, Timestamped, Model):
    """R6: the storage a circle's recordings may grow to; 100 GB until staff raise it."""

    __tablename__ = "recording_limit"

    id: Mapped[int] = mapped_column(primary_key=True)
    circle_id: Mapped[int] = mapped_column(ForeignKey("circle.id", ondelete="CASCADE"), unique=True)
    limit_gb: Mapped[int] = mapped_column(Integer, default=100)
    # The exact bytes of the circle's recordings: changed in the same transaction as
    # the recording rows, by one conditional UPDATE that also checks the limit.
    used_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class Recording(CircleOwned, Model):
    """The recording of one call (R6), as a PBX node uploaded it: a WAV file in the
    object storage (``pbx_platform.storage``), named by its SHA-256.

    ``unique_id`` and ``started_at`` repeat the call's, so that the archive's day range
    and its choice of uniques read this table alone. ``size_bytes`` is counted into
    ``RecordingLimit.used_bytes`` in the same transaction as the row is added or
    deleted."""

    __tablename__ = "recording"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_record_id: Mapped[int] = mapped_column(
        ForeignKey("call_record.id", ondelete="CASCADE"), unique=True
    )
    unique_id: Mapped[int | None] = mapped_column(
        ForeignKey("unique_entry.id", ondelete="SET NULL"), index=True
    )
    started_at: Mapped[datetime] = mapped_column(index=True)
    duration_seconds: Mapped[int] = mapped_column(Integer, default=0)
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(String(64))
    # "recordings/<circle id>/xx/yy/<sha256>": 82 characters and the id's digits.
    storage_key: Mapped[str] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    call: Mapped[CallRecord] = relationship()

    __table_args__ = (
        Index("ix_recording_circle_started", "circle_id", "started_at", "id"),
        CheckConstraint("size_bytes >= 0", name="size_not_negative"),
    )


class RecordingStorageDay(CircleOwned, Model):
    """A circle's stored recording bytes at the end of one day, Japan time (R6's chart;
    invoicing bills the month's peak, R24)."""

    __tablename__ = "recording_storage_day"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date]
    stored_bytes: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (UniqueConstraint("circle_id", "day"),)
