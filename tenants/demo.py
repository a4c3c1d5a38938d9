"""Demo data for `make run`: the platform and two resellers with clearly different brands.

Idempotent: a reseller that exists already is left as it is.
"""

from __future__ import annotations

import io
import math
import struct
import wave
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from invoices.models import PriceBookEntry
from pbx_platform.db import db
from pbx_platform.tenancy import Scope, circle_scope, platform_bypass, use_scope
from tenants.models import (
    AccountOptionKind,
    Carrier,
    Circle,
    PasswordPolicy,
    Reseller,
    RingGroup,
    StaffKind,
    StaffRole,
    TerminalType,
    Unique,
    UniqueKind,
)
from tenants.options import conference, ivr, outbound, recording
from tenants.options.dates import tokyo_today
from tenants.options.models import OptionKind
from tenants.services import circles
from tenants.services import provisioning as p
from tenants.services.resellers import corporate_number_check_digit
from tenants.validation import Outcome

DEMO_PASSWORD = "Demo#Pass2026"  # noqa: S105 (published in the README for the demo)


def _registration_number(twelve_digits: str) -> str:
    return f"T{corporate_number_check_digit(twelve_digits)}{twelve_digits}"


RESELLERS: list[dict[str, Any]] = [
    {
        "slug": "direct",
        "name": "PBXプラットフォーム 直販",
        "is_platform": True,
        "registration_number": _registration_number("010001000001"),
        "theme": {
            "product_name": "PBX Platform Direct",
            "primary_color": "#1f4e8c",
            "accent_color": "#e8f0fb",
            "support_phone": "03-0000-0000",
            "support_email": "support@platform.example",
            "footer_text": "PBX Platform Inc.",
        },
        "prefix": "direct",
        "companies": ["株式会社ダイレクト商事", "有限会社いろは工房", "合同会社ミライ"],
    },
    {
        "slug": "sakura",
        "name": "さくらテレコム株式会社",
        "registration_number": _registration_number("010001000002"),
        "theme": {
            "product_name": "さくらクラウドPBX",
            "primary_color": "#a3123f",
            "accent_color": "#fdeef3",
            "support_phone": "0120-000-111",
            "support_email": "support@sakura-telecom.example",
            "footer_text": "© さくらテレコム株式会社",
            "template_folder": "sakura",
        },
        "prefix": "sakura",
        "companies": ["株式会社桜井製作所", "春日部物流株式会社", "ひまわり歯科クリニック"],
    },
    {
        "slug": "umi",
        "name": "Umi Networks K.K.",
        "registration_number": _registration_number("010001000003"),
        "theme": {
            "product_name": "UMI Phone",
            "primary_color": "#00574b",
            "accent_color": "#e0f2ef",
            "support_phone": "050-0000-2222",
            "support_email": "help@umi-networks.example",
            "footer_text": "Umi Networks K.K. — calls without borders",
        },
        "prefix": "umi",
        "companies": ["湘南マリン株式会社", "Blue Harbor Trading", "株式会社みなと会計事務所"],
    },
]

TERMINALS = [
    ("受付 SIP電話", TerminalType.SIP_PHONE, None),
    ("営業 ソフトフォン", TerminalType.SOFTPHONE, None),
    ("営業部長 携帯 (docomo)", TerminalType.MOBILE, Carrier.DOCOMO),
    ("工場長 携帯 (au)", TerminalType.MOBILE, Carrier.AU),
    ("配送 携帯 (SoftBank)", TerminalType.MOBILE, Carrier.SOFTBANK),
    ("外注 携帯 (その他)", TerminalType.MOBILE, Carrier.OTHER),
    ("倉庫 PHS", TerminalType.PHS, None),
]

POLICIES = [PasswordPolicy.NONE, PasswordPolicy.WARN, PasswordPolicy.FORCE]

# Monthly retail prices, tax-exclusive yen, per unit (R21: each reseller sets its own).
PRICE_BOOK = {
    OptionKind.CONFERENCE_ROOM: 3000,
    OptionKind.OUTBOUND_SELECTION: 1000,
    OptionKind.IVR: 5000,
    OptionKind.CALL_RECORDING: 2000,
    OptionKind.MONITORING: 500,
    OptionKind.WHISPERING: 500,
    OptionKind.INVOICE_MAILING: 200,
    OptionKind.OEM_SERVER: 30000,
}

DEMO_OPTIONS = [
    (OptionKind.CALL_RECORDING, 1),
    (OptionKind.MONITORING, 2),
    (OptionKind.WHISPERING, 1),
    (OptionKind.IVR, 1),
    (OptionKind.CONFERENCE_ROOM, 1),
    (OptionKind.OUTBOUND_SELECTION, 1),
]


def _tone(seconds: float = 1.5, frequency: int = 440) -> bytes:
    """A short 8 kHz mono 16-bit WAV, standing in for a recorded call in the demo."""
    rate = 8000
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * frequency * n / rate)))
        for n in range(int(rate * seconds))
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return buffer.getvalue()


def load(base_domain: str, console_host: str) -> list[str]:
    """Create what is missing; return the slugs created."""
    created = []
    for index, spec in enumerate(RESELLERS):
        if _exists(spec["slug"]):
            continue
        _load_reseller(spec, index, base_domain, console_host)
        created.append(spec["slug"])
    _ensure_ring_groups()
    return created


def _ensure_ring_groups() -> None:
    """Every demo circle has a ring group (同時呼出), also in a database loaded before
    ring groups were part of the demo, or after an R13 change cleared them: a circle
    without one gets ``代表着信`` on the first free extension, ringing its first phones."""
    with platform_bypass("demo.load"):
        reseller_ids = list(
            db.session.scalars(
                select(Reseller.id).where(Reseller.slug.in_([spec["slug"] for spec in RESELLERS]))
            )
        )
    for reseller_id in reseller_ids:
        with use_scope(Scope(reseller_id)):
            grouped = select(RingGroup.circle_id).where(RingGroup.extension.is_not(None))
            for circle in db.session.scalars(select(Circle).where(Circle.id.not_in(grouped))):
                phones = db.session.scalars(
                    select(Unique)
                    .where(
                        Unique.circle_id == circle.id,
                        Unique.kind == UniqueKind.PHONE,
                        Unique.extension.is_not(None),
                    )
                    .order_by(Unique.extension)
                    .limit(3)
                ).all()
                low, high = p.EXTENSION_RANGES[circle.extension_length]
                extension = next(
                    str(n)
                    for n in range(low + (high - low) // 3, high + 1)
                    if circles.extension_problem(circle, str(n)) is None
                )
                p.create_ring_group(circle, name="代表着信", extension=extension, members=phones)


def _exists(slug: str) -> bool:
    with platform_bypass("demo.load"):
        return db.session.scalar(select(Reseller.id).where(Reseller.slug == slug)) is not None


def _load_reseller(spec: dict[str, Any], index: int, base_domain: str, console_host: str) -> None:
    with platform_bypass("demo.load"):
        reseller = p.create_reseller(
            slug=spec["slug"],
            name=spec["name"],
            base_domain=base_domain,
            is_platform=spec.get("is_platform", False),
            console_host=console_host if spec.get("is_platform") else None,
            registration_number=spec["registration_number"],
            postal_code="100-0005",
            prefecture="東京都",
            city="千代田区",
            address_line1="丸の内1-1-1",
        )
    with use_scope(Scope(reseller.id)):
        p.create_theme(reseller, **spec["theme"])
        for kind, price in PRICE_BOOK.items():
            db.session.add(
                PriceBookEntry(
                    reseller_id=reseller.id, option_kind=kind.value, monthly_price_yen=price
                )
            )
        prefix = spec["prefix"]
        if spec.get("is_platform"):
            p.create_staff(
                reseller,
                email="operator@platform.example",
                name="運営 太郎",
                password=DEMO_PASSWORD,
                kind=StaffKind.PLATFORM,
            )
        for role in StaffRole:
            p.create_staff(
                reseller,
                email=f"{role.value}@{prefix}.example",
                name=f"{prefix} {role.value}",
                password=DEMO_PASSWORD,
                kind=StaffKind.RESELLER,
                role=role,
            )
        for a, company in enumerate(spec["companies"], start=1):
            account = p.create_account(
                reseller,
                company_name=company,
                postal_code="150-0002",
                prefecture="東京都",
                city="渋谷区",
                address_line1=f"渋谷{a}-2-3",
                billing_contact_name="経理 花子",
                billing_contact_email=f"billing{a}@{prefix}-customer.example",
            )
            if a == 1:
                p.add_account_option(account, AccountOptionKind.INVOICE_MAILING, date(2026, 4, 1))
            p.create_staff(
                reseller,
                email=f"manager{a}@{prefix}.example",
                name=f"管理者 {a}",
                password=DEMO_PASSWORD,
                kind=StaffKind.ACCOUNT_MANAGER,
                account=account,
            )
            for c in range(1, 4 if a == 1 else 2):
                number = (index * 100) + a * 10 + c
                policy = POLICIES[c - 1] if a == 1 else PasswordPolicy.NONE
                circle = p.create_circle(
                    account,
                    name=f"{company} 第{c}サークル",
                    login_id=f"{prefix}-{a}-{c}",
                    password=DEMO_PASSWORD,
                    policy=policy,
                    phone_numbers=(f"03-5555-{number:04d}", f"050-3333-{number:04d}"),
                )
                _load_uniques(circle)
                if a == 1 and c == 1:
                    # The option services read the circle through the scope alone.
                    with circle_scope(reseller.id, account.id, circle.id):
                        _load_options(circle)


def _load_uniques(circle: Circle) -> None:
    uniques = []
    for n, (name, terminal, carrier) in enumerate(TERMINALS):
        uniques.append(
            p.create_unique(
                circle,
                extension=str(201 + n),
                display_name=name,
                terminal_type=terminal,
                carrier=carrier,
            )
        )
    p.create_ring_group(circle, name="代表着信", extension="400", members=uniques[:3])


def _load_options(circle: Circle) -> None:
    """A circle that holds every option, with a few recordings to download."""
    for kind, quantity in DEMO_OPTIONS:
        p.add_circle_option(circle, kind, quantity=quantity, starts_on=date(2026, 4, 1))
    today = tokyo_today()
    numbers = list(circle.phone_numbers)
    _ensure(
        conference.save_room(
            circle,
            None,
            conference.RoomInput(
                name="会議室A", extension="300", phone_number_id=str(numbers[0].id), new_pin="2580"
            ),
            today,
        )
    )
    ivr.create_ivr(circle, "310", "代表IVR")
    _ensure(
        outbound.save_selector(
            circle,
            None,
            outbound.SelectorInput(
                name="発信仕分(050番号)", extension="320", phone_number_id=str(numbers[1].id)
            ),
            today,
        )
    )
    now = datetime.now(UTC)
    for days_ago in (0, 1, 3):
        recording.store(
            circle,
            started_at=now - timedelta(days=days_ago, hours=2),
            wav=_tone(),
            duration_seconds=2,
            remote_number="+81355550000",
        )


def _ensure(outcome: Outcome) -> None:
    if not outcome.ok:
        raise RuntimeError(f"demo data refused: {outcome.errors}")
