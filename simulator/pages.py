"""The simulator's HTML pages.

Like Facebook's, every page gets fresh generated class names, and the create-listing page fresh
element ids, on every load: a driver can only rely on roles, accessible names and texts. Styling
therefore goes through element and attribute selectors only. Nothing here may put content in CSS
`::before`/`::after`: generated content is part of an element's accessible name.
"""
from __future__ import annotations

import json
import secrets
import string
from functools import lru_cache
from html import escape
from pathlib import Path
from urllib.parse import quote

_ALPHABET = string.ascii_lowercase + string.digits
MAX_PHOTOS = 10
DEFAULT_SLOW_FIELDS_MS = 1500

POLICY_MESSAGE = "Your listing wasn't published because it doesn't follow our Commerce Policies."
PUBLISH_FAILED_MESSAGE = "Something went wrong. Please try again."


def random_class() -> str:
    """Two atomic-CSS-looking class names, e.g. "x1n2onr6 x9f8e7dq", new on every call."""
    return " ".join("x" + "".join(secrets.choice(_ALPHABET) for _ in range(7)) for _ in range(2))


def random_id() -> str:
    """A React-looking generated id such as ":r1f3a9:"."""
    return f":r{secrets.token_hex(3)}:"


def login_path(next_path: str) -> str:
    return "/login/?next=" + quote(next_path, safe="/")


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f0f2f5;color:#050505}
[role=main]{max-width:560px;margin:24px auto;background:#fff;border-radius:8px;padding:16px 20px;
  box-shadow:0 1px 2px rgba(0,0,0,.2)}
h1{font-size:24px;margin:4px 0 12px}
h2{font-size:18px;margin:4px 0 12px}
a{color:#216fdb}
[role=form] label{display:block;margin:10px 0;padding:8px 10px;border:1px solid #ced0d4;border-radius:6px;cursor:pointer}
[role=form] label>span:first-child{display:block;font-size:12px;color:#65676b}
[role=form] label[role=combobox]>span+span{display:block;min-height:1.2em}
[role=form] input[type=text],[role=form] textarea{width:100%;border:0;outline:0;font:inherit;box-sizing:border-box;padding:2px 0}
[role=form] textarea{min-height:80px;resize:vertical}
[role=form] img{width:64px;height:64px;object-fit:cover;margin:4px 4px 0 0;border-radius:4px}
[role=button],[role=checkbox],[role=option]{cursor:pointer;user-select:none}
[role=button]{display:inline-block;padding:8px 14px;margin:6px 6px 6px 0;border-radius:6px;background:#e4e6eb;font-weight:600}
[role=form] [role=button][aria-label]{display:block;text-align:center;background:#0866ff;color:#fff}
[role=button][aria-disabled=true]{opacity:.45;cursor:not-allowed}
[role=checkbox]{display:block;padding:8px 10px;margin:6px 0;border:1px solid #ced0d4;border-radius:6px}
[role=checkbox][aria-checked=true]{border-color:#0866ff;background:#e7f0ff}
[role=listbox],[role=dialog]{background:#fff;border:1px solid #ced0d4;border-radius:8px;padding:4px;
  box-shadow:0 8px 24px rgba(0,0,0,.2);z-index:10}
body>[role=listbox],body>[role=dialog]{position:absolute;min-width:260px}
body>[role=dialog][aria-modal=true]{position:fixed;top:30%;left:50%;transform:translateX(-50%);padding:16px}
ul[role=listbox]{list-style:none;margin:0 0 10px;padding:4px}
[role=option]{padding:8px 10px;border-radius:6px}
[role=option]:hover{background:#f0f2f5}
[role=alert]{color:#c0392b;margin:10px 0;font-weight:600}
dt{font-size:12px;color:#65676b}
dd{margin:0 0 8px}
"""


def document(title: str, body: str, *, lang: str = "en", head: str = "") -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style>{head}</head>"
        f'<body class="{random_class()}">{body}</body></html>'
    )


def main(content: str) -> str:
    return f'<div role="main" class="{random_class()}">{content}</div>'


# -- simple pages ---------------------------------------------------------------------------------

def login_page(*, next_path: str, email: str = "", error: str | None = None) -> str:
    alert = f'<div role="alert">{escape(error)}</div>' if error else ""
    return document("Log in to Facebook", main(f"""
<h2 class="{random_class()}">Log in to Facebook</h2>
{alert}
<form method="post" action="/login/" class="{random_class()}">
  <input type="hidden" name="next" value="{escape(next_path)}">
  <p><input name="email" type="text" autocomplete="username" placeholder="Email or phone number"
     aria-label="Email or phone number" value="{escape(email)}"></p>
  <p><input name="pass" type="password" autocomplete="current-password" placeholder="Password"
     aria-label="Password"></p>
  <button type="submit" name="login">Log in</button>
</form>"""))


def home_page() -> str:
    return document("Facebook", main(
        '<h1>Facebook</h1><p><a href="/marketplace/">Marketplace</a></p>'
    ))


def marketplace_page() -> str:
    return document("Marketplace | Facebook", main(
        '<h1>Marketplace</h1><p><a href="/marketplace/create/item">Create new listing</a></p>'
        '<p><a href="/marketplace/you/selling">Your listings</a></p>'
    ))


def selling_page(listings: list[dict]) -> str:
    """The account's listings, newest first."""
    items = "".join(
        f'<li><a href="/marketplace/item/{x["id"]}/">{escape(x["title"])}</a> '
        f'<span class="{random_class()}">{escape(x["price"])}</span></li>'
        for x in sorted(listings, key=lambda x: x["id"], reverse=True)
    )
    content = f"<ul>{items}</ul>" if items else "<p>You haven't listed anything yet.</p>"
    return document("Your listings | Facebook", main(
        f'<h1>Your listings</h1>{content}'
        '<p><a href="/marketplace/create/item">Create new listing</a></p>'
    ))


def item_page(listing: dict) -> str:
    rows = [
        ("Price", listing["price"]),
        ("Category", listing["category"]),
        ("Condition", listing["condition"]),
        ("Description", listing["description"]),
        ("Location", listing["location"]),
        ("Delivery", listing["delivery"]),
        ("Photos", str(listing["photos"])),
    ]
    details = "".join(f"<dt>{name}</dt><dd>{escape(value)}</dd>" for name, value in rows)
    return document(f'{listing["title"]} | Marketplace | Facebook', main(
        f'<h1>{escape(listing["title"])}</h1><dl>{details}</dl>'
        '<p><a href="/marketplace/you/selling">Your listings</a></p>'
    ))


def checkpoint_page() -> str:
    return document("Security check | Facebook", main(
        "<h1>Security check</h1>"
        "<p>Please confirm you're a human by completing the captcha below.</p>"
        '<iframe title="captcha" src="about:blank" width="300" height="80"></iframe>'
    ))


def blocked_page() -> str:
    return document("Marketplace | Facebook", main(
        "<h1>You're Temporarily Blocked</h1>"
        "<p>It looks like you were misusing this feature by going too fast. You can't use this "
        "feature right now. We limit how often you can post.</p>"
    ))


def server_error_page() -> str:
    return document("Error | Facebook", main(
        "<h1>Sorry, something went wrong.</h1>"
        "<p>We're working on it and we'll get it fixed as soon as we can.</p>"
    ))


def not_found_page() -> str:
    return document("Page not found | Facebook", main(
        "<h1>This content isn't available right now</h1>"
    ))


# -- the create-listing page ------------------------------------------------------------------

STRINGS = {
    "en": {
        "heading": "Item for sale",
        "add_photos": "Add photos",
        "photos": "Photos",
        "photo": "Photo",
        "title": "Title",
        "price": "Price",
        "category": "Category",
        "condition": "Condition",
        "more_details": "More details",
        "description": "Description",
        "location": "Location",
        "next": "Next",
        "publish": "Publish",
        "delivery_method": "Delivery method",
        "local_pickup": "Local pickup",
        "shipping": "Shipping",
        "delivery": "Delivery",
        "review": "Review your listing",
        "select_category": "Select a category",
        "country": "United States",
        "metro": "Metropolitan Area",
        "categories": [
            "Furniture", "Household", "Electronics", "Sporting Goods", "Tools", "Toys & Games",
            "Clothing & Accessories", "Home & Garden", "Musical Instruments", "Miscellaneous",
        ],
        # En dashes, as Facebook renders them at times; the record normalises them to "-".
        "conditions": ["New", "Used \u2013 Like New", "Used \u2013 Good", "Used \u2013 Fair"],
    },
    "es": {
        "heading": "Artículo en venta",
        "add_photos": "Agregar fotos",
        "photos": "Fotos",
        "photo": "Foto",
        "title": "Título",
        "price": "Precio",
        "category": "Categoría",
        "condition": "Estado",
        "more_details": "Más detalles",
        "description": "Descripción",
        "location": "Ubicación",
        "next": "Siguiente",
        "publish": "Publicar",
        "delivery_method": "Método de entrega",
        "local_pickup": "Retiro en persona",
        "shipping": "Envío",
        "delivery": "Entrega",
        "review": "Revisa tu publicación",
        "select_category": "Selecciona una categoría",
        "country": "Estados Unidos",
        "metro": "Área metropolitana",
        "categories": [
            "Muebles", "Artículos para el hogar", "Electrónica", "Artículos deportivos",
            "Herramientas", "Juguetes y juegos", "Ropa y accesorios", "Casa y jardín",
            "Instrumentos musicales", "Varios",
        ],
        "conditions": [
            "Nuevo", "Usado \u2013 Como nuevo", "Usado \u2013 Buen estado", "Usado \u2013 Aceptable",
        ],
    },
}

# Messages that do not depend on the form's locale (they come from elsewhere in Facebook).
DIALOG_STRINGS = {
    "publish_failed": PUBLISH_FAILED_MESSAGE,
    "close": "Close",
    "boost_title": "Boost listing",
    "boost_text": "Reach more people nearby by boosting your listing.",
    "boost": "Boost",
    "not_now": "Not now",
    "generic_error": "Your listing couldn't be published.",
}


@lru_cache(maxsize=1)
def _create_item_js() -> str:
    return (Path(__file__).parent / "static" / "create_item.js").read_text(encoding="utf-8")


def _script_json(value) -> str:
    """JSON safe to embed in a <script> element."""
    return json.dumps(value).replace("</", "<\\/")


def create_item_page(*, locale: str = "en", renamed_title: bool = False,
                     slow_ms: int | None = None) -> str:
    """The create-listing form, step 1 rendered by the server, the rest by create_item.js.

    renamed_title: the Title field's label reads "Listing title" (a markup change).
    slow_ms: the form's fields appear only this long after load (they wait in a <template>).
    """
    s = dict(STRINGS[locale])
    if renamed_title:
        s["title"] = "Listing title"
    keys = ("form", "template", "file", "photo_count", "thumbs", "title", "price", "category",
            "category_value", "condition", "condition_value", "more", "desc_wrap", "desc",
            "location", "next")
    ids = {key: random_id() for key in keys}
    labels = {key: random_id() for key in ("title", "price", "category", "condition", "desc",
                                            "location")}

    def c() -> str:
        return random_class()

    step1 = f"""
<div class="{c()}">
  <h1 class="{c()}">{escape(s["heading"])}</h1>
  <div class="{c()}">
    <label class="{c()}"><span class="{c()}">{escape(s["add_photos"])}</span><input id="{ids["file"]}"
      type="file" accept="image/*,image/heif,image/heic" multiple style="display:none"></label>
    <span id="{ids["photo_count"]}" class="{c()}" hidden></span>
    <div id="{ids["thumbs"]}" class="{c()}"></div>
  </div>
  <label class="{c()}"><span id="{labels["title"]}" class="{c()}">{escape(s["title"])}</span><input
    id="{ids["title"]}" type="text" class="{c()}" aria-labelledby="{labels["title"]}"></label>
  <label class="{c()}"><span id="{labels["price"]}" class="{c()}">{escape(s["price"])}</span><input
    id="{ids["price"]}" type="text" inputmode="decimal" class="{c()}" aria-labelledby="{labels["price"]}"></label>
  <label id="{ids["category"]}" class="{c()}" role="combobox" aria-haspopup="dialog" aria-expanded="false"
    tabindex="0" aria-labelledby="{labels["category"]}"><span id="{labels["category"]}"
    class="{c()}">{escape(s["category"])}</span><span id="{ids["category_value"]}" class="{c()}"></span></label>
  <label id="{ids["condition"]}" class="{c()}" role="combobox" aria-haspopup="listbox" aria-expanded="false"
    tabindex="0" aria-labelledby="{labels["condition"]}"><span id="{labels["condition"]}"
    class="{c()}">{escape(s["condition"])}</span><span id="{ids["condition_value"]}" class="{c()}"></span></label>
  <div id="{ids["more"]}" class="{c()}" role="button" aria-expanded="false" tabindex="0">{escape(s["more_details"])}</div>
  <div id="{ids["desc_wrap"]}" class="{c()}" hidden>
    <label class="{c()}"><span id="{labels["desc"]}" class="{c()}">{escape(s["description"])}</span><textarea
      id="{ids["desc"]}" class="{c()}" aria-labelledby="{labels["desc"]}"></textarea></label>
  </div>
  <label class="{c()}"><span id="{labels["location"]}" class="{c()}">{escape(s["location"])}</span><input
    id="{ids["location"]}" type="text" class="{c()}" role="combobox" aria-autocomplete="list"
    aria-expanded="false" aria-labelledby="{labels["location"]}"></label>
  <div id="{ids["next"]}" class="{c()}" role="button" aria-label="{escape(s["next"])}" tabindex="0"
    aria-disabled="true">{escape(s["next"])}</div>
</div>"""

    if slow_ms is None:
        form_content, template = step1, ""
    else:
        # Everything inside the form waits in an inert <template> until the script adds it.
        form_content, template = "", f'<template id="{ids["template"]}">{step1}</template>'
    config = {
        "ids": ids,
        "strings": s,
        "dialogs": DIALOG_STRINGS,
        "maxPhotos": MAX_PHOTOS,
        "slowMs": slow_ms,
        "publishUrl": "/marketplace/create/item/publish",
        "sellingUrl": "/marketplace/you/selling",
        "loginUrl": login_path("/marketplace/create/item"),
    }
    body = main(
        f'<div id="{ids["form"]}" class="{c()}" role="form" aria-label="Marketplace">{form_content}</div>'
        f"{template}"
    ) + (
        f"<script>window.__simCreateItem = {_script_json(config)};</script>"
        f"<script>{_create_item_js()}</script>"
    )
    return document("Marketplace | Facebook", body, lang=locale)
