"""E-mail (``pbx_platform.mail``): sent after the commit only, through SMTP, to files in
development, as Celery tasks with a broker."""

from __future__ import annotations

import logging
from email import message_from_bytes, policy

from pbx_platform import mail
from pbx_platform.db import db
from pbx_platform.mail import Brand, Message

BRAND = Brand(product_name="Alpha Phone", sender_name="Alpha Phone", support_email="help@a.test")


def _message(to: str = "someone@example.jp") -> Message:
    return Message(
        to=to,
        subject="件名",
        text="本文 http://alpha.localhost/x?token=abc",
        html="<p>本文</p>",
        sender_name="Alpha Phone",
        reply_to="help@a.test",
        locale="ja",
        links=("http://alpha.localhost/x?token=abc",),
    )


def test_a_queued_message_leaves_at_the_commit(app, mailbox):
    with app.app_context():
        mail.queue(_message())
        assert mailbox.messages == []
        db.session.commit()
    received = mailbox.only()
    assert received.message["Subject"] == "件名"
    assert received.message["From"].startswith("Alpha Phone <")
    assert received.message["Reply-To"] == "help@a.test"
    assert received.text.strip().startswith("本文")
    assert received.html.strip() == "<p>本文</p>"


def test_a_rolled_back_transaction_sends_nothing(app, mailbox):
    with app.app_context():
        mail.queue(_message())
        db.session.rollback()
        db.session.commit()
    assert mailbox.messages == []


def test_a_rolled_back_savepoint_keeps_what_the_transaction_queued(app, mailbox):
    with app.app_context():
        mail.queue(_message())
        savepoint = db.session.begin_nested()
        savepoint.rollback()
        db.session.commit()
    assert len(mailbox.messages) == 1


def test_without_a_mail_host_messages_are_written_to_the_mail_folder(
    app, tmp_path, caplog, monkeypatch
):
    # A Celery worker started earlier in the run (tests/pbx_platform/test_jobs.py)
    # configures logging and disables the loggers that existed then.
    monkeypatch.setattr(mail.log, "disabled", False)
    caplog.set_level(logging.WARNING, logger=mail.log.name)
    saved = app.config["MAIL_HOST"], app.config["MAIL_DIR"]
    app.config.update(MAIL_HOST="", MAIL_DIR=str(tmp_path))
    try:
        with app.app_context():
            mail.queue(_message())
            db.session.commit()
    finally:
        app.config["MAIL_HOST"], app.config["MAIL_DIR"] = saved
    (written,) = tmp_path.glob("*.eml")
    parsed = message_from_bytes(written.read_bytes(), policy=policy.default)
    assert parsed["To"] == "someone@example.jp"
    assert "http://alpha.localhost/x?token=abc" in caplog.text


def test_with_a_broker_each_message_is_a_celery_task(app, monkeypatch):
    sent = []
    monkeypatch.setattr(mail.send_mail, "delay", lambda payload: sent.append(payload))
    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
    with app.app_context():
        mail.queue(_message())
        db.session.commit()
    assert [Message.from_dict(p) for p in sent] == [_message()]


def test_the_task_delivers_the_message(app, mailbox):
    with app.app_context():
        mail.send_mail.apply(args=[_message("task@example.jp").as_dict()]).get()
    assert mailbox.only().envelope_to == ("task@example.jp",)


def test_render_uses_the_recipients_language(app):
    with app.test_request_context("/"):
        english = mail.render(
            "tenants/mail/password_reset",
            to="x@example.jp",
            subject="s",
            locale="en",
            brand=BRAND,
            name="Taro",
            login="taro",
            link="http://alpha.localhost/password/reset?token=t",
            minutes=60,
        )
        japanese = mail.render(
            "tenants/mail/password_reset",
            to="x@example.jp",
            subject="s",
            locale="ja",
            brand=BRAND,
            name="Taro",
            login="taro",
            link="http://alpha.localhost/password/reset?token=t",
            minutes=60,
        )
    assert english.text.startswith("Hello Taro,")
    assert japanese.text.startswith("Taro 様")
    assert english.links == ("http://alpha.localhost/password/reset?token=t",)
    assert "help@a.test" in english.html and "Alpha Phone" in japanese.text
