"""Trusted-client configuration and modes: production requires tokens; demo lets token-less calls in but
still verifies presented tokens; the Sandbox entry ships for demo only; bad configuration fails loudly."""
from __future__ import annotations

import json

import pytest

from cds_service.auth import Caller, TrustConfigError, Unauthorized, authenticate, load_trust, startup_messages
from cds_service.trust.registry import DEMO_CLIENTS_FILE, SANDBOX_ISS
from tests.auth.tokens import DISCOVERY_URL, EHR_ISS, HOOK_URL, Signer, new_private_key

SANDBOX_KID = "44823f3d-0b01-4a6c-a80e-b9d3e8a7226f"
SANDBOX_JKU = "https://sandbox.cds-hooks.org/.well-known/jwks.json"


def inline(*clients: dict, **variables: str) -> dict:
    return {"PECOMA_TRUSTED_CLIENTS_JSON": json.dumps({"clients": list(clients)}), **variables}


# --- modes -------------------------------------------------------------------------------------------

def test_demo_mode_lets_calls_without_a_token_in_unverified(jti_store):
    caller = authenticate(None, DISCOVERY_URL, {"PECOMA_MODE": "demo"}, jti_store)
    assert caller.verified is False and caller.iss.startswith("anonymous")


def test_demo_mode_still_verifies_a_presented_token(es384, forger, jti_store):
    demo = inline({"iss": EHR_ISS, "jwks": es384.jwks()}, PECOMA_MODE="demo")
    assert authenticate(f"Bearer {es384.token()}", HOOK_URL, demo, jti_store).verified
    for bad in ("Bearer garbage", f"Bearer {forger.token()}", f"Bearer {es384.token(DISCOVERY_URL)}"):
        with pytest.raises(Unauthorized):
            authenticate(bad, HOOK_URL, demo, jti_store)


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_auth_required_forces_tokens_in_demo_mode(jti_store, value):
    with pytest.raises(Unauthorized, match="no Authorization header"):
        authenticate(None, DISCOVERY_URL, {"PECOMA_MODE": "demo", "PECOMA_AUTH_REQUIRED": value}, jti_store)


@pytest.mark.parametrize("mode", [None, "production"])
def test_production_cannot_switch_authentication_off(jti_store, mode):
    config = {"PECOMA_AUTH_REQUIRED": "0", **({"PECOMA_MODE": mode} if mode else {})}
    with pytest.raises(Unauthorized):
        authenticate(None, DISCOVERY_URL, config, jti_store)


def test_startup_messages_say_loudly_when_authentication_is_off():
    (level, message), = startup_messages({"PECOMA_MODE": "demo"})
    assert level == "WARNING" and "authentication is OFF" in message and SANDBOX_ISS in message
    levels = [level for level, _ in startup_messages({"PECOMA_MODE": "production"})]
    assert levels == ["INFO", "WARNING"]  # required, but nobody is trusted yet


# --- the CDS Hooks Sandbox entry ------------------------------------------------------------------------

def test_demo_mode_trusts_the_sandbox_key_out_of_band_and_production_does_not():
    demo = load_trust({"PECOMA_MODE": "demo"})
    sandbox = demo.client(SANDBOX_ISS)
    (key,) = sandbox.static_keys[SANDBOX_KID]
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-384", "ES384", "sig")
    assert not sandbox.honours_jku(SANDBOX_JKU)  # offline: never fetched
    assert load_trust({"PECOMA_MODE": "production"}).client(SANDBOX_ISS) is None


def test_trusting_the_sandbox_in_production_is_refused(jti_store):
    config = {"PECOMA_MODE": "production", "PECOMA_TRUSTED_CLIENTS": str(DEMO_CLIENTS_FILE)}
    with pytest.raises(TrustConfigError, match="private key is public"):
        load_trust(config)
    with pytest.raises(Unauthorized, match="trust configuration invalid"):  # fails closed
        authenticate(None, DISCOVERY_URL, config, jti_store)


def test_a_key_set_shaped_like_the_sandbox_file_verifies_a_sandbox_style_token(tmp_path, jti_store):
    """Our own P-384 key published exactly like the Sandbox's JWKS file; the token is signed the way the
    Sandbox signs (ES384, its kid, iss, jku it names but we do not fetch, exp = now + 300, aud = URL called)."""
    signer = Signer(new_private_key("ES384"), "ES384", kid=SANDBOX_KID, iss=SANDBOX_ISS)
    jwk = signer.jwk()
    sandbox_shape = {"keys": [{k: jwk[k] for k in ("kty", "use", "crv", "kid", "x", "y", "alg")}]}
    reference = json.loads(DEMO_CLIENTS_FILE.read_text())["clients"][0]["jwks"]
    assert [sorted(k) for k in sandbox_shape["keys"]] == [sorted(k) for k in reference["keys"]]
    (tmp_path / "sandbox-like.jwks.json").write_text(json.dumps(sandbox_shape))
    clients = tmp_path / "clients.json"
    clients.write_text(json.dumps({"clients": [{"iss": SANDBOX_ISS, "jwks_file": "sandbox-like.jwks.json"}]}))

    # demo mode, with the operator's entry replacing the shipped one for the same iss
    config = {"PECOMA_MODE": "demo", "PECOMA_TRUSTED_CLIENTS": str(clients)}
    for url in (DISCOVERY_URL, HOOK_URL, HOOK_URL + "/feedback"):
        token = signer.token(url, headers={"jku": SANDBOX_JKU})
        assert authenticate(f"Bearer {token}", url, config, jti_store) == Caller(
            iss=SANDBOX_ISS, verified=True, jti=_jti(token)
        )


def _jti(token: str) -> str:
    import jwt

    return jwt.decode(token, options={"verify_signature": False})["jti"]


# --- configuration errors -------------------------------------------------------------------------------

GOOD_JWK = Signer(new_private_key("ES256"), "ES256", kid="k").jwk()


@pytest.mark.parametrize(
    "variables, message",
    [
        (inline({"iss": EHR_ISS, "jwks": {"keys": [GOOD_JWK]}, "tenant": ["a"]}), "unknown fields"),
        (inline({"iss": EHR_ISS, "jwks": {"keys": [{**GOOD_JWK, "d": "AAAA"}]}}), "private or symmetric"),
        (inline({"iss": EHR_ISS, "jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}]}}), "private or symmetric"),
        (inline({"iss": EHR_ISS, "jwks": {"keys": [{**GOOD_JWK, "alg": "HS256"}]}}), "not an allowed"),
        (inline({"iss": EHR_ISS, "jwks": {"keys": [{**GOOD_JWK, "x": "AAAA"}]}}), "unusable key"),
        (inline({"iss": EHR_ISS, "jwks": {"keys": [{k: v for k, v in GOOD_JWK.items() if k != "kid"}]}}), "kid is required"),
        (inline({"iss": EHR_ISS, "jwks_url": "http://ehr.example.org/jwks"}), "must use https"),
        (inline({"iss": EHR_ISS, "jku_allowlist": ["ftp://ehr.example.org/jwks"]}), "not an absolute URL"),
        (inline({"iss": EHR_ISS, "jwks": {"keys": [GOOD_JWK]}, "jwks_url": "https://e.example/j"}), "only one of"),
        (inline({"iss": EHR_ISS}), "needs keys"),
        (inline({"iss": EHR_ISS, "jwks": {"keys": [GOOD_JWK]}, "tenants": []}), "tenants"),
        (inline({"iss": EHR_ISS, "jwks": {"keys": [GOOD_JWK]}}, {"iss": EHR_ISS, "jwks": {"keys": [GOOD_JWK]}}), "configured twice"),
        (inline({"iss": " ", "jwks": {"keys": [GOOD_JWK]}}), "iss must be"),
        (inline({"iss": EHR_ISS, "jwks_file": "does-not-exist.json"}), "cannot read jwks_file"),
        ({"PECOMA_TRUSTED_CLIENTS": "/nonexistent/clients.json"}, "cannot read"),
        ({"PECOMA_TRUSTED_CLIENTS_JSON": "{not json"}, "not valid JSON"),
        ({"PECOMA_TRUSTED_CLIENTS_JSON": '{"client": []}'}, "expected"),
        ({"PECOMA_JWT_LEEWAY_SECONDS": "3600"}, "PECOMA_JWT_LEEWAY_SECONDS must be between"),
        ({"PECOMA_JWT_MAX_BYTES": "lots"}, "whole number"),
        ({"PECOMA_MODE": "demo", "PECOMA_AUTH_REQUIRED": "maybe"}, "PECOMA_AUTH_REQUIRED must be 1 or 0"),
    ],
)
def test_bad_configuration_is_refused_with_a_message_naming_it(variables, message):
    with pytest.raises(TrustConfigError, match=message):
        load_trust({"PECOMA_MODE": "production", **variables})


def test_a_top_level_list_and_a_file_plus_inline_entries_combine(trusted_file, forger):
    config = {
        "PECOMA_TRUSTED_CLIENTS": str(trusted_file),
        "PECOMA_TRUSTED_CLIENTS_JSON": json.dumps([{"iss": "https://third.example.org", "jwks": forger.jwks()}]),
    }
    assert sorted(load_trust(config).clients) == sorted([EHR_ISS, "https://other-ehr.example.org", "https://third.example.org"])
