"""Circle self-service pages, shared by the circle portal and the reseller's staff.

One blueprint, registered twice: ``circle_self`` at ``/portal`` for the circle login
itself, ``circle_staff`` at ``/staff/circles/<id>`` for reseller staff and account
managers acting on a circle of theirs. Views find the circle in ``g.circle``;
``url_for('.endpoint')`` keeps the caller in its own tree.

R22 is checked here, once the circle is found (another's circle is 404 first): a
page is read with ``CIRCLE_VIEW`` and changed with ``CIRCLE_SETTINGS_EDIT``, unless
its view names another action with ``@needs(...)`` (the cart, the storage limit).

"Is the option contracted" is answered by ``services.require_contracted`` (and
``is_contracted``) alone, the same way on every option page: a page of an option the
circle does not hold renders with 200 and says so, with a link to buy it; a request
that would use or change the option (a form's POST, a download) raises
``services.OptionNotContracted``, and this blueprint answers it with 409 and the one
message, whatever the page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Flask, current_app, g, render_template, request
from flask_login import current_user

from pbx_platform.permissions import Action, allowed, require
from tenants.models import Circle, Staff
from tenants.options.services import OptionNotContracted
from tenants.views.common import circle_or_404, portal_only

bp = Blueprint("circle", __name__)

SELF = "circle_self"
STAFF = "circle_staff"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

F = TypeVar("F", bound=Callable[..., Any])


def needs(action: Action) -> Callable[[F], F]:
    """Name the action a circle page performs (every method), instead of the default
    (``CIRCLE_VIEW`` to read, ``CIRCLE_SETTINGS_EDIT`` to change)."""

    def mark(view: F) -> F:
        view.circle_action = action  # type: ignore[attr-defined]
        return view

    return mark


def _action_of(endpoint: str | None, method: str) -> Action:
    view = current_app.view_functions.get(endpoint or "")
    declared = getattr(view, "circle_action", None)
    if isinstance(declared, Action):
        return declared
    return Action.CIRCLE_VIEW if method in READ_METHODS else Action.CIRCLE_SETTINGS_EDIT


@bp.url_value_preprocessor
def _pull_circle_id(endpoint: str | None, values: dict[str, Any] | None) -> None:
    g.circle_id = values.pop("circle_id", None) if values else None


@bp.url_defaults
def _add_circle_id(endpoint: str, values: dict[str, Any]) -> None:
    if endpoint.startswith(f"{STAFF}.") and "circle_id" not in values and g.get("circle"):
        values["circle_id"] = g.circle.id


@bp.before_request
def _load_circle() -> Any:
    portal_only(is_console=False)
    user = current_user._get_current_object()
    if request.blueprint == SELF:
        if not isinstance(user, Circle):
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        g.circle = user
    else:
        # On a portal the staff loader knows only the reseller's staff and managers.
        if not isinstance(user, Staff):
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        # Staff acting on one circle are scoped to it, by the same mechanism as the
        # circle's own login: every query of the request sees this circle only.
        g.circle = circle_or_404(g.circle_id)
    # The pages show their forms only to those who may change the circle.
    g.circle_readonly = not allowed(user, Action.CIRCLE_SETTINGS_EDIT)
    require(_action_of(request.endpoint, request.method), user)
    return None


NOT_CONTRACTED_STATUS = 409


@bp.errorhandler(OptionNotContracted)
def _not_contracted(error: OptionNotContracted) -> Any:
    """The one answer to a use of an option the circle does not hold (nothing changed:
    the request rolls back on an error status)."""
    return render_template(
        "tenants/circle/not_contracted.html", option_label=error.label
    ), NOT_CONTRACTED_STATUS


# (endpoint, label) of the circle area's menu, filled by the feature modules.
_menu: list[tuple[str, Any]] = []


def menu_item(endpoint: str, label: Any) -> None:
    if (endpoint, label) not in _menu:
        _menu.append((endpoint, label))


def acting_for_circle() -> bool:
    """True when staff act on the circle's behalf (not the circle login itself)."""
    return request.blueprint == STAFF


@bp.app_context_processor
def _circle_context() -> dict[str, Any]:
    return {
        "circle_area": request.blueprint in (SELF, STAFF),
        "circle_readonly": g.get("circle_readonly", False),
        "acting_for_circle": request.blueprint == STAFF,
        "circle_menu": lambda: list(_menu),
    }


def register(app: Flask) -> None:
    """Register both trees; the feature modules must have added their routes already."""
    app.register_blueprint(bp, name=SELF, url_prefix="/portal")
    app.register_blueprint(bp, name=STAFF, url_prefix="/staff/circles/<int:circle_id>")
