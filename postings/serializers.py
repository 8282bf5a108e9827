from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from PIL import Image, UnidentifiedImageError
from rest_framework import serializers

from accounts.models import FacebookAccount
from accounts.selectors import accounts_for
from config.serializers import IdField, RejectUnknownFieldsMixin
from postings.models import ErrorLog, MarketplacePost, PostImage, PostingJob

# What Marketplace takes and Pillow can check; the stored file gets the format's own suffix.
IMAGE_FORMATS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}
_DASHES = str.maketrans({"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-"})


class ConditionField(serializers.ChoiceField):
    """Facebook's condition names; "Used – Good" with an en dash is read as "Used - Good"."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = " ".join(data.translate(_DASHES).split())
        return super().to_internal_value(data)


class PostImageSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="Served only to the owning operator.")

    class Meta:
        model = PostImage
        fields = ["id", "position", "url", "width", "height", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField)
    def get_url(self, image: PostImage) -> str:
        return reverse("postings:post-image-detail", kwargs={"pk": image.post_id, "image_id": image.pk})


class PostSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    account = serializers.PrimaryKeyRelatedField(queryset=FacebookAccount.objects.none())
    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, coerce_to_string=False)
    condition = ConditionField(choices=MarketplacePost.Condition.choices, required=False)
    images = PostImageSerializer(many=True, read_only=True)
    # Not a URLField: its schema would promise a URI, and the field is "" until the post is posted.
    listing_url = serializers.CharField(read_only=True, help_text="The listing on Marketplace; empty until posted.")
    error_logs_url = serializers.SerializerMethodField(help_text="This listing's error history.")

    class Meta:
        model = MarketplacePost
        fields = [
            "id", "account", "title", "description", "price", "category", "condition", "location",
            "images", "status", "error_message", "retry_count", "listing_url", "posted_at",
            "created_at", "updated_at", "error_logs_url",
        ]
        read_only_fields = [
            "status", "error_message", "retry_count", "posted_at", "created_at", "updated_at",
        ]
        extra_kwargs = {"description": {"max_length": 5000}}

    @extend_schema_field(serializers.CharField)
    def get_error_logs_url(self, post: MarketplacePost) -> str:
        return f"{reverse('postings:error-log-list')}?post_id={post.pk}"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # Only the operator's own accounts: another operator's id reads as not existing.
            self.fields["account"].queryset = accounts_for(user=request.user)


class PostFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=MarketplacePost.Status.choices, required=False)
    account = serializers.PrimaryKeyRelatedField(queryset=FacebookAccount.objects.none(), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts_for(user=user)


class PostImageUploadSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    image = serializers.FileField(help_text="A JPEG, PNG or WebP photo of at most 10 MB.")

    def validate_image(self, upload):
        limit = settings.MAX_IMAGE_BYTES
        if upload.size > limit:
            raise serializers.ValidationError(
                f"The photo is {upload.size / 2**20:.1f} MB; at most {limit / 2**20:g} MB is accepted."
            )
        try:
            with Image.open(upload) as image:
                image_format = image.format
                image.verify()
        except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
            raise serializers.ValidationError("This file is not an image Pillow can read.") from None
        if image_format not in IMAGE_FORMATS:
            raise serializers.ValidationError(
                f"{image_format} photos are not accepted; upload JPEG, PNG or WebP."
            )
        upload.seek(0)
        upload.name = f"photo{IMAGE_FORMATS[image_format]}"
        return upload


class JobSerializer(serializers.ModelSerializer):
    """The seed's job status, plus `final` once the job has ended and what it is waiting for."""

    current_post_id = serializers.IntegerField(allow_null=True, read_only=True)
    progress_percentage = serializers.FloatField(read_only=True)
    final = serializers.BooleanField(source="is_final", read_only=True)

    class Meta:
        model = PostingJob
        fields = [
            "id", "job_id", "status", "total_posts", "completed_posts", "failed_posts",
            "current_post_id", "current_post_title", "started_at", "completed_at",
            "progress_percentage", "final", "error_message", "status_message", "cancel_requested", "created_at",
        ]
        read_only_fields = fields


class StartPostingSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    post_ids = serializers.ListField(
        child=IdField(), required=False, allow_empty=False, max_length=1000,
        help_text="The listings to post; leave out to post every pending listing.",
    )


class StartPostingResponseSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()
    job_id = serializers.UUIDField()
    pending_count = serializers.IntegerField()
    total_selected = serializers.IntegerField()
    log_file = serializers.CharField()
    status_stream_url = serializers.CharField()


class StartPostingRefusedSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()


def error_page_name(log: ErrorLog) -> str:
    """The captured HTML is stored beside the screenshot, with the same name."""
    return log.screenshot.name.rsplit(".", 1)[0] + ".html"


class ErrorLogSerializer(serializers.ModelSerializer):
    """The seed's error log, plus where it happened (page URL, job, account) and its page's HTML."""

    post_title = serializers.CharField(source="post.title", default=None, allow_null=True)
    screenshot = serializers.SerializerMethodField(help_text="Served only to the owning operator.")
    page_html = serializers.SerializerMethodField(help_text="The page's HTML as captured, as plain text.")
    job_id = serializers.UUIDField(source="job.job_id", default=None, allow_null=True)
    account_id = serializers.IntegerField(source="post.account_id", default=None, allow_null=True)

    class Meta:
        model = ErrorLog
        fields = [
            "id", "post", "post_title", "error_type", "error_message", "stack_trace", "screenshot",
            "created_at", "page_url", "job_id", "account_id", "page_html",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_screenshot(self, log: ErrorLog) -> str | None:
        return reverse("postings:error-log-screenshot", kwargs={"pk": log.pk}) if log.screenshot else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_page_html(self, log: ErrorLog) -> str | None:
        if not log.screenshot or not log.screenshot.storage.exists(error_page_name(log)):
            return None
        return reverse("postings:error-log-page", kwargs={"pk": log.pk})


class ErrorLogListSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="How many logs match the filters (before `limit`).")
    error_logs = ErrorLogSerializer(many=True)


class ErrorLogFilterSerializer(serializers.Serializer):
    post_id = IdField(required=False)
    error_type = serializers.ChoiceField(choices=ErrorLog.ErrorType.choices, required=False)
    job_id = serializers.UUIDField(required=False)
    account_id = IdField(required=False)
    limit = serializers.IntegerField(min_value=1, max_value=500, default=50)
