"""Routing loops between a circle's IVRs (R5): the routing graph and its two rules.

Destinations are *exits* (a unique, a ring group, a conference room, an outside
number, hang-up) or another IVR. Two rules, checked over all the circle's IVRs with
the edited one's new settings:

1. Every IVR can reach an exit through some key, its time-out or its after-hours
   destination. IVRs that only route to one another (A → B → A with nothing else)
   are refused.
2. A caller who presses nothing reaches an exit: following time-out and after-hours
   destinations from any IVR never comes back to an IVR already passed. The
   after-hours destination counts because a closed IVR forwards at once; both count
   whatever the business hours, as closing times change.

Loops through keys are allowed when rule 2 holds: "9: back to the main menu" is a
normal menu, and the caller chooses it. So A (1 → B) and B (1 → A, 2 → a unique),
both timing out to hang-up, are accepted; A and B timing out to each other are not.

Everything here works on the IVRs it is given and reads nothing itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from tenants.options.ivr.settings import HANGUP, DestinationType, IvrSettings
from tenants.options.models import Ivr


@dataclass(frozen=True)
class Routes:
    """One IVR's outgoing routes: IVR unique ids, and whether any route is an exit."""

    chosen: frozenset[int]  # through keys, time-out and after-hours
    silent: frozenset[int]  # through time-out and after-hours only
    exits: bool  # some route (key, time-out, after-hours) leaves the IVRs


def routes_of(settings: IvrSettings | Ivr, ivr_unique_ids: frozenset[int]) -> Routes:
    digit_map = settings.digit_map or {}
    silent_list = [settings.timeout_destination or HANGUP, settings.after_hours or HANGUP]
    every = [*digit_map.values(), *silent_list]

    def ivr_targets(destinations: list[Any]) -> frozenset[int]:
        return frozenset(
            d["id"] for d in destinations
            if d.get("type") == DestinationType.IVR and d.get("id") in ivr_unique_ids
        )  # fmt: skip

    # A destination naming an IVR that no longer exists cannot loop.
    exits = any(
        d.get("type") != DestinationType.IVR or d.get("id") not in ivr_unique_ids for d in every
    )
    return Routes(chosen=ivr_targets(every), silent=ivr_targets(silent_list), exits=exits)


def trapped(graph: Mapping[int, Routes]) -> list[int]:
    """Rule 1: IVRs from which no route reaches an exit."""
    reaching = {node for node, routes in graph.items() if routes.exits}
    changed = True
    while changed:
        changed = False
        for node, routes in graph.items():
            if node not in reaching and routes.chosen & reaching:
                reaching.add(node)
                changed = True
    return sorted(set(graph) - reaching)


def silent_cycle(graph: Mapping[int, Routes]) -> list[int]:
    """Rule 2: a cycle through time-out and after-hours routes ([a, b, a]), or []."""
    state: dict[int, int] = {}  # 1: on the current path, 2: done
    path: list[int] = []

    def visit(node: int) -> list[int]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node].silent):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return []

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return []


def routing_problem(circle_ivrs: Iterable[Ivr], ivr: Ivr, settings: IvrSettings) -> Any:
    """The loop rules over ``circle_ivrs`` (all the circle's IVRs), ``ivr`` taking its
    new ``settings``; the message, or None."""
    ivrs = {other.unique_id: other for other in circle_ivrs}
    ivrs[ivr.unique_id] = ivr
    ids = frozenset(ivrs)
    graph = {
        unique_id: routes_of(settings if unique_id == ivr.unique_id else other, ids)
        for unique_id, other in ivrs.items()
    }

    def names(unique_ids: list[int]) -> str:
        return " → ".join(
            settings.extension if u == ivr.unique_id else (ivrs[u].unique.extension or "—")
            for u in unique_ids
        )

    stuck = trapped(graph)
    if stuck:
        return _l(
            "Routing loop: IVRs %(ivrs)s only route to one another and never reach an "
            "extension, a number or hang-up. Send a key, the time-out or the after-hours "
            "destination out of the loop.",
            ivrs=names(stuck).replace(" → ", ", "),
        )
    cycle = silent_cycle(graph)
    if cycle:
        return _l(
            "Routing loop: a caller who presses no key would go round %(path)s forever. "
            "Send the time-out or the after-hours destination of one of them out of the loop.",
            path=names(cycle),
        )
    return None


def referring(circle_ivrs: Iterable[Ivr], ivr: Ivr) -> list[Ivr]:
    """The IVRs among ``circle_ivrs``, other than ``ivr``, that route to it."""
    result = []
    for other in circle_ivrs:
        if other.id == ivr.id:
            continue
        destinations = [*(other.digit_map or {}).values(), other.after_hours,
                        other.timeout_destination]  # fmt: skip
        if any(
            (d or {}).get("type") == DestinationType.IVR and (d or {}).get("id") == ivr.unique_id
            for d in destinations
        ):
            result.append(other)
    return result
