"""Files follow their rows: when a photo, an error log or a dry run's preview goes (cascades
included), so do its files. The file is removed only once the transaction commits, so a
rolled-back delete keeps it.

And an account about to be deleted takes its listings out of their jobs, or is refused while one
of them is being posted.
"""
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from accounts.services import account_deleting
from config.exceptions import Conflict
from postings.models import ErrorLog, MarketplacePost, PostImage, PostingPreview
from postings.serializers import error_page_name
from postings.services import posts_leave_their_jobs


def _delete_file_on_commit(field_file, name: str | None = None) -> None:
    if field_file and field_file.name:
        storage, name = field_file.storage, name or field_file.name
        transaction.on_commit(lambda: storage.delete(name))


@receiver(post_delete, sender=PostImage)
def delete_post_image_file(sender, instance: PostImage, **kwargs):
    _delete_file_on_commit(instance.image)


@receiver(post_delete, sender=ErrorLog)
def delete_error_screenshot(sender, instance: ErrorLog, **kwargs):
    _delete_file_on_commit(instance.screenshot)
    _delete_file_on_commit(instance.screenshot, error_page_name(instance))  # the page's HTML beside it
    _delete_file_on_commit(instance.trace)


@receiver(post_delete, sender=PostingPreview)
def delete_preview_screenshot(sender, instance: PostingPreview, **kwargs):
    _delete_file_on_commit(instance.screenshot)


@receiver(account_deleting)
def listings_leave_a_deleted_account(sender, account, **kwargs):
    """Lock the account's listings; refuse while one is posting; count them out of their jobs."""
    posts = MarketplacePost.objects.filter(account=account).select_for_update()
    if any(post.status == MarketplacePost.Status.POSTING for post in posts):
        raise Conflict("A listing of this account is being posted; wait for the job to end.")
    posts_leave_their_jobs(MarketplacePost.objects.filter(account=account))
