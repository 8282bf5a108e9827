from pathlib import Path

from django.conf import settings
from django.db import models

from driver import identity
from driver.proxy import Proxy


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
    # Where its browser goes out (scheme://[user:password@]host:port; blank: the host's own
    # address). The password is kept as given, because the browser needs it, and shown masked.
    proxy = models.CharField(max_length=500, blank=True)
    # Its device, as Facebook sees it: fixed at creation (driver.identity), the same in every
    # browser context of the account. The locale is always en-US (driver.identity.LOCALE).
    user_agent = models.CharField(max_length=500, default=identity.default_user_agent)
    timezone = models.CharField(max_length=64, default=identity.random_timezone)
    viewport = models.JSONField(default=identity.random_viewport, help_text='{"width": ..., "height": ...}')
    # Posting budgets (null: ACCOUNT_DAILY_POST_LIMIT / ACCOUNT_HOURLY_POST_LIMIT).
    daily_post_limit = models.PositiveIntegerField(null=True, blank=True)
    hourly_post_limit = models.PositiveIntegerField(null=True, blank=True)
    # After Facebook blocked the account (rate_limit): no job posts with it before this time.
    paused_until = models.DateTimeField(null=True, blank=True)
    pause_reason = models.CharField(max_length=500, blank=True)
    # The health the last watch saw (accounts.services.accounts_health_watch): an account getting
    # worse than this is news for its operator (account_needs_attention). Blank: never seen.
    last_health = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "email"], name="account_unique_email_per_owner")
        ]

    def __str__(self) -> str:
        return self.name or self.email

    def browser_profile(self) -> identity.BrowserProfile:
        """How every browser context of this account is made: its identity and its proxy."""
        return identity.BrowserProfile(
            user_agent=self.user_agent, timezone=self.timezone,
            viewport=(self.viewport["width"], self.viewport["height"]),
            proxy=Proxy.parse(self.proxy) if self.proxy else None,
        )

    @property
    def session_path(self) -> Path:
        """Where this account's Playwright storage state is kept (outside MEDIA_ROOT)."""
        return Path(settings.SESSIONS_DIR) / f"account_{self.pk}.json"


class PostingAttempt(models.Model):
    """A listing the account published or tried to publish (its form opened in the browser), at
    `at`: what its posting budgets count. Rows older than a day count for nothing and are pruned."""

    account = models.ForeignKey(FacebookAccount, on_delete=models.CASCADE, related_name="posting_attempts")
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["account", "at"], name="attempt_account_at_idx")]

    def __str__(self) -> str:
        return f"account {self.account_id} at {self.at:%Y-%m-%d %H:%M:%S}"
