"""IVR settings (R5): business hours, ring time, channels, the digit map and its
destinations, routing loops, and the prompt. One module per rule:

* ``settings``: the typed settings (``IvrInput`` as typed, ``IvrSettings`` as stored),
  business hours, ring time and channels;
* ``identity``: the IVR's extension and name (``extension_and_name_problems``);
* ``destinations``: what a key, the time-out and after-hours may route to;
* ``graph``: the routing graph and its loop rules;
* ``service``: reading, validating an edit, creating, saving, deleting;
* ``prompts``: the prompt's audio.

An IVR is a unique of kind ``ivr`` (its extension and display name) plus an ``Ivr``
row. The circle boundary is the tenant scope's: the services assert that the work runs
narrowed to the circle they are given (``tenancy.require_circle_scope``) and name no
circle in their queries. Forms are read by the view layer (``tenants.forms_ivr``),
which hands the services an ``IvrInput``. Callers use ``ivr.<name>``; the names are
re-exported here. Services flush; the request commits.
"""

from __future__ import annotations

from tenants.options.ivr.destinations import Targets, outside_number, parse_destination
from tenants.options.ivr.graph import Routes, routes_of, silent_cycle, trapped
from tenants.options.ivr.identity import NAME_MAX, extension_and_name_problems
from tenants.options.ivr.prompts import remove_prompt, speak_prompt, upload_prompt
from tenants.options.ivr.service import (
    circle_ivrs,
    create_ivr,
    delete_ivr,
    find_ivr,
    referring_ivrs,
    routing_problem,
    settings_from_input,
    targets,
    update_ivr,
)
from tenants.options.ivr.settings import (
    DAY_LABELS,
    DAYS,
    DEFAULT_HOURS,
    DIGIT_FIELDS,
    DIGITS,
    HANGUP,
    MAX_ANSWER_SECONDS,
    MAX_CHANNELS,
    MIN_CHANNELS,
    UNIQUE_KINDS,
    DayHours,
    DestinationChoice,
    DestinationType,
    IvrError,
    IvrInput,
    IvrSettings,
    is_open,
)

__all__ = [
    "DAYS",
    "DAY_LABELS",
    "DEFAULT_HOURS",
    "DIGITS",
    "DIGIT_FIELDS",
    "HANGUP",
    "MAX_ANSWER_SECONDS",
    "MAX_CHANNELS",
    "MIN_CHANNELS",
    "NAME_MAX",
    "UNIQUE_KINDS",
    "DayHours",
    "DestinationChoice",
    "DestinationType",
    "IvrError",
    "IvrInput",
    "IvrSettings",
    "Routes",
    "Targets",
    "circle_ivrs",
    "create_ivr",
    "delete_ivr",
    "extension_and_name_problems",
    "find_ivr",
    "is_open",
    "outside_number",
    "parse_destination",
    "referring_ivrs",
    "remove_prompt",
    "routes_of",
    "routing_problem",
    "settings_from_input",
    "silent_cycle",
    "speak_prompt",
    "targets",
    "trapped",
    "update_ivr",
    "upload_prompt",
]
