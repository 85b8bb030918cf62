"""Real keys and JWTs for the trust tests: an EHR that signs like a CDS Hooks 2.0 client, and forgers."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

EHR_ISS = "https://ehr.example.org/cds"
OTHER_ISS = "https://other-ehr.example.org"
BASE = "https://cds.example.org"
HOOK_URL = f"{BASE}/cds-services/pecoma-order-sign"
DISCOVERY_URL = f"{BASE}/cds-services"
_CURVES = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1}


def b64url(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_private_key(alg: str):
    if alg.startswith("ES"):
        return ec.generate_private_key(_CURVES[alg]())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(private_key, kid: str, alg: str | None = None) -> dict[str, Any]:
    """The public JWK (use sig, the given alg) as an EHR would publish it."""
    public = private_key.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        jwk = jwt.algorithms.ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(public, as_dict=True)
    jwk.update({"kid": kid, "use": "sig"})
    if alg:
        jwk["alg"] = alg
    return jwk


def public_pem(private_key) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass
class Signer:
    """A client holding a private key: signs CDS Hooks JWTs (valid by default, every part overridable)."""

    private_key: Any
    alg: str
    kid: str
    iss: str = EHR_ISS
    extra_headers: dict[str, Any] = field(default_factory=dict)

    def jwk(self) -> dict[str, Any]:
        return public_jwk(self.private_key, self.kid, self.alg)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.jwk()]}

    def claims(self, audience: Any = HOOK_URL, /, **overrides: Any) -> dict[str, Any]:
        """Valid claims for a call to ``audience``; ``overrides`` replace claims (DROP removes one)."""
        now = int(time.time())
        claims = {"iss": self.iss, "aud": audience, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4())}
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not DROP}

    def token(self, audience: Any = HOOK_URL, /, *, headers: dict[str, Any] | None = None, **claims: Any) -> str:
        header = {"kid": self.kid, "typ": "JWT", **self.extra_headers, **(headers or {})}
        if header.get("kid") is DROP:
            del header["kid"]
        if header.get("typ") is DROP:
            header["typ"] = None  # PyJWT drops an empty typ
        return jwt.encode(self.claims(audience, **claims), self.private_key, algorithm=self.alg, headers=header)


DROP = object()  # a claim or header to leave out


def unsigned_token(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A token assembled by hand (alg none, forged or malformed parts)."""
    return f"{b64url(json.dumps(header))}.{b64url(json.dumps(claims))}.{b64url(signature)}"


def hs256_with_public_key(signer: Signer, **claims: Any) -> str:
    """The classic key-confusion forgery: HS256 whose HMAC secret is the victim's public key PEM."""
    header = {"alg": "HS256", "typ": "JWT", "kid": signer.kid}
    signing_input = f"{b64url(json.dumps(header))}.{b64url(json.dumps(signer.claims(**claims)))}"
    mac = hmac.new(public_pem(signer.private_key), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


class SqliteJtiStore:
    """A tiny real replay store (SQLite file, primary-key insert) with the JtiStore interface."""

    def __init__(self, path):
        self.path = str(path)
        with sqlite3.connect(self.path) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS seen_jti (jti TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)")
        self.seen: list[tuple[str, int]] = []

    def remember_jti(self, jti: str, expires_at: int) -> bool:
        self.seen.append((jti, expires_at))
        with sqlite3.connect(self.path) as conn:
            inserted = conn.execute("INSERT OR IGNORE INTO seen_jti VALUES (?, ?)", (jti, expires_at)).rowcount
        return inserted == 1
