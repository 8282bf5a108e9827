from pathlib import Path

from django.conf import settings
from django.db import models


class FacebookAccount(models.Model):
    """A Facebook account an operator posts with. Its browser session lives in a file, not here."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="facebook_accounts"
    )
    email = models.EmailField(max_length=254)
    name = models.CharField(max_length=150, blank=True)
    # The last live check (validate-session?live=true): when, and whether Marketplace showed the
    # account logged in. It counts only while the session file is not newer than it.
    live_checked_at = models.DateTimeField(null=True, blank=True)
    live_logged_in = models.BooleanField(null=True, blank=True)
    live_message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "email"], name="account_unique_email_per_owner")
        ]

    def __str__(self) -> str:
        return self.name or self.email

    @property
    def session_path(self) -> Path:
        """Where this account's Playwright storage state is kept (outside MEDIA_ROOT)."""
        return Path(settings.SESSIONS_DIR) / f"account_{self.pk}.json"
