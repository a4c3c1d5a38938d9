"""Background jobs on Celery.

``init_app`` gives the Flask app its Celery app (``app.extensions["celery"]``).
With ``CELERY_BROKER_URL`` set (Redis in production) ``task.delay()`` queues the
task for a worker, started with::

    celery -A pbx_platform.jobs:celery worker --loglevel INFO

and one beat process for the periodic tasks (``schedule``)::

    celery -A pbx_platform.jobs:celery beat --loglevel INFO

With ``CELERY_BROKER_URL`` empty the same call runs the task in-process at once,
so ``make run`` needs nothing but Python.

A task runs the way a worker runs it, eager or not: inside its own app context
(so its own database session and transaction), with no tenant scope and the
system actor whatever the caller had, so a task that works in development works
on a worker too; a task sets the scope it works for. The job is the unit
of work, as the request is in the web app: services flush, the task commits once
when it returns and rolls back when it raises.
"""

from __future__ import annotations

import contextvars
from typing import Any

from celery import Celery, Task, shared_task
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

import pbx_platform
from pbx_platform.db import db

__all__ = ["healthcheck", "init_app", "make_celery", "schedule"]

_REDIS_SCHEMES = ("redis://", "rediss://", "redis+socket://")


# Celery beat's periodic tasks (``celery -A pbx_platform.jobs:celery beat``): each
# context adds its own from its ``init_app`` (the core names no context's task).
_beat_schedule: dict[str, dict[str, Any]] = {}


def schedule(entry: str, task: str, when: Any) -> None:
    """Run the task named ``task`` on beat's schedule ``when`` (a ``crontab``, in
    Japan time: the Celery app's timezone is Asia/Tokyo)."""
    _beat_schedule[entry] = {"task": task, "schedule": when}


def make_celery(app: Flask) -> Celery:
    """A Celery app whose tasks run inside ``app``; configured from ``app.config``."""
    broker_url = app.config["CELERY_BROKER_URL"]

    class AppTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            # An empty context: an eager task must not see the caller's tenant
            # scope or audit actor, which a worker would not have either.
            return contextvars.Context().run(self._run_in_app, args, kwargs)

        def _run_in_app(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            with app.app_context():
                try:
                    result = self.run(*args, **kwargs)
                except BaseException:
                    db.session.rollback()
                    raise
                db.session.commit()
                return result

    celery_app = Celery(app.import_name, task_cls=AppTask, set_as_current=False)
    celery_app.conf.update(
        broker_url=broker_url or "memory://",
        result_backend=broker_url if broker_url.startswith(_REDIS_SCHEMES) else None,
        task_always_eager=not broker_url,
        task_eager_propagates=True,
        task_ignore_result=True,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        # Long jobs (the monthly run) are idempotent and restartable: a job whose
        # worker dies is delivered again rather than lost.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        timezone="Asia/Tokyo",
        enable_utc=True,
        beat_schedule=dict(_beat_schedule),
    )
    return celery_app


def init_app(app: Flask) -> None:
    celery_app = make_celery(app)
    # Tasks are declared with ``shared_task``; ``task.delay()`` sends through the
    # default Celery app, which is this one (one Flask app per process).
    celery_app.set_default()
    app.extensions["celery"] = celery_app


@shared_task(name="pbx_platform.healthcheck", ignore_result=False)
def healthcheck() -> dict[str, str]:
    """Whether the database answers, seen from where the task runs: a worker that
    returns ``ok`` is wired to the broker, the result store and the database."""
    try:
        db.session.execute(select(1)).scalar_one()
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "unavailable", "database": "unreachable"}
    return {"status": "ok", "database": "reachable"}


_worker_celery: Celery | None = None


def __getattr__(name: str) -> Any:
    """``pbx_platform.jobs:celery``, the worker's entry point: builds the Flask app
    on first access only, so importing this module never creates an app."""
    global _worker_celery
    if name != "celery":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _worker_celery is None:
        _worker_celery = pbx_platform.create_app().extensions["celery"]
    return _worker_celery
