"""Production mode (the default): no CORS unless configured, no demo secret, 401 without a token."""
from __future__ import annotations

import pytest

from cds_service.app import create_app
from cds_service.config import ConfigError, load_config, require_service_settings


def production_app(tmp_path, **extra):
    config = load_config({}, PECOMA_PATIENT_KEY_SECRET="s" * 32, PECOMA_DATABASE_URL=f"sqlite:///{tmp_path}/p.sqlite3", **extra)
    return create_app(config)


def test_production_is_the_default_and_needs_a_secret():
    assert load_config({}, PECOMA_PATIENT_KEY_SECRET="x")["PECOMA_MODE"] == "production"
    with pytest.raises(ConfigError, match="PECOMA_PATIENT_KEY_SECRET"):
        require_service_settings(load_config({}))
    with pytest.raises(ConfigError, match="PECOMA_PATIENT_KEY_SECRET"):
        create_app(load_config({}))
    with pytest.raises(ConfigError, match="PECOMA_MODE"):
        load_config({"PECOMA_MODE": "dev"})


def test_calls_without_a_token_get_401_without_details_but_preflight_and_health_pass(tmp_path):
    client = production_app(tmp_path).test_client()
    for response in (client.get("/cds-services"), client.post("/cds-services/pecoma-patient-view/feedback", json={"feedback": []})):
        assert response.status_code == 401
        assert response.get_json()["resourceType"] == "OperationOutcome"
        assert "diagnostics" not in response.get_data(as_text=True)
    assert client.options("/cds-services", headers={"Origin": "https://ehr.example.org"}).status_code == 204
    assert client.get("/healthz").status_code == 200


def test_cors_only_for_configured_origins(tmp_path):
    client = production_app(tmp_path, PECOMA_CORS_ORIGINS="https://ehr.example.org").test_client()
    allowed = client.options("/cds-services", headers={"Origin": "https://ehr.example.org"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://ehr.example.org"
    other = client.options("/cds-services", headers={"Origin": "https://evil.example.org"})
    assert "Access-Control-Allow-Origin" not in other.headers
    no_config = production_app(tmp_path).test_client().options("/cds-services", headers={"Origin": "https://ehr.example.org"})
    assert "Access-Control-Allow-Origin" not in no_config.headers


def test_public_base_url_shapes_rule_links(tmp_path):
    client = production_app(tmp_path, PECOMA_PUBLIC_BASE_URL="https://cds.example.org/pecoma/").test_client()
    assert client.get("/fhir/CodeSystem/pecoma-rule").get_json()["url"] == "https://cds.example.org/pecoma/fhir/CodeSystem/pecoma-rule"


@pytest.mark.parametrize("variable, value, fragment", [
    ("PECOMA_DATABASE_URL", "mysql://u@h/db", "PECOMA_DATABASE_URL"),
    ("PECOMA_SITE_SETTINGS", "/nonexistent/settings.json", "PECOMA_SITE_SETTINGS"),
    ("PECOMA_MAX_BODY_BYTES", "-1", "PECOMA_MAX_BODY_BYTES"),
    ("PECOMA_PUBLIC_BASE_URL", "cds.example.org", "PECOMA_PUBLIC_BASE_URL"),
    ("PECOMA_REFERENCE_DATE", "22/11/2026", "PECOMA_REFERENCE_DATE"),
    ("PECOMA_SMART_APP_URL", "/smart/launch", "PECOMA_SMART_APP_URL"),  # else every card would fail validation
])
def test_bad_configuration_is_refused_at_start_naming_the_variable(tmp_path, variable, value, fragment):
    settings = {"PECOMA_PATIENT_KEY_SECRET": "s" * 32, "PECOMA_DATABASE_URL": f"sqlite:///{tmp_path}/p.sqlite3", variable: value}
    with pytest.raises(ConfigError, match=fragment):
        create_app(load_config(settings))
