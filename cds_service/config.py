"""Service configuration from environment variables (README §Configuration lists every one).

``load_config()`` returns a plain dict: every ``PECOMA_*`` variable of the environment
(as a string, so other modules such as ``auth`` and ``data_access`` can read their own
variables without touching this file), with the variables below parsed and defaulted.
"""
from __future__ import annotations

import os
import re
from datetime import date
from typing import Any, Mapping

DEMO = "demo"
PRODUCTION = "production"

DEFAULT_DATABASE_URL = "sqlite:///var/pecoma-cds.sqlite3"  # relative to the working directory
DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024
# Only for demo mode: a fixed, public secret makes patient keys linkable across demo installs,
# which is harmless for demo data and never allowed in production.
DEMO_PATIENT_KEY_SECRET = "pecoma-demo-secret-not-for-production"


class ConfigError(ValueError):
    """The configuration cannot start a safe service (message says which variable)."""


def load_config(env: Mapping[str, str] | None = None, **overrides: Any) -> dict[str, Any]:
    """Read ``PECOMA_*`` variables from ``env`` (default: os.environ); ``overrides`` win (tests)."""
    env = os.environ if env is None else env
    raw: dict[str, Any] = {k: v for k, v in env.items() if k.startswith("PECOMA_")}
    raw.update(overrides)
    config = dict(raw)

    mode = str(raw.get("PECOMA_MODE") or PRODUCTION).strip().lower()
    if mode not in (DEMO, PRODUCTION):
        raise ConfigError(f"PECOMA_MODE must be 'demo' or 'production', not {mode!r}")
    config["PECOMA_MODE"] = mode
    demo = mode == DEMO

    base = str(raw.get("PECOMA_PUBLIC_BASE_URL") or "").strip().rstrip("/")
    config["PECOMA_PUBLIC_BASE_URL"] = base or None
    if base and not re.match(r"^https?://[^/\s]+", base):
        raise ConfigError("PECOMA_PUBLIC_BASE_URL must be an absolute http(s) URL")

    smart = str(raw.get("PECOMA_SMART_APP_URL") or "").strip()
    if smart and not re.match(r"^https?://[^/\s]+\S*$", smart):  # a card link must be absolute (CDS Hooks 2.0)
        raise ConfigError("PECOMA_SMART_APP_URL must be an absolute http(s) URL")
    if smart:
        config["PECOMA_SMART_APP_URL"] = smart

    config["PECOMA_DATABASE_URL"] = str(raw.get("PECOMA_DATABASE_URL") or DEFAULT_DATABASE_URL)
    config["PECOMA_MAX_BODY_BYTES"] = _positive_int(raw, "PECOMA_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)

    origins = raw.get("PECOMA_CORS_ORIGINS")
    if origins is None or str(origins).strip() == "":
        config["PECOMA_CORS_ORIGINS"] = ("*",) if demo else ()
    else:
        config["PECOMA_CORS_ORIGINS"] = tuple(o.strip().rstrip("/") for o in str(origins).split(",") if o.strip())

    secret = str(raw.get("PECOMA_PATIENT_KEY_SECRET") or "")
    config["PECOMA_PATIENT_KEY_SECRET"] = secret or (DEMO_PATIENT_KEY_SECRET if demo else None)

    ref = raw.get("PECOMA_REFERENCE_DATE")
    if ref:
        try:
            config["PECOMA_REFERENCE_DATE"] = date.fromisoformat(str(ref)) if not isinstance(ref, date) else ref
        except ValueError as exc:
            raise ConfigError("PECOMA_REFERENCE_DATE must be YYYY-MM-DD") from exc
    else:
        config["PECOMA_REFERENCE_DATE"] = None

    config["PECOMA_SITE_SETTINGS"] = str(raw.get("PECOMA_SITE_SETTINGS") or "") or None
    config["PECOMA_LOG_LEVEL"] = str(raw.get("PECOMA_LOG_LEVEL") or "INFO").upper()
    return config


def require_service_settings(config: Mapping[str, Any]) -> None:
    """What the HTTP service needs beyond offline use (``evaluate``, reports): raises ConfigError."""
    if not config.get("PECOMA_PATIENT_KEY_SECRET"):
        raise ConfigError("PECOMA_PATIENT_KEY_SECRET is required in production mode (a long random string)")


def is_demo(config: Mapping[str, Any]) -> bool:
    return config.get("PECOMA_MODE") == DEMO


def _positive_int(raw: Mapping[str, Any], name: str, default: int) -> int:
    value = raw.get(name)
    if value is None or str(value).strip() == "":
        return default
    try:
        number = int(str(value).strip())
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number") from exc
    if number <= 0:
        raise ConfigError(f"{name} must be positive")
    return number
