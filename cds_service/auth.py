"""CDS Hooks 2.0 client trust (JWT). INTERFACE STUB until the trust issue (#7) lands.

The HTTP layer calls :func:`authenticate` before every discovery, hook and feedback
call (never for CORS preflight or /healthz). Demo mode (explicit) lets every call
through; any other mode refuses everything until JWT verification exists.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Protocol


class JtiStore(Protocol):
    def remember_jti(self, jti: str, expires_at: int) -> bool:
        """Record a jti; True when it was not seen before (atomic across processes)."""


@dataclass(frozen=True)
class Caller:
    """Who called: the verified client (``iss``, ``tenant``), or the demo placeholder."""

    iss: str
    tenant: str | None = None
    verified: bool = False


class Unauthorized(Exception):
    """Refuse with 401 and no details; ``reason`` is for the log only (never the token)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def authenticate(
    authorization_header: str | None,
    invoked_url: str,
    config: Mapping[str, Any],
    jti_store: JtiStore,
) -> Caller:
    """Verify the caller of ``invoked_url`` (the exact public URL, for ``aud``) or raise Unauthorized."""
    if config.get("PECOMA_MODE") == "demo" and not config.get("PECOMA_AUTH_REQUIRED"):
        return Caller(iss="demo-mode (authentication off)")
    raise Unauthorized("JWT verification not implemented yet")
