"""The demo data loads once, and a second run adds nothing."""

from sqlalchemy import func, select

from pbx_platform.db import db
from pbx_platform.tenancy import platform_bypass
from tenants import demo
from tenants.models import Circle, PasswordPolicy, Reseller, Staff, TerminalType, Unique


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
