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

from pbx_platform.db import db
from pbx_platform.tenancy import Scope, circle_scope, platform_bypass, use_scope
from tenants import hooks
from tenants.calls import records
from tenants.calls.models import Direction, Disposition
from tenants.models import (
    Account,
    AccountOptionKind,
    Carrier,
    Circle,
    InvoiceDelivery,
    NumberKind,
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
from tenants.scoping import each_circle
from tenants.services import circles
from tenants.services import provisioning as p
from tenants.services.reseller_details import account_holder
from tenants.services.resellers import corporate_number_check_digit
from tenants.validation import Outcome

DEMO_PASSWORD = "Demo#Pass2026"  # noqa: S105 (published in the README for the demo)


def _registration_number(twelve_digits: str) -> str:
    return f"T{corporate_number_check_digit(twelve_digits)}{twelve_digits}"


RESELLERS: list[dict[str, Any]] = [
    {
        "slug": "direct",
        # 口座名義 as banks print it; stored full-width (reseller_details.account_holder).
        "bank_holder": "ﾋﾟｰﾋﾞｰｴｯｸｽﾌﾟﾗｯﾄﾌｫｰﾑ(ｶ",
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
        # 口座名義 as banks print it; stored full-width (reseller_details.account_holder).
        "bank_holder": "ｻｸﾗﾃﾚｺﾑ(ｶ",
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
        # 口座名義 as banks print it; stored full-width (reseller_details.account_holder).
        "bank_holder": "ｶ)ｳﾐﾈｯﾄﾜｰｸｽ",
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

# Each demo customer's details: its reading, a real postal code with its address,
# a billing contact and how its invoices reach it (post only with invoice mailing, R2:
# the first customer of each reseller holds it).
CUSTOMER_DETAILS: dict[str, dict[str, Any]] = {
    "株式会社ダイレクト商事": {
        "company_name_kana": "ダイレクトショウジ",
        "postal_code": "530-0001",
        "prefecture": "大阪府",
        "city": "大阪市北区",
        "address_line1": "梅田1-2-3",
        "address_line2": "梅田センタービル12階",
        "billing_contact_name": "大野 直子",
        "billing_contact_phone": "+81663450001",
        "invoice_delivery": InvoiceDelivery.POST,
    },
    "有限会社いろは工房": {
        "company_name_kana": "イロハコウボウ",
        "postal_code": "810-0001",
        "prefecture": "福岡県",
        "city": "福岡市中央区",
        "address_line1": "天神2-5-8",
        "billing_contact_name": "石川 健",
        "billing_contact_phone": "+81927120002",
        "invoice_delivery": InvoiceDelivery.EMAIL,
    },
    "合同会社ミライ": {
        "company_name_kana": "ミライ",
        "postal_code": "460-0008",
        "prefecture": "愛知県",
        "city": "名古屋市中区",
        "address_line1": "栄3-4-5",
        "address_line2": "栄スクエア5階",
        "billing_contact_name": "三浦 来未",
        "billing_contact_phone": "+819012340003",
        "invoice_delivery": InvoiceDelivery.PORTAL,
    },
    "株式会社桜井製作所": {
        "company_name_kana": "サクライセイサクショ",
        "postal_code": "150-0002",
        "prefecture": "東京都",
        "city": "渋谷区",
        "address_line1": "渋谷2-21-1",
        "address_line2": "渋谷ヒカリエ8階",
        "billing_contact_name": "桜井 花子",
        "billing_contact_phone": "+81354660001",
        "invoice_delivery": InvoiceDelivery.POST,
    },
    "春日部物流株式会社": {
        "company_name_kana": "カスカベブツリュウ",
        "postal_code": "344-0067",
        "prefecture": "埼玉県",
        "city": "春日部市",
        "address_line1": "中央1-1-1",
        "billing_contact_name": "春日 一郎",
        "billing_contact_phone": "+81487360002",
        "invoice_delivery": InvoiceDelivery.EMAIL,
    },
    "ひまわり歯科クリニック": {
        "company_name_kana": "ヒマワリシカクリニック",
        "postal_code": "060-0001",
        "prefecture": "北海道",
        "city": "札幌市中央区",
        "address_line1": "北一条西4-1-2",
        "address_line2": "ひまわりビル2階",
        "billing_contact_name": "日向 葵",
        "billing_contact_phone": "+81112510003",
        "invoice_delivery": InvoiceDelivery.PORTAL,
    },
    "湘南マリン株式会社": {
        "company_name_kana": "ショウナンマリン",
        "postal_code": "251-0035",
        "prefecture": "神奈川県",
        "city": "藤沢市",
        "address_line1": "片瀬海岸2-1-1",
        "billing_contact_name": "湊 海斗",
        "billing_contact_phone": "+81466220001",
        "invoice_delivery": InvoiceDelivery.POST,
    },
    "Blue Harbor Trading": {
        "company_name_kana": "ブルーハーバートレーディング",
        "postal_code": "231-0023",
        "prefecture": "神奈川県",
        "city": "横浜市中区",
        "address_line1": "山下町1-1",
        "address_line2": "Harbor Tower 15F",
        "billing_contact_name": "Emma Blue",
        "billing_contact_phone": "+81456610002",
        "invoice_delivery": InvoiceDelivery.EMAIL,
    },
    "株式会社みなと会計事務所": {
        "company_name_kana": "ミナトカイケイジムショ",
        "postal_code": "104-0061",
        "prefecture": "東京都",
        "city": "中央区",
        "address_line1": "銀座4-6-1",
        "billing_contact_name": "港 真理",
        "billing_contact_phone": "+81335670003",
        "invoice_delivery": InvoiceDelivery.PORTAL,
    },
}

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
            _complete_customers(spec)
            continue
        _load_reseller(spec, index, base_domain, console_host)
        created.append(spec["slug"])
    _ensure_ring_groups()
    return created


def _complete_customers(spec: dict[str, Any]) -> None:
    """Demo customers loaded before they had readings get their details once (an
    account that has a reading is left as it is)."""
    with platform_bypass("demo.load"):
        reseller_id = db.session.scalars(
            select(Reseller.id).where(Reseller.slug == spec["slug"])
        ).one()
    with use_scope(Scope(reseller_id)):
        for account in db.session.scalars(
            select(Account).where(
                Account.company_name.in_(spec["companies"]), Account.company_name_kana == ""
            )
        ):
            for name, value in CUSTOMER_DETAILS[account.company_name].items():
                setattr(account, name, value)
        db.session.flush()


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
            lonely = list(db.session.scalars(select(Circle).where(Circle.id.not_in(grouped))))
            for circle in each_circle(lonely):
                phones = db.session.scalars(
                    select(Unique)
                    .where(Unique.kind == UniqueKind.PHONE, Unique.extension.is_not(None))
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
                db.session.flush()


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
            bank_name="みずほ銀行",
            bank_branch="丸の内支店",
            bank_account_type="ordinary",
            bank_account_number=f"{1234561 + index:07d}",
            bank_account_holder=account_holder(spec["bank_holder"]),
        )
    with use_scope(Scope(reseller.id)):
        p.create_brand(reseller, **spec["theme"])
        # The price book (``invoices``) and anything else the contexts above add.
        hooks.run_demo_steps(reseller)
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
        # The reseller's pool: free numbers its staff can put on circles (the platform's
        # own pool is its stock, not yet allocated to any reseller).
        for k in range(5):
            p.add_inventory_number(
                reseller, f"03-5555-{index * 100 + 90 + k:04d}", NumberKind.LANDLINE
            )
        for k in range(3):
            p.add_inventory_number(reseller, f"050-3333-{index * 100 + 90 + k:04d}", NumberKind.IP)
        if spec.get("is_platform"):
            for k in range(3):
                p.add_inventory_number(reseller, f"0120-555-{k:03d}", NumberKind.FREE_DIAL)
        for a, company in enumerate(spec["companies"], start=1):
            account = p.create_account(
                reseller,
                company_name=company,
                billing_contact_email=f"billing{a}@{prefix}-customer.example",
                **CUSTOMER_DETAILS[company],
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
                )
                # Two numbers of the reseller's inventory on every circle.
                p.add_inventory_number(
                    reseller, f"03-5555-{number:04d}", NumberKind.LANDLINE, circle=circle
                )
                p.add_inventory_number(
                    reseller, f"050-3333-{number:04d}", NumberKind.IP, circle=circle
                )
                # The circle's own rows go in narrowed to it, as a request on it would.
                with circle_scope(reseller.id, account.id, circle.id):
                    _load_uniques(circle)
                    if a == 1 and c == 1:
                        _load_options(circle)
                    # Staff and the account's manager can send this circle a reset link.
                    circle.recovery_email = f"{prefix}-{a}-{c}@{prefix}-customer.example"


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
    _load_calls(circle)


DEMO_PARTIES = ("+81355550000", "+819012345678", "+81452221111", "+81120123456")


def _load_calls(circle: Circle) -> None:
    """Two weeks of calls on the circle's phones, the answered ones of the last four
    days recorded: what the call history and the archive show."""
    phones = db.session.scalars(
        select(Unique)
        .where(Unique.circle_id == circle.id, Unique.kind == UniqueKind.PHONE)
        .order_by(Unique.extension)
    ).all()
    now = datetime.now(UTC).replace(microsecond=0)
    directions = (Direction.IN, Direction.OUT, Direction.IN, Direction.INTERNAL)
    outcomes = (Disposition.ANSWERED,) * 3 + (Disposition.NO_ANSWER, Disposition.BUSY)
    for n in range(42):
        phone = phones[n % len(phones)]
        direction = directions[n % len(directions)]
        disposition = outcomes[n % len(outcomes)]
        started = now - timedelta(hours=8 * n + 1, minutes=7 * n % 60)
        answered = started + timedelta(seconds=6) if disposition == Disposition.ANSWERED else None
        ended = (answered or started) + timedelta(seconds=30 + 17 * n % 400)
        party = (
            (phones[(n + 1) % len(phones)].extension or "")
            if direction == Direction.INTERNAL
            else DEMO_PARTIES[n % len(DEMO_PARTIES)]
        )
        caller, called = (
            (phone.extension or "", party)
            if direction == Direction.OUT
            else (party, phone.extension or "")
        )
        call, _ = records.add(
            circle,
            records.CallInput(
                call_id=f"demo-{circle.id}-{n:04d}",
                direction=direction,
                started_at=started,
                answered_at=answered,
                ended_at=ended,
                disposition=disposition,
                unique=phone,
                caller=caller,
                called=called,
            ),
        )
        if answered is not None and (now - started).days < 4 and not phone.recording_refused:
            recording.store(circle, call, [_tone(frequency=300 + 20 * n)])


def _ensure(outcome: Outcome) -> None:
    if not outcome.ok:
        raise RuntimeError(f"demo data refused: {outcome.errors}")
