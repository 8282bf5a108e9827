"""OpenAPI: the error answers every endpoint can give, which drf-spectacular leaves out."""

ERROR_SCHEMA = {
    "type": "object",
    "description": '`{"detail": "..."}`, or field errors: `{"price": ["..."]}`.',
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": {},
}

_DESCRIPTIONS = {
    "400": "The request names what is wrong.",
    "401": "No valid credentials.",
    "404": "No such object among the operator's own.",
    "409": "The object is being posted right now.",
}


def _can_conflict(path: str, method: str) -> bool:
    """Changing a listing (or deleting its account) while it is being posted."""
    if path.startswith("/api/posts/{id}/"):
        return method in {"patch", "delete", "post"}
    return path == "/api/accounts/{id}/" and method == "delete"


def add_error_responses(result, generator, request, public):
    """Document 400, 401, 404 and 409 where an operation can answer them."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            codes = []
            if operation.get("requestBody") or any(p["in"] == "query" for p in operation.get("parameters", [])):
                codes.append("400")
            if operation.get("security") and {} not in operation["security"]:
                codes.append("401")
            if "{" in path:
                codes.append("404")
                if _can_conflict(path, method):
                    codes.append("409")
            for code in codes:
                operation["responses"].setdefault(code, {"description": _DESCRIPTIONS[code], "content": ref})
    return result
