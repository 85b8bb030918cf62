"""authenticate(): valid CDS Hooks JWTs pass; every attack of issue #7 point 6 is refused (unit level)."""
from __future__ import annotations

import json
import time

import pytest

from cds_service.auth import Caller, Unauthorized, authenticate
from tests.auth.tokens import (
    DISCOVERY_URL,
    DROP,
    EHR_ISS,
    HOOK_URL,
    OTHER_ISS,
    Signer,
    b64url,
    hs256_with_public_key,
    new_private_key,
    unsigned_token,
)


def bearer(token: str) -> str:
    return f"Bearer {token}"


def refused(header, config, store, url=HOOK_URL) -> str:
    """Authenticate and expect a refusal; returns the log reason (checked never to hold the token)."""
    with pytest.raises(Unauthorized) as caught:
        authenticate(header, url, config, store)
    token = (header or "").split()[-1] if header and header.split() else ""
    if len(token) > 20:
        assert token not in caught.value.reason and token not in str(caught.value)
    return caught.value.reason


# --- valid tokens ------------------------------------------------------------------------------

@pytest.mark.parametrize("signer_name", ["rs384", "es384"])
def test_valid_rs384_and_es384_tokens_pass(request, signer_name, production, jti_store):
    signer: Signer = request.getfixturevalue(signer_name)
    token = signer.token(HOOK_URL)
    caller = authenticate(bearer(token), HOOK_URL, production, jti_store)
    assert caller == Caller(iss=EHR_ISS, tenant=None, verified=True, jti=jwt_claim(token, "jti"))


def test_aud_as_array_containing_the_invoked_url_passes(rs384, production, jti_store):
    token = rs384.token(["https://somewhere.else.example/cds-services", HOOK_URL])
    assert authenticate(bearer(token), HOOK_URL, production, jti_store).verified


def test_every_allowed_asymmetric_algorithm_passes(tmp_path, jti_store):
    algorithms = ["ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]
    rsa_key = new_private_key("RS256")
    signers = [
        Signer(rsa_key if alg[0] in "RP" else new_private_key(alg), alg, kid=f"k-{alg}") for alg in algorithms
    ]
    config = {
        "PECOMA_MODE": "production",
        "PECOMA_TRUSTED_CLIENTS_JSON": json.dumps({"clients": [{"iss": EHR_ISS, "jwks": {"keys": [s.jwk() for s in signers]}}]}),
    }
    for signer in signers:
        assert authenticate(bearer(signer.token()), HOOK_URL, config, jti_store).verified, signer.alg


def test_second_trusted_client_with_keys_from_a_file_passes(other_ehr, production, jti_store):
    assert authenticate(bearer(other_ehr.token()), HOOK_URL, production, jti_store).iss == OTHER_ISS


def test_bearer_scheme_is_case_insensitive(es384, production, jti_store):
    assert authenticate("bearer " + es384.token(), HOOK_URL, production, jti_store).verified


def test_jti_is_stored_until_exp_plus_leeway_and_namespaced_by_issuer(es384, production, jti_store):
    token = es384.token()
    authenticate(bearer(token), HOOK_URL, production, jti_store)
    (stored_key, expires_at), = jti_store.seen
    assert expires_at == jwt_claim(token, "exp") + 30
    assert jwt_claim(token, "jti") not in stored_key and len(stored_key) == 64  # sha256(iss, jti)


# --- tenants -----------------------------------------------------------------------------------

@pytest.fixture
def with_tenants(es384):
    clients = [{"iss": EHR_ISS, "jwks": es384.jwks(), "tenants": ["hospital-a", "hospital-b"]}]
    return {"PECOMA_MODE": "production", "PECOMA_TRUSTED_CLIENTS_JSON": json.dumps({"clients": clients})}


def test_allow_listed_tenant_passes(es384, with_tenants, jti_store):
    caller = authenticate(bearer(es384.token(tenant="hospital-b")), HOOK_URL, with_tenants, jti_store)
    assert caller.tenant == "hospital-b"


@pytest.mark.parametrize("tenant", ["hospital-z", DROP, 42])
def test_other_or_missing_tenant_is_refused_when_tenants_are_configured(es384, with_tenants, jti_store, tenant):
    assert "tenant" in refused(bearer(es384.token(tenant=tenant)), with_tenants, jti_store)


# --- attacks: algorithm ------------------------------------------------------------------------

def test_alg_none_is_refused(es384, production, jti_store):
    claims = es384.claims()
    for token in (
        unsigned_token({"alg": "none", "typ": "JWT", "kid": es384.kid}, claims),
        unsigned_token({"alg": "none", "typ": "JWT", "kid": es384.kid}, claims, b"any-signature"),
        unsigned_token({"alg": "None", "typ": "JWT", "kid": es384.kid}, claims, b"x"),
    ):
        refused(bearer(token), production, jti_store)
    reason = refused(bearer(unsigned_token({"alg": "none", "typ": "JWT", "kid": es384.kid}, claims, b"x")), production, jti_store)
    assert "alg 'none' is not an allowed" in reason


def test_hs256_signed_with_the_public_key_as_secret_is_refused(rs384, es384, production, jti_store):
    for signer in (rs384, es384):
        assert "alg 'HS256'" in refused(bearer(hs256_with_public_key(signer)), production, jti_store)


def test_header_alg_that_does_not_match_the_key_type_is_refused(rs384, production, jti_store):
    # An RSA key's kid with an ES384 header: no key of the right type, never "verified" by the wrong family.
    mismatched = Signer(new_private_key("ES384"), "ES384", kid=rs384.kid)
    assert "no ES384 key with kid" in refused(bearer(mismatched.token()), production, jti_store)


def test_rs256_token_is_refused_for_a_key_published_as_rs384(rs384, production, jti_store):
    downgraded = Signer(rs384.private_key, "RS256", kid=rs384.kid)
    assert "no RS256 key" in refused(bearer(downgraded.token()), production, jti_store)


# --- attacks: keys and issuer ------------------------------------------------------------------

def test_unknown_kid_is_refused(es384, production, jti_store):
    token = es384.token(headers={"kid": "rotated-away"})
    assert "kid 'rotated-away'" in refused(bearer(token), production, jti_store)


def test_untrusted_key_with_a_trusted_kid_fails_the_signature(forger, es384, production, jti_store):
    token = forger.token(headers={"kid": es384.kid})
    assert "InvalidSignatureError" in refused(bearer(token), production, jti_store)


def test_wrong_iss_is_refused(es384, production, jti_store):
    token = es384.token(iss="https://evil.example.org")
    assert "not a trusted client" in refused(bearer(token), production, jti_store)


def test_key_of_one_trusted_client_cannot_sign_for_another(es384, production, jti_store):
    # The EHR's key with the other EHR's iss: keys are looked up only in OTHER_ISS's set.
    token = es384.token(iss=OTHER_ISS)
    assert f"for iss '{OTHER_ISS}'" in refused(bearer(token), production, jti_store)


# --- attacks: claims ---------------------------------------------------------------------------

def test_aud_of_another_endpoint_is_refused(es384, production, jti_store):
    token = es384.token(DISCOVERY_URL)
    assert "aud does not contain the invoked URL" in refused(bearer(token), production, jti_store, url=HOOK_URL)


@pytest.mark.parametrize("aud", [HOOK_URL + "/", HOOK_URL.upper(), HOOK_URL.replace("https", "http"), [DISCOVERY_URL]])
def test_aud_must_equal_the_exact_url(es384, production, jti_store, aud):
    refused(bearer(es384.token(aud)), production, jti_store)


def test_expired_token_is_refused(es384, production, jti_store):
    now = int(time.time())
    token = es384.token(iat=now - 400, exp=now - 60)  # beyond the 30 s leeway
    assert "ExpiredSignatureError" in refused(bearer(token), production, jti_store)


def test_iat_in_the_future_is_refused(es384, production, jti_store):
    now = int(time.time())
    token = es384.token(iat=now + 120, exp=now + 400)
    assert "ImmatureSignatureError" in refused(bearer(token), production, jti_store)


def test_small_clock_skew_within_leeway_passes(es384, production, jti_store):
    now = int(time.time())
    assert authenticate(bearer(es384.token(iat=now + 10, exp=now + 300)), HOOK_URL, production, jti_store).verified


def test_lifetime_longer_than_the_maximum_is_refused(es384, production, jti_store):
    now = int(time.time())
    token = es384.token(iat=now, exp=now + 3601)
    assert "lifetime 3601 s exceeds 3600 s" in refused(bearer(token), production, jti_store)


def test_maximum_lifetime_is_configurable(es384, production, jti_store):
    now = int(time.time())
    strict = {**production, "PECOMA_JWT_MAX_LIFETIME_SECONDS": "60"}
    assert "exceeds 60 s" in refused(bearer(es384.token(iat=now, exp=now + 300)), strict, jti_store)


@pytest.mark.parametrize("claim", ["iss", "aud", "exp", "iat", "jti"])
def test_missing_required_claim_is_refused(es384, production, jti_store, claim):
    reason = refused(bearer(es384.token(**{claim: DROP})), production, jti_store)
    assert ("iss None is not a trusted client" if claim == "iss" else f'missing the "{claim}" claim') in reason


@pytest.mark.parametrize("claims", [{"exp": "9999999999"}, {"iat": True}, {"jti": 12345}, {"jti": ""}, {"jti": "x" * 300}])
def test_ill_typed_claims_are_refused(es384, production, jti_store, claims):
    refused(bearer(es384.token(**claims)), production, jti_store)


def test_replayed_jti_is_refused(es384, production, jti_store):
    token = es384.token()
    authenticate(bearer(token), HOOK_URL, production, jti_store)
    assert "already used (replay)" in refused(bearer(token), production, jti_store)


def test_same_jti_in_a_new_token_is_refused(es384, production, jti_store):
    authenticate(bearer(es384.token(jti="nonce-1")), HOOK_URL, production, jti_store)
    assert "replay" in refused(bearer(es384.token(jti="nonce-1")), production, jti_store)


# --- attacks: header ---------------------------------------------------------------------------

@pytest.mark.parametrize("field_name", ["kid", "typ"])
def test_missing_required_header_is_refused(es384, production, jti_store, field_name):
    reason = refused(bearer(es384.token(headers={field_name: DROP})), production, jti_store)
    assert reason in ("kid missing from the JWT header", "typ must be JWT, got None")


@pytest.mark.parametrize("typ", ["JWS", "at+jwt", "jwt "])
def test_typ_other_than_jwt_is_refused(es384, production, jti_store, typ):
    assert "typ must be JWT" in refused(bearer(es384.token(headers={"typ": typ})), production, jti_store)


def test_crit_header_is_refused(es384, production, jti_store):
    refused(bearer(es384.token(headers={"crit": ["exp"]})), production, jti_store)  # PyJWT or we refuse it


# --- attacks: token string and Authorization header ---------------------------------------------

@pytest.mark.parametrize(
    "header",
    [
        "Basic dXNlcjpwYXNz",
        "Token abc.def.ghi",
        "Bearer",
        "Bearer a.b.c extra",
        "Bearer abc.def",
        "Bearer abc.def.ghi.jkl",
        "Bearer ..",
        "Bearer !!!.###.$$$",
        "Bearer " + b64url("not json") + "." + b64url("{}") + ".c2ln",
        "Bearer " + b64url("[1, 2]") + "." + b64url("{}") + ".c2ln",
        "Bearer " + b64url('{"alg":"ES384","typ":"JWT","kid":"ehr-ec-2026"}') + "." + b64url("not json") + ".c2ln",
        "Bearer " + b64url('{"alg":"ES384","typ":"JWT","kid":"ehr-ec-2026"}') + ".e30x.c2ln",
        "Bearer\u00a0abc.def.ghi",
        "Bearer\tabc.def.ghi",
    ],
)
def test_malformed_authorization_is_refused(header, production, jti_store):
    refused(header, production, jti_store)


def test_wrong_scheme_with_a_valid_token_is_refused(es384, production, jti_store):
    assert "Bearer" in refused("Basic " + es384.token(), production, jti_store)


def test_oversized_token_is_refused_before_parsing(es384, production, jti_store):
    token = es384.token(padding="x" * 5000)  # correctly signed, just too big
    assert "longer than 4096 bytes" in refused(bearer(token), production, jti_store)
    assert jti_store.seen == []


def test_no_token_in_production_is_refused(production, jti_store):
    for header in (None, "", "   "):
        assert "no Authorization header" in refused(header, production, jti_store)


def jwt_claim(token: str, name: str):
    import jwt

    return jwt.decode(token, options={"verify_signature": False})[name]


@pytest.mark.filterwarnings("ignore:The RSA key is 1024 bits")  # PyJWT warns when the test signs with it
def test_rsa_key_shorter_than_2048_bits_is_refused(jti_store):
    from cryptography.hazmat.primitives.asymmetric import rsa

    weak = Signer(rsa.generate_private_key(public_exponent=65537, key_size=1024), "RS384", kid="weak")
    config = {"PECOMA_TRUSTED_CLIENTS_JSON": json.dumps({"clients": [{"iss": EHR_ISS, "jwks": weak.jwks()}]})}
    assert "InvalidKeyError" in refused(bearer(weak.token()), config, jti_store)
