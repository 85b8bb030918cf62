"""Trust over real HTTP: a production gunicorn server with a trusted-clients file behind a public base URL.
Every attack gets the same bare 401 (reason in the log, never the token); valid tokens reach discovery,
hooks and feedback; preflight and /healthz stay open; a jti replayed to a second server process sharing
the database is refused."""
from __future__ import annotations

import json
import time

import pytest
import requests

from tests.auth.tokens import EHR_ISS, Signer, hs256_with_public_key, new_private_key, unsigned_token, DROP
from tests.service.builders import feedback_item, hook_request
from tests.service.live import LiveServer

PUBLIC_BASE = "https://cds.example.org"  # what EHRs call (a reverse proxy in front of the server)
DISCOVERY = "/cds-services"
HOOK = "/cds-services/pecoma-patient-view"
FEEDBACK = HOOK + "/feedback"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("trust-http")


@pytest.fixture(scope="module")
def trusted_clients(workdir, rs384, es384):
    path = workdir / "trusted-clients.json"
    path.write_text(json.dumps({"clients": [{"iss": EHR_ISS, "jwks": {"keys": [rs384.jwk(), es384.jwk()]}}]}))
    return path


def production_server(workdir, trusted_clients, name: str, database: str | None = None) -> LiveServer:
    env = {
        "PECOMA_MODE": "production",
        "PECOMA_TRUSTED_CLIENTS": str(trusted_clients),
        "PECOMA_PUBLIC_BASE_URL": PUBLIC_BASE,
        "PECOMA_PATIENT_KEY_SECRET": "test-secret-" + "x" * 40,
    }
    if database:
        env["PECOMA_DATABASE_URL"] = database
    return LiveServer(workdir / name, **env).start()


@pytest.fixture(scope="module")
def server(workdir, trusted_clients):
    live = production_server(workdir, trusted_clients, "a")
    yield live
    live.stop()


def call(server: LiveServer, path: str, token: str | None = None, *, scheme: str = "Bearer", **kwargs) -> requests.Response:
    headers = {"Authorization": f"{scheme} {token}"} if token is not None else {}
    if path == DISCOVERY:
        return requests.get(server.url + path, headers=headers, timeout=10)
    body = {"feedback": [feedback_item("00000000-0000-4000-8000-000000000001")]} if path == FEEDBACK else hook_request("patient-view")
    return requests.post(server.url + path, json=body, headers=headers, timeout=10, **kwargs)


# --- valid tokens ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [DISCOVERY, HOOK, FEEDBACK])
@pytest.mark.parametrize("signer_name", ["rs384", "es384"])
def test_valid_tokens_reach_discovery_hooks_and_feedback(request, server, path, signer_name):
    signer: Signer = request.getfixturevalue(signer_name)
    response = call(server, path, signer.token(PUBLIC_BASE + path))
    assert response.status_code == 200, response.text
    assert ("services" if path == DISCOVERY else "cards" if path == HOOK else "") in response.text


def test_aud_as_array_passes(server, es384):
    assert call(server, HOOK, es384.token(["urn:other", PUBLIC_BASE + HOOK])).status_code == 200


def test_preflight_and_healthz_need_no_token(server):
    preflight = requests.options(server.url + HOOK, headers={
        "Origin": "https://ehr.example.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }, timeout=10)
    assert preflight.status_code in (200, 204)
    assert requests.get(server.url + "/healthz", timeout=10).status_code == 200


# --- attacks -----------------------------------------------------------------------------------------------

def attacks(rs384: Signer, es384: Signer, forger: Signer) -> dict[str, tuple[str, str | None, str]]:
    """name -> (path, token, scheme): each must get a bare 401."""
    hook_aud = PUBLIC_BASE + HOOK
    now = int(time.time())
    socket_aud = "http://127.0.0.1/cds-services/pecoma-patient-view"
    return {
        "no token": (HOOK, None, "Bearer"),
        "no token (discovery)": (DISCOVERY, None, "Bearer"),
        "no token (feedback)": (FEEDBACK, None, "Bearer"),
        "alg none": (HOOK, unsigned_token({"alg": "none", "typ": "JWT", "kid": es384.kid}, es384.claims(hook_aud), b"x"), "Bearer"),
        "HS256 with the public key": (HOOK, hs256_with_public_key(rs384, aud=hook_aud), "Bearer"),
        "unknown kid": (HOOK, es384.token(hook_aud, headers={"kid": "nope"}), "Bearer"),
        "untrusted key": (HOOK, forger.token(hook_aud), "Bearer"),
        "untrusted key, trusted kid": (HOOK, forger.token(hook_aud, headers={"kid": es384.kid}), "Bearer"),
        "wrong iss": (HOOK, es384.token(hook_aud, iss="https://evil.example.org"), "Bearer"),
        "aud of another endpoint": (HOOK, es384.token(PUBLIC_BASE + DISCOVERY), "Bearer"),
        "aud of the socket, not the public URL": (HOOK, es384.token(socket_aud), "Bearer"),
        "expired": (HOOK, es384.token(hook_aud, iat=now - 600, exp=now - 300), "Bearer"),
        "iat in the future": (HOOK, es384.token(hook_aud, iat=now + 300, exp=now + 600), "Bearer"),
        "lifetime over an hour": (HOOK, es384.token(hook_aud, iat=now, exp=now + 7200), "Bearer"),
        **{f"missing {c}": (HOOK, es384.token(hook_aud, **{c: DROP}), "Bearer") for c in ("iss", "aud", "exp", "iat", "jti")},
        **{f"missing header {h}": (HOOK, es384.token(hook_aud, headers={h: DROP}), "Bearer") for h in ("kid", "typ")},
        "two parts": (HOOK, "abc.def", "Bearer"),
        "bad base64": (HOOK, "@@@.###.$$$", "Bearer"),
        "non-JSON header": (HOOK, "bm90IGpzb24.e30.c2ln", "Bearer"),
        "oversized (over PECOMA_JWT_MAX_BYTES)": (HOOK, es384.token(hook_aud, padding="x" * 5000), "Bearer"),
        "wrong scheme": (HOOK, es384.token(hook_aud), "Basic"),
    }


def test_every_attack_gets_the_same_bare_401_and_the_token_is_never_logged(server, rs384, es384, forger):
    bodies = set()
    for name, (path, token, scheme) in attacks(rs384, es384, forger).items():
        response = call(server, path, token, scheme=scheme)
        assert response.status_code == 401, name
        assert response.headers.get("WWW-Authenticate") == "Bearer", name
        bodies.add(response.text)
    assert bodies == {json.dumps({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "login"}]}, separators=(",", ":"))}
    log = server.log()
    for name, (_, token, _) in attacks(rs384, es384, forger).items():
        if token and len(token) > 40:
            assert token.split(".")[-1] not in log, name  # not even the signature part
    for reason in ("alg 'none' is not an allowed", "ExpiredSignatureError", "aud does not contain", "lifetime 7200 s"):
        assert reason in log  # the reason goes to the log


def test_a_token_beyond_the_http_server_header_limit_is_refused_before_the_app(server, es384):
    response = call(server, HOOK, es384.token(PUBLIC_BASE + HOOK, padding="x" * 9000))
    assert response.status_code == 431  # gunicorn: Request Header Fields Too Large


def test_jku_that_is_not_allow_listed_is_not_fetched_by_the_server(server, forger, httpserver):
    httpserver.expect_request("/jwks.json").respond_with_json(forger.jwks())
    token = forger.token(PUBLIC_BASE + HOOK, headers={"jku": httpserver.url_for("/jwks.json")})
    assert call(server, HOOK, token).status_code == 401
    assert httpserver.log == []


def test_replayed_jti_is_refused_by_the_same_server(server, es384):
    token = es384.token(PUBLIC_BASE + HOOK)
    assert call(server, HOOK, token).status_code == 200
    assert [call(server, HOOK, token).status_code for _ in range(4)] == [401] * 4  # whichever worker answers


def test_replayed_jti_is_refused_by_a_second_server_process_sharing_the_database(workdir, trusted_clients, server, rs384):
    second = production_server(workdir, trusted_clients, "b", database=f"sqlite:///{server.db_path}")
    try:
        token = rs384.token(PUBLIC_BASE + HOOK)
        assert call(server, HOOK, token).status_code == 200
        assert call(second, HOOK, token).status_code == 401
        assert "already used (replay)" in second.log()
        fresh = rs384.token(PUBLIC_BASE + HOOK)
        assert call(second, HOOK, fresh).status_code == 200  # the second server does accept valid tokens
    finally:
        second.stop()


# --- demo mode: the Sandbox's aud subtlety ----------------------------------------------------------------------

def test_demo_mode_verifies_a_sandbox_style_token_against_the_url_as_typed(workdir):
    """In demo mode without PECOMA_PUBLIC_BASE_URL the expected aud is the URL the client typed (Host
    header): a Sandbox-style token for http://127.0.0.1:PORT passes, one signed for localhost:PORT does not."""
    sandbox_like = Signer(new_private_key("ES384"), "ES384", kid="44823f3d-0b01-4a6c-a80e-b9d3e8a7226f",
                          iss="https://sandbox.cds-hooks.org")
    clients = workdir / "sandbox-like.json"
    clients.write_text(json.dumps({"clients": [{"iss": sandbox_like.iss, "jwks": sandbox_like.jwks()}]}))
    live = LiveServer(workdir / "demo", PECOMA_MODE="demo", PECOMA_TRUSTED_CLIENTS=str(clients)).start()
    try:
        jku = {"jku": "https://sandbox.cds-hooks.org/.well-known/jwks.json"}
        assert call(live, HOOK).status_code == 200  # no token: demo mode lets it in
        assert call(live, HOOK, sandbox_like.token(live.url + HOOK, headers=jku)).status_code == 200
        as_localhost = live.url.replace("127.0.0.1", "localhost") + HOOK
        assert call(live, HOOK, sandbox_like.token(as_localhost, headers=jku)).status_code == 401
        assert "check PECOMA_PUBLIC_BASE_URL" in live.log()
    finally:
        live.stop()
