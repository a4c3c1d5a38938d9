"""The demo data loads once, and a second run adds nothing."""

from sqlalchemy import func, select

from pbx_platform.db import db
from pbx_platform.tenancy import platform_bypass
from tenants import demo
from tenants.models import (
    Circle,
    PasswordPolicy,
    Reseller,
    RingGroup,
    Staff,
    TerminalType,
    Unique,
)


def counts():
    with platform_bypass("test"):
        return {
            model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Reseller, Staff, Circle, Unique)
        }


def test_demo_load_is_idempotent(app):
    with app.app_context():
        assert demo.load("localhost", "localhost") == ["direct", "sakura", "umi"]
        first = counts()
        assert demo.load("localhost", "localhost") == []
        assert counts() == first
        with platform_bypass("test"):
            policies = set(db.session.scalars(select(Circle.password_policy)))
            terminals = set(db.session.scalars(select(Unique.terminal_type)))
        assert policies == set(PasswordPolicy)
        assert set(TerminalType) <= terminals
        db.session.rollback()


def test_every_demo_circle_has_a_ring_group_even_after_one_was_cleared(app):
    """A ring group (同時呼出) on every circle; a second load restores one that an R13
    change cleared, and adds nothing where one is set up."""
    with app.app_context():
        demo.load("localhost", "localhost")
        with platform_bypass("test"):
            circles = set(db.session.scalars(select(Circle.id)))
            grouped = set(
                db.session.scalars(
                    select(RingGroup.circle_id).where(RingGroup.extension.is_not(None))
                )
            )
            assert circles and grouped == circles
            first = db.session.scalars(select(RingGroup).order_by(RingGroup.id)).first()
            assert first is not None and len(first.members) == 3
            first.extension = None
            first.members.clear()
            db.session.commit()
            cleared_circle = first.circle_id
            before = db.session.scalar(select(func.count(RingGroup.id)))
        demo.load("localhost", "localhost")
        with platform_bypass("test"):
            assert db.session.scalar(select(func.count(RingGroup.id))) == before + 1
            restored = db.session.scalars(
                select(RingGroup).where(
                    RingGroup.circle_id == cleared_circle, RingGroup.extension.is_not(None)
                )
            ).one()
            assert restored.extension and len(restored.members) == 3
        db.session.rollback()


def test_demo_logins_work_on_their_portals(app, browser):
    with app.app_context():
        demo.load("localhost", "localhost")
        db.session.commit()
    client = browser("sakura.localhost")
    assert client.login_circle("sakura-1-1", demo.DEMO_PASSWORD).status_code == 302
    page = client.get("/portal/").get_data(as_text=True)
    assert "さくらクラウドPBX" in page
    staff = browser("umi.localhost")
    assert staff.login_staff("admin@umi.example", demo.DEMO_PASSWORD).status_code == 302
    operator = browser("localhost")
    assert (
        operator.login_console("operator@platform.example", demo.DEMO_PASSWORD).status_code == 302
    )
    # A circle of one reseller cannot log in on another's portal.
    assert (
        browser("umi.localhost").login_circle("sakura-1-1", demo.DEMO_PASSWORD).status_code == 200
    )
