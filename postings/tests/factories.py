"""factory_boy factories for the postings tests.

Operators come from the conftest fixtures (`operator`, `other_operator`): pass `owner=` to
AccountFactory and `account=` to PostFactory, so that every row says whose it is.
"""
from decimal import Decimal

import factory

from accounts.models import FacebookAccount
from postings.models import MarketplacePost, PostImage


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FacebookAccount

    email = factory.Sequence(lambda n: f"seller{n}@example.com")
    name = factory.Sequence(lambda n: f"Seller {n}")


class PostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MarketplacePost

    title = factory.Sequence(lambda n: f"Oak desk {n}")
    description = "Solid oak, 120 x 60 cm, a few scratches."
    price = Decimal("149.99")
    category = "Furniture"
    condition = MarketplacePost.Condition.USED_GOOD
    location = "Austin, TX"


class PostImageFactory(factory.django.DjangoModelFactory):
    """A real PNG stored through the model's storage, appended after the post's last photo."""

    class Meta:
        model = PostImage

    image = factory.django.ImageField(filename="photo.png", format="PNG", width=32, height=24, color="green")
    position = factory.LazyAttribute(lambda image: image.post.images.count() + 1)
