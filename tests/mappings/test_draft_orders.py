"""read_draft_orders(): lenient reading of an order hook's draftOrders (the Sandbox sends invalid R4)."""
from __future__ import annotations

from fhir_mappings import read_draft_orders

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def bundle(*resources):
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def test_medication_draft_becomes_a_draft_medication():
    draft = {"resourceType": "MedicationRequest", "id": "mr1", "status": "draft", "intent": "proposal",
             "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "2586868",
                                                       "display": "sirolimus 100 MG Injection [Fyarro]"}]},
             "dosageInstruction": [{"route": {"text": "intravenous"}}]}
    [order] = read_draft_orders(bundle(draft))
    assert (order.reference, order.resource_type, order.category) == ("MedicationRequest/mr1", "MedicationRequest", "medication")
    assert order.medication.status == "draft"
    assert (order.medication.ingredient, order.medication.rxnorm, order.medication.route) == ("sirolimus", "35302", "intravenous")
    assert order.defects == ()


def test_sandbox_shapes_are_read_with_defects():
    no_medication = {"resourceType": "MedicationRequest", "id": "mr2", "status": "draft", "intent": "order",
                     "category": {"text": "outpatient"}}
    [order] = read_draft_orders(bundle(no_medication))
    assert order.category == "medication"
    assert order.medication is None
    assert set(order.defects) == {"category is not an array", "no medication[x]"}


def test_service_requests_are_categorised_and_vaccines_flagged():
    ct = {"resourceType": "ServiceRequest", "id": "sr1", "status": "draft", "intent": "proposal",
          "code": {"text": "CT chest with contrast"}}
    surgery = {"resourceType": "ServiceRequest", "id": "sr2", "status": "draft", "intent": "proposal",
               "code": {"text": "Excision of neoplasm"}}
    vaccine = {"resourceType": "Immunization", "id": "im1", "status": "not-done",
               "vaccineCode": {"text": "Measles, mumps and rubella virus vaccine, live"}}
    other = {"resourceType": "NutritionOrder", "status": "draft"}
    orders = read_draft_orders(bundle(ct, surgery, vaccine, other))
    assert [o.category for o in orders] == ["imaging", "surgery", "vaccine", "other"]
    assert [o.live_vaccine for o in orders] == [False, False, True, False]
    assert orders[3].reference == "NutritionOrder/draft-3" and "no id" in orders[3].defects


def test_a_temsirolimus_order_in_words_is_temsirolimus_not_sirolimus():
    """'temsirolimus' contains 'sirolimus': an IV temsirolimus draft in text was read as nab-sirolimus (FYARRO)."""
    from pathway.context import drafted_agent
    from pathway.facts import MtoriAgent

    texts = ("temsirolimus 25 MG Injection", "Torisel", "Fyarro")
    drafts = [{"resourceType": "MedicationRequest", "id": f"m{i}", "status": "draft", "intent": "proposal",
               "medicationCodeableConcept": {"text": t}, "dosageInstruction": [{"route": {"text": "intravenous"}}]}
              for i, t in enumerate(texts)]
    orders = read_draft_orders(bundle(*drafts))
    assert [o.medication.ingredient for o in orders] == ["temsirolimus", "temsirolimus", "sirolimus"]
    assert [drafted_agent(o) for o in orders] == [MtoriAgent.TEMSIROLIMUS, MtoriAgent.TEMSIROLIMUS,
                                                 MtoriAgent.NAB_SIROLIMUS]


def test_junk_never_raises():
    for junk in (None, 3, "x", [], {}, {"resourceType": "Bundle", "entry": "nope"}, bundle(None, 5, {"a": 1}),
                 [{"resourceType": "MedicationRequest", "medicationCodeableConcept": 7}]):
        assert isinstance(read_draft_orders(junk), tuple)
