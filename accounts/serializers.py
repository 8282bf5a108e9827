from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import FacebookAccount
from config.serializers import RejectUnknownFieldsMixin
from driver import identity
from driver.proxy import ProxyFormatError, masked, to_store


class ProxyField(serializers.CharField):
    """Written as a URL, read with its password masked; null or "" for none."""

    def __init__(self, **kwargs):
        super().__init__(allow_null=True, allow_blank=True, required=False, max_length=500, **kwargs)

    def to_representation(self, value):
        return masked(value)


@extend_schema_field({"type": "object", "properties": {"width": {"type": "integer"}, "height": {"type": "integer"}},
                      "required": ["width", "height"], "example": {"width": 1366, "height": 641}})
class ViewportField(serializers.JSONField):
    def to_internal_value(self, data):
        try:
            return identity.check_viewport(data)
        except identity.IdentityError as exc:
            raise serializers.ValidationError(str(exc)) from None


class AccountSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    session_exists = serializers.SerializerMethodField(
        help_text="Whether a browser session has been uploaded for this account."
    )
    proxy = ProxyField(
        help_text="Where this account's browser goes out: `http://`, `https://` or `socks5://`, optional "
        "`user:password@` (not for socks5: Chromium cannot log in to one), then `host:port`. Read with the password "
        "masked (`http://user:***@host:3128`); writing that masked form back keeps the stored password. null: none."
    )
    user_agent = serializers.CharField(
        required=False, max_length=500,
        help_text="The browser's user agent, fixed when the account is created (Chrome of this host's platform).",
    )
    timezone = serializers.CharField(
        required=False, max_length=64, help_text="IANA time zone of the browser, e.g. America/Chicago (chosen at creation).",
    )
    viewport = ViewportField(required=False, help_text="The browser window's size, chosen at creation from common ones.")
    daily_post_limit = serializers.IntegerField(
        required=False, allow_null=True, min_value=1,
        help_text="At most this many listings published or tried in any 24 hours; null: ACCOUNT_DAILY_POST_LIMIT.",
    )
    hourly_post_limit = serializers.IntegerField(
        required=False, allow_null=True, min_value=1,
        help_text="At most this many in any 60 minutes; null: ACCOUNT_HOURLY_POST_LIMIT.",
    )

    class Meta:
        model = FacebookAccount
        fields = [
            "id", "email", "name", "session_exists", "proxy", "user_agent", "timezone", "viewport",
            "daily_post_limit", "hourly_post_limit", "paused_until", "pause_reason", "created_at", "updated_at",
        ]
        read_only_fields = ["id", "paused_until", "pause_reason", "created_at", "updated_at"]
        extra_kwargs = {
            "paused_until": {"help_text": "Set for ACCOUNT_BLOCK_PAUSE_HOURS when Facebook blocked the account "
                             "(rate_limit): until then every job skips it. POST .../resume/ lifts it."},
            "pause_reason": {"help_text": "Why it is paused (the block Facebook showed); empty when it is not."},
        }

    @extend_schema_field(serializers.BooleanField)
    def get_session_exists(self, account: FacebookAccount) -> bool:
        return account.session_path.is_file()

    def validate_email(self, value: str) -> str:
        return value.lower()

    def validate_user_agent(self, value: str) -> str:
        try:
            return identity.check_user_agent(value)
        except identity.IdentityError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_timezone(self, value: str) -> str:
        try:
            return identity.check_timezone(value)
        except identity.IdentityError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_proxy(self, text: str | None) -> str:
        """The URL to store. The masked form an answer showed keeps the stored password."""
        try:
            return to_store(text, self.instance.proxy if self.instance is not None else "")
        except ProxyFormatError as exc:
            raise serializers.ValidationError(str(exc)) from None


class SessionValidationSerializer(serializers.Serializer):
    """The seed's validate-session answer. `session_age_days` is absent when there is no file."""

    valid = serializers.BooleanField()
    session_age_days = serializers.FloatField(required=False, allow_null=True)
    message = serializers.CharField()
    action_required = serializers.CharField(allow_null=True)
    reasons = serializers.ListField(child=serializers.CharField())


class CookieSerializer(serializers.Serializer):
    name = serializers.CharField()
    value = serializers.CharField(allow_blank=True)
    domain = serializers.CharField()
    path = serializers.CharField(required=False)
    expires = serializers.FloatField(required=False, help_text="Playwright: seconds, -1 for a session cookie")
    expirationDate = serializers.FloatField(required=False, help_text="Cookie-export extensions: seconds")
    httpOnly = serializers.BooleanField(required=False)
    secure = serializers.BooleanField(required=False)
    sameSite = serializers.CharField(
        required=False, help_text="Strict, Lax, None, or an extension's no_restriction / lax / strict / unspecified"
    )


class StorageStateSerializer(serializers.Serializer):
    """Documentation only: the session body is checked by accounts.session_files."""

    cookies = CookieSerializer(many=True)
    origins = serializers.ListField(child=serializers.DictField(), required=False)


class AccountHealthSerializer(serializers.Serializer):
    account_id = serializers.IntegerField()
    email = serializers.EmailField()
    session_exists = serializers.BooleanField()
    session_valid = serializers.BooleanField()
    session_age_days = serializers.FloatField(allow_null=True)
    total_posts = serializers.IntegerField()
    posted_count = serializers.IntegerField()
    failed_count = serializers.IntegerField()
    health_status = serializers.ChoiceField(choices=["healthy", "warning", "error"])
    reasons = serializers.ListField(child=serializers.CharField())
    paused_until = serializers.DateTimeField(
        allow_null=True, help_text="Paused after a block until then (the account is at least `warning`); null when not."
    )
    posts_last_24h = serializers.IntegerField(help_text="Listings published or tried in the last 24 hours.")
    posts_last_hour = serializers.IntegerField(help_text="Listings published or tried in the last 60 minutes.")
    daily_post_limit = serializers.IntegerField(
        allow_null=True, help_text="The daily budget in force (the account's or ACCOUNT_DAILY_POST_LIMIT); null: none."
    )
    hourly_post_limit = serializers.IntegerField(allow_null=True, help_text="The hourly budget in force; null: none.")
    can_post_at = serializers.DateTimeField(
        allow_null=True, help_text="When it may post again, if it is paused or at a budget; null: now."
    )
    hold_reason = serializers.CharField(
        allow_null=True, help_text="Why it cannot post now (paused, or at which budget until when); null when it can."
    )


class HealthSummarySerializer(serializers.Serializer):
    total_accounts = serializers.IntegerField()
    healthy = serializers.IntegerField()
    warning = serializers.IntegerField()
    error = serializers.IntegerField()


class HealthCheckSerializer(serializers.Serializer):
    """The seed's health-check answer."""

    overall_health = serializers.ChoiceField(choices=["healthy", "warning", "error"])
    summary = HealthSummarySerializer()
    accounts = AccountHealthSerializer(many=True)
