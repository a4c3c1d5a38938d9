"""Background jobs: in-process without a broker, through a real worker on Redis."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis
from celery import Celery
from celery.contrib.testing.worker import start_worker
from flask import Flask

from pbx_platform.audit import SYSTEM, Actor, acting_as, current_actor
from pbx_platform.jobs import healthcheck, make_celery
from pbx_platform.tenancy import Scope, current_scope, use_scope

HEALTHY = {"status": "ok", "database": "reachable"}


@pytest.fixture
def eager_celery(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Celery:
    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", "")
    return make_celery(app)


def test_without_a_broker_the_healthcheck_runs_in_process(eager_celery: Celery) -> None:
    assert eager_celery.conf.task_always_eager
    result = eager_celery.tasks[healthcheck.name].delay()
    assert result.get(timeout=5) == HEALTHY


def test_an_eager_task_does_not_inherit_the_callers_scope_or_actor(
    eager_celery: Celery,
) -> None:
    @eager_celery.task(ignore_result=False)
    def what_the_task_sees() -> tuple[Scope | None, Actor]:
        return current_scope(), current_actor()

    with use_scope(Scope(reseller_id=1)), acting_as(Actor("reseller", 7, "admin@a.example")):
        seen = what_the_task_sees.delay().get(timeout=5)
    assert seen == (None, SYSTEM)


@pytest.fixture
def redis_url() -> str:
    """The Redis of REDIS_URL; skipped when there is none, except on CI where the
    worker test is required (DESIGN: CI runs a test through a real worker)."""
    url = os.environ.get("REDIS_URL", "")
    reason = ""
    if not url:
        reason = "REDIS_URL is not set"
    else:
        try:
            with redis.Redis.from_url(url, socket_connect_timeout=2) as client:
                client.ping()
        except redis.RedisError as exc:
            reason = f"Redis at {url} does not answer: {exc}"
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI needs Redis for the worker test")
        pytest.skip(reason)
    return url


@pytest.fixture
def redis_celery(app: Flask, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Celery]:
    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", redis_url)
    celery_app = make_celery(app)
    # A queue of its own, so that a test run elsewhere on the same Redis cannot
    # take this run's task or hand it one of its own.
    celery_app.conf.task_default_queue = f"pbx-test-{uuid.uuid4().hex}"
    yield celery_app
    # start_worker makes its Celery app the process default; give it back.
    app.extensions["celery"].set_current()
    app.extensions["celery"].set_default()
    # Close every socket the run opened (warnings are errors)...
    celery_app.backend.result_consumer.stop()
    celery_app.backend.client.connection_pool.disconnect()
    celery_app.pool.force_close_all()
    celery_app.close()
    # ...and leave no trace of the queue: kombu keeps its bindings in these keys.
    queue = celery_app.conf.task_default_queue
    with redis.Redis.from_url(redis_url) as client:
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


def test_a_worker_on_redis_runs_the_healthcheck(redis_celery: Celery) -> None:
    assert not redis_celery.conf.task_always_eager
    with start_worker(redis_celery, perform_ping_check=False, shutdown_timeout=30):
        result = redis_celery.tasks[healthcheck.name].delay()
        assert result.get(timeout=30) == HEALTHY
    result.forget()
