"""Files follow their rows: when a photo or an error log goes (cascades included), so does its file.

The file is removed only once the transaction commits, so a rolled-back delete keeps it.
"""
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from postings.models import ErrorLog, PostImage


def _delete_file_on_commit(field_file) -> None:
    if field_file and field_file.name:
        storage, name = field_file.storage, field_file.name
        transaction.on_commit(lambda: storage.delete(name))


@receiver(post_delete, sender=PostImage)
def delete_post_image_file(sender, instance: PostImage, **kwargs):
    _delete_file_on_commit(instance.image)


@receiver(post_delete, sender=ErrorLog)
def delete_error_screenshot(sender, instance: ErrorLog, **kwargs):
    _delete_file_on_commit(instance.screenshot)
