"""Fixtures of the trust tests: real RS384/ES384 keys, a trusted EHR, a real SQLite replay store."""
from __future__ import annotations

import json

import pytest

from tests.auth.tokens import EHR_ISS, OTHER_ISS, Signer, SqliteJtiStore, new_private_key


@pytest.fixture(scope="session")
def rs384() -> Signer:
    return Signer(new_private_key("RS384"), "RS384", kid="ehr-rsa-2026")


@pytest.fixture(scope="session")
def es384() -> Signer:
    return Signer(new_private_key("ES384"), "ES384", kid="ehr-ec-2026")


@pytest.fixture(scope="session")
def other_ehr() -> Signer:
    """A second trusted client with its own key (for cross-client confusion)."""
    return Signer(new_private_key("ES384"), "ES384", kid="other-ec-1", iss=OTHER_ISS)


@pytest.fixture(scope="session")
def forger() -> Signer:
    """An attacker with a valid-looking key nobody trusts, claiming to be the EHR."""
    return Signer(new_private_key("ES384"), "ES384", kid="attacker-1")


@pytest.fixture
def jti_store(tmp_path) -> SqliteJtiStore:
    return SqliteJtiStore(tmp_path / "jti.sqlite3")


@pytest.fixture
def trusted_file(tmp_path, rs384, es384, other_ehr):
    """A trusted-clients file: the EHR (RS384 + ES384 keys inline) and another EHR (keys in a file)."""
    (tmp_path / "other.jwks.json").write_text(json.dumps(other_ehr.jwks()))
    document = {
        "clients": [
            {"iss": EHR_ISS, "jwks": {"keys": [rs384.jwk(), es384.jwk()]}},
            {"iss": OTHER_ISS, "jwks_file": "other.jwks.json"},
        ]
    }
    path = tmp_path / "trusted-clients.json"
    path.write_text(json.dumps(document))
    return path


@pytest.fixture
def production(trusted_file) -> dict:
    return {"PECOMA_MODE": "production", "PECOMA_TRUSTED_CLIENTS": str(trusted_file)}
