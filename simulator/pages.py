"""The simulator's HTML pages.

Like Facebook's, every page gets fresh generated class names, and the create-listing page fresh
element ids, on every load: a driver can only rely on roles, accessible names and texts. Styling
therefore goes through element and attribute selectors only. Nothing here may put content in CSS
`::before`/`::after`: generated content is part of an element's accessible name.
"""
from __future__ import annotations

import base64
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


def selling_page(listings: list[dict], *, notice: str | None = None) -> str:
    """The account's listings, newest first (and a notice about the last publish, if any)."""
    items = "".join(
        f'<li><a href="/marketplace/item/{x["id"]}/">{escape(x["title"])}</a> '
        f'<span class="{random_class()}">{escape(x["price"])}</span></li>'
        for x in sorted(listings, key=lambda x: x["id"], reverse=True)
    )
    content = f"<ul>{items}</ul>" if items else "<p>You haven't listed anything yet.</p>"
    if notice:
        content = f"<p>{escape(notice)}</p>{content}"
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
    if listing.get("layout") in ("2026", "late2026"):
        rows[5:6] = [("Meetup", ", ".join(listing["meetup"]))]
        rows.append(("Hidden from friends", "Yes" if listing["hide_from_friends"] else "No"))
        rows.append(("Groups", ", ".join(listing["groups"])))
        if listing.get("tags"):
            rows.append(("Product tags", ", ".join(listing["tags"])))
        if listing.get("sku"):
            rows.append(("SKU", listing["sku"]))
    details = "".join(f"<dt>{name}</dt><dd>{escape(value)}</dd>" for name, value in rows)
    review = ""
    if listing.get("state") == "in_review":
        review = (f'<div class="{random_class()}"><h2>{IN_REVIEW_HEADING}</h2>'
                  f'<p>{IN_REVIEW_TEXT}</p></div>')
    return document(f'{listing["title"]} | Marketplace | Facebook', main(
        f'<h1>{escape(listing["title"])}</h1>{review}<dl>{details}</dl>'
        '<p><a href="/marketplace/you/selling">Your listings</a></p>'
    ))


IN_REVIEW_HEADING = "Your listing is in review"
IN_REVIEW_TEXT = "It's pending review and isn't visible to buyers yet."


def identity_page() -> str:
    """Where the checkpoint fault sends the browser: asks to confirm the account's identity, no captcha."""
    return document("Confirm your identity | Facebook", main(
        "<h1>Confirm your identity</h1>"
        "<p>We noticed unusual activity on your account. To continue, confirm your identity. "
        "You may need to upload an ID.</p>"
        f'<div role="button" tabindex="0" class="{random_class()}">Continue</div>'
    ))


def identity_text_page(next_path: str) -> str:
    """The checkpoint fault's `identity_text` variant: the create page itself asks, no form."""
    target = "/checkpoint/?next=" + quote(next_path, safe="/")
    return document("Marketplace | Facebook", main(
        "<h1>Verify your identity</h1>"
        "<p>To continue, confirm your identity. You may need to upload an ID.</p>"
        f'<div role="button" tabindex="0" class="{random_class()}" '
        f"onclick=\"window.location.assign({escape(json.dumps(target))})\">Continue</div>"
    ))


COOKIE_CONSENT_TITLE = "Allow the use of cookies from Facebook on this browser?"


def cookie_consent_dialog() -> str:
    """The consent dialog over a full-viewport overlay that takes every click meant for the page;
    the page under it is inert until a button is pressed (which posts the answer; the server sets
    the cookie)."""
    heading = random_id()
    return f"""<div class="{random_class()}" style="position:fixed;inset:0;z-index:100000;background:rgba(0,0,0,.55)"
 data-sim-consent=""><div role="dialog" aria-modal="true" aria-labelledby="{heading}" class="{random_class()}"
 style="position:absolute;top:12%;left:50%;transform:translateX(-50%);width:min(520px,90vw);background:#fff;
 border-radius:8px;padding:20px;box-shadow:0 8px 24px rgba(0,0,0,.3)">
<h2 id="{heading}">{COOKIE_CONSENT_TITLE}</h2>
<p>We use cookies to help personalise and improve content and services, provide a safer experience
and show you more relevant ads. You can review your choices at any time in your cookie settings.</p>
<p>Essential cookies are always on. Optional cookies include those from other companies.</p>
<button type="button" class="{random_class()}" data-sim-answer="declined">Decline optional cookies</button>
<button type="button" class="{random_class()}" data-cookiebanner="accept_button" title="Allow all cookies"
 data-sim-answer="all">Allow all cookies</button></div></div>
<script>(function () {{
  var overlay = document.currentScript.previousElementSibling;
  overlay.removeAttribute("data-sim-consent");
  var covered = Array.prototype.filter.call(document.body.children, function (node) {{
    return node !== overlay && node.tagName !== "SCRIPT";
  }});
  covered.forEach(function (node) {{ node.inert = true; }});
  overlay.querySelectorAll("button").forEach(function (button) {{
    var answer = button.getAttribute("data-sim-answer");
    button.removeAttribute("data-sim-answer");
    button.addEventListener("click", function () {{
      var body = new URLSearchParams();
      body.set("answer", answer);
      fetch("/cookie/consent/", {{ method: "POST", body: body, credentials: "same-origin" }})
        .then(function () {{}}, function () {{}})
        .then(function () {{
          overlay.remove();
          covered.forEach(function (node) {{ node.inert = false; }});
        }});
    }});
  }});
}})();</script>"""


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


PROMOTE_LATE2026 = {
    "title": "Promote your listing?",
    "text": "Reach more buyers nearby. Promoted listings get more views and messages.",
    "not_now": "Not Now",
    "promote": "Promote listing",
    "close": "Close",
}


def promote_dialog(layout: str = "classic", listing_id: int = 0) -> str:
    """The promote offer as a page a publish lands on shows it: "Not now" (late2026: "Not Now"
    or "Close") closes it; late2026's "Promote listing" boosts the listing (a paid ad) and asks
    for a payment method."""
    close = "this.closest('[role=dialog]').remove()"
    if layout == "late2026":
        p = PROMOTE_LATE2026
        heading = random_id()
        promote = (f"var d=this.closest('[role=dialog]'),b=new FormData();b.append('id','{int(listing_id)}');"
                   "fetch('/marketplace/create/item/boost',{method:'POST',body:b,credentials:'same-origin'})"
                   ".then(function(){},function(){}).then(function(){"
                   "d.replaceChildren();d.setAttribute('aria-label','Add payment method');"
                   "d.removeAttribute('aria-labelledby');"
                   "var t=document.createElement('p');t.textContent='To boost your listing, add a payment method to your ad account.';"
                   "var c=document.createElement('div');c.setAttribute('role','button');c.tabIndex=0;"
                   "c.textContent='Close';c.onclick=function(){d.remove();};d.append(t,c);})")
        return (f'<div role="dialog" aria-modal="true" aria-labelledby="{heading}" class="{random_class()}">'
                f'<div role="button" tabindex="0" aria-label="{p["close"]}" onclick="{close}">\u00d7</div>'
                f'<h2 id="{heading}">{p["title"]}</h2><p>{p["text"]}</p>'
                f'<div role="button" tabindex="0" onclick="{close}">{p["not_now"]}</div>'
                f'<div role="button" tabindex="0" onclick="{escape(promote)}">{p["promote"]}</div></div>')
    return (f'<div role="dialog" aria-modal="true" aria-label="{DIALOG_STRINGS["boost_title"]}" class="{random_class()}">'
            f'<h2>{DIALOG_STRINGS["boost_title"]}</h2><p>{DIALOG_STRINGS["boost_text"]}</p>'
            f'<div role="button" tabindex="0" onclick="{close}">{DIALOG_STRINGS["not_now"]}</div></div>')


def create_item_page(*, locale: str = "en", renamed_title: bool = False,
                     slow_ms: int | None = None, page_id: str = "",
                     daily_limit: bool = False, options: dict | None = None) -> str:
    """The create-listing form, step 1 rendered by the server, the rest by create_item.js.

    renamed_title: the Title field's label reads "Listing title" (a markup change).
    slow_ms: the form's fields appear only this long after load (they wait in a <template>).
    page_id: sent back with the publish (the timeline's page); daily_limit: the form says so and
    keeps Publish disabled.
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
        "dialogs": {**DIALOG_STRINGS, "daily_limit": DAILY_LIMIT_MESSAGE},
        "maxPhotos": MAX_PHOTOS,
        "slowMs": slow_ms,
        "pageId": page_id,
        "dailyLimit": daily_limit,
        "publishUrl": "/marketplace/create/item/publish",
        "sellingUrl": "/marketplace/you/selling",
        "loginUrl": login_path("/marketplace/create/item"),
        "lingerMs": (options or {}).get("linger_ms", 600),
        "lingerButton": (options or {}).get("linger_button", "disabled"),
        "publishing": "Publishing\u2026",
    }
    body = main(
        f'<div id="{ids["form"]}" class="{c()}" role="form" aria-label="Marketplace">{form_content}</div>'
        f"{template}"
    ) + (
        f"<script>window.__simCreateItem = {_script_json(config)};</script>"
        f"<script>{_create_item_js()}</script>"
    )
    return document("Marketplace | Facebook", body, lang=locale)


# == the "2026" layout ================================================================================
#
# What /work/shared/docs/facebook.md describes of Facebook's form in 2025-2026, every variant at
# once, chosen per account by the layout options (state.OPTIONS_2026). The server renders an empty
# `div[role=form]`; static/create_item_2026.js builds every step in it, like React would.

DAILY_LIMIT_MESSAGE = ("You can't add a listing to Marketplace right now because you reached your "
                       "daily limit as a new Facebook account")
DUPLICATE_MESSAGE = "It looks like you created a duplicate listing."
BLOCKED_TITLE = "You're Temporarily Blocked"
BLOCKED_TEXT = ("It looks like you were misusing this feature by going too fast. We limit how often "
                "you can post. You can't use this feature right now.")

# The category tree, English names: (parent, selectable as itself, children); a None child list
# makes a top-level leaf. "Antiques & Collectibles" is deliberately absent.
CATEGORY_TREE = [
    ("Home & Garden", True, ["Furniture", "Household", "Tools", "Home Improvement Supplies",
                             "Garden & Outdoor", "Appliances"]),
    ("Electronics", True, ["Computers", "Mobile Phones", "Video Games"]),
    ("Hobbies", False, ["Sporting Goods", "Musical Instruments", "Arts & Crafts", "Bicycles"]),
    ("Clothing & Accessories", True, ["Bags & Luggage", "Jewelry & Watches",
                                      "Men's Clothing & Shoes", "Women's Clothing & Shoes"]),
    ("Family", False, ["Toys & Games", "Baby & Kids", "Health & Beauty", "Pet Supplies"]),
    ("Miscellaneous", False, None),
]
CATEGORY_ES = {
    "Home & Garden": "Casa y jardín", "Furniture": "Muebles", "Household": "Artículos para el hogar",
    "Tools": "Herramientas", "Home Improvement Supplies": "Artículos de mejoras para el hogar",
    "Garden & Outdoor": "Jardín y exteriores", "Appliances": "Electrodomésticos",
    "Electronics": "Electrónica", "Computers": "Computadoras", "Mobile Phones": "Teléfonos celulares",
    "Video Games": "Videojuegos", "Hobbies": "Pasatiempos", "Sporting Goods": "Artículos deportivos",
    "Musical Instruments": "Instrumentos musicales", "Arts & Crafts": "Arte y manualidades",
    "Bicycles": "Bicicletas", "Clothing & Accessories": "Ropa y accesorios",
    "Bags & Luggage": "Bolsos y equipaje", "Jewelry & Watches": "Joyas y relojes",
    "Men's Clothing & Shoes": "Ropa y calzado para hombre",
    "Women's Clothing & Shoes": "Ropa y calzado para mujer", "Family": "Familia",
    "Toys & Games": "Juguetes y juegos", "Baby & Kids": "Bebés y niños",
    "Health & Beauty": "Salud y belleza", "Pet Supplies": "Artículos para mascotas",
    "Miscellaneous": "Varios",
}
# Suggested category chips: the first rule whose pattern (a JS regex, case-insensitive) matches
# the title wins; no match gives the fallback.
CHIP_RULES = [
    (r"\b(tables?|chairs?|sofas?|desks?|couch(es)?|dressers?|mesas?|sillas?|sofás?|escritorios?)\b",
     ["Furniture", "Household"]),
    (r"\b(bikes?|bicycles?|bicis?|bicicletas?)\b", ["Sporting Goods", "Bicycles"]),
    (r"\b(drills?|saws?|wrench(es)?|hammers?|taladros?|martillos?)\b",
     ["Tools", "Home Improvement Supplies"]),
    (r"\b(guitars?|pianos?|drums?|guitarras?)\b", ["Musical Instruments"]),
    (r"\b(phones?|laptops?|tvs?|cameras?|teléfonos?)\b", ["Electronics", "Mobile Phones", "Computers"]),
]
CHIP_FALLBACK = ["Miscellaneous", "Household"]

# The Location typeahead's places: a city alone brings one suggestion per state.
CITIES = [
    ("Austin", ["Texas", "Minnesota", "Arkansas", "Indiana"]),
    ("Round Rock", ["Texas", "Arizona"]),
    ("Springfield", ["Illinois", "Missouri", "Massachusetts", "Oregon", "Ohio"]),
    ("Portland", ["Oregon", "Maine", "Texas", "Connecticut"]),
    ("Seattle", ["Washington"]),
    ("Dallas", ["Texas", "Georgia", "Oregon"]),
    ("Houston", ["Texas", "Missouri", "Mississippi"]),
    ("Georgetown", ["Texas", "Kentucky", "South Carolina"]),
    ("Paris", ["Texas", "Tennessee", "Kentucky"]),
    ("Columbus", ["Ohio", "Georgia", "Indiana"]),
]
STATE_ABBREVIATIONS = {
    "Texas": "TX", "Minnesota": "MN", "Arkansas": "AR", "Indiana": "IN", "Arizona": "AZ",
    "Illinois": "IL", "Missouri": "MO", "Massachusetts": "MA", "Oregon": "OR", "Ohio": "OH",
    "Maine": "ME", "Connecticut": "CT", "Washington": "WA", "Georgia": "GA",
    "Mississippi": "MS", "Kentucky": "KY", "South Carolina": "SC", "Tennessee": "TN",
}
GROUPS = ["Austin Buy & Sell", "Round Rock Marketplace", "Texas Garage Sale"]

STRINGS_2026 = {
    "en": {
        "heading": "Item for sale",
        "add_photos": "Add photos",
        "photos": "Photos",
        "photo": "Photo",
        "previous": "Previous",
        "next": "Next",
        "remove_photo": "Remove photo",
        "photo_viewer": "Photo viewer",
        "close": "Close",
        "title": "Title",
        "price": "Price",
        "category": "Category",
        "condition": "Condition",
        "more_details": "More details",
        "more_details_hint": "Attract more interest by including more details.",
        "description": "Description",
        "location": "Location",
        "publish": "Publish",
        "delivery_method": "Delivery method",
        "meetup_preferences": "Meetup preferences",
        "public_meetup": "Public meetup",
        "door_pickup": {"hyphen": "Door pick-up", "plain": "Door pickup"},
        "door_dropoff": "Door drop-off",
        "hide_from_friends": "Hide from friends",
        "hide_hint": "This listing is still public but will be hidden from your friends on "
                     "Facebook and Messenger.",
        "boost_switch": "Boost listing after publish",
        "boost_hint": "Reach more people nearby. You'll choose a budget after publishing.",
        "offers": "Offers",
        "accept_offers": "Accept offers",
        "offers_hint": "Buyers can make you an offer on this listing.",
        "list_more": "List in more places",
        "list_more_hint": "Choose groups where your listing will also appear.",
        "select_category": "Select a category",
        "search": "Search",
        "back": "Back",
        "no_results": "No results",
        "complete_required": "Please complete the required fields",
        "leave_title": "Leave page?",
        "leave_text": "Changes you made may not be saved.",
        "stay": "Stay on page",
        "leave": "Leave page",
        "review_heading": "Your listing is in review",
        "review_text": "We're checking your listing before it appears on Marketplace. This usually "
                       "takes a few minutes.",
        "view_listing": "View listing",
        "view_previous": "View previous image",
        "view_next": "View next image",
        "description_recommended": "Description (recommended)",
        "product_tags": "Product tags",
        "remove": "Remove",
        "sku": "SKU",
        "brand": "Brand",
        "availability": "Availability",
        "availabilities": ["List as Single Item", "List as In Stock"],
        # En dash, lower case, as Facebook writes them in some locales.
        "conditions": ["New", "Used \u2013 like new", "Used \u2013 good", "Used \u2013 fair"],
        "canonical_conditions": ["New", "Used - Like New", "Used - Good", "Used - Fair"],
    },
    "es": {
        "heading": "Artículo en venta",
        "add_photos": "Agregar fotos",
        "photos": "Fotos",
        "photo": "Foto",
        "previous": "Anterior",
        "next": "Siguiente",
        "remove_photo": "Eliminar foto",
        "photo_viewer": "Visor de fotos",
        "close": "Cerrar",
        "title": "Título",
        "price": "Precio",
        "category": "Categoría",
        "condition": "Estado",
        "more_details": "Más detalles",
        "more_details_hint": "Atrae más interés al incluir más detalles.",
        "description": "Descripción",
        "location": "Ubicación",
        "publish": "Publicar",
        "delivery_method": "Método de entrega",
        "meetup_preferences": "Preferencias de encuentro",
        "public_meetup": "Encuentro en un lugar público",
        "door_pickup": {"hyphen": "Retiro en la puerta", "plain": "Retiro en la puerta"},
        "door_dropoff": "Entrega en la puerta",
        "hide_from_friends": "Ocultar a los amigos",
        "hide_hint": "La publicación sigue siendo pública, pero tus amigos no la verán en "
                     "Facebook ni en Messenger.",
        "boost_switch": "Promocionar la publicación después de publicarla",
        "boost_hint": "Llega a más personas cerca de ti. Elegirás un presupuesto después.",
        "offers": "Ofertas",
        "accept_offers": "Aceptar ofertas",
        "offers_hint": "Los compradores pueden hacerte una oferta.",
        "list_more": "Publicar en más lugares",
        "list_more_hint": "Elige grupos donde también aparecerá tu publicación.",
        "select_category": "Selecciona una categoría",
        "search": "Buscar",
        "back": "Atrás",
        "no_results": "No hay resultados",
        "complete_required": "Completa los campos obligatorios",
        "leave_title": "¿Salir de la página?",
        "leave_text": "Es posible que no se guarden los cambios que hiciste.",
        "stay": "Permanecer en la página",
        "leave": "Salir de la página",
        "review_heading": "Tu publicación está en revisión",
        "review_text": "Estamos revisando tu publicación antes de que aparezca en Marketplace.",
        "view_listing": "Ver publicación",
        "view_previous": "Ver imagen anterior",
        "view_next": "Ver imagen siguiente",
        "description_recommended": "Descripción (recomendado)",
        "product_tags": "Etiquetas de producto",
        "remove": "Eliminar",
        "sku": "SKU",
        "brand": "Marca",
        "availability": "Disponibilidad",
        "availabilities": ["Publicar como artículo único", "Publicar como disponible"],
        "conditions": ["Nuevo", "Usado \u2013 como nuevo", "Usado \u2013 buen estado",
                       "Usado \u2013 aceptable"],
        "canonical_conditions": ["Nuevo", "Usado - Como nuevo", "Usado - Buen estado",
                                 "Usado - Aceptable"],
    },
}

# Dialogs that come from elsewhere in Facebook: English whatever the form's locale (as classic).
DIALOG_STRINGS_2026 = {
    **DIALOG_STRINGS,
    "ok": "OK",
    "blocked_title": BLOCKED_TITLE,
    "blocked_text": BLOCKED_TEXT,
    "daily_limit": DAILY_LIMIT_MESSAGE,
    "daily_limit_title": "Daily limit reached",
    "payment_title": "Add payment method",
    "payment_text": "To boost your listing, add a payment method to your ad account.",
    "promote_title": PROMOTE_LATE2026["title"],
    "promote_text": PROMOTE_LATE2026["text"],
    "promote_not_now": PROMOTE_LATE2026["not_now"],
    "promote": PROMOTE_LATE2026["promote"],
    "publishing": "Publishing\u2026",
}

CSS_2026 = """
[role=form] [role=button][aria-label]{display:inline-block;text-align:center;background:#e4e6eb;color:#050505}
[role=form]>div>div:last-child>[role=button]{display:block;background:#0866ff;color:#fff;margin-top:14px}
[role=form] img{width:64px;height:64px}
[role=switch]{display:inline-block;vertical-align:middle;width:40px;height:22px;border-radius:11px;
  background:#bcc0c4;cursor:pointer;margin-left:10px}
[role=switch][aria-checked=true]{background:#0866ff}
[role=form] input[type=search],body>[role=dialog] input[type=search]{width:100%;box-sizing:border-box;
  padding:6px 8px;border:1px solid #ced0d4;border-radius:16px;font:inherit;margin:4px 0 8px}
body>[role=dialog] [role=button]{display:block;margin:4px 0}
[role=form] input[aria-label]{width:100%;box-sizing:border-box;border:1px solid #ced0d4;border-radius:6px;
  padding:8px 10px;font:inherit;margin:10px 0}
"""


def category_tree(locale: str) -> list[dict]:
    """The tree in the page's language: [{name, selectable, children|None}]."""
    def name(text: str) -> str:
        return CATEGORY_ES[text] if locale == "es" else text
    return [{"name": name(parent), "selectable": selectable,
             "children": None if children is None else [name(c) for c in children]}
            for parent, selectable, children in CATEGORY_TREE]


def category_leaves(locale: str) -> list[str]:
    """Every selectable category name of a locale."""
    names = []
    for node in category_tree(locale):
        if node["children"] is None or node["selectable"]:
            names.append(node["name"])
        names.extend(node["children"] or [])
    return names


def chip_rules(locale: str) -> dict:
    def name(text: str) -> str:
        return CATEGORY_ES[text] if locale == "es" else text
    return {"rules": [[pattern, [name(c) for c in chips]] for pattern, chips in CHIP_RULES],
            "fallback": [name(c) for c in CHIP_FALLBACK]}


def meetup_names(locale: str, spelling: str) -> list[str]:
    s = STRINGS_2026[locale]
    return [s["public_meetup"], s["door_pickup"][spelling], s["door_dropoff"]]


def canonical_condition(text: str, locale: str) -> str | None:
    """A 2026 condition as sent, matched dash- and case-insensitively, in its canonical spelling."""
    def key(value: str) -> str:
        return " ".join(value.replace("\u2013", "-").replace("\u2014", "-").lower().split())
    for canonical in STRINGS_2026[locale]["canonical_conditions"]:
        if key(canonical) == key(text):
            return canonical
    return None


def create_item_page_2026(*, page_id: str, options: dict, locale: str = "en",
                          renamed_title: bool = False, slow_ms: int | None = None,
                          draft=None, daily_limit: bool = False, layout: str = "2026") -> str:
    """The 2026 (or late2026) create-listing page: an empty form that create_item_2026.js fills.

    draft: a state.Draft to reopen (title, price, photos); daily_limit: the form says so and
    refuses to publish.
    """
    s = dict(STRINGS_2026[locale])
    if renamed_title:
        s["title"] = "Listing title"
    form_id = random_id()
    draft_json = None
    if draft is not None:
        draft_json = {
            "title": draft.title, "price": draft.price,
            "photos": [{"name": p.filename, "type": p.content_type,
                        "data": base64.b64encode(p.data).decode("ascii")} for p in draft.photos],
        }
    config = {
        "formId": form_id,
        "pageId": page_id,
        "layout": layout,
        "maxTags": 20,
        "locale": locale,
        "strings": s,
        "dialogs": DIALOG_STRINGS_2026,
        "options": options,
        "maxPhotos": MAX_PHOTOS,
        "slowMs": slow_ms,
        "dailyLimit": daily_limit,
        "draft": draft_json,
        "tree": category_tree(locale),
        "chips": chip_rules(locale),
        "cities": CITIES,
        "stateAbbreviations": STATE_ABBREVIATIONS,
        "meetup": meetup_names(locale, options["meetup_spelling"]),
        "groups": GROUPS,
        "publishUrl": "/marketplace/create/item/publish",
        "draftUrl": "/marketplace/create/item/draft",
        "boostUrl": "/marketplace/create/item/boost",
        "sellingUrl": "/marketplace/you/selling",
        "loginUrl": login_path("/marketplace/create/item"),
    }
    body = main(
        f'<div id="{form_id}" class="{random_class()}" role="form" '
        f'aria-label="{escape(options["form_label"])}"></div>'
    ) + (
        f"<script>window.__simCreateItem2026 = {_script_json(config)};</script>"
        f"<script>{_create_item_2026_js()}</script>"
    )
    return document("Marketplace | Facebook", body, lang=locale, head=f"<style>{CSS_2026}</style>")


@lru_cache(maxsize=1)
def _create_item_2026_js() -> str:
    return (Path(__file__).parent / "static" / "create_item_2026.js").read_text(encoding="utf-8")


def _price_text(price: str) -> str:
    return price if price.startswith("$") else f"${price}"


def selling_page_2026(listings: list[dict], *, notice: str | None = None) -> str:
    """The 2026 selling page: cards whose links carry no listing id, named "title, $price, place, Active"."""
    cards = []
    for x in sorted(listings, key=lambda x: x["id"], reverse=True):
        status = "In review" if x.get("state") == "in_review" else "Active"
        name = f'{x["title"]}, {_price_text(x["price"])}, {x["location"]}, {status}'
        cards.append(
            f'<div class="{random_class()}"><a href="/marketplace/you/selling#" class="{random_class()}" '
            f'aria-label="{escape(name)}"><span class="{random_class()}">{escape(x["title"])}</span> '
            f'<span class="{random_class()}">{escape(_price_text(x["price"]))}</span> '
            f'<span class="{random_class()}">{escape(x["location"])}</span> '
            f'<span class="{random_class()}">{status}</span> '
            f'<span class="{random_class()}">0 clicks on listing</span></a></div>'
        )
    content = "".join(cards) if cards else "<p>You haven't listed anything yet.</p>"
    banner = f'<div class="{random_class()}"><p>{escape(notice)}</p></div>' if notice else ""
    return document("Your listings | Facebook", main(
        f'<h1>Your listings</h1>{banner}{content}'
        '<p><a href="/marketplace/create/">Create new listing</a></p>'
    ))


def edit_page(listing: dict) -> str:
    """/marketplace/edit/?listing_id=<id>: the listing, open for editing."""
    def field(name: str, value: str, tag: str = "input") -> str:
        label_id = random_id()
        control = (f'<textarea aria-labelledby="{label_id}" class="{random_class()}">{escape(value)}</textarea>'
                   if tag == "textarea" else
                   f'<input type="text" aria-labelledby="{label_id}" class="{random_class()}" value="{escape(value)}">')
        return (f'<label class="{random_class()}"><span id="{label_id}" class="{random_class()}">'
                f'{escape(name)}</span>{control}</label>')
    fields = (field("Title", listing["title"]) + field("Price", listing["price"])
              + field("Description", listing["description"], "textarea"))
    facts = "".join(f"<dt>{name}</dt><dd>{escape(value)}</dd>" for name, value in [
        ("Category", listing["category"]), ("Condition", listing["condition"]),
        ("Location", listing["location"]), ("Photos", str(listing["photos"]))])
    return document("Edit listing | Marketplace | Facebook", main(
        f'<h1>Edit listing</h1><div role="form" aria-label="Edit listing" class="{random_class()}">'
        f'{fields}<dl>{facts}</dl>'
        f'<a href="/marketplace/item/{listing["id"]}/" role="button" class="{random_class()}">Update</a></div>'
        '<p><a href="/marketplace/you/selling">Your listings</a></p>'
    ))


def create_chooser_page(item_url: str = "/marketplace/create/item") -> str:
    """/marketplace/create/: what "Create new listing" on the selling page opens first."""
    return document("Create new listing | Marketplace | Facebook", main(
        '<h1>Create new listing</h1>'
        f'<p><a href="{escape(item_url)}">Item for sale</a></p>'
        '<p><a href="/marketplace/create/vehicle">Vehicle for sale</a></p>'
    ))


CHOOSER_CARDS = [
    ("Item for sale", "Create a single listing for one item."),
    ("Vehicle for sale", "Sell a car, truck or other type of vehicle."),
    ("Home for sale or rent", "List a house or apartment for sale or rent."),
]


def create_chooser_page_late2026(item_url: str, cards: str = "button") -> str:
    """The late-2026 chooser: cards whose accessible name is their title and description
    ("Item for sale Create a single listing for one item."), `div[role=button]` navigating on
    click (or Enter), or `a[role=link]` with an href."""
    urls = [item_url, "/marketplace/create/vehicle", "/marketplace/create/rental"]
    html = []
    for (title, text), url in zip(CHOOSER_CARDS, urls):
        inner = (f'<div class="{random_class()}"><span class="{random_class()}">{escape(title)}</span></div> '
                 f'<div class="{random_class()}"><span class="{random_class()}">{escape(text)}</span></div>')
        if cards == "link":
            html.append(f'<a role="link" href="{escape(url)}" class="{random_class()}" '
                        f'style="display:block;margin:8px 0">{inner}</a>')
        else:
            go = escape(f"window.location.assign({json.dumps(url)})")
            html.append(f'<div role="button" tabindex="0" class="{random_class()}" style="display:block" '
                        f'onclick="{go}" onkeydown="if(event.key===\'Enter\'||event.key===\' \')'
                        f'{{event.preventDefault();this.click();}}">{inner}</div>')
    return document("Create new listing | Marketplace | Facebook", main(
        f'<h1>Create new listing</h1><div class="{random_class()}">{"".join(html)}</div>'
    ))


def rental_page() -> str:
    return document("Home for sale or rent | Marketplace | Facebook", main(
        "<h1>Home for sale or rent</h1><p>Property listings are not simulated.</p>"
        '<p><a href="/marketplace/create/">Create new listing</a></p>'
    ))


def vehicle_page() -> str:
    return document("Vehicle for sale | Marketplace | Facebook", main(
        "<h1>Vehicle for sale</h1><p>Vehicle listings are not simulated.</p>"
        '<p><a href="/marketplace/create/">Create new listing</a></p>'
    ))
