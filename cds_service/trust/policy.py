"""The authentication variables (``PECOMA_*``), parsed once; docs/configuration-auth.md lists them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

#: CDS Hooks 2.0 §Trusting CDS Clients: "SHALL NOT be signed using the none algorithm" nor
#: "any symmetric algorithm"; ES384 and RS384 are RECOMMENDED. Only these asymmetric ones pass.
ALLOWED_ALGORITHMS = frozenset(
    {"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
)

DEMO_MODE = "demo"


class TrustConfigError(ValueError):
    """The trust configuration is unusable (the message names the variable or field)."""


@dataclass(frozen=True)
class AuthPolicy:
    """Limits applied to every token, and whether a token is required at all."""

    demo: bool = False
    auth_required: bool = True
    leeway_seconds: int = 30
    max_lifetime_seconds: int = 3600  # CDS Hooks best practice: JWT lifetime "no more than an hour"
    max_token_bytes: int = 4096  # below gunicorn's 8190-byte header line limit, so we answer (401) first
    jwks_timeout_seconds: float = 5.0
    jwks_cache_seconds: int = 3600
    jwks_min_refresh_seconds: int = 60  # refetch on an unknown kid at most this often, per client

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "AuthPolicy":
        demo = str(config.get("PECOMA_MODE") or "").strip().lower() == DEMO_MODE
        forced = _flag(config, "PECOMA_AUTH_REQUIRED")
        return cls(
            demo=demo,
            auth_required=(not demo) or forced,
            leeway_seconds=_int(config, "PECOMA_JWT_LEEWAY_SECONDS", 30, 0, 300),
            max_lifetime_seconds=_int(config, "PECOMA_JWT_MAX_LIFETIME_SECONDS", 3600, 1, 86400),
            max_token_bytes=_int(config, "PECOMA_JWT_MAX_BYTES", 4096, 256, 65536),
            jwks_timeout_seconds=float(_int(config, "PECOMA_JWKS_TIMEOUT_SECONDS", 5, 1, 60)),
            jwks_cache_seconds=_int(config, "PECOMA_JWKS_CACHE_SECONDS", 3600, 60, 86400),
            jwks_min_refresh_seconds=_int(config, "PECOMA_JWKS_MIN_REFRESH_SECONDS", 60, 1, 3600),
        )


def _flag(config: Mapping[str, Any], name: str) -> bool:
    value = config.get(name)
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise TrustConfigError(f"{name} must be 1 or 0, not {str(value)[:20]!r}")


def _int(config: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = config.get(name)
    if value is None or str(value).strip() == "":
        return default
    try:
        number = int(str(value).strip())
    except ValueError as exc:
        raise TrustConfigError(f"{name} must be a whole number") from exc
    if not low <= number <= high:
        raise TrustConfigError(f"{name} must be between {low} and {high}")
    return number
