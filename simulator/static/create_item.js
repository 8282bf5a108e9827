/* The create-listing form's behaviour, inlined into /marketplace/create/item.
 *
 * The server renders step 1 (under the slow_fields fault: into a <template> that this script adds
 * after a delay) and hands over window.__simCreateItem: the random ids of the elements driven
 * here, the UI strings of the page's locale and a few URLs. Everything this script creates gets
 * fresh generated class names and no stable id, like Facebook's own markup, so drivers can only
 * rely on roles, accessible names and texts.
 */
(function () {
  "use strict";
  const cfg = window.__simCreateItem;
  delete window.__simCreateItem;
  const t = cfg.strings;
  const d = cfg.dialogs;
  const byKey = (key) => document.getElementById(cfg.ids[key]);
  const form = byKey("form");

  const state = {
    photos: [],
    category: null,
    condition: null,
    location: null, // set only by clicking a suggestion: typing alone does not count
    pickup: true,
    shipping: false,
    fields: null, // step 1's values, captured by its Next
    publishing: false,
  };

  // -- small DOM helpers ------------------------------------------------------------------------
  const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
  function randomToken(prefix, length) {
    const bytes = crypto.getRandomValues(new Uint8Array(length));
    return prefix + Array.from(bytes, (b) => ALPHABET[b % ALPHABET.length]).join("");
  }
  function randomClass() {
    return randomToken("x", 7) + " " + randomToken("x", 7);
  }
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    node.className = randomClass();
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined) node.setAttribute(name, value);
    }
    node.append(...children);
    return node;
  }
  function roleButton(label, attrs) {
    return el("div", Object.assign({ role: "button", tabindex: "0" }, attrs || {}), label);
  }
  const isDisabled = (node) => node.getAttribute("aria-disabled") === "true";
  function onActivate(node, handler) {
    // Clicks on a disabled control do nothing, as on Facebook.
    node.addEventListener("click", (event) => {
      if (!isDisabled(node)) handler(event);
    });
  }

  // -- popups: the Category dialog and the Condition listbox, rendered at the end of <body> ----
  let popup = null; // {node, opener}
  function closePopup() {
    if (!popup) return;
    popup.node.remove();
    popup.opener.setAttribute("aria-expanded", "false");
    popup = null;
  }
  function openChoice(kind) {
    const opener = byKey(kind);
    if (popup && popup.opener === opener) {
      closePopup(); // a second click on the combobox closes it
      return;
    }
    closePopup();
    const texts = kind === "category" ? t.categories : t.conditions;
    const options = texts.map((text) =>
      el("div", { role: "option", tabindex: "-1", "aria-selected": String(state[kind] === text) }, text));
    const node = kind === "category"
      ? el("div", { role: "dialog", "aria-label": t.select_category }, ...options)
      : el("div", { role: "listbox", "aria-label": t.condition }, ...options);
    node.addEventListener("click", (event) => {
      const option = event.target.closest('[role="option"]');
      if (!option) return;
      state[kind] = option.textContent;
      byKey(kind + "_value").textContent = option.textContent;
      closePopup();
      updateNext();
    });
    const box = opener.getBoundingClientRect();
    node.style.top = `${box.bottom + window.scrollY + 4}px`;
    node.style.left = `${box.left + window.scrollX}px`;
    document.body.append(node);
    opener.setAttribute("aria-expanded", "true");
    popup = { node, opener };
  }

  // -- the Location typeahead ------------------------------------------------------------------
  let suggestTimer = null;
  let suggestions = null; // the open <ul role="listbox">
  function closeSuggestions() {
    clearTimeout(suggestTimer);
    if (suggestions) suggestions.remove();
    suggestions = null;
    const input = byKey("location");
    if (input) {
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-controls");
    }
  }
  function showSuggestions(text) {
    const input = byKey("location");
    const texts = [text, `${text}, ${t.country}`, `${text} ${t.metro}`];
    suggestions = el("ul", { role: "listbox", id: randomToken(":r", 6) + ":", "aria-label": t.location },
      ...texts.map((s) => el("li", { role: "option", tabindex: "-1", "aria-selected": "false" }, s)));
    suggestions.addEventListener("click", (event) => {
      const option = event.target.closest('[role="option"]');
      if (!option) return;
      input.value = option.textContent; // a programmatic value fires no input event
      state.location = option.textContent;
      closeSuggestions();
      updateNext();
    });
    input.closest("label").after(suggestions);
    input.setAttribute("aria-expanded", "true");
    input.setAttribute("aria-controls", suggestions.id);
  }

  // -- step 1: the item -------------------------------------------------------------------------
  function priceValue(text) {
    // Any text may be typed; only a plain non-negative number ("$1,200.50" is fine) enables Next.
    const cleaned = text.replace(/[$,\s]/g, "");
    return /^\d+(\.\d+)?$/.test(cleaned) ? Number(cleaned) : null;
  }
  function updateNext() {
    const next = byKey("next");
    if (!next || !next.isConnected) return;
    const ready = state.photos.length > 0
      && byKey("title").value.trim() !== ""
      && priceValue(byKey("price").value) !== null
      && state.category !== null
      && state.condition !== null
      && state.location !== null;
    next.setAttribute("aria-disabled", ready ? "false" : "true");
  }
  function renderPhotos() {
    byKey("thumbs").replaceChildren(...state.photos.map((file, i) =>
      el("img", { src: URL.createObjectURL(file), alt: `${t.photo} ${i + 1}` })));
    const count = byKey("photo_count");
    count.textContent = `${t.photos} \u00b7 ${state.photos.length} / ${cfg.maxPhotos}`;
    count.hidden = state.photos.length === 0;
  }
  function initStep1() {
    byKey("file").addEventListener("change", (event) => {
      // Files add up across choices; beyond the maximum they are ignored.
      for (const file of event.target.files) {
        if (state.photos.length < cfg.maxPhotos) state.photos.push(file);
      }
      renderPhotos();
      updateNext();
    });
    byKey("title").addEventListener("input", updateNext);
    byKey("price").addEventListener("input", updateNext);
    byKey("category").addEventListener("click", () => openChoice("category"));
    byKey("condition").addEventListener("click", () => openChoice("condition"));
    const more = byKey("more");
    more.addEventListener("click", () => {
      const open = more.getAttribute("aria-expanded") !== "true";
      more.setAttribute("aria-expanded", String(open));
      byKey("desc_wrap").hidden = !open;
    });
    const location = byKey("location");
    location.addEventListener("input", () => {
      state.location = null; // typing again forgets the chosen suggestion
      updateNext();
      closeSuggestions();
      const text = location.value.trim();
      if (text.length >= 2) suggestTimer = setTimeout(() => showSuggestions(text), 150);
    });
    onActivate(byKey("next"), () => {
      state.fields = {
        title: byKey("title").value.trim(),
        price: byKey("price").value.trim(),
        category: state.category,
        condition: state.condition,
        description: byKey("desc").value,
        location: state.location,
      };
      showDelivery();
    });
  }

  // -- step 2: delivery method ------------------------------------------------------------------
  function showDelivery() {
    closePopup();
    closeSuggestions();
    const next = roleButton(t.next, { "aria-label": t.next, "aria-disabled": "false" });
    const checkbox = (label, key) => {
      const box = el("div", { role: "checkbox", tabindex: "0", "aria-checked": String(state[key]) }, label);
      box.addEventListener("click", () => {
        state[key] = !state[key];
        box.setAttribute("aria-checked", String(state[key]));
        next.setAttribute("aria-disabled", state.pickup || state.shipping ? "false" : "true");
      });
      return box;
    };
    onActivate(next, showReview);
    // Swapped in place: the same div[role=form], new content, a new Next element.
    form.replaceChildren(el("div", {},
      el("h2", {}, t.delivery_method),
      checkbox(t.local_pickup, "pickup"),
      checkbox(t.shipping, "shipping"),
      dailyLimitNote(),
      next));
  }
  function deliveryCodes() {
    return [state.pickup && "local_pickup", state.shipping && "shipping"].filter(Boolean).join(",");
  }

  // -- step 3: review and publish ---------------------------------------------------------------
  function showReview(linger) {
    const f = state.fields;
    const delivery = [state.pickup && t.local_pickup, state.shipping && t.shipping].filter(Boolean).join(", ");
    const rows = [
      [t.title, f.title], [t.price, f.price], [t.category, f.category], [t.condition, f.condition],
      [t.description, f.description], [t.location, f.location], [t.delivery, delivery],
      [t.photos, String(state.photos.length)],
    ];
    const summary = el("dl", {}, ...rows.flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, value)]));
    // Under the daily limit Publish stays disabled: the note above it says why.
    const publish = roleButton(t.publish, { "aria-label": t.publish,
      "aria-disabled": cfg.dailyLimit || linger === "disabled" ? "true" : "false" });
    onActivate(publish, () => doPublish(publish));
    // After a recorded publish Facebook may keep the step on screen a moment, drawn again: its
    // Publish disabled under a spinner, or enabled as before (a click there publishes again).
    const spinner = linger === "disabled"
      ? el("div", { role: "progressbar", "aria-label": cfg.publishing }, cfg.publishing) : "";
    form.replaceChildren(el("div", {}, el("h2", {}, t.review), summary, dailyLimitNote(), spinner, publish));
  }
  let lingerTimer = null;
  function lingerThen(url) {
    // The form stays up for linger_ms before the page moves on; a second publish goes on at once.
    if (!cfg.lingerMs || state.published > 1) return window.location.assign(url);
    showReview(cfg.lingerButton);
    lingerTimer = setTimeout(() => window.location.assign(url), cfg.lingerMs);
  }
  function dailyLimitNote() {
    return cfg.dailyLimit ? el("div", {}, d.daily_limit) : "";
  }
  function showNotice(dialogSpec, publish) {
    // A refusal Facebook explains in a dialog (a temporary block, the daily limit).
    const ok = roleButton(dialogSpec.button);
    const dialog = el("div", { role: "dialog", "aria-modal": "true", "aria-label": dialogSpec.title },
      el("h2", {}, dialogSpec.title), el("p", {}, dialogSpec.text), ok);
    ok.addEventListener("click", () => {
      dialog.remove();
      publish.setAttribute("aria-disabled", "false");
    });
    document.body.append(dialog);
  }
  function showAlert(message, before) {
    const alert = el("div", { role: "alert" }, message);
    before.before(alert);
  }
  function clearAlerts() {
    form.querySelectorAll('[role="alert"]').forEach((node) => node.remove());
  }
  function showPublishFailed(publish) {
    // What Facebook shows when the publish request fails or never answers properly.
    const close = roleButton(d.close);
    const dialog = el("div", { role: "dialog", "aria-modal": "true", "aria-label": d.publish_failed },
      el("p", {}, d.publish_failed), close);
    close.addEventListener("click", () => {
      dialog.remove();
      publish.setAttribute("aria-disabled", "false");
    });
    document.body.append(dialog);
  }
  function showBoost(id) {
    const notNow = roleButton(d.not_now);
    const boost = roleButton(d.boost);
    const dialog = el("div", { role: "dialog", "aria-modal": "true", "aria-label": d.boost_title },
      el("h2", {}, d.boost_title), el("p", {}, d.boost_text), notNow, boost);
    notNow.addEventListener("click", () => { dialog.remove(); lingerThen(cfg.sellingUrl); });
    boost.addEventListener("click", () => { dialog.remove(); lingerThen(`/marketplace/item/${id}/`); });
    document.body.append(dialog);
  }
  async function doPublish(publish) {
    if (state.publishing) return;
    state.publishing = true;
    clearTimeout(lingerTimer); // a click on the lingering Publish: its answer decides what follows
    publish.setAttribute("aria-disabled", "true");
    clearAlerts();
    const body = new FormData();
    body.append("page_id", cfg.pageId);
    for (const [name, value] of Object.entries(state.fields)) body.append(name, value);
    body.append("delivery", deliveryCodes());
    for (const file of state.photos) body.append("photos", file, file.name);
    let response = null;
    try {
      response = await fetch(cfg.publishUrl, { method: "POST", body, credentials: "same-origin" });
    } catch (error) {
      // The connection died: the listing may or may not exist; the page cannot tell.
      state.publishing = false;
      showPublishFailed(publish);
      return;
    }
    if (response.status === 401) {
      window.location.assign(cfg.loginUrl);
      return;
    }
    let data = {};
    try {
      data = await response.json();
    } catch (error) {
      data = {};
    }
    state.publishing = false;
    if (response.ok && typeof data.id === "number") {
      state.published = (state.published || 0) + 1;
      if (data.boost_offer) showBoost(data.id);
      else lingerThen(cfg.sellingUrl);
    } else if (data.duplicate) {
      window.location.assign(cfg.sellingUrl);
    } else if (data.dialog) {
      showNotice(data.dialog, publish);
    } else if (response.status >= 500) {
      showPublishFailed(publish);
    } else {
      showAlert(data.error || d.generic_error, publish);
      publish.setAttribute("aria-disabled", "false");
    }
  }

  // -- page-wide behaviour ----------------------------------------------------------------------
  document.addEventListener("click", (event) => {
    // A click outside an open popup or suggestion list closes it.
    if (popup && !popup.node.contains(event.target) && !popup.opener.contains(event.target)) closePopup();
    if (suggestions && !suggestions.contains(event.target) && event.target !== byKey("location")) {
      closeSuggestions();
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      closePopup();
      closeSuggestions();
      return;
    }
    // Enter and Space activate the div-based controls, as they would a native button.
    const target = event.target;
    const role = target.getAttribute && target.getAttribute("role");
    const activatable = ["button", "checkbox", "option"].includes(role)
      || (role === "combobox" && target.tagName === "LABEL");
    if (activatable && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      target.click();
    }
  });

  function initDailyLimit() {
    if (cfg.dailyLimit) byKey("next").before(dailyLimitNote());
  }
  if (cfg.slowMs === null) {
    initDailyLimit();
    initStep1();
  } else {
    form.setAttribute("aria-busy", "true");
    setTimeout(() => {
      form.append(byKey("template").content.cloneNode(true));
      form.removeAttribute("aria-busy");
      initDailyLimit();
      initStep1();
    }, cfg.slowMs);
  }
})();
