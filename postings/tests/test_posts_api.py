"""/api/posts/ and /api/posts/<id>/: create, list, filter, change and delete listings."""
import re
from http import HTTPStatus
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.dateparse import parse_datetime

from postings.models import MarketplacePost, PostImage
from postings.tests.factories import AccountFactory, PostFactory, PostImageFactory
from postings.worker import listing_of

pytestmark = pytest.mark.django_db

LIST_URL = "/api/posts/"


def detail_url(post) -> str:
    return f"/api/posts/{post.pk}/"


@pytest.fixture
def account(operator):
    return AccountFactory(owner=operator)


@pytest.fixture
def foreign_account(other_operator):
    return AccountFactory(owner=other_operator)


@pytest.fixture
def post(account):
    return PostFactory(account=account)


def valid_body(account) -> dict:
    return {
        "account": account.pk,
        "title": "Oak desk",
        "description": "Solid oak, 120 x 60 cm.",
        "price": "149.99",
        "category": "Furniture",
        "condition": "Used - Like New",
        "location": "Austin, TX",
    }


def without_timestamps(body: dict, post: MarketplacePost) -> dict:
    """The body with created_at/updated_at checked against the row and taken out."""
    body = dict(body)
    assert parse_datetime(body.pop("created_at")) == post.created_at
    assert parse_datetime(body.pop("updated_at")) == post.updated_at
    return body


# Create


def test_create_answers_the_whole_pending_post_and_stores_it(api, account):
    response = api.post(LIST_URL, valid_body(account), format="json")

    assert response.status_code == HTTPStatus.CREATED
    post = MarketplacePost.objects.get()
    assert without_timestamps(response.json(), post) == {
        "id": post.pk,
        "account": account.pk,
        "title": "Oak desk",
        "description": "Solid oak, 120 x 60 cm.",
        "price": 149.99,
        "category": "Furniture",
        "condition": "Used - Like New",
        "location": "Austin, TX",
        "delivery": ["Public meetup"],
        "hide_from_friends": False,
        "tags": [],
        "sku": "",
        "images": [],
        "status": "pending",
        "error_message": "",
        "retry_count": 0,
        "listing_url": "",
        "posted_at": None,
        "error_logs_url": f"/api/posts/error-logs/?post_id={post.pk}",
    }
    assert (post.account, post.title, str(post.price)) == (account, "Oak desk", "149.99")


def test_condition_written_with_an_en_dash_is_stored_with_a_hyphen(api, account):
    body = valid_body(account) | {"condition": "Used \u2013 Good"}

    response = api.post(LIST_URL, body, format="json")

    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["condition"] == "Used - Good"
    assert MarketplacePost.objects.get().condition == MarketplacePost.Condition.USED_GOOD


ACCEPTED = "Public meetup, Door pickup, Door drop-off"


def test_delivery_options_and_hide_from_friends_are_stored_and_answered(api, account):
    body = valid_body(account) | {"delivery": ["Door drop-off", "Public meetup"], "hide_from_friends": True}

    response = api.post(LIST_URL, body, format="json")

    assert response.status_code == HTTPStatus.CREATED
    post = MarketplacePost.objects.get()
    assert (post.delivery, post.hide_from_friends) == (["Door drop-off", "Public meetup"], True)
    assert {key: response.json()[key] for key in ("location", "delivery", "hide_from_friends")} == {
        "location": "Austin, TX", "delivery": ["Door drop-off", "Public meetup"], "hide_from_friends": True,
    }
    assert list(response.json())[7:10] == ["location", "delivery", "hide_from_friends"]


def test_other_spellings_of_the_delivery_options_are_stored_as_marketplace_names_them(api, account):
    body = valid_body(account) | {"delivery": ["Door pick-up", "Door dropoff", "Public  meetup"]}

    response = api.post(LIST_URL, body, format="json")

    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["delivery"] == ["Door pickup", "Door drop-off", "Public meetup"]
    assert MarketplacePost.objects.get().delivery == ["Door pickup", "Door drop-off", "Public meetup"]


@pytest.mark.parametrize(
    ("delivery", "errors"),
    [
        pytest.param([], [f"Choose at least one delivery option: {ACCEPTED}."], id="empty"),
        pytest.param(
            ["Drone"], [f'"Drone" is not a delivery option; choose from: {ACCEPTED}.'], id="unknown name",
        ),
        pytest.param(
            ["Public meetup", "Shipping", "Teleport"],
            [f'"Shipping" is not a delivery option; choose from: {ACCEPTED}.',
             f'"Teleport" is not a delivery option; choose from: {ACCEPTED}.'],
            id="two unknown names",
        ),
        pytest.param(
            ["Door pickup", "Door pickup"], ['"Door pickup" is listed more than once.'], id="duplicate",
        ),
        pytest.param(
            ["Door pickup", "Door pick-up"], ['"Door pick-up" is listed more than once (as "Door pickup").'],
            id="duplicate by another spelling",
        ),
        pytest.param(
            "Public meetup", [f"Expected a list of delivery options, from: {ACCEPTED}."], id="a string, not a list",
        ),
        pytest.param([7], [f'"7" is not a delivery option; choose from: {ACCEPTED}.'], id="a number"),
        pytest.param(None, ["This field may not be null."], id="null"),
    ],
)
def test_bad_delivery_options_are_a_400_naming_the_bad_value_and_the_accepted_ones(api, account, delivery, errors):
    response = api.post(LIST_URL, valid_body(account) | {"delivery": delivery}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"delivery": errors}
    assert not MarketplacePost.objects.exists()


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, None, [True]])
def test_hide_from_friends_must_be_true_or_false(api, account, value):
    response = api.post(LIST_URL, valid_body(account) | {"hide_from_friends": value}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()) == ["hide_from_friends"]
    assert not MarketplacePost.objects.exists()


def test_a_form_upload_may_send_delivery_as_repeated_fields_and_the_flag_as_text(api, account):
    body = valid_body(account) | {"delivery": ["Door pickup", "Door drop-off"], "hide_from_friends": "true"}

    response = api.post(LIST_URL, body, format="multipart")

    assert response.status_code == HTTPStatus.CREATED, response.json()
    post = MarketplacePost.objects.get()
    assert (post.delivery, post.hide_from_friends) == (["Door pickup", "Door drop-off"], True)


def test_patching_other_fields_keeps_the_delivery_options_and_the_flag(api, account):
    post = PostFactory(account=account, delivery=["Door pickup"], hide_from_friends=True)

    response = api.patch(detail_url(post), {"title": "Walnut desk"}, format="json")

    assert response.status_code == HTTPStatus.OK
    post.refresh_from_db()
    assert (post.delivery, post.hide_from_friends) == (["Door pickup"], True)


def test_patching_the_delivery_options_replaces_them(api, post):
    response = api.patch(detail_url(post), {"delivery": ["Door drop-off"], "hide_from_friends": True}, format="json")

    assert response.status_code == HTTPStatus.OK
    assert (response.json()["delivery"], response.json()["hide_from_friends"]) == (["Door drop-off"], True)
    post.refresh_from_db()
    assert (post.delivery, post.hide_from_friends) == (["Door drop-off"], True)


def test_patching_an_empty_delivery_list_is_refused_and_keeps_the_old_one(api, post):
    response = api.patch(detail_url(post), {"delivery": []}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"delivery": [f"Choose at least one delivery option: {ACCEPTED}."]}
    post.refresh_from_db()
    assert post.delivery == ["Public meetup"]


def test_the_schema_lists_the_delivery_options_as_an_enum(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()

    for name in ("Post", "PostRequest", "PatchedPostRequest"):
        delivery = schema["components"]["schemas"][name]["properties"]["delivery"]
        assert (delivery["type"], delivery["minItems"], delivery["uniqueItems"]) == ("array", 1, True)
        enum = schema["components"]["schemas"][delivery["items"]["$ref"].rsplit("/", 1)[-1]]
        assert enum["enum"] == ["Public meetup", "Door pickup", "Door drop-off"]
        assert schema["components"]["schemas"][name]["properties"]["hide_from_friends"]["type"] == "boolean"


# Tags and SKU

LONG = "x" * 51
CUT = f'"{"x" * 30}\u2026"'  # how a message quotes a long tag


def test_tags_and_sku_are_stored_stripped_and_answered_after_the_delivery_options(api, account):
    body = valid_body(account) | {"tags": [" oak ", "Solid wood", "desk"], "sku": "  DSK-0042 "}

    response = api.post(LIST_URL, body, format="json")

    assert response.status_code == HTTPStatus.CREATED
    post = MarketplacePost.objects.get()
    assert (post.tags, post.sku) == (["oak", "Solid wood", "desk"], "DSK-0042")
    assert list(response.json())[8:12] == ["delivery", "hide_from_friends", "tags", "sku"]
    assert {key: response.json()[key] for key in ("tags", "sku")} == {
        "tags": ["oak", "Solid wood", "desk"], "sku": "DSK-0042",
    }


def test_every_post_answer_carries_the_tags_and_the_sku(api, account):
    post = PostFactory(account=account, tags=["oak", "desk"], sku="DSK-1")

    answers = [
        api.get(detail_url(post)).json(),
        api.get(LIST_URL).json()["results"][0],
        api.patch(detail_url(post), {"title": "Walnut desk"}, format="json").json(),
    ]

    assert [(answer["tags"], answer["sku"]) for answer in answers] == [(["oak", "desk"], "DSK-1")] * 3


def test_twenty_tags_of_fifty_characters_and_an_sku_of_fifty_are_accepted(api, account):
    tags = [f"{n:02d}" + "t" * 48 for n in range(20)]
    body = valid_body(account) | {"tags": tags, "sku": f"  {'s' * 50}  "}

    response = api.post(LIST_URL, body, format="json")

    assert response.status_code == HTTPStatus.CREATED, response.json()
    post = MarketplacePost.objects.get()
    assert (post.tags, post.sku) == (tags, "s" * 50)


def test_an_sku_of_only_spaces_is_stored_empty(api, account):
    response = api.post(LIST_URL, valid_body(account) | {"sku": "   "}, format="json")

    assert response.status_code == HTTPStatus.CREATED
    assert MarketplacePost.objects.get().sku == ""


BAD_TAGS = [
    pytest.param(
        "oak, desk", ["Expected a list of at most 20 tags, each a string of 1-50 characters."], id="a string",
    ),
    pytest.param(
        {"oak": True}, ["Expected a list of at most 20 tags, each a string of 1-50 characters."], id="an object",
    ),
    pytest.param(None, ["This field may not be null."], id="null"),
    pytest.param([f"tag {n}" for n in range(21)], ["At most 20 tags; 21 were given."], id="21 tags"),
    pytest.param(["oak", 7], ["Tag 2 is not a string: 7."], id="a number"),
    pytest.param([None], ["Tag 1 is not a string: null."], id="a null tag"),
    pytest.param([["oak"]], ['Tag 1 is not a string: ["oak"].'], id="a list as a tag"),
    pytest.param([""], ["Tag 1 is empty."], id="empty"),
    pytest.param(["oak", "   "], ["Tag 2 is empty."], id="only spaces"),
    pytest.param([LONG], [f"Tag 1 ({CUT}) is 51 characters; at most 50."], id="51 characters"),
    pytest.param(
        ["red, blue"], ['Tag 1 ("red, blue") holds a comma, which Facebook reads as the end of a tag.'], id="a comma",
    ),
    pytest.param(["red\nblue"], ['Tag 1 ("red\\nblue") holds a line break.'], id="a newline"),
    pytest.param(["red\r\nblue"], ['Tag 1 ("red\\r\\nblue") holds a line break.'], id="a carriage return"),
    pytest.param(["red\u2028blue"], ['Tag 1 ("red\\u2028blue") holds a line break.'], id="a line separator"),
    pytest.param(["Oak", "desk", "oak"], ['Tag 3 ("oak") repeats tag 1 ("Oak"), ignoring case.'], id="duplicate"),
    pytest.param(
        ["oak", " oak "], ['Tag 2 ("oak") repeats tag 1 ("oak"), ignoring case.'], id="duplicate once stripped",
    ),
    pytest.param(
        ["", 7, "desk", "DESK"],
        ["Tag 1 is empty.", "Tag 2 is not a string: 7.", 'Tag 4 ("DESK") repeats tag 3 ("desk"), ignoring case.'],
        id="every problem at once",
    ),
]

BAD_SKUS = [
    pytest.param("s" * 51, ["Ensure this field has no more than 50 characters."], id="51 characters"),
    pytest.param(42, ["Must be a string."], id="a number"),
    pytest.param(["DSK-1"], ["Must be a string."], id="a list"),
    pytest.param(None, ["This field may not be null."], id="null"),
    pytest.param("DSK\n1", ["An SKU is one line: it may not hold a line break."], id="a newline"),
]


@pytest.mark.parametrize(("tags", "errors"), BAD_TAGS)
def test_bad_tags_on_create_are_a_400_naming_the_tags_and_nothing_is_stored(api, account, tags, errors):
    response = api.post(LIST_URL, valid_body(account) | {"tags": tags}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"tags": errors}
    assert not MarketplacePost.objects.exists()


@pytest.mark.parametrize(("sku", "errors"), BAD_SKUS)
def test_a_bad_sku_on_create_is_a_400_naming_the_sku_and_nothing_is_stored(api, account, sku, errors):
    response = api.post(LIST_URL, valid_body(account) | {"sku": sku}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"sku": errors}
    assert not MarketplacePost.objects.exists()


@pytest.mark.parametrize(
    ("tags", "errors"),
    [
        pytest.param(r'["\ud800"]', ["Tag 1 holds a surrogate character (U+D800), which is not text."], id="alone"),
        pytest.param(
            r'["red, \udfff"]', ["Tag 1 holds a surrogate character (U+DFFF), which is not text."], id="beside a comma",
        ),
        pytest.param(r'[["\ud800"]]', [r'Tag 1 is not a string: ["\ud800"].'], id="in a list"),
    ],
)
def test_a_lone_surrogate_in_the_tags_is_a_400_and_never_quoted_raw(api, account, tags, errors):
    raw = f'{{"account": {account.pk}, "title": "Oak desk", "price": 1, "category": "Furniture", "tags": {tags}}}'

    response = api.post(LIST_URL, data=raw, content_type="application/json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"tags": errors}
    assert not MarketplacePost.objects.exists()


def unchanged(post: MarketplacePost) -> tuple:
    """What a refused change must leave as it was."""
    post = MarketplacePost.objects.get(pk=post.pk)
    return post.title, post.tags, post.sku, post.updated_at


@pytest.mark.parametrize(("tags", "errors"), BAD_TAGS)
def test_patching_bad_tags_is_a_400_and_leaves_the_post_as_it_was(api, account, tags, errors):
    post = PostFactory(account=account, tags=["oak"], sku="DSK-1")
    before = unchanged(post)

    response = api.patch(detail_url(post), {"title": "Walnut desk", "tags": tags}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"tags": errors}
    assert unchanged(post) == before


@pytest.mark.parametrize(("sku", "errors"), BAD_SKUS)
def test_patching_a_bad_sku_is_a_400_and_leaves_the_post_as_it_was(api, account, sku, errors):
    post = PostFactory(account=account, tags=["oak"], sku="DSK-1")
    before = unchanged(post)

    response = api.patch(detail_url(post), {"title": "Walnut desk", "sku": sku}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"sku": errors}
    assert unchanged(post) == before


def test_patching_the_tags_and_the_sku_replaces_them(api, account):
    post = PostFactory(account=account, tags=["oak", "desk"], sku="DSK-1")

    response = api.patch(detail_url(post), {"tags": [" walnut "], "sku": " DSK-2 "}, format="json")

    assert response.status_code == HTTPStatus.OK
    assert (response.json()["tags"], response.json()["sku"]) == (["walnut"], "DSK-2")
    post.refresh_from_db()
    assert (post.tags, post.sku) == (["walnut"], "DSK-2")


def test_patching_an_empty_list_and_an_empty_sku_clears_them(api, account):
    post = PostFactory(account=account, tags=["oak"], sku="DSK-1")

    response = api.patch(detail_url(post), {"tags": [], "sku": ""}, format="json")

    assert response.status_code == HTTPStatus.OK
    post.refresh_from_db()
    assert (post.tags, post.sku) == ([], "")


def test_patching_other_fields_keeps_the_tags_and_the_sku(api, account):
    post = PostFactory(account=account, tags=["oak"], sku="DSK-1")

    response = api.patch(detail_url(post), {"title": "Walnut desk"}, format="json")

    assert response.status_code == HTTPStatus.OK
    post.refresh_from_db()
    assert (post.title, post.tags, post.sku) == ("Walnut desk", ["oak"], "DSK-1")


def test_patching_the_tags_of_a_post_being_posted_is_a_conflict_and_changes_nothing(api, account):
    post = PostFactory(account=account, tags=["oak"], sku="DSK-1", status=MarketplacePost.Status.POSTING)
    before = unchanged(post)

    response = api.patch(detail_url(post), {"tags": ["walnut"], "sku": "DSK-2"}, format="json")

    assert response.status_code == HTTPStatus.CONFLICT
    assert unchanged(post) == before


def test_another_operator_patching_the_tags_gets_404_and_nothing_changes(other_api, account):
    post = PostFactory(account=account, tags=["oak"], sku="DSK-1")
    before = unchanged(post)

    response = other_api.patch(detail_url(post), {"tags": ["stolen"], "sku": "STOLEN"}, format="json")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert unchanged(post) == before


def test_a_form_upload_may_send_the_tags_as_repeated_fields(api, account):
    body = valid_body(account) | {"tags": ["oak", " desk "], "sku": "DSK-1"}

    response = api.post(LIST_URL, body, format="multipart")

    assert response.status_code == HTTPStatus.CREATED, response.json()
    post = MarketplacePost.objects.get()
    assert (post.tags, post.sku) == (["oak", "desk"], "DSK-1")


def test_the_driver_is_given_the_tags_and_the_sku_as_stored(api, account):
    api.post(LIST_URL, valid_body(account) | {"tags": [" oak ", "desk"], "sku": " DSK-1 "}, format="json")

    listing = listing_of(MarketplacePost.objects.get())

    assert (listing.tags, listing.sku) == (("oak", "desk"), "DSK-1")


def test_the_schema_gives_the_tags_and_the_sku_with_their_limits(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()

    for name in ("Post", "PostRequest", "PatchedPostRequest"):
        properties = schema["components"]["schemas"][name]["properties"]
        tags, sku = properties["tags"], properties["sku"]
        assert (tags["type"], tags["maxItems"], tags["uniqueItems"]) == ("array", 20, True)
        assert (tags["items"]["type"], tags["items"]["minLength"], tags["items"]["maxLength"]) == ("string", 1, 50)
        tag = re.compile(tags["items"]["pattern"])
        assert [bool(tag.search(text)) for text in ("solid wood", "red, blue", "red\nblue")] == [True, False, False]
        assert "comma" in tags["description"] and "ignoring case" in tags["description"]
        one_line, empty = sku["oneOf"]
        assert (one_line["type"], one_line["maxLength"], empty) == ("string", 50, {"type": "string", "maxLength": 0})
        assert [bool(re.search(one_line["pattern"], text)) for text in ("DSK-1", "DSK\n1")] == [True, False]


def _without(key):
    def change(body, foreign_account):
        body.pop(key)
        return body

    return change


def _with(**fields):
    def change(body, foreign_account):
        return body | fields

    return change


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param(_with(price="-1.00"), "price", id="negative price"),
        pytest.param(_with(price="abc"), "price", id="non-numeric price"),
        pytest.param(_with(price=True), "price", id="boolean price"),
        pytest.param(_with(price="12345678901"), "price", id="price over 10 digits"),
        pytest.param(_with(price="1.234"), "price", id="price with 3 decimals"),
        pytest.param(_with(condition="Broken"), "condition", id="unknown condition"),
        pytest.param(_with(title="x" * 101), "title", id="title over 100 chars"),
        pytest.param(_with(title=""), "title", id="empty title"),
        pytest.param(_with(title="   "), "title", id="whitespace-only title"),
        pytest.param(_without("account"), "account", id="missing account"),
        pytest.param(
            lambda body, foreign_account: body | {"account": foreign_account.pk},
            "account",
            id="another operator's account",
        ),
        pytest.param(_with(account=999_999), "account", id="non-existent account"),
        pytest.param(_with(status="posted"), "status", id="read-only status"),
        pytest.param(_with(tittle="Oak desk"), "tittle", id="unknown field"),
    ],
)
def test_bad_input_on_create_is_rejected_naming_the_field_and_nothing_is_stored(
    api, account, foreign_account, change, field
):
    before = MarketplacePost.objects.count()

    response = api.post(LIST_URL, change(valid_body(account), foreign_account), format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert field in response.json()
    assert MarketplacePost.objects.count() == before


def test_negative_price_is_rejected_and_nothing_is_stored(api, account):
    response = api.post(LIST_URL, valid_body(account) | {"price": -5}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()) == ["price"]
    assert not MarketplacePost.objects.exists()


def test_a_json_list_instead_of_an_object_is_rejected(api, account):
    response = api.post(LIST_URL, [valid_body(account)], format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not MarketplacePost.objects.exists()


def test_malformed_json_is_a_parse_error(api):
    response = api.post(LIST_URL, data='{"title": "Oak', content_type="application/json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "JSON parse error" in response.json()["detail"]
    assert not MarketplacePost.objects.exists()


def test_nan_literal_in_json_is_rejected(api, account):
    raw = (
        f'{{"account": {account.pk}, "title": "Oak desk", "price": NaN, '
        f'"category": "Furniture", "condition": "New"}}'
    )

    response = api.post(LIST_URL, data=raw, content_type="application/json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not MarketplacePost.objects.exists()


# List


def test_list_is_paginated_and_newest_first(api, account):
    first, second, third = (PostFactory(account=account) for _ in range(3))

    response = api.get(LIST_URL)

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert {key: value for key, value in body.items() if key != "results"} == {
        "count": 3,
        "next": None,
        "previous": None,
    }
    assert [item["id"] for item in body["results"]] == [third.pk, second.pk, first.pk]


def test_list_filters_by_status(api, account):
    PostFactory(account=account)
    failed = PostFactory(account=account, status=MarketplacePost.Status.FAILED, error_message="Captcha")
    PostFactory(account=account, status=MarketplacePost.Status.POSTED)

    response = api.get(LIST_URL, {"status": "failed"})

    assert response.status_code == HTTPStatus.OK
    assert [item["id"] for item in response.json()["results"]] == [failed.pk]


def test_list_filters_by_account(api, operator, account):
    other_own_account = AccountFactory(owner=operator)
    PostFactory(account=account)
    wanted = PostFactory(account=other_own_account)

    response = api.get(LIST_URL, {"account": other_own_account.pk})

    assert response.status_code == HTTPStatus.OK
    assert [item["id"] for item in response.json()["results"]] == [wanted.pk]


def test_unknown_status_filter_is_rejected_naming_status(api, post):
    response = api.get(LIST_URL, {"status": "bogus"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "status" in response.json()


def test_filtering_by_another_operators_account_is_rejected_naming_account(api, post, foreign_account):
    PostFactory(account=foreign_account)

    response = api.get(LIST_URL, {"account": foreign_account.pk})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "account" in response.json()


def test_non_numeric_account_filter_is_rejected(api, post):
    response = api.get(LIST_URL, {"account": "abc"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "account" in response.json()


def _posts_with_images(account, count: int) -> None:
    for _ in range(count):
        post = PostFactory(account=account)
        for _ in range(3):
            PostImageFactory(post=post)


def test_listing_runs_the_same_queries_for_2_or_20_posts_with_photos(api, account):
    _posts_with_images(account, 2)
    with CaptureQueriesContext(connection) as few:
        assert api.get(LIST_URL).status_code == HTTPStatus.OK
    _posts_with_images(account, 18)
    with CaptureQueriesContext(connection) as many:
        response = api.get(LIST_URL)

    assert response.json()["count"] == 20
    assert all(len(item["images"]) == 3 for item in response.json()["results"])
    assert len(many) == len(few)


def test_listing_20_posts_with_photos_takes_at_most_4_queries(api, account, django_assert_max_num_queries):
    _posts_with_images(account, 20)

    # The operator (JWT), the page's count, the page of posts, and one prefetch of their photos.
    with django_assert_max_num_queries(4):
        response = api.get(LIST_URL)

    assert response.status_code == HTTPStatus.OK
    assert response.json()["count"] == 20


# Detail, change, delete


def test_detail_shows_the_photos_in_position_order(api, post):
    second = PostImageFactory(post=post, position=2)
    first = PostImageFactory(post=post, position=1)

    response = api.get(detail_url(post))

    assert response.status_code == HTTPStatus.OK
    assert [(image["id"], image["position"], image["url"]) for image in response.json()["images"]] == [
        (first.pk, 1, f"/api/posts/{post.pk}/images/{first.pk}/"),
        (second.pk, 2, f"/api/posts/{post.pk}/images/{second.pk}/"),
    ]


def test_patching_the_title_changes_it_and_answers_the_updated_post(api, post):
    response = api.patch(detail_url(post), {"title": "Walnut desk"}, format="json")

    assert response.status_code == HTTPStatus.OK
    post.refresh_from_db()
    assert post.title == "Walnut desk"
    assert response.json()["title"] == "Walnut desk"
    assert response.json() == api.get(detail_url(post)).json()


def test_patching_the_status_is_rejected_and_the_status_is_unchanged(api, post):
    response = api.patch(detail_url(post), {"status": "posted"}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "status" in response.json()
    post.refresh_from_db()
    assert post.status == MarketplacePost.Status.PENDING


def test_patching_the_account_to_another_operators_is_rejected(api, post, account, foreign_account):
    response = api.patch(detail_url(post), {"account": foreign_account.pk}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "account" in response.json()
    post.refresh_from_db()
    assert post.account == account


def test_patching_a_post_being_posted_is_a_conflict_and_changes_nothing(api, post):
    MarketplacePost.objects.filter(pk=post.pk).update(status=MarketplacePost.Status.POSTING)
    original_title, original_updated_at = post.title, MarketplacePost.objects.get(pk=post.pk).updated_at

    response = api.patch(detail_url(post), {"title": "Walnut desk"}, format="json")

    assert response.status_code == HTTPStatus.CONFLICT
    post.refresh_from_db()
    assert (post.title, post.status, post.updated_at) == (
        original_title,
        MarketplacePost.Status.POSTING,
        original_updated_at,
    )


def test_deleting_a_post_being_posted_is_a_conflict_and_keeps_it(api, post):
    MarketplacePost.objects.filter(pk=post.pk).update(status=MarketplacePost.Status.POSTING)

    response = api.delete(detail_url(post))

    assert response.status_code == HTTPStatus.CONFLICT
    assert MarketplacePost.objects.filter(pk=post.pk).exists()


def test_deleting_a_post_removes_it_with_its_photo_files(
    api, post, settings, django_capture_on_commit_callbacks
):
    photos = [PostImageFactory(post=post) for _ in range(2)]
    paths = [Path(settings.MEDIA_ROOT) / photo.image.name for photo in photos]
    assert all(path.is_file() for path in paths)

    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(detail_url(post))

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert not MarketplacePost.objects.filter(pk=post.pk).exists()
    assert not PostImage.objects.exists()
    assert not any(path.exists() for path in paths)


# Another operator


def test_another_operator_gets_404_for_the_post_and_nothing_changes(other_api, post):
    url = detail_url(post)
    original_title = post.title

    answers = [
        other_api.get(url).status_code,
        other_api.patch(url, {"title": "Stolen"}, format="json").status_code,
        other_api.delete(url).status_code,
    ]

    assert answers == [HTTPStatus.NOT_FOUND] * 3
    post.refresh_from_db()
    assert (post.title, post.status) == (original_title, MarketplacePost.Status.PENDING)


def test_another_operators_list_does_not_include_the_post(other_api, post):
    response = other_api.get(LIST_URL)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}
