"""A dashboard on another origin follows a real posting job through EventSource, in real Chromium."""
import http.server
import threading

import pytest
from django.conf import global_settings
from playwright.sync_api import sync_playwright

from conftest import POST_PUBLISHED_MS, WORKER_STARTS_MS, UvicornServer
from driver.executable import find_chromium, launch_args
from postings.models import MarketplacePost

pytestmark = pytest.mark.django_db(transaction=True)

DASHBOARD_PAGE = b"""<!doctype html><html><body><h1>Dashboard</h1><script>
async function follow(api, username, password, postIds) {
  const login = await fetch(api + "/api/auth/token/", {
    method: "POST", credentials: "include", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({username, password}),
  });
  const {access} = await login.json();
  const start = await fetch(api + "/api/posts/start-posting/", {
    method: "POST", credentials: "include",
    headers: {"Content-Type": "application/json", "Authorization": "Bearer " + access},
    body: JSON.stringify({post_ids: postIds}),
  });
  const started = await start.json();
  return await new Promise((resolve, reject) => {
    const events = [];
    // No Authorization header is possible here: only the httpOnly cookie set by the login.
    const source = new EventSource(api + started.status_stream_url, {withCredentials: true});
    source.onmessage = (event) => {
      const data = JSON.parse(event.data);
      events.push({id: event.lastEventId, data});
      if (data.final) { source.close(); resolve({status: start.status, started, events}); }
    };
    source.onerror = () => { if (source.readyState === EventSource.CLOSED) reject(new Error("stream refused")); };
  });
}
</script></body></html>"""


class DashboardHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(DASHBOARD_PAGE)

    def log_message(self, *args):
        pass


@pytest.fixture
def dashboard_origin():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), DashboardHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://localhost:{server.server_address[1]}"
    server.shutdown()


def test_a_dashboard_on_another_origin_follows_a_job_to_its_final_event(
    worker_env, simulator, settings, dashboard_origin, operator, make_account, make_post
):
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS  # the server checks with these
    operator.set_password("correct-horse-9")
    operator.save()
    account = make_account()
    post_ids = [make_post(account, f"Item {i}").pk for i in range(3)]
    server = UvicornServer({
        **worker_env, "CORS_ALLOWED_ORIGINS": dashboard_origin, "AUTH_COOKIE_SECURE": "false",
        "SSE_POLL_SECONDS": "0.1",
    })
    api = f"http://localhost:{server.port}"
    try:
        server.start()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(find_chromium()), args=launch_args())
            page = browser.new_page()
            page.goto(dashboard_origin)
            page.evaluate("([api, ids]) => { follow(api, 'alice', 'correct-horse-9', ids)"
                          ".then((result) => { window.result = result; }, (error) => { window.result = String(error); }); }",
                          [api, post_ids])
            # Until the final event: the worker starts, then publishes the three posts one by one.
            page.wait_for_function("() => window.result !== undefined", polling=250,
                                   timeout=WORKER_STARTS_MS + len(post_ids) * POST_PUBLISHED_MS)
            result = page.evaluate("window.result")
            browser.close()
    finally:
        server.stop()

    assert isinstance(result, dict), result  # not the stream's refusal
    assert result["status"] == 202
    events = [event["data"] for event in result["events"]]
    assert events[-1]["final"] is True
    assert (events[-1]["status"], events[-1]["completed_posts"], events[-1]["progress_percentage"]) == ("completed", 3, 100.0)
    assert all(not event["final"] for event in events[:-1])
    done = [e["completed_posts"] + e["failed_posts"] for e in events]
    assert done == sorted(done) and len(events) >= 2  # progress seen along the way, never backwards
    ids = [int(event["id"]) for event in result["events"]]
    assert ids == sorted(ids)
    assert sorted(listing["title"] for listing in simulator.listings()) == ["Item 0", "Item 1", "Item 2"]
    assert set(MarketplacePost.objects.values_list("status", flat=True)) == {"posted"}
