"""The API's error answers, documented in its OpenAPI schema.

django-ninja documents only an endpoint's success status, yet every endpoint answers more:
400 for a parameter or body that does not fit (ninja's validation, and the site's refusal of
NUL characters anywhere in an address), 404 for an id or run that does not exist or is not the
caller's to see, 401 and 403 where a session is needed (403 also for a POST without its CSRF
token). A client generated from the schema, or a tool checking answers against it, would meet
those as undocumented; :func:`document_errors` adds them, each with the one body the site
gives, ``{"detail": ...}``: a message, or ninja's list of validation errors.
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "properties": {"detail": {"title": "Detail", "anyOf": [
        {"type": "string"}, {"type": "array", "items": {"type": "object"}}]}},
    "required": ["detail"],
}
DESCRIPTIONS = {
    400: "A parameter or body that does not fit (what is wrong in detail)",
    401: "Not logged in",
    403: "Not allowed for this role (or a POST without its CSRF token)",
    404: "No such object, or none published yet, or not visible to the caller",
}
_METHODS = ("get", "put", "post", "delete", "patch")


def error_statuses(path: str, operation: dict[str, Any]) -> list[int]:
    """The error statuses an operation can answer besides its success."""
    statuses = [400]
    if operation.get("security"):
        statuses += [401, 403]
    named = "{" in path or any(p.get("in") == "query" and p.get("name") == "run"
                               for p in operation.get("parameters", []))
    if named:
        statuses.append(404)
    return statuses


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with the error answers of each operation added (in place, and returned)."""
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR_SCHEMA)
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status in error_statuses(path, operation):
                responses.setdefault(str(status), {"description": DESCRIPTIONS[status],
                                                   "content": reference})
    return schema
