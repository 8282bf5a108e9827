import json
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from PIL import Image, UnidentifiedImageError
from rest_framework import serializers
from rest_framework.utils import html

from accounts.models import FacebookAccount
from accounts.selectors import accounts_for
from config.serializers import IdField, RejectUnknownFieldsMixin
from postings.models import (
    MAX_SKU_LENGTH,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    ErrorLog,
    MarketplacePost,
    PostImage,
    PostingJob,
    PostingPreview,
    clean_tags,
    validate_sku,
)
from postings.selectors import in_flight_posts

# What Marketplace takes and Pillow can check; the stored file gets the format's own suffix.
IMAGE_FORMATS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}
_DASHES = str.maketrans({"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-"})


class ConditionField(serializers.ChoiceField):
    """Facebook's condition names; "Used – Good" with an en dash is read as "Used - Good"."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = " ".join(data.translate(_DASHES).split())
        return super().to_internal_value(data)


DELIVERY_OPTIONS = MarketplacePost.Delivery.values
MAX_SCHEDULE_DAYS = 90  # a job scheduled further ahead is more likely a typo than a plan
MAX_SPREAD_MINUTES = 7 * 24 * 60
# Other spellings operators write, read as Marketplace's own names.
DELIVERY_SPELLINGS = {"Door pick-up": "Door pickup", "Door dropoff": "Door drop-off"}


class StrictBooleanField(serializers.BooleanField):
    """`true` or `false`: a JSON body's "yes", 1 or "true" (a string) is a 400, not a guess. A form
    sends text, so there "true" and "false" are read as the booleans."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        if isinstance(data, str) and data in ("true", "false") and html.is_html_input(self.root.initial_data):
            return data == "true"
        self.fail("invalid")


@extend_schema_field({
    "type": "array",
    "items": {"type": "string", "enum": DELIVERY_OPTIONS},
    "minItems": 1,
    "uniqueItems": True,
})
class DeliveryField(serializers.ListField):
    """A non-empty list of Marketplace's delivery options, each once, stored by its canonical name."""

    def __init__(self, **kwargs):
        super().__init__(child=serializers.CharField(), **kwargs)

    @staticmethod
    def canonical(value: str) -> str | None:
        name = " ".join(value.translate(_DASHES).split())
        name = DELIVERY_SPELLINGS.get(name, name)
        return name if name in DELIVERY_OPTIONS else None

    def to_internal_value(self, data):
        accepted = ", ".join(DELIVERY_OPTIONS)
        if html.is_html_input(data):
            data = html.parse_html_list(data, default=[])
        if not isinstance(data, list):
            raise serializers.ValidationError(f"Expected a list of delivery options, from: {accepted}.")
        if not data:
            raise serializers.ValidationError(f"Choose at least one delivery option: {accepted}.")
        chosen, problems = [], []
        for value in data:
            if len(problems) == len(DELIVERY_OPTIONS):
                break  # enough to say what is wrong, however long the list
            shown = (value if isinstance(value, str) else json.dumps(value))[:100]
            name = self.canonical(value) if isinstance(value, str) else None
            if name is None:
                problems.append(f'"{shown}" is not a delivery option; choose from: {accepted}.')
            elif name in chosen:
                problems.append(f'"{shown}" is listed more than once (as "{name}").'
                                if shown != name else f'"{name}" is listed more than once.')
            else:
                chosen.append(name)
        if problems:
            raise serializers.ValidationError(problems)
        return chosen

    def to_representation(self, value):
        return list(value)


# models.LINE_BREAKS as the regex escapes a reader of the schema can read.
_LINE_BREAKS_PATTERN = r"\n\r\v\f\x1c-\x1e\x85\u2028\u2029"


@extend_schema_field({
    "type": "array",
    "items": {
        # No comma and no line break (models.LINE_BREAKS).
        "type": "string", "minLength": 1, "maxLength": MAX_TAG_LENGTH, "pattern": f"^[^,{_LINE_BREAKS_PATTERN}]*$",
    },
    "maxItems": MAX_TAGS,
    "uniqueItems": True,
})
class TagsField(serializers.ListField):
    """Product tags: a list of at most MAX_TAGS strings, each stripped, checked by clean_tags."""

    def __init__(self, **kwargs):
        super().__init__(child=serializers.CharField(), **kwargs)

    def to_internal_value(self, data):
        if html.is_html_input(data):
            data = html.parse_html_list(data, default=[])
        try:
            return clean_tags(data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None

    def to_representation(self, value):
        return list(value)


# "+", not "*": drf-spectacular offers "" as a oneOf of its own beside a pattern, which must not match it too.
@extend_schema_field({"type": "string", "maxLength": MAX_SKU_LENGTH, "pattern": f"^[^{_LINE_BREAKS_PATTERN}]+$"})
class SkuField(serializers.CharField):
    """The seller's own stock-keeping code: one line of text, stripped (a number is refused, not made text)."""

    default_error_messages = {"invalid": "Must be a string."}

    def __init__(self, **kwargs):
        super().__init__(max_length=MAX_SKU_LENGTH, allow_blank=True, validators=[validate_sku], **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
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
    delivery = DeliveryField(
        required=False,
        help_text="How a buyer may get the item: at least one, each once (default [\"Public meetup\"]). "
        "\"Door pick-up\" and \"Door dropoff\" are read as \"Door pickup\" and \"Door drop-off\".",
    )
    hide_from_friends = StrictBooleanField(
        required=False, help_text="Publish the listing hidden from the account's Facebook friends (default false)."
    )
    tags = TagsField(
        required=False,
        help_text=f"Product tags (default []): at most {MAX_TAGS}, each 1-{MAX_TAG_LENGTH} characters once "
        "surrounding whitespace is stripped, without a comma (Facebook ends a tag at one) or a line break, "
        "none repeated ignoring case.",
    )
    sku = SkuField(
        required=False,
        help_text=f"The seller's SKU (default \"\"): at most {MAX_SKU_LENGTH} characters, surrounding whitespace "
        "stripped, one line.",
    )
    images = PostImageSerializer(many=True, read_only=True)
    # Not a URLField: its schema would promise a URI, and the field is "" until the post is posted.
    listing_url = serializers.CharField(read_only=True, help_text="The listing on Marketplace; empty until posted.")
    error_logs_url = serializers.SerializerMethodField(help_text="This listing's error history.")

    class Meta:
        model = MarketplacePost
        fields = [
            "id", "account", "title", "description", "price", "category", "condition", "location",
            "delivery", "hide_from_friends", "tags", "sku", "images", "status", "error_message", "retry_count",
            "listing_url", "posted_at", "created_at", "updated_at", "error_logs_url",
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


class CurrentPostSerializer(serializers.ModelSerializer):
    """A post the job is publishing right now."""

    account = serializers.IntegerField(source="account_id", read_only=True, help_text="The account posting it.")

    class Meta:
        model = MarketplacePost
        fields = ["id", "title", "account"]
        read_only_fields = fields


class JobSerializer(serializers.ModelSerializer):
    """The seed's job status, plus `final` once the job has ended, what it is waiting for, and
    whether it is a dry run (with where its previews are)."""

    current_post_id = serializers.IntegerField(allow_null=True, read_only=True)
    progress_percentage = serializers.FloatField(read_only=True)
    final = serializers.BooleanField(source="is_final", read_only=True)
    dry_run = serializers.BooleanField(
        read_only=True, help_text="Forms are filled to their last step and captured; nothing is published. "
        "`completed_posts` counts the posts previewed.",
    )
    previews_url = serializers.SerializerMethodField(help_text="A dry run's previews; null for a real run.")
    current_posts = serializers.SerializerMethodField(
        help_text="Every post being published right now, one per account posting (accounts post at the same "
        "time); `current_post_id` and `current_post_title` are the most recently started post, which may have "
        "ended since.",
    )

    class Meta:
        model = PostingJob
        fields = [
            "id", "job_id", "status", "total_posts", "completed_posts", "failed_posts",
            "current_post_id", "current_post_title", "current_posts", "started_at", "completed_at",
            "progress_percentage", "final", "error_message", "status_message", "cancel_requested", "created_at",
            "dry_run", "previews_url", "start_at", "spread_minutes",
        ]
        read_only_fields = fields

    @extend_schema_field(CurrentPostSerializer(many=True))
    def get_current_posts(self, job: PostingJob) -> list[dict]:
        if job.status != PostingJob.Status.RUNNING:
            return []
        posts = getattr(job, "in_flight", None)  # read with the job (selectors.with_in_flight), or now
        return CurrentPostSerializer(in_flight_posts(job) if posts is None else posts, many=True).data

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_previews_url(self, job: PostingJob) -> str | None:
        return reverse("postings:job-previews", kwargs={"job_id": job.job_id}) if job.dry_run else None


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time that names its time zone: DRF would take a bare one as the server's."""

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                naive = datetime.fromisoformat(value.strip().replace("z", "Z").replace("Z", "+00:00")).tzinfo is None
            except ValueError:
                naive = False  # not ISO 8601 at all: DRF's own message says so
            if naive:
                raise serializers.ValidationError(
                    "Give the time zone: an offset such as +01:00, or Z for UTC (e.g. 2026-12-01T18:00:00Z)."
                )
        return super().to_internal_value(value)


class StartPostingSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    post_ids = serializers.ListField(
        child=IdField(), required=False, allow_empty=False, max_length=1000,
        help_text="The listings to post; leave out to post every pending listing.",
    )
    dry_run = StrictBooleanField(
        required=False, default=False,
        help_text="Fill every form to its last step and capture it, without publishing anything.",
    )
    start_at = AwareDateTimeField(
        required=False, allow_null=True,
        help_text="When to start: ISO 8601 with a time zone (`2026-12-01T18:00:00+01:00`, or `Z`), in the future and "
        f"at most {MAX_SCHEDULE_DAYS} days ahead. Left out or null: now.",
    )
    spread_minutes = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_SPREAD_MINUTES,
        help_text="Spread the posts evenly over this many minutes after the start (the first at the start, the last "
        "at the end); pacing and the accounts' budgets still apply. Left out: one after the other.",
    )

    def validate_start_at(self, value):
        if value is None:
            return None
        now = timezone.now()
        if value <= now:
            raise serializers.ValidationError(f"Must be in the future (it is now {now:%Y-%m-%dT%H:%M:%SZ}).")
        if value > now + timedelta(days=MAX_SCHEDULE_DAYS):
            raise serializers.ValidationError(f"At most {MAX_SCHEDULE_DAYS} days ahead.")
        return value


class StartPostingResponseSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()
    job_id = serializers.UUIDField()
    pending_count = serializers.IntegerField()
    total_selected = serializers.IntegerField()
    log_file = serializers.CharField()
    status_stream_url = serializers.CharField()
    dry_run = serializers.BooleanField()
    start_at = serializers.DateTimeField(allow_null=True, help_text="When a scheduled job starts; null: now.")


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
    page_snapshot = serializers.SerializerMethodField(
        help_text="The page's accessibility snapshot (Playwright's aria_snapshot YAML), as plain text."
    )
    trace = serializers.SerializerMethodField(
        help_text="A Playwright trace of the post, a zip: `playwright show-trace trace_<id>.zip`."
    )

    class Meta:
        model = ErrorLog
        fields = [
            "id", "post", "post_title", "error_type", "error_message", "stack_trace", "screenshot",
            "created_at", "page_url", "job_id", "account_id", "page_html", "page_snapshot", "trace",
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

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_page_snapshot(self, log: ErrorLog) -> str | None:
        return reverse("postings:error-log-snapshot", kwargs={"pk": log.pk}) if log.page_snapshot else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_trace(self, log: ErrorLog) -> str | None:
        return reverse("postings:error-log-trace", kwargs={"pk": log.pk}) if log.trace else None


class ErrorLogListSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="How many logs match the filters (before `limit`).")
    error_logs = ErrorLogSerializer(many=True)


class ErrorLogFilterSerializer(serializers.Serializer):
    post_id = IdField(required=False)
    error_type = serializers.ChoiceField(choices=ErrorLog.ErrorType.choices, required=False)
    job_id = serializers.UUIDField(required=False)
    account_id = IdField(required=False)
    limit = serializers.IntegerField(min_value=1, max_value=500, default=50)


class PreviewSerializer(serializers.ModelSerializer):
    """Where a dry run stopped with one post: the last step's screenshot and accessibility snapshot."""

    post_title = serializers.CharField(source="post.title")
    screenshot = serializers.SerializerMethodField(help_text="The last step's screenshot (owner only).")
    page_snapshot = serializers.SerializerMethodField(
        help_text="The last step's accessibility snapshot (YAML), as plain text (owner only)."
    )

    class Meta:
        model = PostingPreview
        fields = ["id", "post", "post_title", "page_url", "screenshot", "page_snapshot", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_screenshot(self, preview: PostingPreview) -> str | None:
        return reverse("postings:preview-screenshot", kwargs={"pk": preview.pk}) if preview.screenshot else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_page_snapshot(self, preview: PostingPreview) -> str | None:
        return reverse("postings:preview-snapshot", kwargs={"pk": preview.pk}) if preview.page_snapshot else None


class PreviewListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    previews = PreviewSerializer(many=True)
