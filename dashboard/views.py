"""The operator dashboard's pages.

Each view renders one page from the selectors, for the logged-in operator only; every write goes
through the REST API from app.js, with this session and its CSRF token (hence ensure_csrf_cookie).
"""
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, render
from django.views.decorators.csrf import ensure_csrf_cookie

from accounts.selectors import ERROR, HEALTHY, accounts_for, accounts_health
from dashboard.forms import ErrorFilterForm
from driver import identity
from driver.proxy import masked as masked_proxy
from postings.models import MAX_SKU_LENGTH, MAX_TAG_LENGTH, MAX_TAGS, MarketplacePost, PostingJob, default_delivery
from postings.selectors import error_logs_for, job_for, jobs_for, posts_for, previews_for, reap_stale
from postings.serializers import ErrorLogSerializer, JobSerializer, PreviewSerializer

# What Marketplace offers today (the driver refuses anything else as validation_error); a
# suggestion list only: the category field stays free text, as the API's is.
MARKETPLACE_CATEGORIES = [
    "Furniture", "Household", "Electronics", "Sporting Goods", "Tools", "Toys & Games",
    "Clothing & Accessories", "Home & Garden", "Musical Instruments", "Miscellaneous",
]
LISTINGS_PER_PAGE = 50
ATTENTION_SHOWN = 5  # accounts named under the listings page's health widget; the rest are counted
JOBS_PER_PAGE = 25
ERROR_LOGS_PER_PAGE = 25


def _query_without_page(request) -> str:
    """The page's query string without `page`, for the pagination links."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def operator_page(view):
    """A page for a logged-in operator that sets the CSRF cookie app.js sends back."""
    return login_required(ensure_csrf_cookie(view))


@operator_page
def listings(request):
    status = request.GET.get("status")
    if status not in MarketplacePost.Status.values:
        status = None
    posts = posts_for(user=request.user, status=status).select_related("account")
    counts = dict(
        posts_for(user=request.user).order_by().values_list("status").annotate(n=Count("id"))
    )
    active_jobs = reap_stale(jobs_for(user=request.user).filter(status__in=PostingJob.ACTIVE_STATUSES))
    # The newest job, failed on the way should its worker have died (as the jobs page does).
    last_job = next(iter(reap_stale(jobs_for(user=request.user)[:1])), None)
    health = accounts_health(user=request.user)
    # Errors first, then warnings, each in the accounts page's order (sorted() keeps it).
    attention = sorted(
        (row for row in health["accounts"] if row["health_status"] != HEALTHY),
        key=lambda row: row["health_status"] != ERROR,
    )
    return render(request, "dashboard/listings.html", {
        "section": "listings",
        "page": Paginator(posts, LISTINGS_PER_PAGE).get_page(request.GET.get("page")),
        "status": status,
        "statuses": [(value, counts.get(value, 0)) for value in MarketplacePost.Status.values],
        "total": sum(counts.values()),
        "active_jobs": [job for job in active_jobs if not job.is_final],
        "last_job": last_job,
        "health": health,
        "attention": attention[:ATTENTION_SHOWN],
        "attention_more": max(0, len(attention) - ATTENTION_SHOWN),
        "has_accounts": bool(health["accounts"]),
        "query": _query_without_page(request),
    })


def _listing_form(request, post):
    return render(request, "dashboard/listing_form.html", {
        "section": "listings",
        "post": post,
        "accounts": accounts_for(user=request.user),
        "conditions": MarketplacePost.Condition.values,
        "categories": MARKETPLACE_CATEGORIES,
        "delivery_options": MarketplacePost.Delivery.values,
        "chosen_delivery": post.delivery if post else default_delivery(),
        "max_tags": MAX_TAGS,
        "max_tag_length": MAX_TAG_LENGTH,
        "max_sku_length": MAX_SKU_LENGTH,
    })


@operator_page
def listing_new(request):
    return _listing_form(request, None)


@operator_page
def listing_edit(request, pk: int):
    return _listing_form(request, get_object_or_404(posts_for(user=request.user), pk=pk))


# What the accounts page shows of each account beyond its health-check row. Read as values, not
# as model instances: the stored proxy (password included) is masked here and goes no further.
ACCOUNT_DETAILS = ["pk", "name", "proxy", "user_agent", "timezone", "viewport", "daily_post_limit",
                   "hourly_post_limit", "pause_reason"]


@operator_page
def accounts(request):
    health = accounts_health(user=request.user)
    details = {row["pk"]: row for row in accounts_for(user=request.user).values(*ACCOUNT_DETAILS)}
    rows = []
    for row in health["accounts"]:
        account = details.get(row["account_id"])
        if account is None:  # deleted between the two reads
            continue
        rows.append({
            **row,
            "name": account["name"],
            "proxy": masked_proxy(account["proxy"]),  # None: none (or one that cannot be read)
            "user_agent": account["user_agent"],
            "timezone": account["timezone"],
            "viewport": account["viewport"],
            # The account's own budgets, as the edit form shows them (None: the settings' default);
            # the row's daily_post_limit / hourly_post_limit are the ones in force.
            "own_daily_post_limit": account["daily_post_limit"],
            "own_hourly_post_limit": account["hourly_post_limit"],
            "pause_reason": account["pause_reason"] if row["paused_until"] else "",
            # The pause is said once, beside its Resume button, not again among the session's reasons.
            "session_reasons": [reason for reason in row["reasons"] if reason != row["hold_reason"]],
        })
    health = {**health, "accounts": rows}
    return render(request, "dashboard/accounts.html", {
        "section": "accounts",
        "health": health,
        "default_daily_limit": settings.ACCOUNT_DAILY_POST_LIMIT or None,
        "default_hourly_limit": settings.ACCOUNT_HOURLY_POST_LIMIT or None,
        "timezones": identity.TIMEZONES,
    })


@operator_page
def jobs(request):
    page = Paginator(jobs_for(user=request.user), JOBS_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = reap_stale(page.object_list)
    return render(request, "dashboard/jobs.html", {"section": "jobs", "page": page})


@operator_page
def job_detail(request, job_id):
    job = job_for(user=request.user, job_id=job_id)
    posts = job.posts.select_related("account").order_by("pk")
    # A dry run's last step with each post (the latest, should a post have been previewed twice).
    urls = PreviewSerializer()  # the API's own screenshot and snapshot URLs
    previews = {
        preview.post_id: {"screenshot": urls.get_screenshot(preview), "page_snapshot": urls.get_page_snapshot(preview)}
        for preview in (previews_for(job=job) if job.dry_run else [])
    }
    return render(request, "dashboard/job.html", {
        "section": "jobs",
        "job": job,
        "state": JobSerializer(job).data,
        "rows": [{"post": post, "preview": previews.get(post.pk)} for post in posts],
    })


@operator_page
def errors(request):
    form = ErrorFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    logs = error_logs_for(user=request.user, **filters)
    page = Paginator(logs, ERROR_LOGS_PER_PAGE).get_page(request.GET.get("page"))
    urls = ErrorLogSerializer()  # the API's own screenshot and page URLs, one source of truth
    rows = [
        {
            "log": log, "screenshot": urls.get_screenshot(log), "page_html": urls.get_page_html(log),
            "page_snapshot": urls.get_page_snapshot(log), "trace": urls.get_trace(log),
        }
        for log in page.object_list
    ]
    return render(request, "dashboard/errors.html", {
        "section": "errors",
        "form": form,
        "filtered": bool(filters),
        "page": page,
        "rows": rows,
        "query": _query_without_page(request),
    })
