"""E-mail: rendered in the recipient's language and the reseller's brand, sent only
after the commit.

A service calls ``queue(message)`` while it works; the message waits on the database
session and goes out when that session's transaction commits (``after_commit``), and
is dropped when it rolls back: a refused or failed change never sends a mail. With
``CELERY_BROKER_URL`` set each message is a Celery task (retried while the SMTP
server is unreachable); without a broker it is sent in-process right after the
commit.

Where it goes (``pbx_platform.config``):

* ``PBX_MAIL_HOST`` set: SMTP, with ``PBX_MAIL_PORT``, ``PBX_MAIL_USERNAME`` /
  ``PBX_MAIL_PASSWORD`` and ``PBX_MAIL_SECURITY`` (``starttls``, ``ssl`` or ``none``);
  the envelope sender and From address are ``PBX_MAIL_FROM``, the display name is the
  reseller's brand.
* no host (development): each message is written to ``instance/mail/`` (one ``.eml``
  file) and logged with its links, so ``make run`` needs no mail server.

The core knows no brand: the ``themes`` context registers the function that tells a
reseller's brand (``register_brand_resolver``), as the contexts meet the core through
hooks elsewhere.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from typing import Any

from celery import shared_task
from flask import current_app
from flask_babel import force_locale
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from pbx_platform.db import db
from pbx_platform.i18n import LOCALES

log = logging.getLogger(__name__)

_OUTBOX = "pbx_outbox"
LINK = re.compile(r"https?://[^\s<>\"']+")
SMTP_TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class Brand:
    """What a mail shows of the reseller it comes from (R19)."""

    product_name: str
    sender_name: str
    support_email: str = ""
    support_phone: str = ""
    primary_color: str = "#1f4e8c"


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    text: str
    html: str
    sender_name: str
    reply_to: str = ""
    locale: str = "ja"
    links: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["links"] = list(self.links)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Message:
        return cls(**{**data, "links": tuple(data.get("links", ()))})


_brand_resolver: Callable[[int], Brand] | None = None


def register_brand_resolver(resolver: Callable[[int], Brand]) -> None:
    global _brand_resolver
    _brand_resolver = resolver


def brand_for(reseller_id: int) -> Brand:
    """The brand of a reseller, read in the caller's scope (before the commit)."""
    if _brand_resolver is None:
        return Brand(product_name="PBX", sender_name="PBX")
    return _brand_resolver(reseller_id)


def render(
    template: str,
    *,
    to: str,
    subject: Any,
    locale: str | None,
    brand: Brand,
    **context: Any,
) -> Message:
    """``<template>.txt`` and ``<template>.html`` (and the lazy ``subject``) in the
    recipient's language; the links of the text part are kept for the log."""
    language = locale if locale in LOCALES else "ja"
    with force_locale(language):
        values = {"brand": brand, **context}
        title = str(subject)
        # Straight from the environment, not ``render_template``: a mail gets only what it
        # is given, never the page's context processors (which read the request).
        environment = current_app.jinja_env
        text = environment.get_template(f"{template}.txt").render(subject=title, **values)
        html = environment.get_template(f"{template}.html").render(subject=title, **values)
    return Message(
        to=to,
        subject=title,
        text=text,
        html=html,
        sender_name=brand.sender_name,
        reply_to=brand.support_email,
        locale=language,
        links=tuple(dict.fromkeys(LINK.findall(text))),
    )


def queue(message: Message, session: Session | None = None) -> None:
    """Send ``message`` once the current transaction commits; never if it rolls back."""
    from_session = session if session is not None else _current_session()
    if not from_session.in_transaction():
        # The message belongs to a transaction even before it has written anything, so
        # that a rollback drops it too.
        from_session.begin()
    from_session.info.setdefault(_OUTBOX, []).append(message)


def _current_session() -> Session:
    return db.session()


def pending(session: Session | None = None) -> list[Message]:
    """The messages waiting for the commit (tests, debugging)."""
    return list((session if session is not None else _current_session()).info.get(_OUTBOX, []))


def _after_commit(session: Session) -> None:
    outbox: list[Message] = session.info.pop(_OUTBOX, [])
    for message in outbox:
        dispatch(message)


def _after_soft_rollback(session: Session, previous: SessionTransaction) -> None:
    # Only the outermost transaction decides: a savepoint rolled back inside a
    # transaction that commits later does not drop what the transaction queued.
    if previous.parent is None:
        session.info.pop(_OUTBOX, None)


event.listen(Session, "after_commit", _after_commit)
event.listen(Session, "after_soft_rollback", _after_soft_rollback)


def dispatch(message: Message) -> None:
    """Hand a committed message on: to a worker through the broker, or send it now."""
    if current_app.config.get("CELERY_BROKER_URL"):
        send_mail.delay(message.as_dict())
        return
    try:
        deliver(message)
    except (OSError, smtplib.SMTPException):
        # The change is committed; a mail server that is down must not turn it into an
        # error page. With a broker the task retries instead.
        log.exception("sending mail to %s failed", message.to)


def build(message: Message, config: Mapping[str, Any]) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = formataddr((message.sender_name, config["MAIL_FROM"]))
    mail["To"] = message.to
    if message.reply_to:
        mail["Reply-To"] = message.reply_to
    mail["Subject"] = message.subject
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Message-ID"] = make_msgid(domain=config["MAIL_FROM"].rpartition("@")[2] or None)
    mail["Content-Language"] = message.locale
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.text)
    mail.add_alternative(message.html, subtype="html")
    return mail


def deliver(message: Message) -> None:
    """Send through SMTP, or write to the mail folder when no host is configured."""
    config = current_app.config
    mail = build(message, config)
    host = config["MAIL_HOST"]
    if not host:
        folder = Path(config["MAIL_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        path.write_bytes(mail.as_bytes())
        log.warning(
            "mail to %s written to %s (no PBX_MAIL_HOST): %s %s",
            message.to,
            path,
            message.subject,
            " ".join(message.links),
        )
        return
    port = int(config["MAIL_PORT"])
    security = config["MAIL_SECURITY"]
    smtp: smtplib.SMTP
    if security == "ssl":
        smtp = smtplib.SMTP_SSL(
            host, port, timeout=SMTP_TIMEOUT_SECONDS, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_SECONDS)
    with smtp:
        if security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(mail, from_addr=config["MAIL_FROM"], to_addrs=[message.to])


@shared_task(
    name="pbx_platform.mail.send",
    autoretry_for=(OSError, smtplib.SMTPException),
    retry_backoff=True,
    max_retries=8,
)
def send_mail(payload: dict[str, Any]) -> None:
    deliver(Message.from_dict(payload))
