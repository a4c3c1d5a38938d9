"""Configuration: read from the environment, with safe development defaults.

Every setting is declared here with its type and default; ``load_config``
refuses unknown ``PBX_*`` variables so a typo never silently falls back to a
default.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any


class ConfigError(RuntimeError):
    pass


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    parse: Any = str
    env: str | None = None


SETTINGS: tuple[Setting, ...] = (
    Setting("ENV", "development", env="PBX_ENV"),
    Setting("SECRET_KEY", None, env="PBX_SECRET_KEY"),
    Setting("SQLALCHEMY_DATABASE_URI", None, env="DATABASE_URL"),
    # PostgreSQL only: the role the application connects as. It owns no table and
    # has no BYPASSRLS, so row-level security applies to it (R20).
    Setting("DB_APP_ROLE", "pbx_app", env="PBX_DB_APP_ROLE"),
    Setting("BASE_DOMAIN", "localhost", env="PBX_BASE_DOMAIN"),
    # The SIP digest realm of the platform's registrar; empty: "sip.<BASE_DOMAIN>".
    Setting("SIP_REALM", "", env="PBX_SIP_REALM"),
    Setting("CONSOLE_HOST", "localhost", env="PBX_CONSOLE_HOST"),
    Setting("REDIS_URL", "", env="REDIS_URL"),
    Setting("RATELIMIT_STORAGE_URI", "memory://", env="PBX_RATELIMIT_STORAGE_URI"),
    Setting("LOGIN_FAILURES_PER_ID", "5 per 15 minutes", env="PBX_LOGIN_FAILURES_PER_ID"),
    Setting("LOGIN_ATTEMPTS_PER_IP", "30 per minute", env="PBX_LOGIN_ATTEMPTS_PER_IP"),
    Setting("SESSION_IDLE_MINUTES", 30, int, env="PBX_SESSION_IDLE_MINUTES"),
    Setting("SESSION_ABSOLUTE_HOURS", 12, int, env="PBX_SESSION_ABSOLUTE_HOURS"),
    Setting("PROXY_HOPS", 0, int, env="PBX_PROXY_HOPS"),
    Setting("LOGO_MAX_BYTES", 512 * 1024, int, env="PBX_LOGO_MAX_BYTES"),
    Setting("CELERY_BROKER_URL", "", env="CELERY_BROKER_URL"),
    Setting("BABEL_DEFAULT_LOCALE", "ja", env="PBX_DEFAULT_LOCALE"),
    # E-mail (pbx_platform.mail). No host: mails are written to MAIL_DIR (development).
    Setting("MAIL_HOST", "", env="PBX_MAIL_HOST"),
    Setting("MAIL_PORT", 587, int, env="PBX_MAIL_PORT"),
    Setting("MAIL_USERNAME", "", env="PBX_MAIL_USERNAME"),
    Setting("MAIL_PASSWORD", "", env="PBX_MAIL_PASSWORD"),
    # starttls, ssl or none
    Setting("MAIL_SECURITY", "starttls", env="PBX_MAIL_SECURITY"),
    Setting("MAIL_FROM", "noreply@localhost", env="PBX_MAIL_FROM"),
    Setting("MAIL_DIR", "", env="PBX_MAIL_DIR"),
    # The scheme of the links in e-mails sent outside a request (https in production).
    Setting("URL_SCHEME", "", env="PBX_URL_SCHEME"),
    Setting("FORGOT_PER_ADDRESS", "3 per hour", env="PBX_FORGOT_PER_ADDRESS"),
    Setting("FORGOT_PER_IP", "10 per hour", env="PBX_FORGOT_PER_IP"),
    # Recordings and IVR prompts (pbx_platform.storage): file (under STORAGE_DIR) or s3.
    Setting("API_TOKEN_PER_IP", "60 per minute", env="PBX_API_TOKEN_PER_IP"),
    Setting("STORAGE", "file", env="PBX_STORAGE"),
    Setting("STORAGE_DIR", "", env="PBX_STORAGE_DIR"),
    # The machine API (pbx_platform.api): access tokens' lifetime, and the largest
    # recording one PUT may carry (an hour of 8 kHz stereo 16-bit PCM is 115 MB).
    Setting("API_TOKEN_SECONDS", 3600, int, env="PBX_API_TOKEN_SECONDS"),
    Setting("API_RECORDING_MAX_BYTES", 200_000_000, int, env="PBX_API_RECORDING_MAX_BYTES"),
    # PBX_STORAGE=s3 (pbx_platform.storage_s3): the bucket, an endpoint for an
    # S3-compatible service (empty: AWS), its region and a folder inside the bucket.
    # Credentials come from boto3's chain (AWS_ACCESS_KEY_ID, a profile, a role).
    Setting("S3_BUCKET", "", env="PBX_S3_BUCKET"),
    Setting("S3_ENDPOINT_URL", "", env="PBX_S3_ENDPOINT_URL"),
    Setting("S3_REGION", "", env="PBX_S3_REGION"),
    Setting("S3_PREFIX", "", env="PBX_S3_PREFIX"),
)


def load_config(instance_path: str, environ: dict[str, str] | None = None) -> dict[str, Any]:
    environ = dict(os.environ if environ is None else environ)
    known = {s.env for s in SETTINGS}
    unknown = sorted(k for k in environ if k.startswith("PBX_") and k not in known)
    if unknown:
        raise ConfigError(f"Unknown settings in the environment: {', '.join(unknown)}")

    config: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(setting.env or setting.name)
        config[setting.name] = setting.default if raw in (None, "") else setting.parse(raw)

    env = config["ENV"]
    if env not in {"development", "production", "testing"}:
        raise ConfigError("PBX_ENV must be development, production or testing")
    if not config["SQLALCHEMY_DATABASE_URI"]:
        Path(instance_path).mkdir(parents=True, exist_ok=True)
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(instance_path) / 'pbx.sqlite3'}"
    if not config["SECRET_KEY"]:
        if env == "production":
            raise ConfigError("PBX_SECRET_KEY must be set in production")
        config["SECRET_KEY"] = _development_secret(instance_path)
    if env == "production" and config["RATELIMIT_STORAGE_URI"].startswith("memory"):
        # Memory storage counts per worker process: useless behind several workers.
        if config["REDIS_URL"]:
            config["RATELIMIT_STORAGE_URI"] = config["REDIS_URL"]
        else:
            raise ConfigError("Production needs REDIS_URL (or PBX_RATELIMIT_STORAGE_URI)")

    if config["MAIL_SECURITY"] not in {"starttls", "ssl", "none"}:
        raise ConfigError("PBX_MAIL_SECURITY must be starttls, ssl or none")
    if config["STORAGE"] not in {"file", "s3"}:
        raise ConfigError("PBX_STORAGE must be file or s3")
    if config["STORAGE"] == "s3" and not config["S3_BUCKET"]:
        raise ConfigError("PBX_STORAGE=s3 needs PBX_S3_BUCKET")
    if not config["STORAGE_DIR"]:
        config["STORAGE_DIR"] = str(Path(instance_path) / "recordings")
    if not config["MAIL_DIR"]:
        config["MAIL_DIR"] = str(Path(instance_path) / "mail")
    if not config["URL_SCHEME"]:
        config["URL_SCHEME"] = "https" if env == "production" else "http"

    secure = env == "production"
    config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]),
        # Connections are replaced after an hour: a row-level security claim is bound to
        # its backend and dies with it (pbx_platform.rls).
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "pool_recycle": 3600},
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=8 * 1024 * 1024,
        BABEL_DEFAULT_TIMEZONE="Asia/Tokyo",
        RATELIMIT_HEADERS_ENABLED=True,
    )
    return config


def _development_secret(instance_path: str) -> str:
    """A per-checkout random key kept in instance/, never in the repository."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
