"""Keys behind URLs: jku honoured only when allow-listed (else no outbound request), JWKS fetched with a
timeout, cached, and refetched on an unknown kid at most once a minute — over real loopback HTTP."""
from __future__ import annotations

import json
import time

import pytest
from werkzeug import Response

from cds_service.auth import TrustRegistry, Unauthorized, authenticate
from tests.auth.tokens import EHR_ISS, HOOK_URL, Signer, new_private_key


class Clock:
    """A monotonic clock the test moves by hand (the refresh interval is 60 s)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def registry_for(clients: list[dict], clock: Clock | None = None, **variables: str) -> TrustRegistry:
    config = {"PECOMA_MODE": "production", "PECOMA_TRUSTED_CLIENTS_JSON": json.dumps({"clients": clients}), **variables}
    return TrustRegistry.from_config(config, clock=clock or Clock())


def check(token: str, registry: TrustRegistry, store) -> bool:
    try:
        return authenticate(f"Bearer {token}", HOOK_URL, {}, store, registry=registry).verified
    except Unauthorized:
        return False


def requested_paths(httpserver) -> list[str]:
    return [request.path for request, _ in httpserver.log]


# --- jku -------------------------------------------------------------------------------------------

def test_jku_not_allow_listed_makes_no_outbound_request(httpserver, es384, forger, jti_store):
    httpserver.expect_request("/attacker/jwks.json").respond_with_json(forger.jwks())
    attacker_jku = httpserver.url_for("/attacker/jwks.json")
    registry = registry_for([{"iss": EHR_ISS, "jwks": es384.jwks(), "jku_allowlist": ["https://ehr.example.org/jwks"]}])

    own_kid = forger.token(headers={"jku": attacker_jku})
    trusted_kid = forger.token(headers={"jku": attacker_jku, "kid": es384.kid})
    with pytest.raises(Unauthorized, match="not allow-listed, not fetched"):
        authenticate(f"Bearer {own_kid}", HOOK_URL, {}, jti_store, registry=registry)
    assert not check(trusted_kid, registry, jti_store)
    assert requested_paths(httpserver) == []


def test_allow_listed_jku_is_fetched_once_and_cached(httpserver, forger, jti_store):
    # Positive control for the test above: the same server is reached when (and only when) allow-listed.
    httpserver.expect_request("/ehr/jwks.json").respond_with_json(forger.jwks())
    jku = httpserver.url_for("/ehr/jwks.json")
    registry = registry_for([{"iss": EHR_ISS, "jku_allowlist": [jku]}])

    assert check(forger.token(headers={"jku": jku}), registry, jti_store)
    assert check(forger.token(headers={"jku": jku}), registry, jti_store)
    assert requested_paths(httpserver) == ["/ehr/jwks.json"]


def test_allow_listed_jku_of_another_issuer_is_not_honoured(httpserver, forger, es384, jti_store):
    httpserver.expect_request("/other/jwks.json").respond_with_json(forger.jwks())
    other_jku = httpserver.url_for("/other/jwks.json")
    registry = registry_for([
        {"iss": EHR_ISS, "jwks": es384.jwks()},
        {"iss": "https://other.example.org", "jku_allowlist": [other_jku]},
    ])
    assert not check(forger.token(headers={"jku": other_jku}), registry, jti_store)  # iss = EHR_ISS
    assert requested_paths(httpserver) == []


# --- jwks_url: cache, rotation, failures -------------------------------------------------------------

class JwksEndpoint:
    """A JWKS URL whose content and behaviour the test changes between calls."""

    def __init__(self, httpserver, keys: list[dict]):
        self.keys = keys
        self.status = 200
        self.delay = 0.0
        httpserver.expect_request("/jwks").respond_with_handler(self.respond)
        self.url = httpserver.url_for("/jwks")

    def respond(self, request):
        time.sleep(self.delay)
        if self.status == 302:
            return Response(status=302, headers={"Location": "/elsewhere"})
        return Response(json.dumps({"keys": self.keys}), status=self.status, content_type="application/json")


def test_unknown_kid_refetches_at_most_once_a_minute(httpserver, jti_store):
    first = Signer(new_private_key("ES384"), "ES384", kid="2026-01")
    rotated = Signer(new_private_key("ES384"), "ES384", kid="2026-02")
    endpoint = JwksEndpoint(httpserver, [first.jwk()])
    clock = Clock()
    registry = registry_for([{"iss": EHR_ISS, "jwks_url": endpoint.url}], clock)

    assert check(first.token(), registry, jti_store)
    assert len(httpserver.log) == 1

    endpoint.keys = [first.jwk(), rotated.jwk()]  # the EHR rotates its key
    clock.now += 30
    assert not check(rotated.token(), registry, jti_store)  # last fetch 30 s ago: no refetch yet
    assert len(httpserver.log) == 1

    clock.now += 31
    assert check(rotated.token(), registry, jti_store)  # > 60 s: one refetch finds the new kid
    assert len(httpserver.log) == 2

    for _ in range(5):  # a flood of unknown kids costs at most one fetch per minute
        assert not check(rotated.token(headers={"kid": "made-up"}), registry, jti_store)
    assert len(httpserver.log) == 2
    assert check(first.token(), registry, jti_store)


def test_jwks_fetch_has_a_timeout(httpserver, jti_store):
    signer = Signer(new_private_key("ES384"), "ES384", kid="slow-1")
    endpoint = JwksEndpoint(httpserver, [signer.jwk()])
    endpoint.delay = 3.0
    registry = registry_for([{"iss": EHR_ISS, "jwks_url": endpoint.url}], PECOMA_JWKS_TIMEOUT_SECONDS="1")
    started = time.monotonic()
    assert not check(signer.token(), registry, jti_store)
    assert time.monotonic() - started < 2.5  # gave up after ~1 s instead of waiting for the 3 s answer
    while not httpserver.log and time.monotonic() - started < 10:  # let the slow answer finish, so it
        time.sleep(0.1)  # is not logged into the next test's server log


def test_failed_refresh_keeps_the_cached_keys(httpserver, jti_store):
    signer = Signer(new_private_key("RS384"), "RS384", kid="rsa-1")
    endpoint = JwksEndpoint(httpserver, [signer.jwk()])
    clock = Clock()
    registry = registry_for([{"iss": EHR_ISS, "jwks_url": endpoint.url}], clock, PECOMA_JWKS_CACHE_SECONDS="300")
    assert check(signer.token(), registry, jti_store)
    endpoint.status = 503
    clock.now += 301  # cache expired: refetch fails, the keys we had still verify
    assert check(signer.token(), registry, jti_store)
    assert len(httpserver.log) == 2


@pytest.mark.parametrize("status", [302, 404, 500])
def test_jwks_redirects_and_errors_give_no_keys(httpserver, jti_store, status):
    signer = Signer(new_private_key("ES384"), "ES384", kid="k")
    endpoint = JwksEndpoint(httpserver, [signer.jwk()])
    endpoint.status = status
    registry = registry_for([{"iss": EHR_ISS, "jwks_url": endpoint.url}])
    assert not check(signer.token(), registry, jti_store)
    assert requested_paths(httpserver) == ["/jwks"]  # the redirect was not followed


def test_fetched_keys_with_private_material_are_ignored(httpserver, jti_store):
    signer = Signer(new_private_key("ES384"), "ES384", kid="leaky")
    leaked = {**signer.jwk(), "d": "AAAA"}
    JwksEndpoint(httpserver, [leaked])
    registry = registry_for([{"iss": EHR_ISS, "jwks_url": httpserver.url_for("/jwks")}])
    assert not check(signer.token(), registry, jti_store)
