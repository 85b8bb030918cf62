"""Prefetch resolution and FHIR fallback (CDS Hooks 2.0 §Providing FHIR Resources, §FHIR Resource Access).

The hook endpoint calls :func:`gather` after validating the request. Per prefetch key:

| prefetch value                           | what happens                                                        |
|------------------------------------------|---------------------------------------------------------------------|
| resource / searchset Bundle              | used; OperationOutcome entries become notes; ``next`` pages are read |
|                                          | from ``fhirServer`` when allowed (else partial data + a note)        |
| ``null``                                 | known empty, never re-queried                                        |
| missing, OperationOutcome, not FHIR      | the template query (tokens resolved) runs against ``fhirServer``     |
| ... and the FHIR server cannot be used   | :class:`PreconditionFailed` naming the keys (-> HTTP 412)            |

Fetches run in parallel within one time budget. Every reply a server can give maps to "used",
"known empty + note", "partial + note" or "412" (docs/configuration-fhir.md has the full table and the
``PECOMA_FHIR_*`` variables). The access token is never logged, stored or put into a note or error.
"""
from __future__ import annotations

import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable, ContextManager, Mapping
from urllib.parse import quote, urlsplit

from cds_service import fhir_client, metrics
from cds_service.fhir_client import FhirClient, Limits, Reply
from cds_service.jsonlog import log_event


LOOPBACK_ORIGINS = ("http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*")
USER_TOKENS = {  # CDS Hooks 2.0 §Prefetch tokens: user id tokens derive from context.userId "Type/id"
    "userPractitionerId": "Practitioner",
    "userPractitionerRoleId": "PractitionerRole",
    "userPatientId": "Patient",
    "userRelatedPersonId": "RelatedPerson",
}
_TOKEN = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
_ID = r"[A-Za-z0-9\-.]{1,256}"  # FHIR id characters; longer than R4's 64 as EHRs send them (request schema)
_PATIENT_REF = re.compile(rf"(?:^|/)Patient/({_ID})(?:/_history/[^/]*)?$")
_FHIR_ID = re.compile(_ID)
_HOST = re.compile(r"^[A-Za-z0-9.\-]+$|^\[[0-9A-Fa-f:.]+\]$")
_GRACE_S = 0.1  # extra wait for workers, which stop on their own at the deadline


@dataclass
class Gathered:
    resources: list[dict[str, Any]]  # every FHIR resource obtained (Bundles unwrapped, deduplicated by type/id)
    notes: list[str] = field(default_factory=list)  # data-quality notes, each "<prefetch key>: <sentence>"
    origin: dict[str, str] = field(default_factory=dict)  # key -> prefetch | fhir | null | not-found | skipped

    @property
    def incomplete(self) -> list[str]:
        """The notes that say data is missing (not merely skipped as irrelevant): shown on every hook."""
        return [note for note in self.notes if note.endswith(_INCOMPLETE_ENDINGS)]


class PreconditionFailed(Exception):
    """Required data could not be obtained -> 412 with an OperationOutcome naming ``keys``."""

    def __init__(self, keys: list[str], detail: str):
        super().__init__(detail)
        self.keys = keys
        self.detail = detail


@dataclass(frozen=True)
class FhirSettings:
    """The ``PECOMA_FHIR_*`` variables, parsed (docs/configuration-fhir.md)."""

    connect_timeout_s: float = 0.5
    read_timeout_s: float = 1.5
    budget_s: float = 2.0
    connect_retries: int = 1
    max_parallel: int = 8  # one per prefetch key (services.json has 8): a hook without prefetch waits one round
    max_pages: int = 10
    page_size: int = 200
    max_reply_bytes: int = 8 * 1024 * 1024
    http_allowlist: tuple[str, ...] = ()
    unauthenticated_allowlist: tuple[str, ...] = ()
    server_allowlist: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "FhirSettings":
        """Parse the variables from a config mapping; ValueError names a bad variable."""
        demo = str(config.get("PECOMA_MODE") or "").lower() == "demo"
        loopback = LOOPBACK_ORIGINS if demo else ()
        return cls(
            connect_timeout_s=_number(config, "PECOMA_FHIR_CONNECT_TIMEOUT_S", cls.connect_timeout_s),
            read_timeout_s=_number(config, "PECOMA_FHIR_READ_TIMEOUT_S", cls.read_timeout_s),
            budget_s=_number(config, "PECOMA_FHIR_BUDGET_S", cls.budget_s),
            connect_retries=int(_number(config, "PECOMA_FHIR_CONNECT_RETRIES", cls.connect_retries, whole=True, zero=True)),
            max_parallel=int(_number(config, "PECOMA_FHIR_MAX_PARALLEL", cls.max_parallel, whole=True)),
            max_pages=int(_number(config, "PECOMA_FHIR_MAX_PAGES", cls.max_pages, whole=True)),
            page_size=int(_number(config, "PECOMA_FHIR_PAGE_SIZE", cls.page_size, whole=True, zero=True)),
            max_reply_bytes=int(_number(config, "PECOMA_FHIR_MAX_REPLY_BYTES", cls.max_reply_bytes, whole=True)),
            http_allowlist=_origins(config, "PECOMA_FHIR_HTTP_ALLOWLIST", loopback),
            unauthenticated_allowlist=_origins(config, "PECOMA_FHIR_UNAUTHENTICATED_ALLOWLIST", loopback),
            server_allowlist=_origins(config, "PECOMA_FHIR_SERVER_ALLOWLIST", ()),
        )

    @property
    def limits(self) -> Limits:
        return Limits(self.connect_timeout_s, self.read_timeout_s, self.max_reply_bytes, self.connect_retries)


def check_config(config: Mapping[str, Any]) -> FhirSettings:
    """Validate the ``PECOMA_FHIR_*`` variables at start-up (raises ValueError naming the variable)."""
    return FhirSettings.from_config(config)


def gather(
    request_body: Mapping[str, Any],
    prefetch_templates: Mapping[str, str],
    config: Mapping[str, Any],
    *,
    client: FhirClient | None = None,
    while_waiting: Callable[[], ContextManager[object]] = nullcontext,
) -> Gathered:
    """Resolve every prefetch template of the service for this request (see the module table).
    ``while_waiting`` is entered while the FHIR server is queried (the app releases its compute gate)."""
    started = time.monotonic()
    context = request_body.get("context") if isinstance(request_body.get("context"), dict) else {}
    patient_id = context.get("patientId") if isinstance(context.get("patientId"), str) else None
    prefetch = request_body.get("prefetch") if isinstance(request_body.get("prefetch"), dict) else {}
    results: dict[str, _KeyResult] = {}
    jobs: dict[str, tuple[str, _KeyResult | None]] = {}  # key -> (query or next-page URL, prefetched pages)

    for key, template in prefetch_templates.items():
        if key in prefetch and prefetch[key] is None:
            results[key] = _KeyResult([], [], "null")
            continue
        used = _from_prefetch(key, prefetch.get(key), _Kind(template), patient_id) if key in prefetch else None
        if used is not None:
            if used.next_url is None:
                results[key] = used
            else:
                jobs[key] = (used.next_url, used)
            continue
        query = resolve_template(template, context)
        if query is None:
            results[key] = _KeyResult([], [_note(key, "the query could not be built from the hook context; not requested")], "skipped")
        else:
            jobs[key] = (query.lstrip("/"), None)

    if jobs:
        try:
            settings = FhirSettings.from_config(config)
        except ValueError as exc:
            log_event("fhir_config_invalid", logging.ERROR, problem=str(exc))
            settings = None
        access, refusal = _server_access(request_body, settings) if settings else (None, "FHIR access is misconfigured")
        if access is None:
            for key, (_, partial) in jobs.items():
                if partial is not None:
                    partial.notes.append(_partial_note(key, partial.pages, refusal))
                    partial.next_url = None
                    results[key] = partial
            unobtainable = [key for key, (_, partial) in jobs.items() if partial is None]
            if unobtainable:
                raise PreconditionFailed(unobtainable, f"Required FHIR data missing from prefetch ({', '.join(unobtainable)}) and {refusal}.")
        else:
            with while_waiting():
                results.update(_fetch_all(jobs, prefetch_templates, access, settings, client or fhir_client.shared_client(), started, patient_id))

    failed = {key: r.failure for key, r in results.items() if r.failure}
    if failed:
        detail = "; ".join(f"{key}: {reason}" for key, reason in failed.items())
        raise PreconditionFailed(list(failed), f"Required FHIR data could not be obtained from the FHIR server ({detail}).")
    return _combine(prefetch_templates, results)


def resolve_template(template: str, context: Mapping[str, Any]) -> str | None:
    """Replace ``{{context.x}}`` (root-level primitive context fields) and the four ``{{userXxxId}}`` tokens;
    values are percent-encoded, and in the path must be FHIR ids. None when a token cannot be resolved."""
    unresolved = False
    query_starts = template.find("?") if "?" in template else len(template)

    def value(match: re.Match) -> str:
        nonlocal unresolved
        name = match.group(1)
        raw: Any = None
        if name.startswith("context.") and "." not in name[len("context."):]:
            raw = context.get(name[len("context."):])
        elif name in USER_TOKENS and isinstance(context.get("userId"), str):
            kind, _, ident = context["userId"].partition("/")
            raw = ident if kind == USER_TOKENS[name] else None
        if isinstance(raw, bool):
            raw = "true" if raw else "false"
        in_path = match.start() < query_starts
        if not isinstance(raw, (str, int, float)) or str(raw) in ("", ".", "..") or (in_path and not _FHIR_ID.fullmatch(str(raw))):
            unresolved = True
            return ""
        return quote(str(raw), safe="-._~")

    resolved = _TOKEN.sub(value, template)
    return None if unresolved else resolved


# ---------------------------------------------------------------- per key


@dataclass
class _KeyResult:
    resources: list[dict[str, Any]]
    notes: list[str]
    origin: str
    failure: str | None = None  # reason text -> 412
    next_url: str | None = None  # prefetch Bundle with more pages
    pages: int = 1


class _Kind:
    """What a template asks for: a read (``Patient/x``) or a type-level search (``Condition?...``)."""

    def __init__(self, template: str):
        path = template.split("?", 1)[0].strip("/")
        self.resource_type = path.split("/", 1)[0]
        self.is_search = "?" in template or "/" not in path


def _from_prefetch(key: str, value: Any, kind: _Kind, patient_id: str | None) -> _KeyResult | None:
    """The usable data of a prefetch value, or None when the key must be fetched."""
    if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
        return None
    if value["resourceType"] == "OperationOutcome":
        return None
    if value["resourceType"] == "Bundle":
        result = _from_bundle(key, value, kind, patient_id, "prefetch")
        result.next_url = _next_link(value)
        return result
    if value["resourceType"] != kind.resource_type:
        return None
    return _checked(key, [dict(value)], kind, patient_id, "prefetch")


def _from_bundle(key: str, bundle: Mapping[str, Any], kind: _Kind, patient_id: str | None, origin: str) -> _KeyResult:
    notes: list[str] = []
    matches: list[dict[str, Any]] = []
    unexpected = 0
    for entry in _list(bundle.get("entry")):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            unexpected += 1
            continue
        mode = (entry.get("search") or {}).get("mode") if isinstance(entry.get("search"), dict) else None
        if resource["resourceType"] == "OperationOutcome":
            notes.append(_note(key, f"the FHIR search reported: {_issues(resource)}; results may be incomplete"))
        elif mode == "include" or resource["resourceType"] == kind.resource_type:
            matches.append(dict(resource))
        else:
            unexpected += 1
    if unexpected:
        notes.append(_note(key, f"{unexpected} entr{'y' if unexpected == 1 else 'ies'} not of type {kind.resource_type} ignored"))
    result = _checked(key, matches, kind, patient_id, origin)
    result.notes[:0] = notes
    return result


def _checked(key: str, resources: list[dict[str, Any]], kind: _Kind, patient_id: str | None, origin: str) -> _KeyResult:
    """Drop resources that belong to another patient than ``context.patientId``."""
    kept = [r for r in resources if patient_id is None or _belongs_to(r, patient_id)]
    notes = []
    if len(kept) < len(resources):
        dropped = len(resources) - len(kept)
        notes.append(_note(key, f"{dropped} resource{'s' if dropped > 1 else ''} about another patient ignored"))
    return _KeyResult(kept, notes, origin)


def _belongs_to(resource: Mapping[str, Any], patient_id: str) -> bool:
    if resource.get("resourceType") == "Patient":
        return resource.get("id") in (None, patient_id)
    for name in ("subject", "patient"):
        ref = resource.get(name)
        match = _PATIENT_REF.search(ref["reference"]) if isinstance(ref, dict) and isinstance(ref.get("reference"), str) else None
        if match and match.group(1) != patient_id:
            return False
    return True


# ---------------------------------------------------------------- FHIR server


@dataclass(frozen=True)
class _Access:
    base: str
    origin: str
    token: str | None

    def __repr__(self) -> str:  # never show the token
        return f"_Access(base={self.base!r}, token={'<set>' if self.token else None})"


def _server_access(body: Mapping[str, Any], settings: FhirSettings) -> tuple[_Access | None, str]:
    """The FHIR server we may query for this request, or None and the reason why not."""
    server = body.get("fhirServer")
    if not isinstance(server, str) or not server.strip():
        return None, "the request has no fhirServer"
    origin = _origin(server)
    if origin is None or "?" in server:
        return None, "fhirServer is not a plain absolute http(s) URL"
    if origin.startswith("http://") and not _allowed(origin, settings.http_allowlist):
        return None, "fhirServer does not use https and is not in PECOMA_FHIR_HTTP_ALLOWLIST"
    if settings.server_allowlist and not _allowed(origin, settings.server_allowlist):
        return None, "fhirServer is not in PECOMA_FHIR_SERVER_ALLOWLIST"
    auth = body.get("fhirAuthorization")
    token = auth.get("access_token") if isinstance(auth, dict) else None
    if not isinstance(token, str) or not token.strip():
        token = None
        if not _allowed(origin, settings.unauthenticated_allowlist):
            return None, "the request has no fhirAuthorization token and fhirServer is not in PECOMA_FHIR_UNAUTHENTICATED_ALLOWLIST"
    return _Access(server.strip().rstrip("/"), origin, token), ""


def _fetch_all(jobs, templates, access: _Access, settings: FhirSettings, client: FhirClient, started: float,
               patient_id: str | None) -> dict[str, _KeyResult]:
    deadline = started + settings.budget_s
    pool = ThreadPoolExecutor(max_workers=min(settings.max_parallel, len(jobs)), thread_name_prefix="fhir-fetch")
    try:
        futures = {
            key: pool.submit(_fetch_key, key, url if partial else _first_page_url(access.base, url, settings.page_size), partial,
                             _Kind(templates[key]), access, settings, client, deadline, patient_id)
            for key, (url, partial) in jobs.items()
        }
        wait(futures.values(), timeout=max(0.0, deadline - time.monotonic()) + _GRACE_S)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    results = {}
    for key, future in futures.items():
        partial = jobs[key][1]
        if future.done() and not future.cancelled() and future.exception() is None:
            results[key] = future.result()
        elif future.done() and not future.cancelled():  # a bug of ours: log the type only (no URL, no token)
            log_event("fhir_fetch_error", logging.ERROR, key=key, error=type(future.exception()).__name__)
            results[key] = _KeyResult([], [], "fhir", failure="internal error while reading the FHIR server")
        elif partial is not None:
            partial.notes.append(_partial_note(key, partial.pages, f"the {settings.budget_s:g} s time budget ran out"))
            results[key] = partial
        else:
            results[key] = _KeyResult([], [], "fhir", failure=f"no answer within the {settings.budget_s:g} s time budget")
    return results


def _fetch_key(key: str, url: str, partial: _KeyResult | None, kind: _Kind, access: _Access, settings: FhirSettings,
               client: FhirClient, deadline: float, patient_id: str | None) -> _KeyResult:
    """Read one key: the first page (or, for a prefetch Bundle, its next pages) and the following pages."""
    result = (_KeyResult(list(partial.resources), list(partial.notes), "prefetch+fhir", pages=partial.pages)
              if partial else _KeyResult([], [], "fhir", pages=0))  # a copy: the caller may give up on us at the deadline
    while url:
        if result.pages >= settings.max_pages:
            result.notes.append(_partial_note(key, result.pages, "page limit reached"))
            break
        if _origin(url) != access.origin:
            result.notes.append(_partial_note(key, result.pages, "the next page is on another server"))
            break
        reply = client.get_json(url, access.token, settings.limits, deadline)
        metrics.fhir_request(reply.status, reply.failure)
        log_event("fhir_fetch", logging.WARNING if reply.failure else logging.DEBUG, key=key, page=result.pages + 1,
                  status=reply.status, failure=reply.failure, ms=round(reply.elapsed_s * 1000, 1))
        problem = _problem(reply, kind)
        if problem and result.pages == 0:
            if reply.failure == fhir_client.NOT_FOUND and kind.is_search:  # the server offers no such search
                return _KeyResult([], [_note(key, f"the FHIR server has no such data (HTTP {reply.status}); treated as none recorded")], "not-found")
            return _KeyResult([], [], "fhir", failure=problem)
        if problem:
            result.notes.append(_partial_note(key, result.pages, f"next page: {problem}"))
            break
        page = _from_bundle(key, reply.body, kind, patient_id, "fhir") if kind.is_search else _checked(key, [reply.body], kind, patient_id, "fhir")
        result.resources.extend(page.resources)
        result.notes.extend(n for n in page.notes if n not in result.notes)
        result.pages += 1
        url = _next_link(reply.body) if kind.is_search else None
    return result


def _problem(reply: Reply, kind: _Kind) -> str | None:
    """Why a reply cannot be used (plain words for the 412 detail / note), or None."""
    if reply.failure:
        return _FAILURE_TEXT.get(reply.failure, reply.failure) + (f" (HTTP {reply.status})" if reply.status and reply.status != 200 else "")
    expected = "Bundle" if kind.is_search else kind.resource_type
    got = reply.body.get("resourceType")
    if got != expected:
        shown = got if isinstance(got, str) and re.fullmatch(r"[A-Za-z]{1,40}", got) else "non-FHIR object"
        return f"the FHIR server answered with a {shown} instead of a {expected}"
    return None


_FAILURE_TEXT = {
    fhir_client.UNAUTHORIZED: "the FHIR server refused the access token",
    fhir_client.NOT_FOUND: "the FHIR server has no such data",
    fhir_client.RATE_LIMITED: "the FHIR server is rate-limiting requests",
    fhir_client.SERVER_ERROR: "the FHIR server failed",
    fhir_client.HTTP_ERROR: "the FHIR server rejected the request",
    fhir_client.TIMEOUT: "the FHIR server did not answer in time",
    fhir_client.UNREACHABLE: "the FHIR server could not be reached",
    fhir_client.TRUNCATED: "the FHIR server's reply was cut off",
    fhir_client.NOT_JSON: "the FHIR server's reply was not valid JSON",
    fhir_client.NOT_FHIR: "the FHIR server's reply was not a FHIR resource",
    fhir_client.TOO_LARGE: "the FHIR server's reply was larger than PECOMA_FHIR_MAX_REPLY_BYTES",
}


# ---------------------------------------------------------------- helpers


def _combine(templates: Mapping[str, str], results: Mapping[str, _KeyResult]) -> Gathered:
    seen: set[tuple[str, str]] = set()
    resources: list[dict[str, Any]] = []
    notes: list[str] = []
    for key in templates:
        result = results[key]
        for resource in result.resources:
            identity = (resource.get("resourceType"), resource.get("id"))
            if isinstance(identity[1], str):
                if identity in seen:
                    continue
                seen.add(identity)
            resources.append(resource)
        notes.extend(result.notes)
    return Gathered(resources, notes, {key: results[key].origin for key in templates})


def _first_page_url(base: str, query: str, page_size: int) -> str:
    """``base/query``, asking for ``page_size`` results per page on searches that do not set ``_count``."""
    if page_size and "?" in query and not re.search(r"[?&]_count=", query):
        query += f"&_count={page_size}"
    return f"{base}/{query}"


def _next_link(bundle: Mapping[str, Any]) -> str | None:
    for link in _list(bundle.get("link")):
        if isinstance(link, dict) and link.get("relation") == "next" and isinstance(link.get("url"), str) and link["url"]:
            return link["url"]
    return None


def _issues(outcome: Mapping[str, Any]) -> str:
    parts = []
    for issue in _list(outcome.get("issue"))[:3]:
        if isinstance(issue, dict):
            details = issue.get("details") if isinstance(issue.get("details"), dict) else {}
            text = " ".join(str(issue.get("diagnostics") or details.get("text") or "").split())[:120]
            parts.append(f"{issue.get('severity', '?')} {issue.get('code', '?')}" + (f" '{text}'" if text else ""))
    return "; ".join(parts) or "an OperationOutcome without issues"


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


_INCOMPLETE_ENDINGS = ("results may be incomplete", "later results are missing", "not requested")


def _note(key: str, sentence: str) -> str:
    return f"{key}: {sentence}"


def _partial_note(key: str, pages: int, reason: str) -> str:
    which = "the first page of search results was" if pages == 1 else f"the first {pages} pages of search results were"
    return _note(key, f"only {which} used ({reason}); later results are missing")


def _origin(url: str) -> str | None:
    """``scheme://host:port`` of an absolute http(s) URL without credentials, or None."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password or parts.fragment:
        return None
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if not _HOST.match(host):
        return None
    return f"{parts.scheme}://{host.lower()}:{port or (443 if parts.scheme == 'https' else 80)}"


def _allowed(origin: str, patterns: tuple[str, ...]) -> bool:
    """``*`` in a pattern stands for any port, or any subdomain labels (``https://*.example.org``)."""
    return any(re.fullmatch(re.escape(pattern).replace(r"\*", r"[A-Za-z0-9.\-]*"), origin) for pattern in patterns)


def _origins(config: Mapping[str, Any], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = config.get(name)
    if raw is None or str(raw).strip() == "":
        return default
    patterns = []
    for item in str(raw).split(","):
        item = item.strip().rstrip("/").lower()
        if not item:
            continue
        scheme, sep, rest = item.partition("://")
        if scheme not in ("http", "https") or not sep or not rest or "/" in rest or "@" in rest:
            raise ValueError(f"{name}: {item!r} is not an origin pattern like http://127.0.0.1:* or https://ehr.example.org")
        if not re.search(r":(\d+|\*)$", rest):
            rest += ":443" if scheme == "https" else ":80"
        patterns.append(f"{scheme}://{rest}")
    return tuple(patterns)


def _number(config: Mapping[str, Any], name: str, default: float, whole: bool = False, zero: bool = False) -> float:
    raw = config.get(name)
    if raw is None or str(raw).strip() == "":
        return default
    try:
        number = int(str(raw).strip()) if whole else float(str(raw).strip())
    except ValueError:
        raise ValueError(f"{name} must be a {'whole ' if whole else ''}number, not {str(raw)[:20]!r}") from None
    if number < 0 or (number == 0 and not zero) or number != number:
        raise ValueError(f"{name} must be {'zero or more' if zero else 'positive'}")
    return number
