"""No proxy password leaves the database: not in an answer, a log line, an error message, a trace."""
import io
import zipfile
from pathlib import Path

import pytest
from django.conf import settings

from accounts.models import FacebookAccount
from conftest import free_port
from postings.models import ErrorLog, PostingJob
from postings.tests.conftest import wait_until
from simulator.proxy import ForwardProxy

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "Leak-me-not-9241"


def files_under(*roots: Path) -> dict[str, bytes]:
    """Every file's bytes, and every member of every zip (a trace) as a file of its own."""
    found = {}
    for root in roots:
        for path in Path(root).rglob("*"):
            if path.is_file():
                found[str(path)] = data = path.read_bytes()
                if zipfile.is_zipfile(io.BytesIO(data)):
                    with zipfile.ZipFile(io.BytesIO(data)) as archive:
                        for name in archive.namelist():
                            found[f"{path}!{name}"] = archive.read(name)
    return found


def test_no_proxy_password_appears_in_any_answer_log_error_or_trace(
    worker_env, simulator, api, operator, make_account, make_post, caplog
):
    with ForwardProxy(username="alice", password=SECRET).start() as proxy:
        working, refused = make_account("working@example.com"), make_account("refused@example.com")
        FacebookAccount.objects.filter(pk=working.pk).update(proxy=f"http://alice:{SECRET}@127.0.0.1:{proxy.port}")
        FacebookAccount.objects.filter(pk=refused.pk).update(proxy=f"http://alice:{SECRET}@127.0.0.1:{free_port()}")
        simulator.fault("policy_rejection", c_user=working.c_user, times=1)  # a failure with a trace, through the proxy
        posts = [make_post(working, "Refused by policy"), make_post(working, "Published"), make_post(refused, "Never")]

        response = api.post("/api/posts/start-posting/", {"post_ids": [p.pk for p in posts]}, format="json")
        job = PostingJob.objects.get(job_id=response.json()["job_id"])
        wait_until(lambda: PostingJob.objects.get(pk=job.pk).is_final, timeout=180, what="the job to end")
        assert proxy.requests, "the working account's browser did not go through its proxy"

    logs = list(ErrorLog.objects.order_by("id"))
    assert {log.error_type for log in logs} == {"policy_rejected", "network_error"}
    assert any(log.trace for log in logs), "no trace was kept: the scrubbing of its context options is untested"
    answers = [
        api.get("/api/accounts/"), api.get(f"/api/accounts/{working.pk}/"), api.get("/api/accounts/health-check/"),
        api.get(f"/api/posts/job-status/{job.job_id}/"), api.get("/api/posts/jobs/"), api.get("/api/posts/"),
        api.get("/api/posts/error-logs/"), api.get(f"/api/accounts/{refused.pk}/validate-session/?live=true"),
    ]
    for log in logs:
        answers += [api.get(f"/api/posts/error-logs/{log.pk}/{part}/") for part in ("snapshot", "page", "trace")]
    leaks = [answer.wsgi_request.path for answer in answers if SECRET.encode() in answer.content]
    assert leaks == []
    assert all(SECRET not in log.error_message + log.stack_trace + log.page_snapshot for log in logs)
    leaking_files = [name for name, data in files_under(settings.LOG_DIR, settings.MEDIA_ROOT).items() if SECRET.encode() in data]
    assert leaking_files == []
    assert len(files_under(settings.LOG_DIR)) >= 1  # the job's log was read, not missing
    assert SECRET not in caplog.text
    assert "http://alice:***@127.0.0.1:" in (Path(settings.LOG_DIR) / f"job_{job.job_id}.log").read_text()
