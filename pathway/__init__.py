"""The PEComa pathway core: pure, deterministic facts -> Decision (pathway-spec.md).

No Flask, no HTTP, no FHIR JSON, no clock: ``today`` is passed in.
"""
from pathway.decide import decide

__all__ = ["decide"]
