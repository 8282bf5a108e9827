"""Writes for the postings app."""
from django.conf import settings
from django.db import transaction
from rest_framework.exceptions import ValidationError

from accounts.models import FacebookAccount
from config.exceptions import Conflict
from postings.models import MarketplacePost, PostImage


def _lock_unless_posting(post: MarketplacePost) -> MarketplacePost:
    """Lock the post's row for this transaction; refuse with 409 while a job is posting it.

    The worker moves a post to `posting` with a conditional UPDATE, which waits on this lock (and
    on SQLite on the IMMEDIATE transaction), so the check and the change cannot interleave.
    """
    locked = MarketplacePost.objects.select_for_update().get(pk=post.pk)
    if locked.status == MarketplacePost.Status.POSTING:
        raise Conflict("This listing is being posted right now; change it once its job has finished with it.")
    return locked


def post_create(*, account: FacebookAccount, **fields) -> MarketplacePost:
    """A new pending listing for one of the operator's accounts."""
    return MarketplacePost.objects.create(account=account, **fields)


@transaction.atomic
def post_update(*, post: MarketplacePost, **fields) -> MarketplacePost:
    """Change a listing's content; 409 while it is being posted."""
    post = _lock_unless_posting(post)
    for name, value in fields.items():
        setattr(post, name, value)
    post.save(update_fields=[*fields, "updated_at"])
    return post


@transaction.atomic
def post_delete(*, post: MarketplacePost) -> None:
    """Delete a listing with its photos and error logs (files go once committed); 409 while posting."""
    _lock_unless_posting(post).delete()


def post_image_add(*, post: MarketplacePost, upload) -> PostImage:
    """Append a checked photo to a listing: at most MAX_IMAGES_PER_POST; 409 while posting."""
    image = None
    try:
        with transaction.atomic():
            post = _lock_unless_posting(post)
            positions = list(post.images.values_list("position", flat=True))
            if len(positions) >= settings.MAX_IMAGES_PER_POST:
                raise ValidationError(
                    {"image": [f"A listing has at most {settings.MAX_IMAGES_PER_POST} photos."]}
                )
            image = PostImage(post=post, position=max(positions, default=0) + 1)
            image.image.save(upload.name, upload, save=False)
            image.save()
            return image
    except BaseException:
        if image is not None and image.image.name:
            image.image.storage.delete(image.image.name)  # the row was rolled back: drop its file
        raise


@transaction.atomic
def post_image_delete(*, image: PostImage) -> None:
    """Remove one photo (its file goes once committed); 409 while the listing is being posted."""
    _lock_unless_posting(image.post)
    image.delete()
