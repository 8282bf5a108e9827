"""The README's newcomer flow, over real HTTP against uvicorn serving config.asgi."""
import io
import re
import json
import urllib.error
import urllib.request
import uuid
from http import HTTPStatus

from django.conf import global_settings
from django.contrib.auth import get_user_model
from PIL import Image


def call(method, url, *, token=None, body=None, content_type="application/json"):
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", content_type)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def multipart(field: str, filename: str, content: bytes, content_type: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_a_newcomer_can_do_the_readme_flow_over_http_with_a_bearer_token(live_server_url, tmp_path, settings):
    api = f"{live_server_url}/api"
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS  # the server checks with these
    get_user_model().objects.create_user("operator", "", "correct-horse-9")

    status, _, body = call("POST", f"{api}/auth/token/", body={"username": "operator", "password": "correct-horse-9"})
    assert status == HTTPStatus.OK
    token = json.loads(body)["access"]

    status, _, body = call("POST", f"{api}/accounts/", token=token,
                           body={"email": "seller@example.com", "name": "Main seller"})
    assert status == HTTPStatus.CREATED
    account_id = json.loads(body)["id"]

    cookies = [
        {"name": "c_user", "value": "1000", "domain": ".facebook.com", "expirationDate": 4102444800,
         "sameSite": "no_restriction", "secure": True},
        {"name": "xs", "value": "secret", "domain": ".facebook.com", "httpOnly": True},
    ]
    status, _, body = call("PUT", f"{api}/accounts/{account_id}/session/", token=token, body=cookies)
    assert status == HTTPStatus.OK
    assert json.loads(body)["valid"] is True
    assert (tmp_path / "sessions" / f"account_{account_id}.json").is_file()

    status, _, body = call("POST", f"{api}/posts/", token=token, body={
        "account": account_id, "title": "Oak dining table", "price": 120, "category": "Furniture",
        "condition": "Used - Good", "description": "Seats six.", "location": "Austin, TX"})
    assert status == HTTPStatus.CREATED
    post_id = json.loads(body)["id"]

    photo = io.BytesIO()
    Image.new("RGB", (320, 240), (120, 80, 40)).save(photo, format="JPEG")
    upload, content_type = multipart("image", "table.jpg", photo.getvalue(), "image/jpeg")
    status, _, body = call("POST", f"{api}/posts/{post_id}/images/", token=token, body=upload,
                           content_type=content_type)
    assert status == HTTPStatus.CREATED
    image_url = json.loads(body)["url"]

    status, _, body = call("GET", f"{api}/posts/", token=token)
    assert status == HTTPStatus.OK
    listed = json.loads(body)
    assert listed["count"] == 1
    assert listed["results"][0]["images"][0]["url"] == image_url
    assert (listed["results"][0]["images"][0]["width"], listed["results"][0]["images"][0]["height"]) == (320, 240)

    status, _, body = call("GET", f"{api}/accounts/", token=token)
    assert status == HTTPStatus.OK
    assert json.loads(body)["results"][0]["session_exists"] is True

    status, headers, body = call("GET", f"{live_server_url}{image_url}", token=token)
    assert (status, headers["Content-Type"], body) == (HTTPStatus.OK, "image/jpeg", photo.getvalue())


def test_media_is_not_served_publicly(live_server_url, tmp_path):
    (tmp_path / "media" / "post_images").mkdir(parents=True)
    (tmp_path / "media" / "post_images" / "x.jpg").write_bytes(b"secret")

    status, _, _ = call("GET", f"{live_server_url}/media/post_images/x.jpg")

    assert status == HTTPStatus.NOT_FOUND


def test_the_admin_static_files_are_served(live_server_url):
    status, headers, _ = call("GET", f"{live_server_url}/static/admin/css/base.css")

    assert status == HTTPStatus.OK
    assert headers["Content-Type"].startswith("text/css")


def test_the_api_docs_load_everything_from_this_server_not_a_cdn(live_server_url):
    status, _, page = call("GET", f"{live_server_url}/api/docs/")
    assert status == HTTPStatus.OK
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.decode())

    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets), assets
    for asset in assets:
        assert asset.startswith("/"), f"{asset} is not served from here"
        status, headers, body = call("GET", f"{live_server_url}{asset}")
        assert (status, len(body) > 0) == (HTTPStatus.OK, True), asset
