from django import forms
from django.contrib import admin
from django.db import models

from postings.models import (
    MAX_TAG_LENGTH,
    MAX_TAGS,
    ErrorLog,
    MarketplacePost,
    PostImage,
    PostingJob,
    PostingPreview,
    clean_tags,
)


class TagsFormField(forms.CharField):
    """Product tags written as one line, "oak, desk, solid wood", stored as the list clean_tags makes of it.

    A comma separates tags here (a tag cannot hold one), and an empty piece, as after a last comma, is no tag.
    """

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        pieces = [piece for piece in (super().to_python(value) or "").split(",") if piece.strip()]
        return clean_tags(pieces)


class PostImageInline(admin.TabularInline):
    model = PostImage
    extra = 0
    fields = ["position", "image", "width", "height", "created_at"]
    readonly_fields = ["width", "height", "created_at"]


@admin.register(MarketplacePost)
class MarketplacePostAdmin(admin.ModelAdmin):
    list_display = [
        "id", "title", "sku", "account", "price", "condition", "delivery", "hide_from_friends", "status",
        "retry_count", "posted_at", "created_at",
    ]
    list_filter = ["status", "condition", "hide_from_friends", "account__owner", "account"]
    search_fields = ["title", "description", "category", "sku", "account__email"]
    readonly_fields = ["created_at", "updated_at"]
    list_select_related = ["account"]
    inlines = [PostImageInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # Django 6's default

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "delivery":
            # Checkboxes rather than a JSON text area: at least one, each once, Marketplace's names only.
            return forms.MultipleChoiceField(
                choices=MarketplacePost.Delivery.choices, widget=forms.CheckboxSelectMultiple, label="Delivery",
            )
        if db_field.name == "tags":
            return TagsFormField(
                required=False, label="Tags", widget=admin.widgets.AdminTextInputWidget,
                help_text=f"Separated by commas: at most {MAX_TAGS}, each 1-{MAX_TAG_LENGTH} characters, "
                "none repeated (ignoring case).",
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(PostImage)
class PostImageAdmin(admin.ModelAdmin):
    list_display = ["id", "post", "position", "width", "height", "created_at"]
    list_filter = ["post__account__owner", "created_at"]
    search_fields = ["post__title"]
    raw_id_fields = ["post"]
    list_select_related = ["post"]


@admin.register(PostingJob)
class PostingJobAdmin(admin.ModelAdmin):
    list_display = [
        "job_id", "owner", "status", "total_posts", "completed_posts", "failed_posts",
        "current_post_title", "dry_run", "cancel_requested", "started_at", "completed_at",
    ]
    list_filter = ["status", "dry_run", "owner", "cancel_requested"]
    search_fields = ["=job_id", "current_post_title", "error_message"]
    readonly_fields = ["job_id", "created_at", "updated_at", "heartbeat_at", "pid", "log_file"]
    raw_id_fields = ["posts", "current_post"]
    list_select_related = ["owner"]


@admin.register(ErrorLog)
class ErrorLogAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "error_type", "post", "job", "owner", "short_message"]
    list_filter = ["error_type", "owner", "created_at"]
    search_fields = ["error_message", "post__title", "page_url"]
    readonly_fields = ["created_at"]
    raw_id_fields = ["post", "job"]
    list_select_related = ["post", "job", "owner"]

    @admin.display(description="message")
    def short_message(self, log: ErrorLog) -> str:
        return log.error_message[:80]


@admin.register(PostingPreview)
class PostingPreviewAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "post", "job", "page_url"]
    list_filter = ["job__owner", "created_at"]
    search_fields = ["post__title", "page_url", "=job__job_id"]
    readonly_fields = ["created_at"]
    raw_id_fields = ["post", "job"]
    list_select_related = ["post", "job"]
