"""R7 monitoring and R8 whispering: per-unique ticks within the licences bought."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from pbx_platform.audit import audit_action
from pbx_platform.db import db
from pbx_platform.tenancy import require_circle_scope
from pbx_platform.versioning import check_edit, claim_edit
from tenants.models import Carrier, Circle, TerminalType, Unique, UniqueKind
from tenants.options import services
from tenants.options.models import OptionKind

LICENCES_VERSION = "licences_edit_version"
# The page serves two options: it is "not contracted" while the circle holds neither.
PAGE_LABEL = _l("Monitoring and whispering")


class LicenceError(ValueError):
    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def terminals(circle: Circle) -> Sequence[Unique]:
    """The circle's phones: the only uniques that monitor or whisper."""
    require_circle_scope(circle.id)
    return db.session.scalars(
        select(Unique).where(Unique.kind == UniqueKind.PHONE).order_by(Unique.extension, Unique.id)
    ).all()


def whispering_refused(unique: Unique) -> bool:
    """R8: whispering cannot be used with PHS terminals or au (KDDI) mobiles."""
    return unique.terminal_type == TerminalType.PHS or unique.carrier == Carrier.AU


def save_ticks(
    circle: Circle,
    *,
    monitoring: Iterable[int],
    whispering: Iterable[int],
    today: date,
    version: int | None = None,
) -> None:
    """Tick uniques for monitoring and whispering, no more than the licences held (the
    circle's options locked, so a cart cancelling licences meanwhile waits).

    ``version``: the circle's ``licences_edit_version`` the page was opened at; a stale
    page raises ``StaleEdit`` and changes nothing (``pbx_platform.versioning``)."""
    services.lock_options(circle)
    if not any(
        services.is_contracted(circle, kind, today)
        for kind in (OptionKind.MONITORING, OptionKind.WHISPERING)
    ):
        raise services.OptionNotContracted(OptionKind.MONITORING, label=PAGE_LABEL)
    if version is not None:
        check_edit(circle, version, LICENCES_VERSION)
    phones = {u.id: u for u in terminals(circle)}
    wanted = {OptionKind.MONITORING: set(monitoring), OptionKind.WHISPERING: set(whispering)}
    problems: list[str] = []
    for kind, ids in wanted.items():
        label = services.OPTION_LABELS[kind]
        if ids - phones.keys():
            problems.append(str(_l("Some of the selected uniques do not belong to this circle.")))
            continue
        licences = services.holding(circle, kind, today).quantity
        if len(ids) > licences:
            problems.append(
                str(
                    _l(
                        "%(option)s: %(ticked)d ticked but only %(n)d licences are contracted.",
                        option=label,
                        ticked=len(ids),
                        n=licences,
                    )
                )
            )
    for unique_id in sorted(wanted[OptionKind.WHISPERING] & phones.keys()):
        unique = phones[unique_id]
        if whispering_refused(unique):
            problems.append(
                str(
                    _l(
                        "Whispering is not available for %(ext)s %(name)s "
                        "(PHS and au phones cannot be whispered to).",
                        ext=unique.extension or "—",
                        name=unique.display_name,
                    )
                )
            )
    if problems:
        raise LicenceError(problems)
    with audit_action("licences.ticks"):
        if version is not None:
            claim_edit(circle, version, LICENCES_VERSION)
        for unique_id, unique in phones.items():
            unique.monitoring = unique_id in wanted[OptionKind.MONITORING]
            unique.whispering = unique_id in wanted[OptionKind.WHISPERING]
        db.session.flush()
