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
