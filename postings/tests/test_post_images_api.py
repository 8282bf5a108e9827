"""/api/posts/<id>/images/ and /api/posts/<id>/images/<image_id>/: a listing's photos."""
import io
import random
import re
from http import HTTPStatus
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.dateparse import parse_datetime
from PIL import Image
from rest_framework.test import APIClient

from conftest import image_bytes
from postings.models import MarketplacePost, PostImage
from postings.tests.factories import AccountFactory, PostFactory, PostImageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(operator):
    return PostFactory(account=AccountFactory(owner=operator))


@pytest.fixture
def photo(post):
    return PostImageFactory(post=post)


def images_url(post) -> str:
    return f"/api/posts/{post.pk}/images/"


def image_url(image) -> str:
    return f"/api/posts/{image.post_id}/images/{image.pk}/"


def upload(client: APIClient, post, content: bytes, name: str = "holiday snap.jpeg", content_type="image/jpeg"):
    return client.post(
        images_url(post), {"image": SimpleUploadedFile(name, content, content_type)}, format="multipart"
    )


def noisy_png(size=(64, 64)) -> bytes:
    """A real PNG that does not compress: its size in bytes is close to width * height * 3."""
    pixels = random.Random(0).randbytes(size[0] * size[1] * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def stored_files(settings, post) -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / "post_images" / str(post.pk)
    return sorted(folder.iterdir()) if folder.exists() else []


def mark_posting(post) -> None:
    MarketplacePost.objects.filter(pk=post.pk).update(status=MarketplacePost.Status.POSTING)


# Upload


@pytest.mark.parametrize(
    ("image_format", "suffix"), [("PNG", ".png"), ("JPEG", ".jpg"), ("WEBP", ".webp")]
)
def test_a_photo_is_stored_under_a_random_name_with_its_formats_suffix(
    api, post, settings, image_format, suffix
):
    content = image_bytes(image_format, size=(64, 48))

    response = upload(api, post, content, name="../../holiday snap.gif")

    assert response.status_code == HTTPStatus.CREATED
    image = PostImage.objects.get()
    body = response.json()
    assert parse_datetime(body.pop("created_at")) == image.created_at
    assert body == {
        "id": image.pk,
        "position": 1,
        "url": f"/api/posts/{post.pk}/images/{image.pk}/",
        "width": 64,
        "height": 48,
    }
    [stored] = stored_files(settings, post)
    assert re.fullmatch(rf"[0-9a-f]{{32}}{re.escape(suffix)}", stored.name)
    assert image.image.name == f"post_images/{post.pk}/{stored.name}"
    assert stored.read_bytes() == content


def test_photos_get_positions_in_the_order_they_were_uploaded(api, post):
    positions = [
        upload(api, post, image_bytes(image_format)).json()["position"]
        for image_format in ("PNG", "JPEG", "WEBP")
    ]

    assert positions == [1, 2, 3]
    assert list(post.images.values_list("position", flat=True)) == [1, 2, 3]


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"just some notes, not a photo\n", id="text file"),
        pytest.param(image_bytes("GIF"), id="GIF"),
        pytest.param(image_bytes("PNG")[:100], id="truncated PNG"),
    ],
)
def test_a_file_that_is_not_an_accepted_photo_is_rejected_and_nothing_is_stored(
    api, post, settings, content
):
    response = upload(api, post, content, name="photo.png", content_type="image/png")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "image" in response.json()
    assert not PostImage.objects.exists()
    assert stored_files(settings, post) == []


def test_an_upload_without_the_image_field_is_rejected(api, post):
    response = api.post(images_url(post), {}, format="multipart")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "image" in response.json()
    assert not PostImage.objects.exists()


def test_a_photo_over_the_size_limit_is_rejected(api, post, settings):
    settings.MAX_IMAGE_BYTES = 2000
    content = noisy_png()
    assert len(content) > 2000

    response = upload(api, post, content, name="big.png", content_type="image/png")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "image" in response.json()
    assert not PostImage.objects.exists()
    assert stored_files(settings, post) == []


def test_the_eleventh_photo_is_rejected_and_ten_remain(api, post, settings):
    for _ in range(10):
        PostImageFactory(post=post)

    response = upload(api, post, image_bytes("PNG"))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "image" in response.json()
    assert post.images.count() == 10
    assert len(stored_files(settings, post)) == 10


def test_uploading_to_a_post_being_posted_is_a_conflict_and_leaves_no_row_or_file(api, post, settings):
    mark_posting(post)

    response = upload(api, post, image_bytes("PNG"))

    assert response.status_code == HTTPStatus.CONFLICT
    assert not PostImage.objects.exists()
    assert stored_files(settings, post) == []


# Serving the file


@pytest.mark.parametrize(
    ("image_format", "content_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")],
)
@pytest.mark.parametrize("accept", [None, "image/*", "image/avif,image/webp,*/*;q=0.8"])
def test_the_photo_is_served_with_exactly_its_bytes_and_content_type(
    api, post, image_format, content_type, accept
):
    content = image_bytes(image_format)
    url = upload(api, post, content).json()["url"]
    headers = {"HTTP_ACCEPT": accept} if accept else {}

    response = api.get(url, **headers)

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == content_type
    assert response.content == content


def test_the_photo_needs_credentials(photo):
    response = APIClient().get(image_url(photo))

    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_a_photo_asked_for_under_another_post_of_the_same_operator_is_not_found(api, post, photo):
    sibling = PostFactory(account=post.account)

    response = api.get(f"/api/posts/{sibling.pk}/images/{photo.pk}/")

    assert response.status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize("method", ["get", "delete"])
def test_a_post_id_too_large_for_the_database_is_not_found(api, photo, method):
    response = getattr(api, method)(f"/api/posts/{2**64}/images/{photo.pk}/")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert PostImage.objects.filter(pk=photo.pk).exists()


# Delete


def test_deleting_a_photo_removes_its_row_and_its_file_once_committed(
    api, photo, settings, django_capture_on_commit_callbacks
):
    path = Path(settings.MEDIA_ROOT) / photo.image.name
    assert path.is_file()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.delete(image_url(photo))

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert not PostImage.objects.filter(pk=photo.pk).exists()
    assert path.is_file(), "the file must outlive the row until the transaction commits"
    for callback in callbacks:
        callback()
    assert not path.exists()


def test_deleting_a_photo_of_a_post_being_posted_is_a_conflict_and_keeps_it(
    api, photo, settings, django_capture_on_commit_callbacks
):
    mark_posting(photo.post)
    path = Path(settings.MEDIA_ROOT) / photo.image.name

    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(image_url(photo))

    assert response.status_code == HTTPStatus.CONFLICT
    assert PostImage.objects.filter(pk=photo.pk).exists()
    assert path.is_file()


# Another operator


def test_another_operator_gets_404_for_the_photos_and_nothing_changes(
    other_api, post, photo, settings, django_capture_on_commit_callbacks
):
    path = Path(settings.MEDIA_ROOT) / photo.image.name

    with django_capture_on_commit_callbacks(execute=True):
        answers = {
            "upload": upload(other_api, post, image_bytes("PNG")).status_code,
            "get": other_api.get(image_url(photo)).status_code,
            "get with image accept": other_api.get(image_url(photo), HTTP_ACCEPT="image/*").status_code,
            "delete": other_api.delete(image_url(photo)).status_code,
        }

    assert answers == dict.fromkeys(answers, HTTPStatus.NOT_FOUND)
    assert list(PostImage.objects.values_list("pk", flat=True)) == [photo.pk]
    assert stored_files(settings, post) == [path]
