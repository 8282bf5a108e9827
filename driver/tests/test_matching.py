"""How the driver compares what Facebook shows with what the operator asked for."""
import io
import json
import zipfile
from decimal import Decimal

import pytest

from driver.evidence import REDACTED, scrub_trace
from driver.form import exact_name, format_price, normalise, place_matches


@pytest.mark.parametrize("shown, wanted", [
    ("Austin, Texas", "Austin, TX"),
    ("Austin, TX", "Austin, TX"),
    ("austin, texas, United States", "Austin, TX"),
    ("Round Rock, Texas", "round rock, tx"),
    ("Austin", "Austin"),
    ("Portland, Oregon", "Portland, Oregon"),
])
def test_a_place_facebook_shows_matches_the_listing_place_with_the_state_spelled_either_way(shown, wanted):
    assert place_matches(shown, wanted)


@pytest.mark.parametrize("shown, wanted", [
    ("Austin, Minnesota", "Austin, TX"),
    ("Round Rock, Texas", "Austin, TX"),
    ("Austin Metropolitan Area", "Austin, TX"),
    ("", "Austin, TX"),
    ("Portland, Maine", "Portland, OR"),
])
def test_another_place_does_not_match(shown, wanted):
    assert not place_matches(shown, wanted)


def test_option_names_match_whole_and_dash_and_case_insensitively():
    used_good = exact_name("Used - Good")
    assert used_good.match("Used \u2013 good") and used_good.match("USED - GOOD")
    assert not used_good.match("Used - Good as new")
    assert not exact_name("New").match("Used - Like New")
    assert normalise("You\u2019re  Temporarily\u2014Blocked") == "you're temporarily-blocked"


def test_prices_are_typed_without_trailing_zeros():
    assert [format_price(Decimal(p)) for p in ("120.00", "99.50", "0", "1200")] == ["120", "99.5", "0", "1200"]


def _trace(entries: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in entries.items():
            archive.writestr(name, text)
    return out.getvalue()


def test_a_trace_keeps_no_cookie_value_in_headers_cookie_lists_or_anywhere_else():
    secret, user = "xs-secret-value-123", "100012345678901"
    network = json.dumps({"type": "resource-snapshot", "snapshot": {
        "request": {"url": "http://sim/marketplace/create/item", "headers": [
            {"name": "Cookie", "value": f"c_user={user}; xs={secret}"}, {"name": "Accept", "value": "text/html"}],
            "cookies": [{"name": "xs", "value": secret}]},
        "response": {"status": 200, "headers": [{"name": "Set-Cookie", "value": f"xs={secret}; HttpOnly"}],
                     "cookies": [{"name": "xs", "value": secret}]},
    }})
    actions = json.dumps({"type": "action", "params": {"value": f"typed {secret}"}})
    scrubbed = scrub_trace(_trace({"trace.network": network, "trace.trace": actions, "resources/page.html": f"<b>{user}</b>",
                                   "resources/shot.jpeg": "\xff\xd8binary"}), [secret, user])

    archive = zipfile.ZipFile(io.BytesIO(scrubbed))
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert secret.encode() not in everything and user.encode() not in everything
    request = json.loads(archive.read("trace.network"))["snapshot"]["request"]
    assert request["headers"] == [{"name": "Cookie", "value": REDACTED}, {"name": "Accept", "value": "text/html"}]
    assert sorted(archive.namelist()) == ["resources/page.html", "resources/shot.jpeg", "trace.network", "trace.trace"]
