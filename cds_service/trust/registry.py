"""Trusted CDS clients and their public keys (CDS Hooks 2.0 §Trusting CDS Clients).

Configuration (docs/configuration-auth.md): a JSON document ``{"clients": [entry, ...]}`` from the
file named by ``PECOMA_TRUSTED_CLIENTS`` and/or inline in ``PECOMA_TRUSTED_CLIENTS_JSON``; in demo
mode ``trusted_clients/demo.json`` (the CDS Hooks Sandbox) is added. One entry::

    {"iss": "https://ehr.example.org",          # exact issuer, required
     "jwks": {"keys": [...]}                    # keys inline, or
     "jwks_file": "keys/ehr.jwks.json",         # a file (relative to the config file), or
     "jwks_url": "https://ehr.example.org/jwks",  # fetched with a timeout, cached
     "jku_allowlist": ["https://ehr.example.org/jwks"],  # token jku URLs honoured for this iss
     "tenants": ["org-1"],                      # optional: the tenant claim must be one of these
     "description": "free text"}

A token's ``jku`` that is not in its issuer's allow-list is never fetched; its ``kid`` must then be
found among the configured keys. Fetched key sets are refetched when older than
``PECOMA_JWKS_CACHE_SECONDS`` and on an unknown ``kid`` at most once per
``PECOMA_JWKS_MIN_REFRESH_SECONDS`` (60 s) per source.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

import requests
from jwt import PyJWK, PyJWTError

from cds_service.trust.policy import ALLOWED_ALGORITHMS, AuthPolicy, TrustConfigError

log = logging.getLogger("cds_service.auth")

DEMO_CLIENTS_FILE = Path(__file__).resolve().parent.parent / "trusted_clients" / "demo.json"
#: The Sandbox signs in the browser, so its private key is public (cds-hooks/sandbox keys/ecprivkey.pem):
#: anyone can mint its tokens. Trusting it is only acceptable in demo mode.
SANDBOX_ISS = "https://sandbox.cds-hooks.org"

_ENTRY_FIELDS = {"iss", "description", "jwks", "jwks_file", "jwks_url", "jku_allowlist", "tenants"}
_DOCUMENT_FIELDS = {"clients", "description", "$comment"}
_PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
_MAX_JWKS_BYTES = 256 * 1024

KeysByKid = dict[str, list[dict[str, Any]]]


def usable_keys(jwks: Any) -> tuple[KeysByKid, list[str]]:
    """Public signature keys of a JWK Set by ``kid``, and the problems found with the others."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        return {}, ['a JWK Set must be an object with a "keys" array']
    keys: KeysByKid = {}
    problems = []
    for index, jwk in enumerate(jwks["keys"]):
        where = f"key #{index}"
        if not isinstance(jwk, dict):
            problems.append(f"{where}: not an object")
        elif _PRIVATE_JWK_MEMBERS & jwk.keys():
            problems.append(f"{where}: holds private or symmetric key material (refused)")
        elif jwk.get("kty") not in ("EC", "RSA"):
            problems.append(f"{where}: kty must be EC or RSA")
        elif not isinstance(jwk.get("kid"), str) or not jwk["kid"]:
            problems.append(f"{where}: kid is required")
        elif jwk.get("use", "sig") != "sig":
            problems.append(f"{where}: use must be sig")
        elif "key_ops" in jwk and "verify" not in (jwk["key_ops"] or []):
            problems.append(f"{where}: key_ops does not allow verify")
        elif "alg" in jwk and jwk["alg"] not in ALLOWED_ALGORITHMS:
            problems.append(f"{where}: alg {str(jwk['alg'])[:20]!r} is not an allowed asymmetric algorithm")
        else:
            try:
                PyJWK(jwk)  # the key material parses (curve, coordinates, modulus)
            except PyJWTError as exc:
                problems.append(f"{where}: unusable key ({exc})")
                continue
            keys.setdefault(jwk["kid"], []).append(jwk)
    return keys, problems


def fetch_jwks(url: str, timeout: float) -> Any:
    """GET a JWK Set: no redirects, bounded size and time; raises on any failure."""
    with requests.get(
        url, timeout=timeout, allow_redirects=False, stream=True, headers={"Accept": "application/json"}
    ) as response:
        if response.status_code != 200:
            raise ValueError(f"HTTP {response.status_code}")
        body = response.raw.read(_MAX_JWKS_BYTES + 1, decode_content=True)
    if len(body) > _MAX_JWKS_BYTES:
        raise ValueError("JWK Set too large")
    return json.loads(body)


@dataclass
class RemoteKeys:
    """A JWK Set behind a URL: fetched on first use, cached, refetched on expiry or unknown kid."""

    url: str
    policy: AuthPolicy
    clock: Callable[[], float] = time.monotonic
    _keys: KeysByKid | None = None
    _fetched_at: float = 0.0
    _attempted_at: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def lookup(self, kid: str) -> list[dict[str, Any]]:
        with self._lock:
            now = self.clock()
            if self._keys is None or now - self._fetched_at > self.policy.jwks_cache_seconds:
                self._refresh(now)
            if kid not in (self._keys or {}):
                self._refresh(now)  # a rotated key: allowed at most once per min-refresh interval
            return list((self._keys or {}).get(kid, []))

    def _refresh(self, now: float) -> None:
        if self._attempted_at is not None and now - self._attempted_at < self.policy.jwks_min_refresh_seconds:
            return
        self._attempted_at = now
        try:
            keys, problems = usable_keys(fetch_jwks(self.url, self.policy.jwks_timeout_seconds))
        except Exception as exc:  # network, HTTP status, JSON: keep the keys we had
            log.warning("JWKS fetch failed for %s: %s", self.url, type(exc).__name__)
            return
        if problems:
            log.warning("JWKS %s: ignored keys: %s", self.url, "; ".join(problems))
        self._keys, self._fetched_at = keys, now


@dataclass
class TrustedClient:
    """One allow-listed CDS client (EHR): its issuer, key sources and allowed tenants."""

    iss: str
    static_keys: KeysByKid = field(default_factory=dict)
    remote: RemoteKeys | None = None
    jku_sources: dict[str, RemoteKeys] = field(default_factory=dict)
    tenants: frozenset[str] | None = None
    description: str = ""

    def honours_jku(self, jku: str) -> bool:
        return jku in self.jku_sources

    def keys_for(self, kid: str, jku: str | None) -> list[dict[str, Any]]:
        """Candidate JWKs for ``kid``: configured keys first, then the JWKS URL, then an allow-listed jku."""
        found = list(self.static_keys.get(kid, []))
        if not found and self.remote is not None:
            found = self.remote.lookup(kid)
        if not found and jku is not None and jku in self.jku_sources and self.jku_sources[jku] is not self.remote:
            found = self.jku_sources[jku].lookup(kid)
        return found


@dataclass
class TrustRegistry:
    """The trusted clients of this process, by ``iss`` (build once, reuse: it caches fetched keys)."""

    policy: AuthPolicy
    clients: dict[str, TrustedClient]

    def client(self, iss: Any) -> TrustedClient | None:
        return self.clients.get(iss) if isinstance(iss, str) else None

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], *, clock: Callable[[], float] = time.monotonic
    ) -> "TrustRegistry":
        """Read the trusted clients named by the configuration; raises TrustConfigError."""
        policy = AuthPolicy.from_config(config)
        clients: dict[str, TrustedClient] = {}
        if policy.demo:
            for client in _load_file(DEMO_CLIENTS_FILE, policy, clock, "demo trusted clients"):
                clients[client.iss] = client
        configured: dict[str, TrustedClient] = {}
        path = str(config.get("PECOMA_TRUSTED_CLIENTS") or "").strip()
        if path and not (policy.demo and Path(path).resolve() == DEMO_CLIENTS_FILE):
            _add(configured, _load_file(Path(path), policy, clock, "PECOMA_TRUSTED_CLIENTS"))
        inline = str(config.get("PECOMA_TRUSTED_CLIENTS_JSON") or "").strip()
        if inline:
            document = _json(inline, "PECOMA_TRUSTED_CLIENTS_JSON")
            _add(configured, _parse_document(document, Path.cwd(), policy, clock, "PECOMA_TRUSTED_CLIENTS_JSON"))
        clients.update(configured)  # an operator's entry replaces the demo entry for the same iss
        if not policy.demo and SANDBOX_ISS in clients:
            raise TrustConfigError(
                f"{SANDBOX_ISS} is trusted in production mode, but its private key is public: "
                "anyone could sign its tokens. Trust it only with PECOMA_MODE=demo."
            )
        return cls(policy=policy, clients=clients)


def _add(clients: dict[str, TrustedClient], new: list[TrustedClient]) -> None:
    for client in new:
        if client.iss in clients:
            raise TrustConfigError(f"trusted client {client.iss!r} is configured twice")
        clients[client.iss] = client


def _json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise TrustConfigError(f"{where}: not valid JSON ({exc.msg}, line {exc.lineno})") from exc


def _load_file(path: Path, policy: AuthPolicy, clock: Callable[[], float], where: str) -> list[TrustedClient]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TrustConfigError(f"{where}: cannot read {path} ({exc.strerror})") from exc
    return _parse_document(_json(text, f"{where} ({path})"), path.parent, policy, clock, f"{where} ({path})")


def _parse_document(
    document: Any, base_dir: Path, policy: AuthPolicy, clock: Callable[[], float], where: str
) -> list[TrustedClient]:
    if isinstance(document, dict):
        unknown = document.keys() - _DOCUMENT_FIELDS
        if unknown or not isinstance(document.get("clients"), list):
            raise TrustConfigError(f'{where}: expected {{"clients": [...]}} (unknown fields: {sorted(unknown)})')
        entries = document["clients"]
    elif isinstance(document, list):
        entries = document
    else:
        raise TrustConfigError(f'{where}: expected {{"clients": [...]}}')
    clients: dict[str, TrustedClient] = {}
    for index, entry in enumerate(entries):
        _add(clients, [_parse_entry(entry, base_dir, policy, clock, f"{where}, client #{index}")])
    return list(clients.values())


def _parse_entry(
    entry: Any, base_dir: Path, policy: AuthPolicy, clock: Callable[[], float], where: str
) -> TrustedClient:
    if not isinstance(entry, dict):
        raise TrustConfigError(f"{where}: must be an object")
    unknown = entry.keys() - _ENTRY_FIELDS
    if unknown:
        raise TrustConfigError(f"{where}: unknown fields {sorted(unknown)} (allowed: {sorted(_ENTRY_FIELDS)})")
    iss = entry.get("iss")
    if not isinstance(iss, str) or not iss.strip() or iss != iss.strip():
        raise TrustConfigError(f"{where}: iss must be a non-empty string without surrounding spaces")
    where = f"{where} ({iss})"
    sources = [name for name in ("jwks", "jwks_file", "jwks_url") if name in entry]
    if len(sources) > 1:
        raise TrustConfigError(f"{where}: give only one of jwks, jwks_file, jwks_url")

    static_keys: KeysByKid = {}
    if "jwks" in entry:
        static_keys = _configured_keys(entry["jwks"], f"{where}, jwks")
    elif "jwks_file" in entry:
        if not isinstance(entry["jwks_file"], str) or not entry["jwks_file"]:
            raise TrustConfigError(f"{where}: jwks_file must be a path")
        jwks_path = base_dir / entry["jwks_file"]
        try:
            text = jwks_path.read_text(encoding="utf-8")
        except OSError as exc:
            raise TrustConfigError(f"{where}: cannot read jwks_file {jwks_path} ({exc.strerror})") from exc
        static_keys = _configured_keys(_json(text, f"{where}, jwks_file"), f"{where}, jwks_file {jwks_path}")

    remote = None
    if "jwks_url" in entry:
        remote = RemoteKeys(_checked_url(entry["jwks_url"], f"{where}, jwks_url"), policy, clock)

    allowlist = entry.get("jku_allowlist", [])
    if not isinstance(allowlist, list):
        raise TrustConfigError(f"{where}: jku_allowlist must be an array of URLs")
    jku_sources: dict[str, RemoteKeys] = {}
    if remote is not None:
        jku_sources[remote.url] = remote  # a token naming the configured JWKS URL as jku is consistent
    for url in allowlist:
        url = _checked_url(url, f"{where}, jku_allowlist")
        jku_sources.setdefault(url, RemoteKeys(url, policy, clock))
    if not static_keys and remote is None and not jku_sources:
        raise TrustConfigError(f"{where}: needs keys (jwks, jwks_file or jwks_url) or a jku_allowlist")

    tenants = entry.get("tenants")
    if tenants is not None:
        if not isinstance(tenants, list) or not tenants or not all(isinstance(t, str) and t for t in tenants):
            raise TrustConfigError(f"{where}: tenants must be a non-empty array of strings")
        tenants = frozenset(tenants)
    description = entry.get("description", "")
    return TrustedClient(
        iss=iss,
        static_keys=static_keys,
        remote=remote,
        jku_sources=jku_sources,
        tenants=tenants,
        description=str(description),
    )


def _configured_keys(jwks: Any, where: str) -> KeysByKid:
    keys, problems = usable_keys(jwks)
    if problems:
        raise TrustConfigError(f"{where}: " + "; ".join(problems))
    if not keys:
        raise TrustConfigError(f"{where}: no keys")
    return keys


def _checked_url(url: Any, where: str) -> str:
    """An absolute https URL (http only for loopback hosts, for local tests)."""
    if not isinstance(url, str):
        raise TrustConfigError(f"{where}: URLs must be strings")
    parts = urlsplit(url)
    if not parts.hostname or parts.scheme not in ("https", "http"):
        raise TrustConfigError(f"{where}: {url!r} is not an absolute URL")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK_HOSTS:
        raise TrustConfigError(f"{where}: {url!r} must use https")
    return url
