"""pathway.decision.Decision -> CDS Hooks 2.0 cards with draft FHIR R4 orders."""
from cards.render import RenderContext, render

__all__ = ["RenderContext", "render"]
