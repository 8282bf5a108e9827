"""The failures of posting, each with the ErrorLog type it is recorded as.

Playwright's exceptions are translated into these where they enter the code (pages.py); the
worker maps them to error types, retries and account stops here, and nowhere else.
"""


class PostingError(Exception):
    error_type = "unknown"
    #: the account cannot post any more in this job (its other posts are skipped)
    stops_account = False
    #: may be tried again on a fresh page, as long as Publish was not clicked
    retryable = False


class InvalidListing(PostingError):
    error_type = "validation_error"


class SessionExpired(PostingError):
    error_type = "session_expired"
    stops_account = True


class CaptchaRequired(PostingError):
    error_type = "captcha"
    stops_account = True


class RateLimited(PostingError):
    error_type = "rate_limit"
    stops_account = True


class UnsupportedLanguage(PostingError):
    error_type = "layout_changed"
    stops_account = True


class LayoutChanged(PostingError):
    error_type = "layout_changed"


class PolicyRejected(PostingError):
    error_type = "policy_rejected"


class NetworkError(PostingError):
    error_type = "network_error"
    retryable = True


class ProxyFailed(NetworkError):
    """The account's proxy refused, did not answer, or would not carry its traffic: the account
    cannot post through it in this job. The message names the proxy with its password masked."""

    stops_account = True
    retryable = False


class PageTimeout(PostingError):
    error_type = "timeout"
    retryable = True


class PublishUnconfirmed(PostingError):
    """Publish was clicked and success never showed: the listing may be live. Never retried."""

    error_type = "unknown"


class BrowserUnavailable(PostingError):
    """Chromium could not start: the whole job fails."""
