"""JSON Schema + semantic validation of CDS Hooks 2.0 requests, feedback and responses.

Each ``validate_*`` function returns a list of human-readable problems (empty = valid);
``check_feedback`` also says which items of a batch can still be stored.
The schemas live in ``schemas/`` (draft 2020-12); the checks below are those a schema
cannot express. ``validate_response`` is used by ``cards`` and by every test that
receives a hook response.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Mapping

from jsonschema import Draft202012Validator

SCHEMA_DIR = Path(__file__).with_name("schemas")
MAX_NESTING = 100  # deeper JSON is refused before any recursive work (FHIR resources stay far below)
# Prefetched resources are not walked here: the schema only reads their resourceType, the mappers read them
# iteratively, and orjson refuses JSON nested deeper than 1024 levels while parsing. Walking every node of a
# large prefetch cost more than the rest of request validation (bench/profile_hook.py, docs/performance.md).
MAX_PROBLEMS = 20
MAX_MESSAGE = 300


@lru_cache(maxsize=None)
def _validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    inlined = _inline_refs(schema, schema.get("$defs", {}))
    if "$defs" in schema:
        inlined["$defs"] = schema["$defs"]  # what a reference left in place (a recursive one) resolves against
    return Draft202012Validator(inlined)


def _inline_refs(node: Any, defs: Mapping[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """The schema with its local ``#/$defs/...`` references replaced by their targets (same meaning):
    jsonschema resolves each ``$ref`` on every use, which made up a third of response validation."""
    if isinstance(node, list):
        return [_inline_refs(item, defs, seen) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _inline_refs(v, defs, seen) for k, v in node.items() if k not in ("$ref", "$defs")}
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/") and ref[8:] in defs and ref not in seen:
        target = _inline_refs(defs[ref[8:]], defs, seen + (ref,))
        return target if not out else {"allOf": [target], **out}
    if ref is not None:
        out["$ref"] = ref
    return out


def schema(name: str) -> dict[str, Any]:
    """The JSON Schema ``request`` / ``feedback`` / ``response`` as a dict."""
    return _validator(name).schema


def nesting_depth(value: Any) -> int:
    """Depth of nested arrays/objects, computed without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_NESTING:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _schema_problems(name: str, body: Any) -> list[str]:
    walked = {k: v for k, v in body.items() if k != "prefetch"} if name == "request" and isinstance(body, dict) else body
    if nesting_depth(walked) > MAX_NESTING:
        return [f"JSON nested deeper than {MAX_NESTING} levels"]
    problems = []
    for error in sorted(_validator(name).iter_errors(body), key=lambda e: list(map(str, e.absolute_path))):
        problems.append(_short(f"{_where(error.absolute_path)}: {_message(error)}"))
        if len(problems) >= MAX_PROBLEMS:
            break
    return problems


def _message(error: Any) -> str:
    """jsonschema's message, reworded where it would only repeat the instance."""
    forbidden = error.validator_value.get("required") if error.validator == "not" and isinstance(error.validator_value, dict) else None
    if forbidden:
        return f"{', '.join(map(repr, forbidden))} not allowed here"
    return error.message


def _where(path: Any) -> str:
    parts = list(path)
    if not parts:
        return "(body)"
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _short(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 3] + "..."


# --- requests -------------------------------------------------------------------------------

def validate_request(body: Any, service: Mapping[str, Any]) -> list[str]:
    """Problems of a hook request ``body`` sent to ``service`` (its discovery entry)."""
    problems = _schema_problems("request", body)
    if not isinstance(body, dict):
        return problems or ["request body must be a JSON object"]
    hook = body.get("hook")
    if isinstance(hook, str) and hook != service["hook"]:
        problems.insert(0, f"hook: service {service['id']!r} answers the {service['hook']!r} hook, not {hook!r}")
    if not problems:
        problems.extend(_selection_problems(body.get("context") or {}))
    return problems


def _selection_problems(context: Mapping[str, Any]) -> list[str]:
    """Every ``selections`` entry must reference a resource in ``draftOrders`` (order-select)."""
    selections = context.get("selections")
    if not isinstance(selections, list):
        return []
    present = {
        f"{entry['resource']['resourceType']}/{entry['resource']['id']}"
        for entry in (context.get("draftOrders") or {}).get("entry") or []
    }
    return [
        f"context.selections[{i}]: {ref!r} is not an entry of context.draftOrders"
        for i, ref in enumerate(selections)
        if ref not in present
    ]


# --- feedback -------------------------------------------------------------------------------

@dataclass(frozen=True)
class FeedbackCheck:
    """``refused``: the body itself cannot be read, nothing is stored. ``bad_items``: the problems of the items
    that cannot be stored, by index; every other item of the batch is stored (never lost for a neighbour)."""
    refused: list[str]
    bad_items: dict[int, list[str]]

    def problems(self) -> list[str]:
        """Every problem in one list, the envelope's first, then each refused item's (empty = store the whole batch)."""
        return (self.refused + [p for i in sorted(self.bad_items) for p in self.bad_items[i]])[:MAX_PROBLEMS]


def check_feedback(body: Any) -> FeedbackCheck:
    """Problems of a feedback body (CDS Hooks 2.0 §Feedback), split into the envelope's and each item's."""
    if not isinstance(body, dict) or nesting_depth(body) > MAX_NESTING:
        return FeedbackCheck(_schema_problems("feedback", body) or ["feedback body must be a JSON object"], {})
    refused: list[str] = []
    bad_items: dict[int, list[str]] = {}
    for error in sorted(_validator("feedback").iter_errors(body), key=lambda e: list(map(str, e.absolute_path))):
        path = list(error.absolute_path)
        message = _short(f"{_where(path)}: {_message(error)}")
        if len(path) >= 2 and path[0] == "feedback" and isinstance(path[1], int):
            bad_items.setdefault(path[1], []).append(message)
        else:
            refused.append(message)
    if refused:
        return FeedbackCheck(refused[:MAX_PROBLEMS], {})
    for i, item in enumerate(body["feedback"]):
        if i not in bad_items:
            try:
                parse_timestamp(item["outcomeTimestamp"])
            except ValueError:
                bad_items[i] = [f"feedback[{i}].outcomeTimestamp: not a valid date-time"]
    return FeedbackCheck([], bad_items)


def parse_timestamp(text: str) -> datetime:
    """RFC 3339 date-time (with zone) -> aware datetime; ValueError when invalid."""
    value = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError("date-time without time zone")
    return value


# --- responses ------------------------------------------------------------------------------

def validate_response(body: Any) -> list[str]:
    """Problems of a hook response: schema, no null/empty values, invariants (empty = valid)."""
    problems = _schema_problems("response", body)
    if not isinstance(body, dict):
        return problems
    problems.extend(f"{path}: null or empty value (CDS Hooks §Use of JSON)" for path in empty_values(body, allow_root=("cards",)))
    for i, card in enumerate(body.get("cards") or []):
        if not isinstance(card, dict):
            continue
        if card.get("selectionBehavior") == "at-most-one":
            recommended = [s for s in card.get("suggestions") or [] if isinstance(s, dict) and s.get("isRecommended")]
            if len(recommended) > 1:
                problems.append(f"cards[{i}]: selectionBehavior at-most-one with {len(recommended)} recommended suggestions")
    return problems


def validate_discovery(body: Any) -> list[str]:
    """Problems of a discovery document: required fields and no null/empty values."""
    problems = []
    services = body.get("services") if isinstance(body, dict) else None
    if not isinstance(services, list):
        return ["services: must be an array"]
    for i, entry in enumerate(services):
        for field in ("id", "hook", "description"):
            if not isinstance(entry, dict) or not entry.get(field):
                problems.append(f"services[{i}].{field}: required")
    problems.extend(f"{p}: null or empty value" for p in empty_values(body, allow_root=("services",)))
    return problems


def empty_values(body: Any, allow_root: tuple[str, ...] = ()) -> Iterator[str]:
    """Paths of every null, "", [] or {} inside ``body`` (top-level keys in ``allow_root`` may be [])."""
    stack: list[tuple[str, Any]] = [("", body)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            items = [(f"{path}.{k}" if path else str(k), v) for k, v in node.items()]
        elif isinstance(node, list):
            items = [(f"{path}[{i}]", v) for i, v in enumerate(node)]
        else:
            continue
        for child_path, value in items:
            if value is None or value == "" or value == [] or value == {}:
                if not (child_path in allow_root and value == []):
                    yield child_path
            else:
                stack.append((child_path, value))
