from django import forms
from django.contrib import admin

from webhooks.models import Event, Webhook, WebhookDelivery, new_secret


class WebhookForm(forms.ModelForm):
    """The secret is write-only here too: never rendered; left empty, the stored one is kept (a new
    webhook gets a generated one, which only the API's create answer would show)."""

    secret = forms.CharField(
        required=False, min_length=16, max_length=200, widget=forms.PasswordInput(render_value=False),
        help_text="Write only. Empty: keep the current secret (a new webhook gets a generated one).",
    )
    events = forms.MultipleChoiceField(
        choices=[(event.value, event.value) for event in Event], widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Webhook
        fields = ["owner", "url", "events", "secret", "active"]

    def clean_secret(self) -> str:
        return self.cleaned_data["secret"] or self.instance.secret or new_secret()


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    form = WebhookForm
    list_display = ["id", "owner", "url", "event_list", "active", "created_at"]
    list_filter = ["active", "owner"]
    search_fields = ["url", "owner__username"]
    list_select_related = ["owner"]

    @admin.display(description="events")
    def event_list(self, webhook: Webhook) -> str:
        return ", ".join(webhook.events or [])


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """What was sent and how it went: read only, written by the senders."""

    list_display = ["id", "webhook", "event", "event_id", "state", "status_code", "attempts", "created_at",
                    "delivered_at", "next_attempt_at"]
    list_filter = ["state", "event", "created_at"]
    search_fields = ["event_id", "webhook__url"]
    list_select_related = ["webhook"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
