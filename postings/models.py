import json
import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from accounts.models import FacebookAccount


def default_delivery() -> list[str]:
    """A new listing offers a public meetup, as Marketplace's form does by default."""
    return [MarketplacePost.Delivery.PUBLIC_MEETUP.value]


MAX_TAGS = 20
MAX_TAG_LENGTH = 50
MAX_SKU_LENGTH = 50
# Every line boundary str.splitlines() knows: a tag or an SKU is one line of Marketplace's form.
LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"


def _shown(value) -> str:
    """A value as a message quotes it: as JSON, cut at about 30 characters, with every character that
    does not print escaped (a line break shows as \\n, a lone surrogate as \\ud800, which UTF-8 cannot hold)."""
    if isinstance(value, str):
        text = json.dumps(value if len(value) <= 30 else f"{value[:30]}\u2026", ensure_ascii=False)
    else:
        text = json.dumps(value, ensure_ascii=False)
        text = text if len(text) <= 30 else f"{text[:30]}\u2026"
    return "".join(char if char.isprintable() else char.encode("unicode_escape", "backslashreplace").decode()
                   for char in text)


def clean_tags(value) -> list[str]:
    """A listing's product tags as stored: each stripped of surrounding whitespace.

    Raises ValidationError with every problem: not a list, more than MAX_TAGS, a tag that is not a
    string, holds a lone surrogate (no UTF-8 can store it), is empty, is longer than MAX_TAG_LENGTH,
    holds a comma (Facebook ends a tag at a comma) or a line break, or repeats an earlier one ignoring case.
    """
    if not isinstance(value, list):
        raise ValidationError(
            f"Expected a list of at most {MAX_TAGS} tags, each a string of 1-{MAX_TAG_LENGTH} characters."
        )
    if len(value) > MAX_TAGS:
        raise ValidationError(f"At most {MAX_TAGS} tags; {len(value)} were given.")
    tags, problems = [], []
    earlier = {}  # casefolded tag -> (its number, the tag)
    for number, tag in enumerate(value, start=1):
        if not isinstance(tag, str):
            problems.append(f"Tag {number} is not a string: {_shown(tag)}.")
            continue
        tag = tag.strip()
        if surrogate := next((char for char in tag if "\ud800" <= char <= "\udfff"), None):
            problems.append(f"Tag {number} holds a surrogate character (U+{ord(surrogate):04X}), which is not text.")
        elif not tag:
            problems.append(f"Tag {number} is empty.")
        elif len(tag) > MAX_TAG_LENGTH:
            problems.append(f"Tag {number} ({_shown(tag)}) is {len(tag)} characters; at most {MAX_TAG_LENGTH}.")
        elif "," in tag:
            problems.append(f"Tag {number} ({_shown(tag)}) holds a comma, which Facebook reads as the end of a tag.")
        elif any(mark in tag for mark in LINE_BREAKS):
            problems.append(f"Tag {number} ({_shown(tag)}) holds a line break.")
        elif tag.casefold() in earlier:
            first, same = earlier[tag.casefold()]
            problems.append(f"Tag {number} ({_shown(tag)}) repeats tag {first} ({_shown(same)}), ignoring case.")
        else:
            earlier[tag.casefold()] = (number, tag)
            tags.append(tag)
    if problems:
        raise ValidationError(problems)
    return tags


def validate_sku(value: str) -> None:
    """An SKU is typed into one line of Marketplace's form."""
    if any(mark in value for mark in LINE_BREAKS):
        raise ValidationError("An SKU is one line: it may not hold a line break.")


class MarketplacePost(models.Model):
    """A listing to publish on Marketplace with one of the operator's Facebook accounts."""

    class Status(models.TextChoices):
        PENDING = "pending"
        POSTING = "posting"
        POSTED = "posted"
        FAILED = "failed"

    class Condition(models.TextChoices):
        NEW = "New"
        USED_LIKE_NEW = "Used - Like New"
        USED_GOOD = "Used - Good"
        USED_FAIR = "Used - Fair"

    class Delivery(models.TextChoices):
        """How a buyer may get the item: Marketplace's delivery-method checkboxes."""

        PUBLIC_MEETUP = "Public meetup"
        DOOR_PICKUP = "Door pickup"
        DOOR_DROP_OFF = "Door drop-off"

    account = models.ForeignKey(FacebookAccount, on_delete=models.CASCADE, related_name="posts")
    title = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(0)])
    category = models.CharField(max_length=100)
    condition = models.CharField(max_length=20, choices=Condition.choices, default=Condition.NEW)
    location = models.CharField(max_length=100, blank=True)
    # A non-empty list of Delivery values without repeats (the API checks it).
    delivery = models.JSONField(default=default_delivery)
    hide_from_friends = models.BooleanField(default=False)
    # Product tags as clean_tags leaves them, and the seller's own stock-keeping code.
    tags = models.JSONField(default=list, blank=True, validators=[clean_tags])
    sku = models.CharField(max_length=MAX_SKU_LENGTH, blank=True, validators=[validate_sku])

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error_message = models.TextField(blank=True)
    retry_count = models.PositiveIntegerField(default=0)
    listing_url = models.URLField(max_length=500, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    # The queued or running job that has taken this post, if any: set and cleared with
    # conditional UPDATEs, so two jobs can never take the same post.
    claimed_by = models.ForeignKey(
        "PostingJob", on_delete=models.SET_NULL, null=True, blank=True, related_name="claimed_posts"
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "postings_marketplacepost"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status"], name="status_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=0), name="post_price_not_negative"),
        ]

    def __str__(self) -> str:
        return self.title


def _post_image_path(image: "PostImage", filename: str) -> str:
    # Never the client's file name: a random one, with the suffix of the format Pillow found.
    return f"post_images/{image.post_id}/{uuid.uuid4().hex}{PurePosixPath(filename).suffix.lower()}"


class PostImage(models.Model):
    """A photo of a listing; `position` orders them as Marketplace will show them."""

    post = models.ForeignKey(MarketplacePost, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to=_post_image_path, width_field="width", height_field="height")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    position = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["post", "position"], name="post_image_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.post_id}#{self.position}"


class PostingJob(models.Model):
    """One run of the posting worker over a set of listings, with its live progress."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"
        CANCELLED = "cancelled"

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)

    job_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posting_jobs"
    )
    posts = models.ManyToManyField(MarketplacePost, related_name="jobs", blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    total_posts = models.PositiveIntegerField(default=0)
    completed_posts = models.PositiveIntegerField(default=0)
    failed_posts = models.PositiveIntegerField(default=0)
    current_post = models.ForeignKey(
        MarketplacePost, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    current_post_title = models.CharField(max_length=100, blank=True)
    error_message = models.TextField(blank=True)
    # What the job is doing or waiting for, in words ("Waiting for job ... to finish with ...").
    status_message = models.CharField(max_length=255, blank=True)

    log_file = models.CharField(max_length=500, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    # The machine the worker runs on: its pid says whether it is alive only there.
    worker_host = models.CharField(max_length=255, blank=True)
    # With JOB_RUNNER=procrastinate: the id of the Procrastinate job that runs this one.
    runner_job_id = models.BigIntegerField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    # Fill every form up to the last step and capture it, but never click what publishes.
    dry_run = models.BooleanField(default=False)
    # A scheduled job starts at `start_at` (null: at once) and spreads its posts evenly over
    # `spread_minutes` after it (null: one after the other, as pacing allows). `launched_at`: when
    # its runner was given it, so that no two processes start it.
    start_at = models.DateTimeField(null=True, blank=True, db_index=True)
    spread_minutes = models.PositiveIntegerField(null=True, blank=True)
    launched_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "postings_postingjob"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return str(self.job_id)

    @property
    def progress_percentage(self) -> float:
        """Share of the posts the job has finished with, posted or failed (see api.md)."""
        if not self.total_posts:
            return 0.0
        return round(100 * (self.completed_posts + self.failed_posts) / self.total_posts, 1)

    @property
    def is_final(self) -> bool:
        return self.status not in self.ACTIVE_STATUSES


class ErrorLog(models.Model):
    """One failure of a posting job, with what is needed to understand it afterwards."""

    class ErrorType(models.TextChoices):
        SESSION_EXPIRED = "session_expired"
        NETWORK_ERROR = "network_error"
        CAPTCHA = "captcha"
        RATE_LIMIT = "rate_limit"
        VALIDATION_ERROR = "validation_error"
        TIMEOUT = "timeout"
        LAYOUT_CHANGED = "layout_changed"
        POLICY_REJECTED = "policy_rejected"
        UNKNOWN = "unknown"

    # The owner is stored, not derived, because a job-level failure has no post.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="error_logs")
    post = models.ForeignKey(
        MarketplacePost, on_delete=models.CASCADE, null=True, blank=True, related_name="error_logs"
    )
    job = models.ForeignKey(
        PostingJob, on_delete=models.SET_NULL, null=True, blank=True, related_name="error_logs"
    )
    error_type = models.CharField(max_length=20, choices=ErrorType.choices, db_index=True)
    error_message = models.TextField()
    stack_trace = models.TextField(blank=True)
    screenshot = models.ImageField(upload_to="error_screenshots/", null=True, blank=True)
    page_url = models.CharField(max_length=2000, blank=True)
    # Playwright's aria_snapshot() of the page: the roles and names the driver looks for, as YAML.
    page_snapshot = models.TextField(blank=True)
    # A Playwright trace of the post (`playwright show-trace`), cookie values scrubbed.
    trace = models.FileField(upload_to="error_traces/", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "postings_errorlog"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.error_type}: {self.error_message[:60]}"


class PostingPreview(models.Model):
    """Where a dry run stopped with one post: the filled form, just before what would publish it."""

    job = models.ForeignKey(PostingJob, on_delete=models.CASCADE, related_name="previews")
    post = models.ForeignKey(MarketplacePost, on_delete=models.CASCADE, related_name="previews")
    screenshot = models.ImageField(upload_to="dry_run_screenshots/", null=True, blank=True)
    page_snapshot = models.TextField(blank=True)
    page_url = models.CharField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "postings_postingpreview"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"preview of {self.post_id} in {self.job_id}"
