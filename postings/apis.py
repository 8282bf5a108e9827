"""HTTP for listings and their photos."""
import mimetypes

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.budgets import when
from config.negotiation import FirstRendererNegotiation
from postings import runners, selectors, services
from postings.models import MarketplacePost, PostingJob
from postings.serializers import (
    ErrorLogFilterSerializer,
    ErrorLogListSerializer,
    ErrorLogSerializer,
    JobSerializer,
    PostFilterSerializer,
    PostImageSerializer,
    PostImageUploadSerializer,
    PostSerializer,
    PreviewListSerializer,
    PreviewSerializer,
    StartPostingRefusedSerializer,
    StartPostingResponseSerializer,
    StartPostingSerializer,
    error_page_name,
)


class OwnPostsMixin:
    def get_queryset(self):
        return selectors.posts_for(user=self.request.user)


@extend_schema(
    parameters=[
        OpenApiParameter("status", enum=MarketplacePost.Status.values, description="Only posts in this status"),
        OpenApiParameter("account", int, description="Only posts of this account (one of yours)"),
    ]
)
class PostListCreateApi(OwnPostsMixin, generics.ListCreateAPIView):
    """The operator's listings, newest first; create one (it starts `pending`)."""

    serializer_class = PostSerializer

    def list(self, request, *args, **kwargs):
        filters = PostFilterSerializer(data=request.query_params, user=request.user)
        filters.is_valid(raise_exception=True)
        posts = selectors.posts_for(user=request.user, **filters.validated_data)
        page = self.paginate_queryset(posts)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def perform_create(self, serializer):
        serializer.instance = services.post_create(**serializer.validated_data)


class PostDetailApi(OwnPostsMixin, generics.RetrieveUpdateDestroyAPIView):
    """One listing. Changing or deleting it while it is being posted answers 409."""

    serializer_class = PostSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def perform_update(self, serializer):
        serializer.instance = services.post_update(post=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.post_delete(post=instance)


class PostImageListApi(OwnPostsMixin, generics.GenericAPIView):
    parser_classes = [MultiPartParser]
    serializer_class = PostImageUploadSerializer

    @extend_schema(
        summary="Add a photo to a listing",
        description="Multipart field `image`: JPEG, PNG or WebP, at most 10 MB, at most 10 per listing. "
        "Photos keep the order they were added in.",
        responses={201: PostImageSerializer},
    )
    def post(self, request, pk):
        post = self.get_object()
        upload = self.get_serializer(data=request.data)
        upload.is_valid(raise_exception=True)
        image = services.post_image_add(post=post, upload=upload.validated_data["image"])
        return Response(PostImageSerializer(image).data, status=status.HTTP_201_CREATED)


class PostImageDetailApi(APIView):
    # An <img src> sends `Accept: image/*`: answer with the file whatever it asks for.
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        summary="The photo's file (owner only)",
        responses={(200, "image/*"): OpenApiTypes.BINARY},
    )
    def get(self, request, pk, image_id):
        image = selectors.post_image_for(user=request.user, post_id=pk, image_id=image_id)
        try:
            with image.image.open("rb") as handle:
                # At most 10 MB: read it whole rather than stream a sync iterator under ASGI.
                content = handle.read()
        except FileNotFoundError:
            raise Http404 from None
        content_type = mimetypes.guess_type(image.image.name)[0] or "application/octet-stream"
        response = HttpResponse(content, content_type=content_type)
        response["Cache-Control"] = "private, max-age=3600"
        return response

    @extend_schema(summary="Remove a photo from a listing", responses={204: None})
    def delete(self, request, pk, image_id):
        image = selectors.post_image_for(user=request.user, post_id=pk, image_id=image_id)
        services.post_image_delete(image=image)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _started(job: PostingJob, total_selected: int) -> Response:
    """The seed's start-posting answer (202), or 503 when the worker could not be started."""
    if job.status == PostingJob.Status.FAILED:
        return Response({"success": False, "message": job.error_message}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
    if job.dry_run:
        message = f"Started a dry run for {job.total_posts} pending post(s): nothing will be published"
    else:
        message = f"Started posting process for {job.total_posts} pending post(s)"
    if job.start_at:
        message = message.replace("Started", "Scheduled", 1) + f", starting at {when(job.start_at)}"
    return Response(
        {
            "success": True,
            "message": message,
            "job_id": str(job.job_id),
            "pending_count": job.total_posts,
            "total_selected": total_selected,
            "log_file": job.log_file,
            "status_stream_url": f"/api/posts/status-stream/{job.job_id}/",
            "dry_run": job.dry_run,
            "start_at": job.start_at,
        },
        status=status.HTTP_202_ACCEPTED,
    )


_STARTED_RESPONSES = {202: StartPostingResponseSerializer, 400: StartPostingRefusedSerializer, 503: StartPostingRefusedSerializer}


class StartPostingApi(APIView):
    @extend_schema(
        summary="Start posting listings",
        description="`{\"post_ids\": [...]}`, or `{}` for every pending listing. Creates a job, takes the "
        "posts that are pending and not held by another queued or running job, starts the worker and "
        "answers at once. `total_selected` counts the posts asked for, `pending_count` those taken. "
        "With `\"dry_run\": true` the worker fills each form to its last step and captures it (the job's "
        "previews), publishes nothing, and leaves every listing pending as it was. With `start_at` the job "
        "stays `queued` until then (its `status_message` says when; it can be cancelled meanwhile), and "
        "`spread_minutes` spreads its posts over that window.",
        request=StartPostingSerializer,
        responses=_STARTED_RESPONSES,
    )
    def post(self, request):
        body = StartPostingSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            job, total_selected = runners.posting_job_start(
                owner=request.user, post_ids=body.validated_data.get("post_ids"),
                dry_run=body.validated_data["dry_run"], start_at=body.validated_data.get("start_at"),
                spread_minutes=body.validated_data.get("spread_minutes"),
            )
        except services.NothingToPost as exc:
            return Response({"success": False, "message": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return _started(job, total_selected)


class PostRetryApi(OwnPostsMixin, generics.GenericAPIView):
    serializer_class = StartPostingResponseSerializer

    @extend_schema(
        summary="Retry a failed listing",
        description="The failed listing goes back to pending and a job is started for it (a real run, never a "
        "dry run); answers like start-posting.",
        request=None,
        responses=_STARTED_RESPONSES,
    )
    def post(self, request, pk):
        post = services.post_retry(post=self.get_object())
        try:
            job, total_selected = runners.posting_job_start(owner=request.user, post_ids=[post.pk])
        except services.NothingToPost as exc:
            return Response({"success": False, "message": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return _started(job, total_selected)


class JobListApi(generics.ListAPIView):
    """The operator's posting jobs, newest first."""

    serializer_class = JobSerializer

    def get_queryset(self):
        return selectors.jobs_for(user=self.request.user)

    def paginate_queryset(self, queryset):
        return selectors.reap_stale(super().paginate_queryset(queryset))


class JobStatusApi(APIView):
    @extend_schema(summary="A job's progress (seed section 1), with `final` once it has ended", responses=JobSerializer)
    def get(self, request, job_id):
        return Response(JobSerializer(selectors.job_for(user=request.user, job_id=job_id)).data)


class JobPreviewListApi(APIView):
    @extend_schema(
        summary="A dry run's previews",
        description="For each post a dry run reached the last step with: the page's URL, its screenshot and "
        "its accessibility snapshot. Empty for a real run.",
        responses=PreviewListSerializer,
    )
    def get(self, request, job_id):
        previews = selectors.previews_for(job=selectors.job_for(user=request.user, job_id=job_id))
        return Response({"count": len(previews), "previews": PreviewSerializer(previews, many=True).data})


class JobCancelApi(APIView):
    @extend_schema(
        summary="Cancel a job",
        description="The job stops after its current post and ends `cancelled`; the posts it has not "
        "reached stay pending. 409 when it has already ended.",
        request=None,
        responses=JobSerializer,
    )
    def post(self, request, job_id):
        job = runners.posting_job_cancel(job=selectors.job_for(user=request.user, job_id=job_id))
        return Response(JobSerializer(job).data)


@extend_schema(parameters=[ErrorLogFilterSerializer])
class ErrorLogListApi(APIView):
    @extend_schema(
        summary="Error logs (seed section 2), newest first",
        description="Filters: `post_id`, `error_type`, `job_id`, `account_id`; `limit` 1-500 (default 50). "
        "`count` is the number of logs matching.",
        responses=ErrorLogListSerializer,
    )
    def get(self, request):
        filters = ErrorLogFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        options = dict(filters.validated_data)
        limit = options.pop("limit")
        logs = selectors.error_logs_for(user=request.user, **options)
        return Response({"count": logs.count(), "error_logs": ErrorLogSerializer(logs[:limit], many=True).data})


def _page_text(text: str | bytes, filename: str) -> HttpResponse:
    """Text captured from a page (markup, scripts, YAML): shown as text, never rendered on this origin."""
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Content-Security-Policy"] = "sandbox"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _png(content: bytes) -> HttpResponse:
    response = HttpResponse(content, content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _stored_file(field_file, name: str | None = None) -> bytes:
    """The bytes of a stored file (screenshots are a few MB at most), or 404."""
    storage, name = field_file.storage, name or field_file.name
    try:
        with storage.open(name, "rb") as handle:
            return handle.read()
    except (FileNotFoundError, IsADirectoryError):
        raise Http404 from None


class ErrorLogScreenshotApi(APIView):
    content_negotiation_class = FirstRendererNegotiation  # an <img> asks for image/*

    @extend_schema(summary="The failure's full-page screenshot (owner only)", responses={(200, "image/png"): OpenApiTypes.BINARY})
    def get(self, request, pk):
        log = selectors.error_log_for(user=request.user, pk=pk)
        if not log.screenshot:
            raise Http404
        return _png(_stored_file(log.screenshot))


class ErrorLogPageApi(APIView):
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(summary="The failed page's HTML, as plain text (owner only)", responses={(200, "text/plain"): OpenApiTypes.STR})
    def get(self, request, pk):
        log = selectors.error_log_for(user=request.user, pk=pk)
        if not log.screenshot:
            raise Http404
        # Facebook's markup, scripts included: never rendered on this origin, only shown as text.
        return _page_text(_stored_file(log.screenshot, error_page_name(log)), f"error_{log.pk}.html.txt")


class ErrorLogSnapshotApi(APIView):
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        summary="The failed page's accessibility snapshot (YAML), as plain text (owner only)",
        description="Playwright's aria_snapshot() of the page: the roles and names the driver looks for.",
        responses={(200, "text/plain"): OpenApiTypes.STR},
    )
    def get(self, request, pk):
        log = selectors.error_log_for(user=request.user, pk=pk)
        if not log.page_snapshot:
            raise Http404
        return _page_text(log.page_snapshot, f"error_{log.pk}_snapshot.yml.txt")


class ErrorLogTraceApi(APIView):
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        summary="The failed post's Playwright trace, a zip (owner only)",
        description="Open it with `.venv/bin/python -m playwright show-trace trace_<id>.zip`.",
        responses={(200, "application/zip"): OpenApiTypes.BINARY},
    )
    def get(self, request, pk):
        log = selectors.error_log_for(user=request.user, pk=pk)
        if not log.trace:
            raise Http404
        response = HttpResponse(_stored_file(log.trace), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="trace_{log.pk}.zip"'
        response["Cache-Control"] = "private, max-age=3600"
        return response


class PreviewScreenshotApi(APIView):
    content_negotiation_class = FirstRendererNegotiation  # an <img> asks for image/*

    @extend_schema(
        summary="A dry run's last-step screenshot (owner only)",
        responses={(200, "image/png"): OpenApiTypes.BINARY},
    )
    def get(self, request, pk):
        preview = selectors.preview_for(user=request.user, pk=pk)
        if not preview.screenshot:
            raise Http404
        return _png(_stored_file(preview.screenshot))


class PreviewSnapshotApi(APIView):
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        summary="A dry run's last-step accessibility snapshot (YAML), as plain text (owner only)",
        responses={(200, "text/plain"): OpenApiTypes.STR},
    )
    def get(self, request, pk):
        preview = selectors.preview_for(user=request.user, pk=pk)
        if not preview.page_snapshot:
            raise Http404
        return _page_text(preview.page_snapshot, f"preview_{preview.pk}_snapshot.yml.txt")
