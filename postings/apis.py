"""HTTP for listings and their photos."""
import mimetypes

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from config.negotiation import FirstRendererNegotiation
from postings import selectors, services
from postings.models import MarketplacePost
from postings.serializers import (
    PostFilterSerializer,
    PostImageSerializer,
    PostImageUploadSerializer,
    PostSerializer,
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
