"""Every name, label and text the driver looks for on Marketplace, in one place.

Controls are found by accessible role and name (what a screen reader announces), which survives
Facebook's generated class names. When Facebook renames something, an operator can follow without a
release: put the changed entries in a JSON file and point MARKETPLACE_SELECTORS_FILE at it, e.g.
`{"title": "Listing title"}`. Unknown keys and wrong types are refused with a message naming them.
"""
import json
from pathlib import Path
from types import MappingProxyType

DEFAULTS = MappingProxyType({
    # Pages
    "create_path": "/marketplace/create/item",
    "selling_path": "/marketplace/you/selling",
    "item_path": "/marketplace/item/",
    "listing_id_param": "listing_id",
    # Login and checkpoint pages by URL ("/login" also covers "/login/identify")
    "login_paths": ["/login", "/checkpoint", "two_step_verification", "/two_factor", "/2fac", "/recover"],
    # The "Create new listing" chooser some accounts land on: the card to pick
    "chooser_item": "Item for sale",
    # The cookie-consent dialog: the answer the poster gives
    "cookie_decline": "Decline optional cookies",
    # The form: div[role=form] with this aria-label (any case), and its controls' accessible names
    "form": "Marketplace",
    "photo_input": 'input[type="file"][accept*="image"]',
    "add_photos": "Add photos",
    "remove_photo": "Remove photo",
    "carousel_previous": "Previous",
    "title": "Title",
    "price": "Price",
    "category": "Category",
    "category_search": "Search",
    "condition": "Condition",
    "more_details": "More details",
    "description": "Description",  # a textarea, or a contenteditable textbox whose name holds the word
    "product_tags": "Product tags",
    "sku": "SKU",
    "location": "Location",
    "meetup_public": ["Public meetup", "Public meet-up"],
    "meetup_door_pickup": ["Door pickup", "Door pick-up"],
    "meetup_door_dropoff": ["Door drop-off", "Door dropoff"],
    "hide_from_friends": "Hide from friends",
    "boost_switch": "Boost listing",
    "next": "Next",
    "publish": "Publish",
    "leave_page": "Leave page",
    "boost_dismiss": "Not now",
    "dismiss_buttons": ["Not now", "Skip", "Close"],
    # What pages say (matched case- and dash-insensitively, as substrings)
    "login_form": 'input[name="email"], input[name="pass"]',
    "checkpoint_texts": ["verify your identity", "confirm your identity", "upload an id"],
    "captcha_texts": ["confirm you're a human", "prove you're a human", "security check"],
    "captcha_frame": 'iframe[title*="captcha" i], iframe[src*="captcha" i]',
    "blocked_texts": [
        "you're temporarily blocked",
        "you can't use this feature right now",
        "we limit how often you can post",
    ],
    "daily_limit_texts": ["reached your daily limit"],
    "policy_texts": ["commerce policies", "created a duplicate listing"],
    "unconfirmed_texts": ["something went wrong"],
    "review_texts": ["in review", "being reviewed", "pending review", "under review"],
})


class SelectorsFileError(ValueError):
    pass


def load_selectors(path: str | None) -> dict:
    """The defaults, with the entries of the JSON file at `path` (if any) in their place."""
    selectors = dict(DEFAULTS)
    if not path:
        return selectors
    try:
        overrides = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise SelectorsFileError(f"MARKETPLACE_SELECTORS_FILE {path}: cannot be read as JSON ({exc})") from None
    if not isinstance(overrides, dict):
        raise SelectorsFileError(f"MARKETPLACE_SELECTORS_FILE {path}: expected a JSON object")
    for key, value in overrides.items():
        if key not in DEFAULTS:
            raise SelectorsFileError(
                f"MARKETPLACE_SELECTORS_FILE {path}: unknown key {key!r}; known: {', '.join(sorted(DEFAULTS))}"
            )
        expected = DEFAULTS[key]
        if isinstance(expected, list):
            valid = isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value)
        else:
            valid = isinstance(value, str) and value.strip()
        if not valid:
            kind = "a list of non-empty strings" if isinstance(expected, list) else "a non-empty string"
            raise SelectorsFileError(f"MARKETPLACE_SELECTORS_FILE {path}: {key!r} must be {kind}")
        selectors[key] = value
    return selectors
