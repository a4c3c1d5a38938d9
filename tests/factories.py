"""Factories: a small world of two resellers (A and B) and the platform."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from pbx_platform.db import db
from pbx_platform.models import LoginSession
from pbx_platform.tenancy import Scope, circle_scope, platform_bypass, use_scope
from tenants.models import (
    Carrier,
    PasswordPolicy,
    StaffKind,
    StaffRole,
    TerminalType,
    UniqueKind,
)
from tenants.services import provisioning as p

PASSWORD = "Start#Pass2026"


@dataclass
class Tenant:
    """The ids of one reseller's objects, and its logins (all with PASSWORD)."""

    slug: str
    host: str
    reseller_id: int = 0
    account_id: int = 0
    other_account_id: int = 0
    circle_id: int = 0
    other_circle_id: int = 0
    unique_id: int = 0
    ring_group_id: int = 0
    circle_login: str = ""
    other_circle_login: str = ""
    staff: dict[str, str] = field(default_factory=dict)  # role → e-mail

    @property
    def scope(self) -> Scope:
        return Scope(self.reseller_id)

    @property
    def circle_scope(self) -> Scope:
        """Narrowed to the tenant's circle, as the circle services need (R20)."""
        return Scope(self.reseller_id, self.account_id, self.circle_id)

    @property
    def other_circle_scope(self) -> Scope:
        return Scope(self.reseller_id, self.other_account_id, self.other_circle_id)


@dataclass
class World:
    a: Tenant
    b: Tenant
    platform_reseller_id: int
    operator_email: str = "operator@platform.test"
    password: str = PASSWORD


def make_tenant(
    slug: str, *, base_domain: str = "localhost", primary: str = "#1f4e8c", accent: str = "#e8f0fb"
) -> Tenant:
    tenant = Tenant(slug=slug, host=f"{slug}.{base_domain}")
    with platform_bypass("tests.factory"):
        reseller = p.create_reseller(slug=slug, name=f"Reseller {slug}", base_domain=base_domain)
    tenant.reseller_id = reseller.id
    with use_scope(Scope(reseller.id)):
        p.create_brand(
            reseller,
            product_name=f"{slug.title()} Phone",
            primary_color=primary,
            accent_color=accent,
            support_email=f"help@{slug}.test",
        )
        for role in StaffRole:
            email = f"{role.value}@{slug}.test"
            p.create_staff(
                reseller,
                email=email,
                name=f"{slug} {role.value}",
                password=PASSWORD,
                kind=StaffKind.RESELLER,
                role=role,
            )
            tenant.staff[role.value] = email
        account = p.create_account(reseller, company_name=f"{slug} 株式会社")
        other = p.create_account(reseller, company_name=f"{slug} Other K.K.")
        tenant.account_id, tenant.other_account_id = account.id, other.id
        manager = f"manager@{slug}.test"
        p.create_staff(
            reseller,
            email=manager,
            name="manager",
            password=PASSWORD,
            kind=StaffKind.ACCOUNT_MANAGER,
            account=account,
        )
        tenant.staff["manager"] = manager
        circle = p.create_circle(
            account,
            name=f"{slug} circle",
            login_id=f"{slug}-circle",
            password=PASSWORD,
            phone_numbers=("03-1234-5678",),
        )
        other_circle = p.create_circle(
            other, name=f"{slug} other circle", login_id=f"{slug}-other", password=PASSWORD
        )
        tenant.circle_id, tenant.other_circle_id = circle.id, other_circle.id
        tenant.circle_login, tenant.other_circle_login = circle.login_id, other_circle.login_id
        with use_scope(tenant.circle_scope):
            phone = p.create_unique(
                circle, extension="201", display_name="受付", terminal_type=TerminalType.SIP_PHONE
            )
            p.create_unique(
                circle,
                extension="202",
                display_name="携帯",
                terminal_type=TerminalType.MOBILE,
                carrier=Carrier.AU,
            )
            p.create_unique(
                circle, extension="300", display_name="会議室", kind=UniqueKind.CONFERENCE_ROOM
            )
            tenant.unique_id = phone.id
            group = p.create_ring_group(circle, name="代表", extension="400", members=[phone])
            tenant.ring_group_id = group.id
    return tenant


def build_world() -> World:
    with platform_bypass("tests.factory"):
        platform = p.create_reseller(
            slug="direct",
            name="Platform",
            base_domain="localhost",
            is_platform=True,
            console_host="localhost",
        )
    with use_scope(Scope(platform.id)):
        p.create_brand(platform, product_name="Direct")
        p.create_staff(
            platform,
            email="operator@platform.test",
            name="operator",
            password=PASSWORD,
            kind=StaffKind.PLATFORM,
        )
    platform_id = platform.id
    a = make_tenant("alpha", primary="#1f4e8c", accent="#e8f0fb")
    b = make_tenant("bravo", primary="#8a1538", accent="#fbe9ee")
    db.session.commit()
    return World(a=a, b=b, platform_reseller_id=platform_id)


@contextmanager
def in_circle(app: Any, tenant: Tenant, circle_id: int | None = None) -> Iterator[Any]:
    """An application context narrowed to one circle (R20), as a request on it would be;
    yields the circle (None when the tenant does not reach it). The circle services
    refuse a wider scope (``tenancy.require_circle_scope``)."""
    from tenants.models import Circle

    circle_id = circle_id or tenant.circle_id
    with app.app_context():
        with use_scope(tenant.scope):
            account_id = db.session.scalar(select(Circle.account_id).where(Circle.id == circle_id))
        if account_id is None:
            with use_scope(tenant.scope):
                yield None
            return
        with circle_scope(tenant.reseller_id, account_id, circle_id):
            yield db.session.get(Circle, circle_id)


def set_policy(tenant: Tenant, policy: PasswordPolicy) -> None:
    from tenants.models import Circle

    with use_scope(tenant.scope):
        circle = db.session.get(Circle, tenant.circle_id)
        assert circle is not None
        circle.password_policy = policy
        db.session.commit()


def open_session_ids(kind: str, principal_id: int) -> tuple[int, ...]:
    """Ids of the login's session records not revoked (inside the tenant's scope)."""
    return tuple(
        db.session.scalars(
            select(LoginSession.id)
            .where(
                LoginSession.principal_kind == kind,
                LoginSession.principal_id == principal_id,
                LoginSession.revoked_at.is_(None),
            )
            .order_by(LoginSession.id)
        )
    )
