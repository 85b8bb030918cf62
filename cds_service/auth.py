"""CDS Hooks 2.0 client trust: who may call discovery, hooks and feedback.

The HTTP layer calls :func:`authenticate` before every discovery, hook and feedback call (never for
CORS preflight or /healthz) with the exact public URL invoked (the expected ``aud``), and answers
401 with no details when it raises :class:`Unauthorized` (logging ``reason``, never the token).

Modes (docs/configuration-auth.md):
- production (default): every call needs ``Authorization: Bearer <JWT>`` from a trusted client;
- demo (``PECOMA_MODE=demo``): a call without a token passes as unverified; a token that *is*
  presented is still verified in full against the trusted clients, which in demo mode include the
  CDS Hooks Sandbox (``trusted_clients/demo.json``); ``PECOMA_AUTH_REQUIRED=1`` requires tokens
  in demo mode too.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from cds_service.trust.policy import TrustConfigError
from cds_service.trust.registry import TrustRegistry
from cds_service.trust.verify import JtiStore, TokenRejected, verify_bearer

__all__ = ["Caller", "JtiStore", "TrustConfigError", "TrustRegistry", "Unauthorized", "authenticate", "load_trust"]

#: Variables that shape the trust registry: a registry is cached per distinct combination.
_REGISTRY_VARIABLES = (
    "PECOMA_MODE",
    "PECOMA_AUTH_REQUIRED",
    "PECOMA_TRUSTED_CLIENTS",
    "PECOMA_TRUSTED_CLIENTS_JSON",
    "PECOMA_JWT_LEEWAY_SECONDS",
    "PECOMA_JWT_MAX_LIFETIME_SECONDS",
    "PECOMA_JWT_MAX_BYTES",
    "PECOMA_JWKS_TIMEOUT_SECONDS",
    "PECOMA_JWKS_CACHE_SECONDS",
    "PECOMA_JWKS_MIN_REFRESH_SECONDS",
)
_registries: dict[tuple, TrustRegistry] = {}
_registries_lock = threading.Lock()


@dataclass(frozen=True)
class Caller:
    """Who called: the verified client (``iss``, ``tenant``, ``jti`` — safe to log), or the demo placeholder."""

    iss: str
    tenant: str | None = None
    verified: bool = False
    jti: str | None = None


ANONYMOUS_DEMO_CALLER = Caller(iss="anonymous (demo mode, no token)")


class Unauthorized(Exception):
    """Refuse with 401 and no details; ``reason`` is for the log only (never the token)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def load_trust(config: Mapping[str, Any], *, clock: Callable[[], float] = time.monotonic) -> TrustRegistry:
    """The process-wide trust registry for ``config`` (built once, then cached with its JWKS).

    Call it at start-up to fail fast: raises :class:`TrustConfigError` naming the bad variable/field.
    """
    key = tuple(str(config.get(name) or "") for name in _REGISTRY_VARIABLES)
    with _registries_lock:
        registry = _registries.get(key)
        if registry is None:
            registry = _registries[key] = TrustRegistry.from_config(config, clock=clock)
        return registry


def startup_messages(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(level, message) pairs the service logs at start-up: the auth mode, loudly when it is off."""
    registry = load_trust(config)
    policy = registry.policy
    trusted = ", ".join(sorted(registry.clients)) or "none"
    if not policy.auth_required:
        return [(
            "WARNING",
            "DEMO MODE: authentication is OFF - calls without a token are accepted; presented tokens "
            f"are verified. Trusted clients: {trusted}. Never use demo mode with real patient data.",
        )]
    messages = [("INFO", f"Authentication required (CDS Hooks JWT). Trusted clients: {trusted}.")]
    if not registry.clients:
        messages.append(("WARNING", "No trusted clients configured (PECOMA_TRUSTED_CLIENTS): every call gets 401."))
    return messages


def authenticate(
    authorization_header: str | None,
    invoked_url: str,
    config: Mapping[str, Any],
    jti_store: JtiStore,
    *,
    registry: TrustRegistry | None = None,
) -> Caller:
    """Verify the caller of ``invoked_url`` (the exact public URL, for ``aud``) or raise Unauthorized.

    ``registry`` defaults to :func:`load_trust` of ``config``; tests may pass their own.
    """
    try:
        registry = registry or load_trust(config)
    except TrustConfigError as exc:  # fail closed: a broken trust configuration lets nobody in
        raise Unauthorized(f"trust configuration invalid: {exc}") from None
    header = (authorization_header or "").strip()
    if not header:
        if registry.policy.auth_required:
            raise Unauthorized("no Authorization header")
        return ANONYMOUS_DEMO_CALLER
    try:
        token = verify_bearer(header, invoked_url, registry, jti_store)
    except TokenRejected as exc:
        raise Unauthorized(exc.reason) from None
    return Caller(iss=token.iss, tenant=token.tenant, verified=True, jti=token.jti)

