from django.urls import path

from postings import apis

app_name = "postings"

urlpatterns = [
    path("", apis.PostListCreateApi.as_view(), name="post-list"),
    path("<int:pk>/", apis.PostDetailApi.as_view(), name="post-detail"),
    path("<int:pk>/images/", apis.PostImageListApi.as_view(), name="post-image-list"),
    path("<int:pk>/images/<int:image_id>/", apis.PostImageDetailApi.as_view(), name="post-image-detail"),
]
