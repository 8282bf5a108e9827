from django.urls import path

from postings import apis

app_name = "postings"

urlpatterns = [
    path("", apis.PostListCreateApi.as_view(), name="post-list"),
    path("start-posting/", apis.StartPostingApi.as_view(), name="start-posting"),
    path("jobs/", apis.JobListApi.as_view(), name="job-list"),
    path("jobs/<uuid:job_id>/cancel/", apis.JobCancelApi.as_view(), name="job-cancel"),
    path("jobs/<uuid:job_id>/previews/", apis.JobPreviewListApi.as_view(), name="job-previews"),
    path("previews/<int:pk>/screenshot/", apis.PreviewScreenshotApi.as_view(), name="preview-screenshot"),
    path("previews/<int:pk>/snapshot/", apis.PreviewSnapshotApi.as_view(), name="preview-snapshot"),
    path("job-status/<uuid:job_id>/", apis.JobStatusApi.as_view(), name="job-status"),
    path("error-logs/", apis.ErrorLogListApi.as_view(), name="error-log-list"),
    path("error-logs/<int:pk>/screenshot/", apis.ErrorLogScreenshotApi.as_view(), name="error-log-screenshot"),
    path("error-logs/<int:pk>/page/", apis.ErrorLogPageApi.as_view(), name="error-log-page"),
    path("error-logs/<int:pk>/snapshot/", apis.ErrorLogSnapshotApi.as_view(), name="error-log-snapshot"),
    path("error-logs/<int:pk>/trace/", apis.ErrorLogTraceApi.as_view(), name="error-log-trace"),
    path("<int:pk>/", apis.PostDetailApi.as_view(), name="post-detail"),
    path("<int:pk>/retry/", apis.PostRetryApi.as_view(), name="post-retry"),
    path("<int:pk>/images/", apis.PostImageListApi.as_view(), name="post-image-list"),
    path("<int:pk>/images/<int:image_id>/", apis.PostImageDetailApi.as_view(), name="post-image-detail"),
]
