"""FHIR OperationOutcome bodies for every non-2xx answer (CDS Hooks 3.0 ballot §Returning OperationOutcome)."""
from __future__ import annotations

from typing import Any, Iterable

# HTTP status -> OperationOutcome.issue.code (FHIR R4 IssueType)
ISSUE_CODE = {400: "invalid", 401: "login", 404: "not-found", 405: "not-supported", 412: "processing", 413: "too-costly", 415: "not-supported", 500: "exception"}


def operation_outcome(status: int, messages: Iterable[str], *, expression: Iterable[str] = (),
                      information: Iterable[str] = ()) -> dict[str, Any]:
    """Error issues for ``messages``, then information issues (e.g. what was done despite the errors)."""
    issues = []
    expressions = [e for e in expression if e]
    for message in messages:
        issue: dict[str, Any] = {"severity": "error", "code": ISSUE_CODE.get(status, "processing"), "diagnostics": message}
        if expressions:
            issue["expression"] = list(expressions)
        issues.append(issue)
    if not issues:
        issues.append({"severity": "error", "code": ISSUE_CODE.get(status, "processing")})
    issues.extend({"severity": "information", "code": "informational", "diagnostics": text} for text in information)
    return {"resourceType": "OperationOutcome", "issue": issues}
