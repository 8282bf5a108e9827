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
}
_NO_SUCH_PAGE = "No such page (`?page=` past the last one)."


def _conflict(path: str, method: str) -> str | None:
    """Why the operation may answer 409, if it may."""
    if path == "/api/posts/jobs/{job_id}/cancel/":
        return "The job has already ended."
    if path == "/api/posts/{id}/retry/":
        return "The listing has not failed."
    if path.startswith("/api/posts/{id}/") and method in {"patch", "delete", "post"}:
        return "The listing is being posted right now."
    if path == "/api/accounts/{id}/" and method == "delete":
        return "A listing of the account is being posted right now."
    return None


SSE_EVENT = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "description": "Grows with every change of the job."},
        "data": {"type": "string", "description": "The job status as JSON (the Job schema)."},
        "retry": {"type": "integer", "description": "Milliseconds before a client reconnects."},
        "event": {"type": "string"},
    },
    "required": ["data"],
}


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
                "description": "The events. Each one's `data` is a job status as JSON (the Job schema); "
                "the first one also sets `retry`.",
                # OpenAPI 3.0 has no itemSchema: for an event stream, `schema` describes one event.
                "content": {"text/event-stream": {"schema": SSE_EVENT}},
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
    error = {"$ref": "#/components/schemas/Error"}
    content = {"application/json": {"schema": error}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            parameters = operation.get("parameters", [])
            answers = {}
            if operation.get("requestBody") or any(p["in"] == "query" for p in parameters):
                answers["400"] = _DESCRIPTIONS["400"]
            if path.startswith("/api/auth/token/") or (operation.get("security") and {} not in operation["security"]):
                answers["401"] = _DESCRIPTIONS["401"]  # the token endpoints check the credentials in the body
            if "{" in path:
                answers["404"] = _DESCRIPTIONS["404"]
            elif any(p["name"] == "page" for p in parameters):
                answers["404"] = _NO_SUCH_PAGE
            if conflict := _conflict(path, method):
                answers["409"] = conflict
            responses = operation["responses"]
            for code, description in answers.items():
                responses.setdefault(code, {"description": description, "content": content})
            # An operation's own 400 body (start-posting's refusal) is not the only one: the request's
            # field errors are answered as everywhere else.
            own = responses.get("400", {}).get("content", {}).get("application/json")
            if own and own["schema"] != error:
                own["schema"] = {"anyOf": [own["schema"], error]}
    return result
