"""Property-based fuzzing of every endpoint from the project's own OpenAPI schema, over real HTTP.

Schemathesis reads `GET /api/schema/` from uvicorn serving config.asgi (`live_server_url`) and, for
each operation, sends requests that fit the schema and requests that break it, as an operator
with a bearer token. Every answer must be no server error, with a documented status code and
content type and a body that matches the schema; an operation that needs credentials must refuse
a request without them or with bad ones (schemathesis's `ignored_auth`); a request that names
another operator's object must get the answer an unknown id gets, and that operator's objects must
come out of the run untouched.

The database is seeded first: for the operator and for a second one, an account with a session,
listings with photos, a failed listing, a finished job and an error log with its screenshot, page,
accessibility snapshot and trace, a finished dry run with a preview (screenshot and snapshot), and a
webhook with a delivery.
Half of the generated path ids are swapped for those objects' ids (or for ids too large for a
database column), and so are the `account` and `post_ids` of request bodies, so that requests get
past the 404s. DELETEs run last.

Posting jobs the fuzzer starts run real workers (`manage.py post_to_marketplace`) against the local
simulator with no pacing and short timeouts (`worker_env`); the test ends only once every job has
ended and every worker has exited. The status stream is fuzzed too, not excluded: the jobs it can
name are the seeded ones, which have ended (their stream sends the final event and closes) or are
another operator's (404), or unknown ones (404). Every request has a timeout, so a stream that
stayed open would fail the test, not hang it. `?live=true` on validate-session runs Chromium
against the simulator.

Generation is derandomized and shrinking is off: a run is reproducible and its time bounded.
"""
import io
import uuid
import zipfile

import pytest
import requests
import schemathesis
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import FacebookAccount
from conftest import image_bytes
from postings import services
from postings.models import ErrorLog, MarketplacePost, PostingJob, PostingPreview
from postings.tests.conftest import all_jobs_ended, wait_until
from postings.tests.conftest import (  # noqa: F401  (the fixtures this test uses)
    make_account,
    make_post,
    simulator,
    simulator_process,
    worker_env,
)
from webhooks import services as webhook_services
from webhooks.models import Webhook

EXAMPLES = 30  # per operation and generation mode
REQUEST_TIMEOUT = 30  # seconds; a live session check starts Chromium
CHECKS = [
    not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
    ignored_auth,
]
UNKNOWN = {"account": [999_999], "post": [999_999], "image": [(999_999, 999_999)], "log": [999_999],
           "preview": [999_999], "webhook": [999_999], "job": [str(uuid.UUID(int=0))]}
# Ids past what a database column holds (2**63 - 1), which the schema's unbounded integers allow.
TOO_LARGE = {"account": [2**63, 2**64], "post": [2**63, 2**64], "image": [(2**64, 1), (1, 2**64)],
             "log": [2**63, 2**64], "preview": [2**63, 2**64], "webhook": [2**63, 2**64], "job": []}


def trace_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("trace.trace", '{"type": "context-options"}\n')
    return buffer.getvalue()


def seed(owner, make_account, make_post, email: str) -> dict[str, list]:
    """An operator's objects: an account with a session, a pending and a failed listing with photos,
    a finished job whose one post failed, with its error log (screenshot, page, accessibility
    snapshot, trace), a finished dry run that previewed the pending listing, and a webhook with a
    delivery (to a port nothing listens on: it fails and is retried later). Returns the ids."""
    account = make_account(email, owner=owner)
    pending = make_post(account, "Oak table", photos=2)
    failed = make_post(account, "Pine chair", photos=1)
    now = timezone.now()
    job = PostingJob.objects.create(
        owner=owner, status=PostingJob.Status.COMPLETED, total_posts=1, started_at=now, completed_at=now
    )
    log = services.post_mark_failed(
        job=job, post=failed, error_type=ErrorLog.ErrorType.CAPTCHA, message="Facebook asked for a CAPTCHA",
        evidence=services.Evidence(page_url="http://x/marketplace/create/item", screenshot_png=image_bytes(),
                                   html="<html><body>checkpoint</body></html>",
                                   aria_snapshot='- heading "Security check" [level=1]', trace_zip=trace_zip()),
    )
    dry_run = PostingJob.objects.create(
        owner=owner, status=PostingJob.Status.COMPLETED, total_posts=1, started_at=now, completed_at=now, dry_run=True,
    )
    preview = services.post_preview_record(
        job=dry_run, post=pending,
        evidence=services.Evidence(page_url="http://x/marketplace/create/item", screenshot_png=image_bytes(),
                                   aria_snapshot='- button "Publish"'),
    )
    webhook, _ = webhook_services.webhook_create(
        owner=owner, url="http://127.0.0.1:9/hook", events=["job.finished", "post.failed", "account.needs_attention"],
    )
    webhook_services.deliveries_create(webhooks=[webhook], event="job.finished", data={"id": job.pk})
    return {
        "account": [account.pk],
        "post": [pending.pk, failed.pk],
        "image": [(image.post_id, image.pk) for image in [*pending.images.all(), *failed.images.all()]],
        "log": [log.pk],
        "preview": [preview.pk],
        "webhook": [webhook.pk],
        "job": [str(job.job_id), str(dry_run.job_id)],
    }


def kinds(path: str) -> dict[str, str]:
    """Which kind of object each path parameter of `path` names."""
    if "{job_id}" in path:
        return {"job_id": "job"}
    if "{image_id}" in path:
        return {"id": "image"}
    if "{id}" not in path:
        return {}
    if path.startswith("/api/accounts/"):
        return {"id": "account"}
    if path.startswith("/api/posts/error-logs/"):
        return {"id": "log"}
    if path.startswith("/api/posts/previews/"):
        return {"id": "preview"}
    if path.startswith("/api/webhooks/"):
        return {"id": "webhook"}
    return {"id": "post"}


def path_ids(path: str, objects: dict) -> list[dict]:
    """The path parameters of `path` that name each of `objects`."""
    found = []
    for name, kind in kinds(path).items():
        for value in objects[kind]:
            found.append({"id": value[0], "image_id": value[1]} if kind == "image" else {name: value})
    return found


def with_seeded_ids(body, objects: dict):
    """A strategy: `body` as generated, or with its `account` / `post_ids` naming seeded objects."""
    if not isinstance(body, dict) or not {"account", "post_ids"} & set(body):
        return st.just(body)
    seeded = {}
    if "account" in body:
        seeded["account"] = st.sampled_from(objects["account"])
    if "post_ids" in body:
        seeded["post_ids"] = st.lists(st.sampled_from(objects["post"]), min_size=1, max_size=3)
    return st.one_of(st.just(body), st.fixed_dictionaries(seeded).map(lambda ids: {**body, **ids}))


def answers_as_if_it_did_not_exist(case, response, foreign: dict, **call) -> None:
    """A request naming another operator's object gets what an unknown id gets (404, or the same
    400 for a request that is wrong whatever it names)."""
    if case.path_parameters not in path_ids(case.operation.path, foreign):
        return
    named = case.formatted_path
    case.path_parameters = {**case.path_parameters, **path_ids(case.operation.path, UNKNOWN)[0]}
    unknown = case.call(**call)
    assert (response.status_code, response.text) == (unknown.status_code, unknown.text), (
        f"{case.method} {named} (another operator's) answered {response.status_code} {response.text[:200]}; "
        f"an unknown id gets {unknown.status_code} {unknown.text[:200]}"
    )


def rows_of(owner) -> dict:
    """Every row an operator owns, with when it last changed."""
    rows = [
        *FacebookAccount.objects.filter(owner=owner), *MarketplacePost.objects.filter(account__owner=owner),
        *PostingJob.objects.filter(owner=owner), *ErrorLog.objects.filter(owner=owner),
        *PostingPreview.objects.filter(job__owner=owner), *Webhook.objects.filter(owner=owner),
    ]
    return {(type(row).__name__, row.pk): getattr(row, "updated_at", None) for row in rows}


# The DELETEs run last: photos before their listings, the account (it takes its listings along) last.
DELETES = [
    "/api/posts/{id}/images/{image_id}/", "/api/accounts/{id}/session/", "/api/posts/{id}/", "/api/accounts/{id}/",
    "/api/webhooks/{id}/",
]


def in_order(operation) -> int:
    return 1 + DELETES.index(operation.path) if operation.method == "delete" else 0


def fuzz_operation(operation, mode: GenerationMode, *, foreign: dict, **call) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
        phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
    )
    def fuzz(case):
        response = case.call_and_validate(checks=CHECKS, **call)
        answers_as_if_it_did_not_exist(case, response, foreign, **call)

    try:
        fuzz()
    except Unsatisfiable:
        assert mode == GenerationMode.NEGATIVE, operation.label  # it has no input to get wrong


def workers_exited(pids) -> bool:
    """No posting worker runs as any of `pids` (the reaper's own test for a live worker)."""
    return not any(services._worker_alive(pid) for pid in pids)


@pytest.mark.django_db(transaction=True)
def test_every_endpoint_answers_as_its_schema_says(
    worker_env, live_server_url, operator, other_operator, make_account, make_post,
):
    own = seed(operator, make_account, make_post, "seller@example.com")
    foreign = seed(other_operator, make_account, make_post, "other@example.com")
    foreign_rows = rows_of(other_operator)
    seeded = {kind: own[kind] + foreign[kind] for kind in own}
    named = {kind: seeded[kind] + TOO_LARGE[kind] for kind in own}

    schema = schemathesis.openapi.from_url(f"{live_server_url}/api/schema/")

    @schema.hook
    def flatmap_path_parameters(context, path_parameters):
        pool = path_ids(context.operation.path, named)
        if not pool:
            return st.just(path_parameters)
        return st.one_of(st.just(path_parameters), st.sampled_from(pool).map(lambda ids: {**path_parameters, **ids}))

    @schema.hook
    def flatmap_body(context, body):
        return with_seeded_ids(body, seeded)

    failures = []
    with requests.Session() as session:
        call = {
            "base_url": live_server_url, "session": session, "timeout": REQUEST_TIMEOUT,
            "headers": {"Authorization": f"Bearer {RefreshToken.for_user(operator).access_token}"},
        }
        try:
            for operation in sorted((result.ok() for result in schema.get_all_operations()), key=in_order):
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                    try:
                        fuzz_operation(operation, mode, foreign=foreign, **call)
                    except (Exception, FailureGroup) as exc:  # every operation is tried, every failure reported
                        failures.append(f"{operation.label} ({mode.value}):\n{exc}")
        finally:  # no worker outlives the test, even a failed one
            wait_until(all_jobs_ended, what="every posting job the fuzzer started to end")
            pids = list(PostingJob.objects.exclude(pid=None).values_list("pid", flat=True))
            wait_until(lambda: workers_exited(pids), what="every posting worker to exit")

    assert not failures, "\n\n".join(failures)
    assert rows_of(other_operator) == foreign_rows
