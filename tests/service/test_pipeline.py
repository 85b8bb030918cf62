"""The one pipeline function shared by the HTTP endpoint and ``pecoma-cds evaluate``."""
from __future__ import annotations

from datetime import date

from cds_service.pipeline import UNAVAILABLE_SUMMARY, evaluate
from cds_service.validation import validate_response
from tests.service.builders import non_pecoma_prefetch


def test_a_failure_inside_the_pipeline_degrades_to_one_valid_information_card():
    evaluation = evaluate(None, hook="patient-view", patient_id="p", today=date(2026, 11, 22), base_url="http://127.0.0.1:8080")  # type: ignore[arg-type]
    assert evaluation.degraded
    assert [c["summary"] for c in evaluation.cards] == [UNAVAILABLE_SUMMARY]
    assert evaluation.cards[0]["indicator"] == "info"
    assert validate_response({"cards": evaluation.cards}) == []


def test_a_patient_without_pecoma_gets_no_cards_and_an_out_of_scope_assessment():
    prefetch = non_pecoma_prefetch("p2")
    resources = [prefetch["patient"], *(e["resource"] for e in prefetch["conditions"]["entry"])]
    evaluation = evaluate(resources, hook="patient-view", patient_id="p2", today=date(2026, 11, 22), base_url="http://127.0.0.1:8080")
    assert not evaluation.degraded
    assert evaluation.cards == []
    assert evaluation.assessment["scope"] == "not_pecoma"
    assert evaluation.as_json()["cards"] == []


def test_site_settings_file_is_read_into_the_pathway_settings(tmp_path):
    from cds_service.pipeline import load_site_settings

    path = tmp_path / "site.json"
    path.write_text("{}")
    settings = load_site_settings(str(path))
    assert settings is not None and type(settings).__name__ == "SiteSettings"
    assert load_site_settings(None) is None


def test_data_quality_notes_from_gathering_are_shown_with_the_assessment():
    from tests.fixtures import bundle_resources, load_vignette_bundle

    note = "observations: only the first 10 pages of search results were used (page limit reached)"
    evaluation = evaluate(bundle_resources(load_vignette_bundle("V19")), hook="patient-view", patient_id="pecoma-v19",
                          today=date(2026, 11, 22), base_url="http://127.0.0.1:8080", data_notes=[note])
    assessment_card = evaluation.cards[0]
    assert assessment_card["source"]["topic"]["code"] == "ASSESSMENT"
    assert "only the first 10 pages of search results were used" in assessment_card["detail"]
    assert validate_response({"cards": evaluation.cards}) == []
