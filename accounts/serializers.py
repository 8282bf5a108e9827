from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import FacebookAccount
from config.serializers import RejectUnknownFieldsMixin


class AccountSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    session_exists = serializers.SerializerMethodField(
        help_text="Whether a browser session has been uploaded for this account."
    )

    class Meta:
        model = FacebookAccount
        fields = ["id", "email", "name", "session_exists", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    @extend_schema_field(serializers.BooleanField)
    def get_session_exists(self, account: FacebookAccount) -> bool:
        return account.session_path.is_file()

    def validate_email(self, value: str) -> str:
        return value.lower()


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
