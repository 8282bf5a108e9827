"""What the driver reads off the page in one round trip: the JavaScript run by `ListingForm`.

Each script reads the page as it is (text, URL, dialogs, roles), never a class name. The waits
(`OPEN`, `ENABLED`, `OUTCOME`) are predicates for `page.wait_for_function`: they return nothing
until one of every possible outcome shows, so no wait lasts the whole timeout for a signal that
only some accounts get. Texts are compared case- and dash-insensitively.
"""

# Shared helpers, prefixed to every script below.
_LIB = r"""
const norm = (text) => (text || "").replace(/[\u2010-\u2015\u2212]/g, "-").replace(/[\u2018\u2019]/g, "'")
  .replace(/\s+/g, " ").trim().toLowerCase();
const shown = (el) => {
  if (!el || !el.isConnected) return false;
  if (!el.getClientRects().length) return false;
  const style = getComputedStyle(el);
  return style.visibility !== "hidden" && style.display !== "none";
};
const nameOf = (el) => {
  const label = el.getAttribute("aria-label");
  if (label) return norm(label);
  const ids = (el.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean);
  if (ids.length) return norm(ids.map((id) => (document.getElementById(id) || {}).textContent || "").join(" "));
  const wrapping = el.closest("label") || (el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`));
  if (wrapping && wrapping !== el && ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName)) return norm(wrapping.innerText);
  return norm(el.innerText || el.textContent);
};
// A name that is `prefix` as whole words ("category", "category furniture"); both normalised.
const startsName = (name, prefix) => name === prefix || name.startsWith(prefix + " ");
// The form's fields that open a popup (the Category and Condition triggers) named `label`.
const triggersIn = (form, label) => form ? [...form.querySelectorAll('[role="combobox"], [role="button"]')]
  .filter((el) => shown(el) && startsName(nameOf(el), label)) : [];
const has = (text, needles) => needles.map(norm).find((needle) => text.includes(needle));
const formOf = (label) => [...document.querySelectorAll('[role="form"]')]
  .find((el) => norm(el.getAttribute("aria-label")) === label && shown(el)) || null;
const boxes = () => [...document.querySelectorAll('[role="dialog"], [role="alertdialog"], [role="alert"]')].filter(shown);
const buttonsOf = (box) => [...box.querySelectorAll('[role="button"], button')].filter(shown);
// The cookie-consent dialog, when it covers the page: the one with the button to decline.
const consentDialog = (s) => boxes().find((box) => buttonsOf(box).some((b) => nameOf(b) === norm(s.cookie_decline))) || null;
const excerpt = (text) => (text || "").replace(/\s+/g, " ").trim().slice(0, 300);
// What stops an account, wherever the page shows it: a login or checkpoint, a block, the daily cap.
const blocker = (s) => {
  const url = location.href;
  if (s.login_paths.some((p) => url.includes(p))) return {kind: "login", url};
  if ([...document.querySelectorAll(s.login_form)].some(shown)) return {kind: "login", url};
  const body = norm(document.body ? document.body.innerText : "");
  if (has(body, s.checkpoint_texts)) return {kind: "login", url, text: has(body, s.checkpoint_texts)};
  const block = has(body, s.blocked_texts);
  if (block) return {kind: "blocked", text: block};
  const daily = has(body, s.daily_limit_texts);
  if (daily) {
    const box = boxes().find((b) => norm(b.innerText).includes(daily));
    return {kind: "daily_limit", text: excerpt(box ? box.innerText : daily)};
  }
  return null;
};
"""


def _script(body: str) -> str:
    return "(args) => {" + _LIB + body + "}"


# What tells a CAPTCHA checkpoint from a plain login page (`ListingForm._raise_blocker`).
CAPTCHA = _script(r"""
  const [s] = args;
  const text = norm(document.body ? document.body.innerText : "");
  return document.querySelector(s.captcha_frame) !== null || s.captcha_texts.some((t) => text.includes(norm(t)));
""")

# After opening the create page: the form with its first field, or whatever stops the account, or
# what stands before the form: a cookie-consent dialog over the page (`consent`), the "Create new
# listing" chooser (`chooser`), or a document that failed (`http_error`, `unreachable`).
OPEN = _script(r"""
  const [s] = args;
  const stop = blocker(s);
  if (stop) return stop;
  // What stands before the form is answered once per document: the chooser stays up until its
  // card's page comes, and is never clicked twice (a new chooser page is a new document).
  const answered = window.__posterAnswered;
  const answer = (kind) => kind !== answered && ((window.__posterAnswered = kind), {kind});
  if (consentDialog(s)) return answer("consent");
  const form = formOf(norm(s.form));
  if (form && [...form.querySelectorAll('input, textarea, [role="textbox"]')].some((el) => el.type !== "file" && shown(el))) {
    return {kind: "form", lang: document.documentElement.lang || ""};
  }
  const item = norm(s.chooser_item);
  const card = [...document.querySelectorAll('a, [role="link"], [role="button"], button')]
    .find((el) => shown(el) && nameOf(el).startsWith(item));
  if (!form && card) return answer("chooser");
  // No form, and the document itself failed: an HTTP error page, or Chromium's own page for a
  // navigation that never got an answer (after the chooser, where no goto() saw the response).
  if (location.protocol === "chrome-error:") return {kind: "unreachable", url: location.href};
  const navigation = performance.getEntriesByType("navigation")[0];
  if (!form && navigation && navigation.responseStatus >= 500) {
    return {kind: "http_error", status: navigation.responseStatus, url: location.href};
  }
  return false;
""")

# Before clicking a footer button that carries aria-disabled: enabled, or a blocker appeared.
ENABLED = _script(r"""
  const [s, mark] = args;
  const stop = blocker(s);
  if (stop) return stop;
  const button = document.querySelector(`[data-poster-click="${mark}"]`);
  if (!button) return {kind: "gone"};
  return button.getAttribute("aria-disabled") !== "true" ? {kind: "enabled"} : false;
""")

# What the current step looks like: its headings and controls. A different signature after a
# click on Next means the form moved on, even if the footer button element was kept.
_SIGNATURE = r"""
const signature = (form) => form ? [...form.querySelectorAll(
  'h1, h2, h3, h4, [role="heading"], input:not([type="file"]), textarea, [role="textbox"], [role="checkbox"], [role="switch"], [role="combobox"]'
)].filter(shown).map((el) => el.tagName + ":" + nameOf(el)).join("|") : "";
"""

# The step footer's Next or Publish, never the photo carousel's "Next" arrow (a carousel arrow
# sits beside a "Previous" arrow and the thumbnails), once the step shows one; in the same round
# trip it is marked for the click (`data-poster-click`, see OUTCOME) and what the click is
# judged against is read: aria-disabled, the step's signature, the alerts already shown.
FOOTER = _script(_SIGNATURE + r"""
  const [s, mark] = args;
  const form = formOf(norm(s.form));
  if (!form) return false;
  const names = [norm(s.next), norm(s.publish)];
  const previous = norm(s.carousel_previous);
  const buttons = [...form.querySelectorAll('[role="button"], button')]
    .filter((el) => el.getClientRects().length && names.includes(nameOf(el)));
  const fields = 'input:not([type="file"]), textarea, [role="combobox"], [role="checkbox"], [role="switch"]';
  // The smallest box around the button that also holds a "Previous" arrow: the carousel when it
  // holds no field, the whole step otherwise.
  const inCarousel = (el) => {
    for (let node = el.parentElement; node && node !== form; node = node.parentElement) {
      if ([...node.querySelectorAll('[role="button"], button')].some((b) => b !== el && nameOf(b) === previous)) {
        return !node.querySelector(fields);
      }
    }
    return false;
  };
  const footer = buttons.filter((el) => !inCarousel(el));
  if (!footer.length) return false;  // still being drawn (or only the photos' arrows)
  const button = footer[footer.length - 1];   // the last one in the form: the footer's
  document.querySelectorAll("[data-poster-click]").forEach((el) => el.removeAttribute("data-poster-click"));
  button.setAttribute("data-poster-click", mark);
  return {
    publish: nameOf(button) === norm(s.publish),
    disabled: button.getAttribute("aria-disabled"),
    signature: signature(form),
    alerts: [...document.querySelectorAll('[role="alert"]')].filter(shown).map((a) => excerpt(a.innerText)),
  };
""")

# Which element was clicked is told by a `data-poster-click` mark set on it just before: an element
# handle would not survive the navigation that a publish starts.
#
# After a click on Next or Publish: what happened. The answer is an object with `kind`:
#   login / blocked / daily_limit   the account is stopped (a blocker on any page)
#   policy        Facebook refused the listing (Commerce Policies, a duplicate)
#   published     the page left the form for a success page, or says the listing is in review
#                 (`id`: the listing's id when the URL or a link reveals it)
#   unconfirmed   a "Something went wrong" dialog
#   leave         a "Leave page?" dialog: press "Leave page" and read on
#   dismiss       another dialog (a boost offer, a payment): press `button` and read on
#   elsewhere     the browser left the form for a page that is none of the above
#   alert         the click was refused with an alert (`text`)
#   step          the form shows its next step
OUTCOME = _script(_SIGNATURE + r"""
  const [s, mark, before, alertsBefore, title, publishingSteps] = args;
  const clicked = mark ? document.querySelector(`[data-poster-click="${mark}"]`) : null;
  const stop = blocker(s);
  if (stop) return stop;
  const path = location.pathname;
  const onForm = path.startsWith(s.create_path);
  const loaded = document.readyState !== "loading";
  const dialogs = boxes();
  const body = norm(document.body ? document.body.innerText : "");
  for (const box of dialogs) {
    const text = norm(box.innerText);
    if (has(text, s.policy_texts)) return {kind: "policy", text: excerpt(box.innerText)};
  }
  if (!onForm && loaded && has(body, s.policy_texts)) {
    return {kind: "policy", text: excerpt(has(body, s.policy_texts))};
  }
  const itemId = () => {
    const want = norm(title);
    const links = [...document.querySelectorAll('a[href*="' + s.item_path + '"]')].filter(shown)
      .map((a) => ({name: norm(a.innerText || a.getAttribute("aria-label")), m: a.href.match(/\/item\/(\d+)/)}))
      .filter((link) => link.m);
    const named = links.find((link) => link.name === want || link.name.startsWith(want + ","));
    if (named) return named.m[1];
    return path.startsWith(s.selling_path) || links.length !== 1 ? null : links[0].m[1];
  };
  if (!onForm) {
    const item = path.match(/\/marketplace\/item\/(\d+)/);
    // An item page may say that the listing went into review: read it once the page is there.
    if (item) return loaded ? {kind: "published", id: item[1], review: Boolean(has(body, s.review_texts))} : false;
    const param = new URLSearchParams(location.search).get(s.listing_id_param);
    if (param && /^\d+$/.test(param)) return {kind: "published", id: param};
    if (loaded && path.startsWith(s.selling_path)) return {kind: "published", id: itemId()};
  }
  for (const box of dialogs) {
    if (has(norm(box.innerText), s.unconfirmed_texts)) return {kind: "unconfirmed", text: excerpt(box.innerText)};
  }
  for (const box of dialogs) {
    if (buttonsOf(box).some((b) => nameOf(b) === norm(s.leave_page))) return {kind: "leave"};
  }
  if (consentDialog(s)) return {kind: "dismiss", button: s.cookie_decline, text: "cookie consent"};
  if (loaded && has(body, s.review_texts)) return {kind: "published", id: itemId(), review: true};
  for (const box of dialogs) {
    if (box.getAttribute("role") === "alert") continue;
    const dismiss = buttonsOf(box).map(nameOf).find((name) => s.dismiss_buttons.some((d) => norm(d) === name));
    if (dismiss) return {kind: "dismiss", button: dismiss, text: excerpt(box.innerText)};
  }
  if (!onForm) return loaded ? {kind: "elsewhere", url: location.href} : false;
  const form = formOf(norm(s.form));
  const alerts = [...document.querySelectorAll('[role="alert"]')].filter(shown)
    .map((a) => excerpt(a.innerText)).filter((text) => text && !alertsBefore.includes(text));
  if (alerts.length) return {kind: "alert", text: alerts[0]};
  // A next step: the form shows a footer button and a signature of its own. Once a click could
  // publish, only a step unlike every step clicked to publish counts, whatever became of the clicked
  // button: the same step drawn again (a dismissed dialog, a spinner, its button enabled again) is
  // still the wait for the publish's outcome.
  const now = signature(form);
  if (!form || !now) return false;
  const footer = [...form.querySelectorAll('[role="button"], button')]
    .some((b) => shown(b) && [norm(s.next), norm(s.publish)].includes(nameOf(b)));
  if (!footer) return false;
  if (publishingSteps.length) return publishingSteps.includes(now) ? false : {kind: "step", signature: now};
  if (!shown(clicked) || now !== before) return {kind: "step", signature: now};
  return false;
""")

# What this step shows of the controls that may sit on any step, with their states, in one read
# (`ListingForm` then acts on those only, by role and name):
#   location    the Location field's value, or null when the step has none
#   meetup      {option: "true"/"false"} for the meetup checkboxes shown (either spelling)
#   hide_from_friends, boost_switch   the switch's aria-checked, or null
#   more        the "More details" expander's aria-expanded ("none" without one), or null
#   description, tags, sku   whether the step shows that field, and `*_value` what it holds
# Description may be a textarea or a contenteditable textbox whose name holds the word.
STEP_CONTROLS = _script(r"""
  const [s] = args;
  const form = formOf(norm(s.form));
  if (!form) return {};
  const starts = (name, prefix) => name === norm(prefix) || name.startsWith(norm(prefix) + " ");
  const location = [...form.querySelectorAll('input, [role="combobox"], [role="textbox"]')]
    .find((el) => shown(el) && nameOf(el) === norm(s.location));
  const meetup = {};
  for (const [key, names] of [["Public meetup", s.meetup_public], ["Door pickup", s.meetup_door_pickup],
                              ["Door drop-off", s.meetup_door_dropoff]]) {
    const box = [...form.querySelectorAll('[role="checkbox"]')].find((el) => shown(el) && names.some((n) => starts(nameOf(el), n)));
    if (box) meetup[key] = box.getAttribute("aria-checked") === "true" ? "true" : "false";
  }
  const switchOf = (prefix) => {
    const el = [...document.querySelectorAll('[role="switch"]')].find((sw) => shown(sw) && starts(nameOf(sw), prefix));
    return el ? (el.getAttribute("aria-checked") === "true" ? "true" : "false") : null;
  };
  const more = [...form.querySelectorAll('[role="button"], button')].find((b) => shown(b) && starts(nameOf(b), s.more_details));
  const fields = [...form.querySelectorAll('input:not([type="file"]), textarea, [role="textbox"]')].filter(shown);
  const valueOf = (el) => el ? (el.isContentEditable ? el.innerText : el.value).trim() : "";
  const word = new RegExp("(^|\\W)" + norm(s.description).replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "(\\W|$)");
  const description = fields.find((el) => word.test(nameOf(el)));
  const tags = fields.find((el) => starts(nameOf(el), s.product_tags));
  const sku = fields.find((el) => starts(nameOf(el), s.sku));
  return {
    location: location ? (location.value || "") : null,
    meetup,
    hide_from_friends: switchOf(s.hide_from_friends),
    boost_switch: switchOf(s.boost_switch),
    more: more ? (more.getAttribute("aria-expanded") || "none") : null,
    description: Boolean(description), description_value: valueOf(description),
    tags: Boolean(tags), tags_value: valueOf(tags),
    sku: Boolean(sku), sku_value: valueOf(sku),
  };
""")

# The values of the form's fields named exactly so (the title and price read back after typing).
FIELD_VALUES = _script(r"""
  const [formLabel, names] = args;
  const form = formOf(formLabel);
  const fields = form ? [...form.querySelectorAll("input, textarea")].filter(shown) : [];
  return names.map((name) => { const el = fields.find((f) => nameOf(f) === name); return el ? el.value : null; });
""")

# The Category field, once the step shows it (a combobox or a button whose name starts with
# "Category"): marked for a click (`data-poster-trigger`), whether it already shows `value`, and a
# suggested chip named exactly as the value (marked `data-poster-pick`) when one is shown.
CATEGORY_STATE = _script(r"""
  const [formLabel, label, value, token] = args;
  const form = formOf(formLabel);
  if (!form) return false;
  const [trigger] = triggersIn(form, label);
  if (!trigger) return false;
  document.querySelectorAll("[data-poster-trigger]").forEach((el) => el.removeAttribute("data-poster-trigger"));
  trigger.setAttribute("data-poster-trigger", token);
  const text = norm(trigger.innerText);
  if (text === value || text === label + " " + value) return {shows: true};
  const chip = [...form.querySelectorAll('[role="button"], button')].find((el) => el !== trigger && shown(el) && nameOf(el) === value);
  if (chip) chip.setAttribute("data-poster-pick", token);
  return {shows: false, chip: Boolean(chip)};
""")

# The rows of a popup a trigger opened (the Category picker, the Condition listbox), once it is
# open: the row named exactly as wanted (returned as `row`, to be clicked), the picker's search box
# (`search`) when it has one and no query was typed yet, or proof that there is none (`missing`,
# with what was offered). Rows may have any clickable role: Facebook's category rows are buttons.
# The row or search box found is marked `data-poster-pick=<token>` for the click or the typing;
# the trigger is the element marked `data-poster-trigger=<token>` (see CATEGORY_STATE), else the
# form's combobox or button named `label`.
POPUP_ROWS = _script(r"""
  const [wanted, query, formLabel, label, token] = args;
  const form = formOf(formLabel);
  const trigger = document.querySelector(`[data-poster-trigger="${token}"]`) || triggersIn(form, label)[0] || null;
  const mark = (el) => { document.querySelectorAll("[data-poster-pick]").forEach((m) => m.removeAttribute("data-poster-pick"));
                         el.setAttribute("data-poster-pick", token); return true; };
  const roles = ["button", "option", "menuitem", "menuitemradio", "radio", "treeitem", "gridcell", "row", "link"];
  const selector = roles.map((r) => `[role="${r}"]`).join(", ");
  // The picker: what the trigger controls, else the newest open dialog/listbox/menu outside the form.
  let picker = null;
  const controls = trigger && trigger.getAttribute("aria-controls");
  if (controls) picker = document.getElementById(controls);
  if (!shown(picker)) {
    picker = [...document.querySelectorAll('[role="dialog"], [role="listbox"], [role="menu"], [role="tree"], [role="grid"]')]
      .filter((el) => shown(el) && !el.contains(trigger)).pop() || null;
  }
  if (!picker) {
    // A panel without a role: the box around a search field that also holds the rows.
    const field = [...document.querySelectorAll('[role="searchbox"], input[type="search"]')].find(shown);
    for (let node = field && field.parentElement; node && !picker; node = node.parentElement) {
      if (node.querySelector(selector)) picker = node;
    }
  }
  if (!picker) return false;
  const rows = [...picker.querySelectorAll(selector)].filter((el) => shown(el) && !el.querySelector(selector));
  const names = (el) => {
    const lines = (el.innerText || "").split("\n").map(norm).filter(Boolean);
    return [nameOf(el), lines.join(" "), lines[0] || ""];
  };
  const row = rows.find((el) => names(el).includes(wanted));
  if (row) return {row: mark(row)};
  const offered = rows.map((el) => (el.innerText || "").split("\n")[0].trim()).filter(Boolean);
  const search = [...picker.querySelectorAll('input, [role="searchbox"], [role="textbox"]')].find(shown);
  if (!query) return search ? {search: mark(search), offered} : (rows.length ? {missing: true, offered} : false);
  // Searched: the rows are filtered once each of them mentions the query; none of them is the category.
  if (rows.length && rows.every((el) => names(el)[1].includes(query))) return {missing: true, offered};
  // Nothing matches: say so once the picker has stayed empty for a few polls (it may be loading).
  window.__posterEmptyPolls = rows.length ? 0 : (window.__posterEmptyPolls || 0) + 1;
  return window.__posterEmptyPolls > 10 ? {missing: true, offered} : false;
""")

# The photos the form shows: one "Remove photo" control per photo, else the thumbnails; and
# (PHOTO_STATE) whether the form holds the file input yet.
PHOTO_STATE = _script(r"""
  const [formLabel, remove, input] = args;
  const form = formOf(formLabel);
  if (!form) return {removes: 0, input: false};
  return {
    removes: [...form.querySelectorAll('[role="button"], button')].filter((b) => shown(b) && nameOf(b).startsWith(remove)).length,
    input: form.querySelector(input) !== null,
  };
""")
PHOTO_COUNT = _script(r"""
  const [formLabel, remove] = args;
  const form = formOf(formLabel);
  if (!form) return -1;
  const removes = [...form.querySelectorAll('[role="button"], button')].filter((b) => shown(b) && nameOf(b).startsWith(remove));
  if (removes.length) return removes.length;
  return [...form.querySelectorAll("img")].filter(shown).length;
""")


# Whether the form shows each product tag as a chip of its own (an element's own text, or a
# "Remove <tag>" control), with nothing left typed in the tags field.
TAGS_SHOWN = _script(r"""
  const [formLabel, tags, fieldName] = args;
  const form = formOf(formLabel);
  const field = form && [...form.querySelectorAll('textarea, input, [role="textbox"]')].find((el) => shown(el)
    && (nameOf(el) === fieldName || nameOf(el).startsWith(fieldName + " ")));
  if (!field || (field.isContentEditable ? field.innerText : field.value).trim()) return false;
  const texts = new Set();
  for (const el of form.querySelectorAll("*")) {
    if (!shown(el) || ["TEXTAREA", "INPUT"].includes(el.tagName)) continue;
    const own = norm([...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join(" "));
    if (own) texts.add(own);
    const label = norm(el.getAttribute("aria-label"));
    if (label) texts.add(label);
  }
  return tags.every((tag) => texts.has(norm(tag)) || texts.has("remove " + norm(tag)));
""")

# Whether the form's Category field (a combobox or button named "Category") shows `value`: read
# afresh at every poll, since setting a category may redraw the step (Condition then appears).
CATEGORY_SHOWS = _script(r"""
  const [formLabel, label, value] = args;
  const form = formOf(formLabel);
  if (!form) return false;
  return triggersIn(form, label).some((el) => {
    const text = norm(el.innerText);
    return text === value || text === label + " " + value;
  });
""")


# The Location suggestions, once a listbox of options shows them: their texts, in order.
SUGGESTIONS = _script(r"""
  const options = [...document.querySelectorAll('[role="listbox"] [role="option"]')].filter(shown);
  return options.length ? options.map((o) => (o.innerText || "").replace(/\s+/g, " ").trim()) : false;
""")


def polled(script: str) -> str:
    """`script` (a predicate of `_script`'s shape) as one call that polls it in the page, once a
    frame, until it answers or `timeout_ms` passes (then `{"__timeout": true}`): a wait that costs
    one round trip, where `page.wait_for_function` costs two (the wait, then reading its value)."""
    return _POLLED.setdefault(script, r"""async ([args, timeoutMs]) => {
  const test = """ + script + r""";
  const end = performance.now() + timeoutMs;
  for (;;) {
    const answer = test(args);
    if (answer) return answer;
    if (performance.now() > end) return {__timeout: true};
    await new Promise((resolve) => { const t = setTimeout(resolve, 50); requestAnimationFrame(() => { clearTimeout(t); resolve(); }); });
  }
}""")


_POLLED: dict[str, str] = {}
