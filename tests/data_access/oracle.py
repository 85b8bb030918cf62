"""What a complete prefetch holds for a fixture patient, computed from the fixture itself (not from a server).

Knows only the search parameters our templates use (``patient``; ``category`` and ``code`` as tokens, ``code`` or
``system|code``, with comma = OR); any other
parameter raises, so a new template cannot be compared against a silently wrong expectation.
"""
from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import parse_qsl

from cds_service.data_access import resolve_template


def full_prefetch(resources: list[dict[str, Any]], templates: Mapping[str, str], context: Mapping[str, Any]) -> dict[str, Any]:
    prefetch: dict[str, Any] = {}
    for key, template in templates.items():
        query = resolve_template(template, context)
        path, _, params = query.partition("?")
        if not params and "/" in path:  # read: Type/id
            rtype, rid = path.split("/", 1)
            found = [r for r in resources if r["resourceType"] == rtype and r["id"] == rid]
            prefetch[key] = found[0] if found else None
            continue
        matches = [r for r in resources if r["resourceType"] == path and all(_matches(r, n, v) for n, v in parse_qsl(params))]
        prefetch[key] = searchset(matches)
    return prefetch


def searchset(resources: list[dict[str, Any]], next_url: str | None = None) -> dict[str, Any]:
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": len(resources),
                              "entry": [{"resource": r, "search": {"mode": "match"}} for r in resources]}
    if next_url:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


def _matches(resource: dict[str, Any], name: str, value: str) -> bool:
    if name == "_count":
        return True
    if name == "patient":
        ref = (resource.get("subject") or resource.get("patient") or {}).get("reference", "")
        return ref == f"Patient/{value}" or ref.endswith(f"/Patient/{value}")
    if name in ("category", "code"):
        concepts = resource.get(name) or []
        concepts = concepts if isinstance(concepts, list) else [concepts]
        tokens = set()
        for cc in concepts:
            for c in cc.get("coding") or []:
                tokens |= {c.get("code"), f"{c.get('system', '')}|{c.get('code')}"}
        return bool(tokens & set(value.split(",")))
    raise NotImplementedError(f"the test oracle does not know the search parameter {name!r}")


def identities(resources: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(r["resourceType"], r["id"]) for r in resources}


def without_meta(resources: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Resources by (type, id) with server-assigned ``meta`` removed, for content comparison."""
    return {(r["resourceType"], r["id"]): {k: v for k, v in r.items() if k != "meta"} for r in resources}
