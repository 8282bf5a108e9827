from django import forms
from django.conf import settings
from django.contrib import admin

from accounts.models import FacebookAccount, PostingAttempt
from driver import identity
from driver.proxy import MASK, ProxyFormatError, masked, to_store

PROXY_HELP = (
    "http://, https:// or socks5://, then host:port, with user:password@ if it needs one (not for socks5). "
    f"Shown with its password masked ({MASK}): saved as shown, the stored password is kept; to change the "
    "password, type the whole URL. Empty: none (the host's own address). The API (PATCH /api/accounts/<id>/) "
    "and the dashboard's accounts page set it the same way."
)


class FacebookAccountForm(forms.ModelForm):
    """The account's change form. Its proxy is never rendered with the password: the field shows the
    masked URL, and submitting that back (unchanged, or only without a new password) keeps the stored
    one, as the API does."""

    proxy = forms.CharField(required=False, max_length=500, help_text=PROXY_HELP,
                            widget=forms.TextInput(attrs={"size": 60, "autocomplete": "off", "spellcheck": "false"}))

    class Meta:
        model = FacebookAccount
        fields = "__all__"
        help_texts = {
            "daily_post_limit": f"Listings in any 24 hours. Empty: ACCOUNT_DAILY_POST_LIMIT "
                                f"({settings.ACCOUNT_DAILY_POST_LIMIT or 'no limit'}).",
            "hourly_post_limit": f"Listings in any 60 minutes. Empty: ACCOUNT_HOURLY_POST_LIMIT "
                                 f"({settings.ACCOUNT_HOURLY_POST_LIMIT or 'no limit'}).",
            "user_agent": "The browser's user agent, fixed when the account was created.",
            "timezone": "IANA time zone of the browser, e.g. America/Chicago (best: the proxy's).",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._stored_proxy = self.instance.proxy if self.instance.pk else ""
        # The masked URL, never the stored one (an unreadable stored value shows as empty).
        self.initial["proxy"] = masked(self._stored_proxy) or ""

    def clean_proxy(self) -> str:
        text = self.cleaned_data["proxy"].strip()
        if text == (self.initial.get("proxy") or ""):
            return self._stored_proxy  # submitted back as shown: unchanged
        try:
            return to_store(text, self._stored_proxy)
        except ProxyFormatError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_user_agent(self) -> str:
        return self._identity(identity.check_user_agent, self.cleaned_data["user_agent"])

    def clean_timezone(self) -> str:
        return self._identity(identity.check_timezone, self.cleaned_data["timezone"])

    def clean_viewport(self) -> dict:
        return self._identity(identity.check_viewport, self.cleaned_data["viewport"])

    def _limit(self, name: str):
        value = self.cleaned_data[name]
        if value is not None and value < 1:
            raise forms.ValidationError("At least 1; empty for the default.")
        return value

    def clean_daily_post_limit(self):
        return self._limit("daily_post_limit")

    def clean_hourly_post_limit(self):
        return self._limit("hourly_post_limit")

    @staticmethod
    def _identity(check, value):
        try:
            return check(value)
        except identity.IdentityError as exc:
            raise forms.ValidationError(str(exc)) from None


@admin.register(FacebookAccount)
class FacebookAccountAdmin(admin.ModelAdmin):
    form = FacebookAccountForm
    list_display = [
        "id", "email", "name", "owner", "has_session", "masked_proxy", "timezone", "window_size", "paused_until",
        "created_at",
    ]
    list_filter = ["owner", "created_at", "paused_until"]
    search_fields = ["email", "name", "owner__username"]
    readonly_fields = ["paused_until", "pause_reason", "live_checked_at", "live_logged_in", "live_message",
                       "created_at", "updated_at"]
    list_select_related = ["owner"]
    fieldsets = [
        (None, {"fields": ["owner", "email", "name"]}),
        ("Proxy", {"fields": ["proxy"]}),
        ("Browser identity", {
            "fields": ["timezone", "viewport", "user_agent"],
            "description": "What Facebook sees of the device: the same in every browser context of the account.",
        }),
        ("Posting budgets", {
            "fields": ["daily_post_limit", "hourly_post_limit", "paused_until", "pause_reason"],
            "description": "A pause after a block is lifted with POST /api/accounts/<id>/resume/ or the dashboard's "
                           "Resume button.",
        }),
        ("Live check", {"fields": ["live_checked_at", "live_logged_in", "live_message"], "classes": ["collapse"]}),
        ("Dates", {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(boolean=True, description="session")
    def has_session(self, account: FacebookAccount) -> bool:
        return account.session_path.is_file()

    @admin.display(description="proxy", ordering="proxy")
    def masked_proxy(self, account: FacebookAccount) -> str:
        return masked(account.proxy) or "-"

    @admin.display(description="window")
    def window_size(self, account: FacebookAccount) -> str:
        viewport = account.viewport or {}
        return f"{viewport.get('width')} × {viewport.get('height')}" if isinstance(viewport, dict) else "-"


@admin.register(PostingAttempt)
class PostingAttemptAdmin(admin.ModelAdmin):
    """What the posting budgets count: read only, written by the worker."""

    list_display = ["id", "account", "at"]
    list_filter = ["at"]
    search_fields = ["account__email"]
    list_select_related = ["account"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
