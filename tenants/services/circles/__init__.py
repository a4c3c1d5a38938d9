"""Circle settings (R13, R16) and the circle's directory of uniques, one module per rule:

* ``uniques``: the directory of uniques and a unique's own settings;
* ``terminals``: adding and removing phones, their SIP credentials;
* ``pickup_groups``: R16;
* ``extension_length``: R13, the length change and the renumbering;
* ``ring_groups``: ring groups (同時呼出), set up again after an R13 change;
* ``common``: errors and limits;
* names, extensions (R13) and NFKC input are ``tenants.validation``'s, re-exported.

The circle boundary is the tenant scope's: circle logins and staff acting on one circle
are scoped to it (``pbx_platform.tenancy.narrow_request_scope``), and the demo loader,
jobs and tests enter ``tenancy.circle_scope``. The services name no circle in their
queries; each one first calls ``tenancy.require_circle_scope(circle.id)``, so under a
wider scope it refuses (``TenantScopeError``) rather than see other circles' rows.
Callers use ``circles.<name>``; the names are re-exported here. Services flush; the
request commits.
"""

from __future__ import annotations

from tenants.services.circles.common import (
    DIGITS,
    DISPLAY_NAME_MAX,
    EXTENSION_LENGTHS,
    HALF_WIDTH_ALNUM,
    MAX_ID,
    PICKUP_NAME_MAX,
    SEARCH_MAX,
    UNIQUES_PAGE_SIZE,
    CircleSettingsError,
    StaleConfirmation,
    escape_like,
)
from tenants.services.circles.extension_length import (
    ClearedRingGroup,
    LengthChangePlan,
    LengthChangeResult,
    RenumberPlan,
    RenumberRow,
    apply_renumber,
    change_extension_length,
    extension_range,
    plan_length_change,
    plan_renumber,
    uniques_without_extension,
)
from tenants.services.circles.pickup_groups import (
    PickupGroupRow,
    add_pickup_group,
    circle_pickup_group,
    delete_pickup_group,
    normalize_pickup_name,
    pickup_group_choices,
    pickup_group_members,
    pickup_groups,
    pickup_name_problem,
    rename_pickup_group,
)
from tenants.services.circles.ring_groups import (
    MemberChoice,
    RingGroupInput,
    RingGroupOutcome,
    RingGroupRow,
    circle_ring_group,
    delete_ring_group,
    member_candidates,
    ring_group_uses,
    ring_group_values,
    ring_groups,
    ring_groups_to_set_up,
    save_ring_group,
)
from tenants.services.circles.terminals import (
    RemovalPlan,
    TerminalInput,
    TerminalOutcome,
    create_terminal,
    regenerate_sip_secret,
    removal_plan,
    remove_terminal,
    sip_realm,
)
from tenants.services.circles.uniques import (
    SIP_TYPES,
    UniquePage,
    circle_unique,
    normalize_search,
    unique_page,
    update_unique,
)
from tenants.validation import Outcome, extension_problem, has_control_characters, normalized
from tenants.validation import name_problem as display_name_problem

__all__ = [
    "DIGITS",
    "DISPLAY_NAME_MAX",
    "EXTENSION_LENGTHS",
    "HALF_WIDTH_ALNUM",
    "MAX_ID",
    "PICKUP_NAME_MAX",
    "SEARCH_MAX",
    "SIP_TYPES",
    "UNIQUES_PAGE_SIZE",
    "CircleSettingsError",
    "ClearedRingGroup",
    "LengthChangePlan",
    "LengthChangeResult",
    "MemberChoice",
    "Outcome",
    "PickupGroupRow",
    "RemovalPlan",
    "RenumberPlan",
    "RenumberRow",
    "RingGroupInput",
    "RingGroupOutcome",
    "RingGroupRow",
    "StaleConfirmation",
    "TerminalInput",
    "TerminalOutcome",
    "UniquePage",
    "add_pickup_group",
    "apply_renumber",
    "change_extension_length",
    "circle_pickup_group",
    "circle_ring_group",
    "circle_unique",
    "create_terminal",
    "delete_pickup_group",
    "delete_ring_group",
    "display_name_problem",
    "escape_like",
    "extension_problem",
    "extension_range",
    "has_control_characters",
    "member_candidates",
    "normalize_pickup_name",
    "normalize_search",
    "normalized",
    "pickup_group_choices",
    "pickup_group_members",
    "pickup_groups",
    "pickup_name_problem",
    "plan_length_change",
    "plan_renumber",
    "regenerate_sip_secret",
    "removal_plan",
    "remove_terminal",
    "rename_pickup_group",
    "ring_group_uses",
    "ring_group_values",
    "ring_groups",
    "ring_groups_to_set_up",
    "save_ring_group",
    "sip_realm",
    "unique_page",
    "uniques_without_extension",
    "update_unique",
]
