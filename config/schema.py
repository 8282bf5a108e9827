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


STATUS_STREAM = {
    "get": {
        "operationId": "posts_status_stream",
        "summary": "A job's progress as Server-Sent Events",
        "description": "`text/event-stream`: the job's state at once, then one `data:` event per change, each "
        "with an increasing `id:`; a comment line after 15 s of silence; a last event with `\"final\": "
        "true`, then the stream closes. A job that already ended gets its final event at once. "
        "`Last-Event-ID` is accepted: the client gets the current state. Credentials: bearer token, or "
        "the access cookie (an `EventSource` with `withCredentials`).",
        "tags": ["posts"],
        "parameters": [{"in": "path", "name": "job_id", "required": True, "schema": {"type": "string", "format": "uuid"}}],
        "security": [{"jwtAuth": []}, {"jwtCookie": []}],
        "responses": {
            "200": {
                "description": "Events whose data is a job status (the Job schema).",
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            },
        },
    }
}


VALIDATE_SESSION = {
    "get": {
        "operationId": "accounts_validate_session",
        "summary": "Validate one account's session (seed section 3)",
        "description": "The seed's three answers: valid, may be expired (with `session_age_days`), file "
        "missing (without it); `reasons` lists what is wrong. `?live=true` also opens Marketplace with "
        "the session in Chromium and records whether it is really logged in (503 when Marketplace "
        "cannot be reached).",
        "tags": ["accounts"],
        "parameters": [
            {"in": "path", "name": "id", "required": True, "schema": {"type": "integer"}},
            {"in": "query", "name": "live", "required": False, "schema": {"type": "boolean"}},
        ],
        "security": [{"jwtAuth": []}, {"jwtCookie": []}],
        "responses": {
            "200": {
                "description": "The session's verdict.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SessionValidation"}}},
            },
            "503": {
                "description": "Marketplace could not be reached for the live check.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
        },
    }
}


def add_plain_views(result, generator, request, public):
    """Endpoints outside DRF (the status stream's ASGI app, the async validate-session view), which
    drf-spectacular does not see."""
    paths = result.setdefault("paths", {})
    paths["/api/posts/status-stream/{job_id}/"] = STATUS_STREAM
    paths["/api/accounts/{id}/validate-session/"] = VALIDATE_SESSION
    return result


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
