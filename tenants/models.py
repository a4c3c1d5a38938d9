"""The tenant hierarchy: reseller → customer account → circle → unique (SPEC glossary)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from pbx_platform.db import (
    AccountOwned,
    CircleOwned,
    EditVersioned,
    Model,
    ResellerOwned,
    TenantScoped,
    Timestamped,
    edit_version_column,
    str_enum,
)
from pbx_platform.permissions import Role


class Reseller(EditVersioned, TenantScoped, Timestamped, Model):
    """An OEM partner (an account with R1's OEM server option), or the platform itself."""

    __tablename__ = "reseller"
    __tenant_columns__ = {"reseller": "id"}

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    is_platform: Mapped[bool] = mapped_column(Boolean, default=False)
    # Qualified-invoice issuer number: T + 13 digits.
    registration_number: Mapped[str | None] = mapped_column(String(14))
    postal_code: Mapped[str] = mapped_column(String(8), default="")
    prefecture: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(80), default="")
    address_line1: Mapped[str] = mapped_column(String(120), default="")
    address_line2: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    default_locale: Mapped[str] = mapped_column(String(5), default="ja")
    # R1: the customer account (of the selling reseller) whose OEM server option this is.
    oem_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL", use_alter=True)
    )
    # The bank account its invoices ask customers to pay into (R21, R23).
    bank_name: Mapped[str] = mapped_column(String(40), default="", server_default="")
    bank_branch: Mapped[str] = mapped_column(String(40), default="", server_default="")
    # "ordinary" (普通) or "current" (当座); empty until entered.
    bank_account_type: Mapped[str] = mapped_column(String(10), default="", server_default="")
    bank_account_number: Mapped[str] = mapped_column(String(7), default="", server_default="")
    bank_account_holder: Mapped[str] = mapped_column(String(60), default="", server_default="")
    # While set, the reseller's portal refuses every login and shows a notice; nothing
    # of the reseller is deleted.
    suspended_at: Mapped[datetime | None]
    # R6: how long recordings are kept after a circle's recording option has ended.
    recording_retention_days: Mapped[int] = mapped_column(Integer, default=90, server_default="90")
    # The optimistic lock of the staff's retention form (pbx_platform.versioning).
    retention_edit_version: Mapped[int] = edit_version_column()

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    hosts: Mapped[list[ResellerHost]] = relationship(
        back_populates="reseller", cascade="all, delete-orphan", order_by="ResellerHost.host"
    )


class ResellerHost(Model):
    """A host name that serves a reseller's portal.

    Deliberately not tenant-scoped: it is the public map from the request's host
    to its tenant, read before any scope exists (like DNS).
    """

    __tablename__ = "reseller_host"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(
        ForeignKey("reseller.id", ondelete="CASCADE"), index=True
    )
    host: Mapped[str] = mapped_column(String(253), unique=True)
    # portal: the reseller's branded portal; console: the platform operator's console
    # (only for the platform reseller); custom marks a reseller's own domain.
    kind: Mapped[str] = mapped_column(String(10), default="portal")
    is_custom: Mapped[bool] = mapped_column(Boolean, default=False)

    reseller: Mapped[Reseller] = relationship(back_populates="hosts")


class AccountStatus(enum.StrEnum):
    """Whether the account's logins may log in (a closing date is kept apart)."""

    ACTIVE = "active"
    SUSPENDED = "suspended"  # logins refused, options kept


class InvoiceDelivery(enum.StrEnum):
    """How the account's invoices reach it; ``post`` needs invoice mailing (R2)."""

    PORTAL = "portal"  # downloaded from the portal
    EMAIL = "email"  # an e-mail notice to the billing contact
    POST = "post"  # printed and mailed (R2)


class Account(EditVersioned, ResellerOwned, Timestamped, Model):
    """A customer account: the contracting party, with the postal address invoices go to.

    ``edit_version`` locks the customer form (company, address, billing contact)."""

    __tablename__ = "account"
    __tenant_columns__ = {"reseller": "reseller_id", "account": "id"}

    id: Mapped[int] = mapped_column(primary_key=True)
    company_name: Mapped[str] = mapped_column(String(120))
    # The reading in full-width katakana, for search and for sorting by the 50-sound order.
    company_name_kana: Mapped[str] = mapped_column(String(120), default="", server_default="")
    status: Mapped[AccountStatus] = mapped_column(
        str_enum(AccountStatus, "account_status"),
        default=AccountStatus.ACTIVE,
        server_default=AccountStatus.ACTIVE.value,
    )
    suspended_at: Mapped[datetime | None]
    # Termination: every option ends at R12's date and the account closes with it;
    # its logins are refused from the day after ``closes_on``. Nothing is deleted.
    terminated_at: Mapped[datetime | None]
    closes_on: Mapped[date | None]
    invoice_delivery: Mapped[InvoiceDelivery] = mapped_column(
        str_enum(InvoiceDelivery, "invoice_delivery"),
        default=InvoiceDelivery.PORTAL,
        server_default=InvoiceDelivery.PORTAL.value,
    )
    postal_code: Mapped[str] = mapped_column(String(8), default="")
    prefecture: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(80), default="")
    address_line1: Mapped[str] = mapped_column(String(120), default="")
    address_line2: Mapped[str] = mapped_column(String(120), default="")
    billing_contact_name: Mapped[str] = mapped_column(String(80), default="")
    billing_contact_email: Mapped[str] = mapped_column(String(254), default="")
    billing_contact_phone: Mapped[str] = mapped_column(String(20), default="")
    options_version: Mapped[int] = mapped_column(Integer, default=0)

    circles: Mapped[list[Circle]] = relationship(back_populates="account", order_by="Circle.id")
    options: Mapped[list[AccountOption]] = relationship(
        back_populates="account", order_by="AccountOption.id"
    )

    __table_args__ = (
        # The customer list's searches (``tenants.services.customers.search``): name and
        # reading by substring (trigram indexes on PostgreSQL), the phone by its E.164.
        Index(
            "ix_account_company_name_trgm",
            "company_name",
            postgresql_using="gin",
            postgresql_ops={"company_name": "gin_trgm_ops"},
        ),
        Index(
            "ix_account_company_name_kana_trgm",
            "company_name_kana",
            postgresql_using="gin",
            postgresql_ops={"company_name_kana": "gin_trgm_ops"},
        ),
        Index("ix_account_reseller_kana", "reseller_id", "company_name_kana"),
        Index("ix_account_reseller_phone", "reseller_id", "billing_contact_phone"),
    )

    def login_refused(self, today: date) -> bool:
        """Suspended, or closed (past its termination's closing date)."""
        return self.status == AccountStatus.SUSPENDED or self.is_closed(today)

    def is_closed(self, today: date) -> bool:
        return self.closes_on is not None and today > self.closes_on


class AccountOptionKind(enum.StrEnum):
    OEM_SERVER = "oem_server"  # R1
    INVOICE_MAILING = "invoice_mailing"  # R2


class AccountOption(AccountOwned, Timestamped, Model):
    """An account option (R1, R2) held from ``starts_on`` to ``ends_on`` (inclusive)."""

    __tablename__ = "account_option"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AccountOptionKind] = mapped_column(
        str_enum(AccountOptionKind, "account_option_kind")
    )
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    cancel_requested_at: Mapped[datetime | None]

    account: Mapped[Account] = relationship(back_populates="options")

    def active_on(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


class PasswordPolicy(enum.StrEnum):
    """R17: what happens at a circle's next login."""

    NONE = "none"
    WARN = "warn"
    FORCE = "force"


class Circle(UserMixin, EditVersioned, AccountOwned, Timestamped, Model):
    """One PBX tenant, and the login of the circle portal (R14, R15, R17)."""

    __tablename__ = "circle"
    __tenant_columns__ = {"reseller": "reseller_id", "account": "account_id", "circle": "id"}
    principal_kind = "circle"
    permission_role = Role.CIRCLE  # R22

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    login_id: Mapped[str] = mapped_column(String(64))
    # R14: login IDs are unique within their reseller, compared without case (the host
    # decides the reseller, so one reseller's IDs tell nothing of another's).
    login_id_key: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(200))
    password_changed_at: Mapped[datetime | None]
    password_policy: Mapped[PasswordPolicy] = mapped_column(
        str_enum(PasswordPolicy, "password_policy"), default=PasswordPolicy.NONE
    )
    extension_length: Mapped[int] = mapped_column(Integer, default=3)
    locale: Mapped[str | None] = mapped_column(String(5))
    # Where a password reset link may be sent (staff or the account manager send it).
    recovery_email: Mapped[str | None] = mapped_column(String(254))
    # Bumped by every confirmed cart: a cart opened at another version is stale (R11).
    options_version: Mapped[int] = mapped_column(Integer, default=0)
    # The settings pages that edit rows of many uniques at once (R6 refusal ticks,
    # R7/R8 licence ticks) lock on the circle, each page on a version of its own;
    # ``edit_version`` is the circle's own settings (R17 password policy).
    recording_edit_version: Mapped[int] = edit_version_column()
    licences_edit_version: Mapped[int] = edit_version_column()

    account: Mapped[Account] = relationship(back_populates="circles")

    def get_id(self) -> str:
        return f"circle:{self.id}"

    phone_numbers: Mapped[list[CirclePhoneNumber]] = relationship(
        back_populates="circle", order_by="CirclePhoneNumber.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("extension_length BETWEEN 2 AND 5", name="extension_length_range"),
        UniqueConstraint("reseller_id", "login_id_key"),
    )


class NumberKind(enum.StrEnum):
    """What a Japanese number is, read from the number itself."""

    LANDLINE = "landline"  # 0AB-J (03-xxxx-xxxx, 06-…)
    IP = "ip"  # 050
    FREE_DIAL = "free_dial"  # 0120, 0800


class PhoneNumber(ResellerOwned, Timestamped, Model):
    """One outside number of the platform's inventory, stored in E.164.

    ``reseller_id`` is who holds it: the platform reseller for numbers not yet
    allocated, a reseller for its pool. ``circle_id`` is the circle it is assigned to
    (None: free in the holder's pool). One row per number (``e164`` is unique) with one
    circle column: a number belongs to at most one circle, by construction.
    """

    __tablename__ = "phone_number"

    id: Mapped[int] = mapped_column(primary_key=True)
    e164: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[NumberKind] = mapped_column(str_enum(NumberKind, "number_kind"))
    circle_id: Mapped[int | None] = mapped_column(
        ForeignKey("circle.id", ondelete="RESTRICT"), index=True
    )


class CirclePhoneNumber(CircleOwned, Model):
    """One of the circle's outside numbers, stored in E.164: the circle's side of an
    inventory number assigned to it (``phone_number_id``, unique). Rows from before the
    inventory that could not be matched to it keep a null ``phone_number_id``."""

    __tablename__ = "circle_phone_number"

    id: Mapped[int] = mapped_column(primary_key=True)
    e164: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(40), default="")
    phone_number_id: Mapped[int | None] = mapped_column(
        ForeignKey("phone_number.id", ondelete="RESTRICT"), unique=True
    )

    circle: Mapped[Circle] = relationship(back_populates="phone_numbers")

    __table_args__ = (UniqueConstraint("circle_id", "e164"),)


class PickupGroup(EditVersioned, CircleOwned, Model):
    """R16: uniques that may answer each other's ringing calls."""

    __tablename__ = "pickup_group"
    DEFAULT_NAME = "Default"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    # Names are unique in a circle ignoring case ("Sales" and "sales" would confuse).
    name_key: Mapped[str] = mapped_column(String(40))

    __table_args__ = (UniqueConstraint("circle_id", "name_key"),)

    @validates("name")
    def _keep_name_key(self, key: str, name: str) -> str:
        self.name_key = name.lower()
        return name

    @property
    def is_default(self) -> bool:
        return self.name == self.DEFAULT_NAME


class UniqueKind(enum.StrEnum):
    PHONE = "phone"
    CONFERENCE_ROOM = "conference_room"
    IVR = "ivr"
    OUTBOUND_SELECTOR = "outbound_selector"


class TerminalType(enum.StrEnum):
    SIP_PHONE = "sip_phone"
    SOFTPHONE = "softphone"
    MOBILE = "mobile"
    PHS = "phs"


class Carrier(enum.StrEnum):
    DOCOMO = "docomo"
    AU = "au"
    SOFTBANK = "softbank"
    OTHER = "other"


class Unique(EditVersioned, CircleOwned, Timestamped, Model):
    """A member of a circle: a terminal, or a virtual entry (conference room, IVR, selector)."""

    __tablename__ = "unique_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None once R13 invalidated it, until the circle renumbers.
    extension: Mapped[str | None] = mapped_column(String(5))
    # The extension an R13 length change took away: renumbering keeps the old order.
    previous_extension: Mapped[str | None] = mapped_column(String(5))
    display_name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[UniqueKind] = mapped_column(str_enum(UniqueKind, "unique_kind"))
    terminal_type: Mapped[TerminalType | None] = mapped_column(
        str_enum(TerminalType, "terminal_type")
    )
    carrier: Mapped[Carrier | None] = mapped_column(str_enum(Carrier, "carrier"))
    pickup_group_id: Mapped[int] = mapped_column(ForeignKey("pickup_group.id"), index=True)
    recording_refused: Mapped[bool] = mapped_column(Boolean, default=False)  # R6
    monitoring: Mapped[bool] = mapped_column(Boolean, default=False)  # R7
    whispering: Mapped[bool] = mapped_column(Boolean, default=False)  # R8
    # SIP digest credentials of a SIP phone or softphone: the user name and HA1 =
    # MD5(user:realm:secret) (RFC 2617) and its SHA-256 form (RFC 8760), never the
    # secret; the realm they were made for (docs/architecture.md, "SIP credentials").
    sip_user: Mapped[str | None] = mapped_column(String(40))
    sip_realm: Mapped[str | None] = mapped_column(String(253))
    sip_ha1: Mapped[str | None] = mapped_column(String(32))
    sip_ha1_sha256: Mapped[str | None] = mapped_column(String(64))

    pickup_group: Mapped[PickupGroup] = relationship()

    __table_args__ = (
        UniqueConstraint("circle_id", "extension"),
        # A registrar knows a SIP user name once, whichever tenant it is in.
        UniqueConstraint("sip_user"),
        Index("ix_unique_entry_circle_extension", "circle_id", "extension"),
        CheckConstraint(
            "(kind = 'phone') = (terminal_type IS NOT NULL)", name="terminal_type_for_phones"
        ),
        CheckConstraint(
            "(terminal_type = 'mobile') = (carrier IS NOT NULL)", name="carrier_for_mobiles"
        ),
    )


class RingGroup(EditVersioned, CircleOwned, Timestamped, Model):
    """同時呼出: several uniques rung at once; cleared by an R13 length change."""

    __tablename__ = "ring_group"
    RING_TIME_DEFAULT = 20
    RING_TIME_MIN = 5
    RING_TIME_MAX = 120

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    extension: Mapped[str | None] = mapped_column(String(5))
    # How long the members ring before the call goes unanswered, in seconds.
    ring_time_seconds: Mapped[int] = mapped_column(
        Integer, default=RING_TIME_DEFAULT, server_default=str(RING_TIME_DEFAULT)
    )

    members: Mapped[list[RingGroupMember]] = relationship(
        back_populates="ring_group",
        cascade="all, delete-orphan",
        order_by="RingGroupMember.position",
    )


class RingGroupMember(CircleOwned, Model):
    __tablename__ = "ring_group_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    ring_group_id: Mapped[int] = mapped_column(
        ForeignKey("ring_group.id", ondelete="CASCADE"), index=True
    )
    unique_id: Mapped[int] = mapped_column(
        ForeignKey("unique_entry.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)

    ring_group: Mapped[RingGroup] = relationship(back_populates="members")
    unique: Mapped[Unique] = relationship()

    __table_args__ = (UniqueConstraint("ring_group_id", "unique_id"),)


class StaffKind(enum.StrEnum):
    PLATFORM = "platform"
    RESELLER = "reseller"
    ACCOUNT_MANAGER = "account_manager"


class StaffRole(enum.StrEnum):
    ADMIN = "admin"
    BILLING = "billing"
    SUPPORT = "support"  # read-only


_RESELLER_ROLES = {
    StaffRole.ADMIN: Role.RESELLER_ADMIN,
    StaffRole.BILLING: Role.RESELLER_BILLING,
    StaffRole.SUPPORT: Role.RESELLER_SUPPORT,
}


class Staff(UserMixin, EditVersioned, ResellerOwned, Timestamped, Model):
    """A person who logs in with e-mail and password: platform staff (under the
    platform reseller), reseller staff, or an account's manager."""

    __tablename__ = "staff"
    # An account manager's row belongs to the account too: an account scope sees only
    # its own managers, and their changes are audited under the account.
    __tenant_columns__ = {"reseller": "reseller_id", "account": "account_id"}
    principal_kind = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[StaffKind] = mapped_column(str_enum(StaffKind, "staff_kind"))
    role: Mapped[StaffRole] = mapped_column(
        str_enum(StaffRole, "staff_role"), default=StaffRole.ADMIN
    )
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(200))
    password_changed_at: Mapped[datetime | None]
    locale: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None]

    account: Mapped[Account | None] = relationship()

    def get_id(self) -> str:
        return f"staff:{self.id}"

    @property
    def permission_role(self) -> Role:
        """This login's row of R22's matrix (``pbx_platform.permissions``)."""
        if self.kind == StaffKind.PLATFORM:
            return Role.PLATFORM_OPERATOR
        if self.kind == StaffKind.ACCOUNT_MANAGER:
            return Role.ACCOUNT_MANAGER
        return _RESELLER_ROLES[self.role]

    @property
    def is_active(self) -> bool:
        return self.active

    __table_args__ = (
        UniqueConstraint("reseller_id", "email_key"),
        CheckConstraint(
            "(kind = 'account_manager') = (account_id IS NOT NULL)", name="manager_has_account"
        ),
    )
