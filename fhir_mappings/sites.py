"""Primary and metastatic sites: text (and ICD-10-CM site codes) -> site group and AJCC site group candidates."""
from __future__ import annotations

from dataclasses import dataclass

from fhir_mappings import terminology as term
from pathway.facts import AjccSiteGroup, SiteGroup


@dataclass(frozen=True)
class SiteReading:
    site_group: SiteGroup | None
    ajcc_candidates: tuple[AjccSiteGroup, ...]  # in enum order; one = resolved, several = ambiguous


_AJCC_ORDER = list(AjccSiteGroup)


def read_primary_site(text: str) -> SiteReading:
    """Every site phrase in the text, combined. Gynaecologic wins the site group if any phrase is gynaecologic."""
    remaining = text or ""
    groups: set[str] = set()
    ajcc: set[AjccSiteGroup] = set()
    for pattern, group, candidates in term.PRIMARY_SITE_PATTERNS:
        if pattern.search(remaining):
            groups.add(group)
            ajcc.update(AjccSiteGroup(c) for c in candidates)
            remaining = pattern.sub(" ", remaining)
    if not groups:
        return SiteReading(None, ())
    site_group = SiteGroup.GYNAECOLOGIC if "gynaecologic" in groups else SiteGroup.NON_GYNAECOLOGIC
    return SiteReading(site_group, tuple(sorted(ajcc, key=_AJCC_ORDER.index)))


def metastatic_site_label(text: str) -> str | None:
    for pattern, label in term.METASTATIC_SITE_PATTERNS:
        if text and pattern.search(text):
            return label
    return None
