"""The circle services read a circle's rows through the tenant scope alone (R20,
DESIGN "One request scope"): narrowed to the circle they see it; under a wider scope
(the reseller's, as a forgotten narrowing would leave it) or another circle's they
refuse with ``TenantScopeError`` instead of seeing the other circles' rows."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from pbx_platform.db import db
from pbx_platform.tenancy import TenantScopeError, use_scope
from tenants.calls import backfill, history, ingest, pbx_config
from tenants.models import Circle
from tenants.options import (
    licences,
    recording,
    recording_archive,
    recording_upkeep,
    storage_series,
)
from tenants.options import services as options
from tenants.options.models import OptionKind
from tenants.services import circles, directory
from tenants.services import provisioning as p
from tenants.services.circles import unique_csv
from tenants.services.circles.ring_groups import member_candidates, ring_groups_to_set_up
from tenants.services.circles.ring_groups import ring_groups as list_ring_groups
from tenants.validation import extension_problem
from tests.factories import in_circle

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)

SERVICES: dict[str, Callable[[Circle], Any]] = {
    "options.circle_options": options.circle_options,
    "options.holdings": lambda c: options.holdings(c, TODAY),
    "options.is_contracted": lambda c: options.is_contracted(c, OptionKind.IVR, TODAY),
    "options.ticked_uniques": lambda c: options.ticked_uniques(c, OptionKind.MONITORING),
    "options.room_uniques": options.room_uniques,
    "licences.terminals": licences.terminals,
    "recording.usage": recording.usage,
    "recording.phone_uniques": recording.phone_uniques,
    "recording_upkeep.monthly_peak": lambda c: recording_upkeep.monthly_peak(c, 2026, 11),
    "recording_upkeep.snapshot_circle": lambda c: recording_upkeep.snapshot_circle(c, TODAY),
    "recording_upkeep.purge_circle": lambda c: recording_upkeep.purge_circle(c, TODAY),
    "recording_archive.recordings_between": lambda c: recording_archive.recordings_between(
        c, TODAY, TODAY
    ),
    "recording_archive.preview": lambda c: recording_archive.preview(
        c, recording_archive.ArchiveFilter(TODAY, TODAY)
    ),
    "recording_archive.archive": lambda c: recording_archive.archive(
        c, recording_archive.ArchiveFilter(TODAY, TODAY)
    ),
    "storage_series.stored_per_day": lambda c: storage_series.stored_per_day(c, TODAY),
    "circles.unique_page": circles.unique_page,
    "circles.circle_unique": lambda c: circles.circle_unique(c, 1),
    "circles.pickup_group_choices": circles.pickup_group_choices,
    "circles.pickup_groups": circles.pickup_groups,
    "circles.circle_pickup_group": lambda c: circles.circle_pickup_group(c, 1),
    "circles.pickup_name_problem": lambda c: circles.pickup_name_problem(c, "Night"),
    "circles.plan_length_change": lambda c: circles.plan_length_change(c, 4),
    "circles.plan_renumber": circles.plan_renumber,
    "circles.uniques_without_extension": circles.uniques_without_extension,
    "directory.circle_overview": directory.circle_overview,
    "provisioning.default_pickup_group": p.default_pickup_group,
    "validation.extension_problem": lambda c: extension_problem(c, "250"),
    "ring_groups.ring_groups": list_ring_groups,
    "ring_groups.member_candidates": member_candidates,
    "ring_groups.ring_groups_to_set_up": ring_groups_to_set_up,
    "unique_csv.export_text": unique_csv.export_text,
    "unique_csv.state_digest": unique_csv.state_digest,
    "pbx_config.circle_config": lambda c: pbx_config.circle_config(c, TODAY, str),
    "ingest.circle_extensions": ingest.circle_extensions,
    "history.call_page": lambda c: history.call_page(c, history.CallFilter.default(TODAY)),
    "history.page_statement": lambda c: history.page_statement(
        c, history.CallFilter.default(TODAY)
    ),
    "history.check_filter": lambda c: history.check_filter(c, history.CallFilter.default(TODAY)),
    "history.filter_uniques": history.filter_uniques,
    "history.circle_recording": lambda c: history.circle_recording(c, 1),
    "backfill.preview": lambda c: backfill.preview(c, backfill.template_csv(), now=NOW),
    "backfill.apply": lambda c: backfill.apply(c, backfill.template_csv(), now=NOW),
}


@pytest.mark.parametrize("name", list(SERVICES))
def test_a_circle_service_refuses_the_reseller_wide_scope(app, world, name):
    with app.app_context(), use_scope(world.a.scope):
        circle = db.session.get(Circle, world.a.circle_id)
        assert circle is not None
        with pytest.raises(TenantScopeError, match=f"narrowed to circle {circle.id}"):
            SERVICES[name](circle)


@pytest.mark.parametrize("name", list(SERVICES))
def test_a_circle_service_refuses_another_circles_scope(app, world, name):
    with app.app_context(), use_scope(world.a.scope):
        circle = db.session.get(Circle, world.a.circle_id)
        assert circle is not None
    with in_circle(app, world.a, world.a.other_circle_id):
        with pytest.raises(TenantScopeError):
            SERVICES[name](circle)


@pytest.mark.parametrize("name", list(SERVICES))
def test_a_circle_service_runs_narrowed_to_its_circle(app, world, name):
    with in_circle(app, world.a) as circle:
        SERVICES[name](circle)


def test_narrowed_to_its_circle_a_service_sees_no_other_circles_rows(app, world):
    with in_circle(app, world.a, world.a.other_circle_id) as other:
        p.create_unique(other, extension="250", display_name="他社の内線")
        db.session.commit()
    with in_circle(app, world.a) as circle:
        names = {u.display_name for u in directory.circle_overview(circle)[0]}
        assert names == {"受付", "携帯", "会議室"}
        assert circles.extension_problem(circle, "250") is None
        assert [g.name for g in circles.pickup_group_choices(circle)] == ["Default"]


def test_a_circle_service_refuses_the_platform_bypass(app, world):
    from pbx_platform.tenancy import platform_bypass

    with in_circle(app, world.a) as circle, platform_bypass("tests.circle_scope"):
        with pytest.raises(TenantScopeError):
            circles.pickup_group_choices(circle)


# The files whose circle filters the scope now keeps; a filter left there is written
# on purpose, with the reason on the lines above it ("Kept by hand").
SCOPED_FILES = [
    "tenants/calls/backfill.py",
    "tenants/calls/history.py",
    "tenants/options/cart.py",
    "tenants/options/licences.py",
    "tenants/options/recording.py",
    "tenants/options/recording_upkeep.py",
    "tenants/options/recording_archive.py",
    "tenants/options/storage_series.py",
    "tenants/options/services.py",
    "tenants/services/circles/uniques.py",
    "tenants/services/circles/pickup_groups.py",
    "tenants/services/circles/extension_length.py",
    "tenants/services/directory.py",
    "tenants/services/provisioning.py",
    "tenants/services/circles/ring_groups.py",
    "tenants/services/circles/terminals.py",
    "tenants/services/circles/unique_csv.py",
    "tenants/services/numbers.py",
    "tenants/validation.py",
    "tenants/calls/ingest.py",
    "tenants/calls/pbx_config.py",
    "tenants/api/access.py",
]
HAND_FILTER = re.compile(r"\w+\.circle_id == (circle\.id|circle_id|target\.circle\.id)")


@pytest.mark.parametrize("relative", SCOPED_FILES)
def test_no_hand_written_circle_filter_without_its_reason(relative):
    lines = (ROOT / relative).read_text().splitlines()
    for number, line in enumerate(lines):
        if HAND_FILTER.search(line):
            before = "\n".join(lines[max(0, number - 4) : number])
            assert "Kept by hand" in before, f"{relative}:{number + 1}: {line.strip()}"


def test_the_filter_scan_sees_a_hand_filter():
    assert HAND_FILTER.search("select(Unique).where(Unique.circle_id == circle.id)")
    assert HAND_FILTER.search("query.where(AuditLog.circle_id == circle_id)")
    assert not HAND_FILTER.search("circle_id=circle.id,")
