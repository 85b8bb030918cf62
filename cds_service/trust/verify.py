"""The checks run on every bearer JWT (CDS Hooks 2.0 §Trusting CDS Clients and the best-practice list).

Order: size and shape of the header value; JOSE header (alg allow-list, typ, kid, no crit); the
unverified ``iss`` selects a trusted client *only to find its keys*; a key of that client with this
``kid`` whose type matches ``alg``; then PyJWT verifies the signature, ``iss`` (again, now trusted),
``aud`` = exact invoked URL, ``exp``/``iat``/``nbf`` with leeway and the required claims; then our own
limits (lifetime, jti, tenant) and finally the jti is recorded once, across processes.
A failure raises :class:`TokenRejected` with a reason for the log: it never contains the token.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Protocol

import jwt

from cds_service.trust.policy import ALLOWED_ALGORITHMS
from cds_service.trust.registry import TrustRegistry

REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "jti"]
_BEARER = re.compile(r"bearer +(\S+)", re.IGNORECASE)  # RFC 6750 §2.1: "Bearer" 1*SP b64token
_JWS_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_EC_CURVE = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}
_MAX_JTI_CHARS = 256


class JtiStore(Protocol):
    def remember_jti(self, jti: str, expires_at: int) -> bool:
        """Record a jti; True when it was not seen before (atomic across processes)."""


class TokenRejected(Exception):
    """The token is not acceptable; ``reason`` is safe to log (no token in it)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class VerifiedToken:
    iss: str
    tenant: str | None
    jti: str


def verify_bearer(
    authorization_header: str, invoked_url: str, registry: TrustRegistry, jti_store: JtiStore
) -> VerifiedToken:
    """Verify ``Authorization: Bearer <JWT>`` for a call to ``invoked_url``; raise TokenRejected."""
    policy = registry.policy
    token = bearer_token(authorization_header, policy.max_token_bytes)
    header = _unverified(jwt.get_unverified_header, token, "header")

    alg = header.get("alg")
    if alg not in ALLOWED_ALGORITHMS:
        raise TokenRejected(f"alg {_show(alg)} is not an allowed asymmetric algorithm")
    if header.get("typ") != "JWT":
        raise TokenRejected(f"typ must be JWT, got {_show(header.get('typ'))}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TokenRejected("kid missing from the JWT header")
    if "crit" in header:
        raise TokenRejected("crit header extensions are not supported")
    jku = header.get("jku")
    if jku is not None and not isinstance(jku, str):
        raise TokenRejected("jku must be a string")

    unverified = _unverified(lambda t: jwt.decode(t, options={"verify_signature": False}), token, "payload")
    client = registry.client(unverified.get("iss"))
    if client is None:
        raise TokenRejected(f"iss {_show(unverified.get('iss'))} is not a trusted client")
    honoured_jku = jku if jku is not None and client.honours_jku(jku) else None
    keys = [k for k in client.keys_for(kid, honoured_jku) if _fits(k, alg)]
    if not keys:
        note = f"; jku {_show(jku)} not allow-listed, not fetched" if jku is not None and honoured_jku is None else ""
        raise TokenRejected(f"no {alg} key with kid {_show(kid)} for iss {_show(client.iss)}{note}")

    claims = _verified_claims(token, keys, alg, client.iss, invoked_url, policy.leeway_seconds)

    if not all(_is_number(claims[name]) for name in ("exp", "iat")):
        raise TokenRejected("exp and iat must be NumericDate numbers")
    lifetime = claims["exp"] - claims["iat"]
    if lifetime > policy.max_lifetime_seconds:
        raise TokenRejected(f"token lifetime {int(lifetime)} s exceeds {policy.max_lifetime_seconds} s")
    jti = claims["jti"]
    if not isinstance(jti, str) or not jti or len(jti) > _MAX_JTI_CHARS:
        raise TokenRejected("jti must be a non-empty string of at most 256 characters")
    tenant = claims.get("tenant")
    if tenant is not None and not isinstance(tenant, str):
        raise TokenRejected("tenant must be a string")
    if client.tenants is not None and tenant not in client.tenants:
        raise TokenRejected(f"tenant {_show(tenant)} is not allowed for iss {_show(client.iss)}")

    expires_at = int(claims["exp"]) + policy.leeway_seconds
    if not jti_store.remember_jti(jti_key(client.iss, jti), expires_at):
        raise TokenRejected(f"jti {_show(jti)} of iss {_show(client.iss)} was already used (replay)")
    return VerifiedToken(iss=client.iss, tenant=tenant, jti=jti)


def bearer_token(authorization_header: str, max_bytes: int) -> str:
    """The compact JWS of ``Bearer <token>`` (scheme case-insensitive, RFC 7235), size-checked."""
    if len(authorization_header) > max_bytes:
        raise TokenRejected(f"Authorization header longer than {max_bytes} bytes")
    bearer = _BEARER.fullmatch(authorization_header)
    if bearer is None:
        raise TokenRejected("Authorization is not 'Bearer <token>'")
    if not _JWS_COMPACT.fullmatch(bearer.group(1)):
        raise TokenRejected("token is not a compact JWS (three base64url parts)")
    return bearer.group(1)


def jti_key(iss: str, jti: str) -> str:
    """What the replay store keeps: a fixed-length digest of (iss, jti) — jtis are unique per issuer."""
    return hashlib.sha256(f"{iss}\n{jti}".encode()).hexdigest()


def _verified_claims(token: str, keys: list[dict], alg: str, iss: str, aud: str, leeway: int) -> dict[str, Any]:
    failure = None
    for jwk in keys:  # normally one; several only if a client reuses a kid
        try:
            return jwt.decode(
                token,
                jwt.PyJWK(jwk, algorithm=alg).key,
                algorithms=[alg],
                issuer=iss,
                audience=aud,
                leeway=leeway,
                options={"require": REQUIRED_CLAIMS, "enforce_minimum_key_length": True},
            )
        except jwt.InvalidSignatureError as exc:
            failure = exc
        except jwt.PyJWTError as exc:
            raise TokenRejected(_describe(exc, aud)) from None
    raise TokenRejected(_describe(failure, aud)) from None


def _describe(exc: Exception | None, aud: str) -> str:
    if isinstance(exc, jwt.InvalidAudienceError):
        return f"aud does not contain the invoked URL {aud!r} (check PECOMA_PUBLIC_BASE_URL)"
    return f"{type(exc).__name__}: {exc}"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _fits(jwk: dict[str, Any], alg: str) -> bool:
    """Does this key belong to ``alg``'s family (EC curve per ES*, RSA for RS*/PS*) and not name another alg?"""
    if jwk.get("alg", alg) != alg:
        return False
    if alg.startswith("ES"):
        return jwk.get("kty") == "EC" and jwk.get("crv") == _EC_CURVE[alg]
    return jwk.get("kty") == "RSA"


def _unverified(read, token: str, part: str) -> dict[str, Any]:
    try:
        value = read(token)
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise TokenRejected(f"malformed token {part} ({type(exc).__name__})") from None
    if not isinstance(value, dict):
        raise TokenRejected(f"malformed token {part}")
    return value


def _show(value: Any) -> str:
    """A claim or header value for the log: repr (escapes control characters), truncated."""
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
