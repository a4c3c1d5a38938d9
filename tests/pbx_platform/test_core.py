"""Core wiring: health check, configuration, layout, security headers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pbx_platform.config import ConfigError, load_config
from pbx_platform.security import tokens_match

ROOT = Path(__file__).resolve().parents[2]


def test_healthz_reports_a_reachable_database(app):
    response = app.test_client().get("/healthz", base_url="http://anything.example")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "reachable"}


def test_healthz_answers_503_when_the_database_is_unreachable(tmp_path):
    # In a process of its own: this run's session is bound to the test database.
    script = (
        "from pbx_platform import create_app\n"
        f"app = create_app({{'TESTING': True, 'SECRET_KEY': 'x', "
        f"'SQLALCHEMY_DATABASE_URI': 'sqlite:///{tmp_path}'}})\n"  # a directory, not a file
        "r = app.test_client().get('/healthz')\n"
        "print(r.status_code, r.get_json()['database'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.stdout.split() == ["503", "unreachable"], result.stderr


def test_standard_library_platform_is_not_shadowed():
    """The core package is pbx_platform/, so `import uuid, platform` works from the root."""
    result = subprocess.run(
        [sys.executable, "-c", "import uuid, platform; print(platform.system())"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    assert not (ROOT / "platform").exists()


def test_unknown_settings_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="PBX_SECRETKEY"):
        load_config(str(tmp_path), {"PBX_SECRETKEY": "typo"})


def test_production_needs_a_secret_and_redis(tmp_path):
    with pytest.raises(ConfigError):
        load_config(str(tmp_path), {"PBX_ENV": "production"})
    with pytest.raises(ConfigError):
        load_config(str(tmp_path), {"PBX_ENV": "production", "PBX_SECRET_KEY": "s"})
    config = load_config(
        str(tmp_path),
        {"PBX_ENV": "production", "PBX_SECRET_KEY": "s", "REDIS_URL": "redis://127.0.0.1:6379/0"},
    )
    assert config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    assert config["SESSION_COOKIE_SECURE"] is True


def test_development_secret_lives_in_instance_not_the_repository(tmp_path):
    config = load_config(str(tmp_path), {})
    assert (tmp_path / "secret_key").read_text().strip() == config["SECRET_KEY"]
    assert load_config(str(tmp_path), {})["SECRET_KEY"] == config["SECRET_KEY"]
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")


def test_security_headers(world, browser):
    response = browser(world.a.host).get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_unknown_host_is_404(world, browser):
    assert browser("nobody.localhost").get("/login").status_code == 404


@pytest.mark.parametrize("given", ["２", "\ud800", "😀" * 32, None, 7, b"abc", "", "ab"])
def test_a_token_comparison_takes_anything_a_request_sends(given):
    assert tokens_match("abc", given) is False
    assert tokens_match("abc", "abc") is True
