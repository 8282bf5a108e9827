/* The "2026" create-listing form, inlined into /marketplace/create/item for accounts whose layout
 * is "2026" (see README.md). The server renders an empty div[role=form] and hands over
 * window.__simCreateItem2026: the layout options, the UI strings of the page's locale, the
 * account's draft, the category tree, the places of the Location typeahead and a few URLs.
 * Everything is built here with fresh generated class names and ids, like Facebook's React
 * markup: drivers can only rely on roles, accessible names and texts.
 *
 * Values come from input events only, as with React's controlled inputs: a value set from script
 * (el.value = ...) is not seen, and publishes empty.
 */
(function () {
  "use strict";
  const cfg = window.__simCreateItem2026;
  delete window.__simCreateItem2026;
  const t = cfg.strings;
  const d = cfg.dialogs;
  const o = cfg.options;
  const late = cfg.layout === "late2026"; // the late-2026 page: chips only once a title is typed, the daily cap at the last step
  const form = document.getElementById(cfg.formId);
  form.removeAttribute("id");
  const main = form.closest('[role="main"]');

  // -- small DOM helpers ------------------------------------------------------------------------
  const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
  function randomToken(prefix, length) {
    const bytes = crypto.getRandomValues(new Uint8Array(length));
    return prefix + Array.from(bytes, (b) => ALPHABET[b % ALPHABET.length]).join("");
  }
  const randomClass = () => randomToken("x", 7) + " " + randomToken("x", 7);
  const newId = () => randomToken(":r", 6) + ":";
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    node.className = randomClass();
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value);
    }
    node.append(...children.filter((c) => c !== null && c !== undefined && c !== ""));
    return node;
  }
  function roleButton(content, attrs) {
    return el("div", Object.assign({ role: "button", tabindex: "0" }, attrs || {}), content);
  }
  function priceValue(text) {
    const cleaned = text.replace(/[$,\s]/g, "");
    return /^\d+(\.\d+)?$/.test(cleaned) ? Number(cleaned) : null;
  }
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim();
  }

  // -- state ------------------------------------------------------------------------------------
  const steps = ["item", "delivery"];
  if (o.steps === 4) steps.push("offers");
  if (o.steps >= 3) steps.push("groups");
  const draft = o.draft ? cfg.draft : null;
  const state = {
    photos: [], // {file, url}, in carousel order
    title: draft ? draft.title : "",
    price: draft ? draft.price : "",
    description: "",
    category: null,
    condition: null,
    locationText: o.prefill_location,
    location: o.prefill_location || null, // set by a suggestion's click (or the prefill) only
    meetup: [true, false, false],
    hide: false,
    boost: o.boost_default_on,
    offers: true,
    groups: cfg.groups.map(() => false),
    tags: [], // product tags: chips, in the order made
    tagText: "", // what is typed in the tags textarea (not a tag)
    sku: "",
    brand: "",
    availability: t.availabilities[0],
    moreOpen: false,
    chipsShown: false,
    step: 0,
    dirty: Boolean(draft),
    publishing: false,
    recorded: null, // the publish answer once the listing exists
    leaving: false,
  };
  if (draft) {
    for (const photo of draft.photos) {
      const bytes = Uint8Array.from(atob(photo.data), (c) => c.charCodeAt(0));
      const file = new File([bytes], photo.name, { type: photo.type });
      state.photos.push({ file, url: URL.createObjectURL(file) });
    }
  }
  let footerButton = null;
  let alertSlot = null;
  let viewer = null;
  let lingerTimer = null;
  let lastRedraw = 0; // when step 1 was last drawn (more_details_redraw)
  let keyActivation = false; // a click that Enter or Space made
  const ui = {}; // the current step's live nodes

  const isLastStep = () => state.step === steps.length - 1;
  const modalOpen = () => viewer !== null || document.querySelector('body > [role="dialog"][aria-modal="true"]') !== null;

  // -- drafts: saved server-side whenever title, price or photos change -------------------------
  let draftTimer = null;
  let draftChain = Promise.resolve();
  function draftChanged() {
    if (!o.draft || state.publishing || state.recorded) return;
    clearTimeout(draftTimer);
    draftTimer = setTimeout(() => {
      draftTimer = null;
      queueDraft();
    }, 250);
  }
  function queueDraft() {
    draftChain = draftChain.then(() => {
      const body = new FormData();
      body.append("page_id", cfg.pageId);
      body.append("title", state.title);
      body.append("price", state.price);
      for (const photo of state.photos) body.append("photos", photo.file, photo.file.name);
      return fetch(cfg.draftUrl, { method: "POST", body, credentials: "same-origin" }).then(() => {}, () => {});
    });
  }
  function flushDraft() {
    if (draftTimer !== null) {
      clearTimeout(draftTimer);
      draftTimer = null;
      queueDraft();
    }
    return draftChain;
  }

  // -- leaving the page -------------------------------------------------------------------------
  window.addEventListener("beforeunload", (event) => {
    // Facebook guards an unfinished form against navigating away.
    if (state.dirty && !state.recorded && !state.leaving) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  function goTo(url) {
    state.leaving = true;
    window.location.assign(url);
  }
  function changed() {
    state.dirty = true;
    refreshFooter();
  }

  // -- popups: category picker, condition listbox, location suggestions --------------------------
  let popup = null; // {node, opener, kind}
  function closePopup() {
    if (!popup) return;
    popup.node.remove();
    popup.opener.setAttribute("aria-expanded", "false");
    popup = null;
  }
  function placeUnder(node, opener) {
    const box = opener.getBoundingClientRect();
    node.style.top = `${box.bottom + window.scrollY + 4}px`;
    node.style.left = `${box.left + window.scrollX}px`;
  }
  function openPopup(kind, opener, node) {
    placeUnder(node, opener);
    document.body.append(node);
    opener.setAttribute("aria-expanded", "true");
    popup = { node, opener, kind };
  }

  function setCategory(name) {
    state.category = name;
    if (ui.categoryValue) ui.categoryValue.textContent = name;
    closePopup();
    changed();
    // condition_after_category: Condition comes with a category, and step 1 is drawn anew.
    if (o.condition_after_category && steps[state.step] === "item" && !ui.conditionShown) showStep(state.step);
  }
  function togglePicker(opener) {
    if (popup && popup.kind === "category") return closePopup();
    closePopup();
    const headingId = newId();
    const search = el("input", { type: "search", "aria-label": t.search, placeholder: t.search, autocomplete: "off" });
    const rows = el("div", {});
    const dialog = el("div", { role: "dialog", "aria-labelledby": headingId },
      el("h2", { id: headingId }, t.select_category), search, rows);
    let parent = null; // the parent category whose children are shown
    let searchTimer = null;
    const leafRow = (name, parentName) => {
      const row = roleButton(el("div", {}, name), {});
      if (parentName) row.append(el("div", {}, parentName));
      row.addEventListener("click", () => setCategory(name));
      return row;
    };
    function showTop() {
      parent = null;
      rows.replaceChildren(...cfg.tree.map((node) => {
        if (node.children === null) return leafRow(node.name, null);
        const row = roleButton(node.name, {});
        row.addEventListener("click", () => showChildren(node));
        return row;
      }));
    }
    function showChildren(node) {
      parent = node;
      const back = roleButton("\u2039", { "aria-label": t.back });
      back.addEventListener("click", showTop);
      const leaves = node.selectable ? [node.name, ...node.children] : node.children;
      rows.replaceChildren(back, el("h3", {}, node.name), ...leaves.map((name) => leafRow(name, null)));
    }
    function showSearch(text) {
      const query = fold(text);
      if (!query) return parent ? showChildren(parent) : showTop();
      const found = [];
      for (const node of cfg.tree) {
        const candidates = node.children === null
          ? [[node.name, null]]
          : [...(node.selectable ? [[node.name, null]] : []), ...node.children.map((c) => [c, node.name])];
        for (const [name, parentName] of candidates) {
          if (fold(name).includes(query)) found.push(leafRow(name, parentName));
        }
      }
      rows.replaceChildren(...(found.length ? found : [el("p", {}, t.no_results)]));
    }
    search.addEventListener("input", () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(() => showSearch(search.value), 300);
    });
    showTop();
    openPopup("category", opener, dialog);
  }
  function toggleListbox(kind, opener, label, texts, key, valueNode) {
    if (popup && popup.kind === kind) return closePopup();
    closePopup();
    const listbox = el("div", { role: "listbox", "aria-label": label },
      ...texts.map((text) =>
        el("div", { role: "option", tabindex: "-1", "aria-selected": String(state[key] === text) }, text)));
    listbox.addEventListener("click", (event) => {
      const option = event.target.closest('[role="option"]');
      if (!option) return;
      state[key] = option.textContent;
      valueNode.textContent = option.textContent;
      closePopup();
      changed();
    });
    openPopup(kind, opener, listbox);
  }
  function toggleCondition(opener) {
    toggleListbox("condition", opener, t.condition, t.conditions, "condition", ui.conditionValue);
  }

  // Location: suggestions ~500 ms after typing; "City, ST" may bring none at all.
  let suggestTimer = null;
  let suggestions = null;
  function closeSuggestions() {
    clearTimeout(suggestTimer);
    if (suggestions) suggestions.remove();
    suggestions = null;
    if (ui.location && o.location_role === "combobox") {
      ui.location.setAttribute("aria-expanded", "false");
      ui.location.removeAttribute("aria-controls");
    }
  }
  function places(text) {
    const typed = text.trim();
    if (typed.length < 2) return [];
    let city = typed;
    let rest = "";
    if (typed.includes(",")) {
      if (o.city_state_suppresses) return [];
      [city, rest] = [typed.slice(0, typed.indexOf(",")).trim(), typed.slice(typed.indexOf(",") + 1).trim()];
    }
    const found = [];
    for (const [name, states] of cfg.cities) {
      if (!fold(name).startsWith(fold(city)) || !city) continue;
      for (const stateName of states) {
        const matchesRest = rest !== "" && (fold(stateName).startsWith(fold(rest))
          || (cfg.stateAbbreviations[stateName] || "").toLowerCase() === fold(rest));
        found.push({ text: `${name}, ${stateName}`, first: matchesRest });
      }
    }
    found.sort((a, b) => Number(b.first) - Number(a.first));
    return found.slice(0, 8).map((x) => x.text);
  }
  function showSuggestions(text) {
    const found = places(text);
    if (!found.length || !ui.location || !ui.location.isConnected) return;
    const input = ui.location;
    suggestions = el("ul", { role: "listbox", id: newId(), "aria-label": t.location },
      ...found.map((s) => el("li", { role: "option", tabindex: "-1", "aria-selected": "false" }, s)));
    suggestions.addEventListener("click", (event) => {
      const option = event.target.closest('[role="option"]');
      if (!option) return;
      input.value = option.textContent; // a programmatic value: no input event
      state.locationText = option.textContent;
      state.location = option.textContent;
      closeSuggestions();
      changed();
    });
    input.parentElement.after(suggestions);
    if (o.location_role === "combobox") {
      input.setAttribute("aria-expanded", "true");
      input.setAttribute("aria-controls", suggestions.id);
    }
  }
  function buildLocation() {
    const attrs = { type: "text", "aria-label": t.location, placeholder: t.location, autocomplete: "off",
      "aria-autocomplete": "list" };
    if (o.location_role === "combobox") Object.assign(attrs, { role: "combobox", "aria-expanded": "false" });
    const input = el("input", attrs);
    input.value = state.locationText;
    input.addEventListener("input", () => {
      state.locationText = input.value;
      state.location = null; // typing again forgets the chosen suggestion
      closeSuggestions();
      changed();
      const text = input.value;
      suggestTimer = setTimeout(() => showSuggestions(text), 500);
    });
    ui.location = input;
    return el("div", {}, input);
  }

  // -- photos -----------------------------------------------------------------------------------
  let fileInput = null;
  function ensureFileInput() {
    if (fileInput && fileInput.isConnected) return fileInput;
    fileInput = el("input", { type: "file", accept: "image/*,image/heif,image/heic", multiple: "",
      style: "display:none" });
    fileInput.addEventListener("change", () => {
      for (const file of fileInput.files) {
        if (state.photos.length < cfg.maxPhotos) state.photos.push({ file, url: URL.createObjectURL(file) });
      }
      fileInput.value = "";
      renderPhotos();
      changed();
      draftChanged();
    });
    ui.photoSection.append(fileInput);
    return fileInput;
  }
  function openViewer(index) {
    if (viewer || !state.photos.length) return;
    const i = Math.max(0, Math.min(index, state.photos.length - 1));
    const close = roleButton("\u00d7", { "aria-label": t.close });
    viewer = el("div", {
      role: "dialog", "aria-modal": "true", "aria-label": t.photo_viewer,
      style: "position:fixed;inset:0;transform:none;z-index:1000;background:rgba(0,0,0,.88);display:flex;"
        + "flex-direction:column;align-items:center;justify-content:center",
    }, el("img", { src: state.photos[i].url, alt: `${t.photo} ${i + 1}`, style: "max-width:80vw;max-height:70vh;width:320px" }), close);
    close.addEventListener("click", () => {
      viewer.remove();
      viewer = null;
    });
    document.body.append(viewer);
  }
  function renderPhotos() {
    const n = state.photos.length;
    ui.photoCount.textContent = `${t.photos} \u00b7 ${n} / ${cfg.maxPhotos}`;
    ui.photoCount.hidden = n === 0;
    if (n === 0) {
      ui.carousel.replaceChildren();
      return;
    }
    const viewArrows = o.carousel_arrows === "view_next_image";
    const previous = roleButton("\u2039", { "aria-label": viewArrows ? t.view_previous : t.previous });
    const next = roleButton("\u203a", { "aria-label": viewArrows ? t.view_next : t.next });
    previous.addEventListener("click", () => openViewer(n - 1));
    next.addEventListener("click", () => openViewer(1));
    const thumbs = state.photos.map((photo, i) => {
      const remove = roleButton("\u00d7", { "aria-label": t.remove_photo });
      remove.addEventListener("click", () => {
        URL.revokeObjectURL(photo.url);
        state.photos.splice(state.photos.indexOf(photo), 1);
        renderPhotos();
        changed();
        draftChanged();
      });
      return el("div", { style: "display:inline-block;position:relative" },
        el("img", { src: photo.url, alt: `${t.photo} ${i + 1}` }), remove);
    });
    ui.carousel.replaceChildren(previous, el("div", { style: "display:inline-block" }, ...thumbs), next);
  }
  function buildPhotos() {
    const add = roleButton(t.add_photos, {});
    ui.photoCount = el("span", { hidden: "" });
    ui.carousel = el("div", {});
    // "View next image" builds put the carousel right before the footer (see buildItem).
    ui.photoSection = o.carousel_arrows === "view_next_image"
      ? el("div", {}, add, ui.photoCount)
      : el("div", {}, add, ui.photoCount, ui.carousel);
    // Some builds create the file input only once "Add photos" is pressed.
    if (!o.add_photos_first) ensureFileInput();
    add.addEventListener("click", () => ensureFileInput().click());
    renderPhotos();
    return ui.photoSection;
  }

  // -- step 1: the item -------------------------------------------------------------------------
  function labelled(name, control) {
    const labelId = newId();
    control.setAttribute("aria-labelledby", labelId);
    control.id = newId();
    return el("label", {}, el("span", { id: labelId }, name), control);
  }
  let chipTimer = null;
  function suggestedCategories(title) {
    if (!title.trim()) return [];
    for (const [pattern, names] of cfg.chips.rules) {
      if (new RegExp(pattern, "i").test(title)) return names;
    }
    return cfg.chips.fallback;
  }
  function renderChips() {
    if (!ui.chips || !o.category_chips) return;
    state.chipsShown = state.title.trim() !== "";
    ui.chips.replaceChildren(...suggestedCategories(state.title).map((name) => {
      const chip = roleButton(name, {});
      chip.addEventListener("click", () => setCategory(name));
      return chip;
    }));
  }
  function comboboxLabel(name, valueText, onOpen) {
    const labelId = newId();
    const value = el("span", {}, valueText || "");
    const box = el("label", { role: "combobox", tabindex: "0", "aria-haspopup": "listbox",
      "aria-expanded": "false", "aria-labelledby": labelId }, el("span", { id: labelId }, name), value);
    box.addEventListener("click", (event) => {
      event.preventDefault();
      onOpen(box, value);
    });
    return [box, value];
  }
  function buildDescription() {
    if (o.description === "contenteditable") {
      // A rich-text box, no textarea: its value is its text, seen through input events only.
      const box = el("div", { contenteditable: "true", role: "textbox", "aria-multiline": "true",
        "aria-label": t.description_recommended, tabindex: "0",
        style: "min-height:60px;border:1px solid #ced0d4;border-radius:6px;padding:8px 10px;margin:10px 0" });
      box.textContent = state.description;
      box.addEventListener("input", () => {
        state.description = box.innerText.replace(/\n$/, "");
        changed();
      });
      return box;
    }
    const textarea = el("textarea", {});
    textarea.value = state.description;
    textarea.addEventListener("input", () => {
      state.description = textarea.value;
      changed();
    });
    return labelled(t.description, textarea);
  }
  function buildTags() {
    // Product tags: a comma or Enter makes a chip of the text typed so far.
    const textarea = el("textarea", { rows: "1" });
    textarea.value = state.tagText;
    const chips = el("div", {});
    const addTag = (text) => {
      const tag = text.trim();
      if (!tag || state.tags.length >= cfg.maxTags) return;
      if (state.tags.some((x) => x.toLowerCase() === tag.toLowerCase())) return; // a duplicate
      state.tags.push(tag);
    };
    const render = () => chips.replaceChildren(...state.tags.map((tag) => {
      const remove = roleButton("\u00d7", { "aria-label": `${t.remove} ${tag}` });
      remove.addEventListener("click", () => {
        state.tags.splice(state.tags.indexOf(tag), 1);
        render();
        changed();
      });
      return el("span", { style: "display:inline-block;margin:2px 4px 2px 0;padding:2px 6px;border-radius:12px;background:#e4e6eb" },
        el("span", {}, tag), remove);
    }));
    textarea.addEventListener("input", () => {
      if (textarea.value.includes(",")) {
        const parts = textarea.value.split(",");
        const rest = parts.pop();
        parts.forEach(addTag);
        textarea.value = rest.replace(/^\s+/, "");
        render();
      }
      state.tagText = textarea.value;
      changed();
    });
    textarea.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      addTag(textarea.value);
      textarea.value = "";
      state.tagText = "";
      render();
      changed();
    });
    render();
    return el("div", {}, labelled(t.product_tags, textarea), chips);
  }
  function textInput(name, key) {
    const input = el("input", { type: "text" });
    input.value = state[key];
    input.addEventListener("input", () => {
      state[key] = input.value;
      changed();
    });
    return labelled(name, input);
  }
  function buildMoreDetails() {
    // What "More details" holds: the Description (unless always shown), then the late-2026 fields.
    const inside = [];
    if (o.description !== "always") inside.push(buildDescription());
    if (o.product_tags) inside.push(buildTags());
    if (o.sku) inside.push(textInput(t.sku, "sku"));
    if (o.brand_availability) {
      inside.push(textInput(t.brand, "brand"));
      const [box] = comboboxLabel(t.availability, state.availability, (opener, value) =>
        toggleListbox("availability", opener, t.availability, t.availabilities, "availability", value));
      inside.push(box);
    }
    if (!inside.length) return null;
    const wrap = el("div", state.moreOpen ? {} : { hidden: "" }, ...inside);
    const more = roleButton(t.more_details + " ", { "aria-expanded": String(state.moreOpen) });
    more.append(el("span", {}, t.more_details_hint));
    more.addEventListener("click", () => {
      // Right after a redraw a click is lost (Enter or Space still works).
      if (o.more_details_redraw && !keyActivation && Date.now() - lastRedraw < 1000) return;
      state.moreOpen = more.getAttribute("aria-expanded") !== "true";
      more.setAttribute("aria-expanded", String(state.moreOpen));
      wrap.hidden = !state.moreOpen;
    });
    return el("div", {}, more, wrap);
  }
  function buildItem() {
    const title = el("input", { type: "text" });
    title.value = state.title;
    title.addEventListener("input", () => {
      state.title = title.value;
      changed();
      draftChanged();
      clearTimeout(chipTimer);
      chipTimer = setTimeout(renderChips, 400);
    });
    const price = el("input", { type: "text", inputmode: "decimal" });
    price.value = state.price;
    price.addEventListener("input", () => {
      state.price = price.value;
      changed();
      draftChanged();
    });

    const categoryLabel = newId();
    ui.categoryValue = el("span", {}, state.category || "");
    const category = el("label", { role: o.category_trigger, tabindex: "0", "aria-haspopup": "dialog",
      "aria-expanded": "false", "aria-labelledby": categoryLabel },
    el("span", { id: categoryLabel }, t.category), ui.categoryValue);
    category.addEventListener("click", (event) => {
      event.preventDefault();
      togglePicker(category);
    });
    ui.chips = el("div", {});

    // condition_after_category: no Condition at all until a category is set.
    let condition = null;
    ui.conditionShown = !o.condition_after_category || state.category !== null;
    if (ui.conditionShown) {
      [condition, ui.conditionValue] = comboboxLabel(t.condition, state.condition, (opener) => toggleCondition(opener));
    }

    const description = o.description === "always" ? buildDescription() : null;
    const content = el("div", {},
      el("h1", {}, t.heading),
      buildPhotos(),
      labelled(t.title, title),
      labelled(t.price, price),
      category, ui.chips,
      condition,
      description,
      buildMoreDetails(),
      o.location_step === 1 ? buildLocation() : null,
      o.carousel_arrows === "view_next_image" ? ui.carousel : null,
      buildFooter());
    if (late) {
      // Late 2026: chips only once a title is typed on this page (never for a draft's title).
      if (state.chipsShown) renderChips();
    } else if (state.title) {
      chipTimer = setTimeout(renderChips, 400);
    }
    lastRedraw = Date.now();
    return content;
  }

  // -- steps 2 and later ------------------------------------------------------------------------
  function checkbox(label, get, set) {
    const box = el("div", { role: "checkbox", tabindex: "0", "aria-checked": String(get()) }, label);
    box.addEventListener("click", () => {
      if (set(!get()) === false) return; // refused
      box.setAttribute("aria-checked", String(get()));
      changed();
    });
    return box;
  }
  function switchRow(label, hint, get, set) {
    const labelId = newId();
    const control = el("div", { role: "switch", tabindex: "0", "aria-checked": String(get()), "aria-labelledby": labelId });
    control.addEventListener("click", () => {
      set(!get());
      control.setAttribute("aria-checked", String(get()));
      changed();
    });
    return el("div", {}, el("div", {}, el("span", { id: labelId }, label), control), el("div", {}, hint));
  }
  function boostRow() {
    return isLastStep() ? switchRow(t.boost_switch, t.boost_hint, () => state.boost, (v) => { state.boost = v; }) : null;
  }
  function buildDelivery() {
    const meetup = cfg.meetup.map((label, i) => checkbox(label, () => state.meetup[i], (value) => {
      // At least one meetup option stays checked: unchecking the last one is refused.
      if (!value && state.meetup.filter(Boolean).length === 1) return false;
      state.meetup[i] = value;
      return true;
    }));
    return el("div", {},
      el("h2", {}, t.delivery_method),
      o.location_step === 2 ? buildLocation() : null,
      el("div", {}, t.meetup_preferences),
      ...meetup,
      switchRow(t.hide_from_friends, t.hide_hint, () => state.hide, (v) => { state.hide = v; }),
      boostRow(),
      buildFooter());
  }
  function buildOffers() {
    return el("div", {},
      el("h2", {}, t.offers),
      switchRow(t.accept_offers, t.offers_hint, () => state.offers, (v) => { state.offers = v; }),
      boostRow(),
      buildFooter());
  }
  function buildGroups() {
    return el("div", {},
      el("h2", {}, t.list_more),
      el("p", {}, t.list_more_hint),
      ...cfg.groups.map((name, i) => checkbox(name, () => state.groups[i], (value) => { state.groups[i] = value; })),
      boostRow(),
      buildFooter());
  }
  const builders = { item: buildItem, delivery: buildDelivery, offers: buildOffers, groups: buildGroups };
  function showStep(index) {
    closePopup();
    closeSuggestions();
    state.step = index;
    ui.location = null;
    ui.chips = null;
    // Swapped in place: the same div[role=form], new content, a new footer button element.
    form.replaceChildren(builders[steps[index]]());
    refreshFooter();
  }

  // -- the footer: Next, or the final button (Next or Publish) ----------------------------------
  function stepComplete() {
    switch (steps[state.step]) {
      case "item":
        return state.photos.length > 0 && state.title.trim() !== "" && priceValue(state.price) !== null
          && state.category !== null && state.condition !== null
          && (o.location_step !== 1 || state.location !== null);
      case "delivery":
        return (o.location_step !== 2 || state.location !== null) && state.meetup.some(Boolean);
      default:
        return true;
    }
  }
  function buildFooter() {
    const name = isLastStep() && o.final_button === "Publish" ? t.publish : t.next;
    const button = roleButton(name, { "aria-label": name });
    alertSlot = el("div", {});
    footerButton = button;
    button.addEventListener("click", () => onFooter(button));
    // The daily cap's text: above every step's button (late 2026: the last step's only).
    return el("div", {},
      cfg.dailyLimit && (!late || isLastStep()) ? el("div", {}, d.daily_limit) : null,
      alertSlot,
      button);
  }
  function finalRefused() {
    return isLastStep() && cfg.dailyLimit;
  }
  function refreshFooter() {
    if (footerButton && state.lingering === "disabled") {
      footerButton.setAttribute("aria-disabled", "true"); // the lingering step: "Publishing…"
      return;
    }
    if (!footerButton || !o.aria_disabled) return; // by default: no aria-disabled at all
    const enabled = stepComplete() && !finalRefused();
    footerButton.setAttribute("aria-disabled", enabled ? "false" : "true");
  }
  function clearAlerts() {
    if (alertSlot) alertSlot.replaceChildren();
  }
  function showAlert(message) {
    clearAlerts();
    alertSlot.append(el("div", { role: "alert" }, message));
  }
  function onFooter(button) {
    if (button !== footerButton || modalOpen()) return;
    if (state.lingering) {
      // The step drawn again after a publish: disabled, nothing; enabled, a second copy.
      if (state.lingering === "enabled" && !state.again) {
        clearTimeout(lingerTimer); // the second copy's answer decides where the page goes
        state.again = true;
        state.recorded = null;
        publish();
      }
      return;
    }
    if (o.aria_disabled && button.getAttribute("aria-disabled") === "true") return;
    if (isLastStep() && state.recorded) return askToLeave(); // after "Stay on page"
    if (!stepComplete()) {
      if (!o.aria_disabled) showAlert(t.complete_required);
      return;
    }
    if (finalRefused()) return; // the daily limit: the text above says why
    if (isLastStep()) return publish();
    showStep(state.step + 1);
  }

  // -- dialogs ----------------------------------------------------------------------------------
  function modal(title, ...content) {
    const headingId = newId();
    const dialog = el("div", { role: "dialog", "aria-modal": "true", "aria-labelledby": headingId },
      el("h2", { id: headingId }, title), ...content);
    document.body.append(dialog);
    return dialog;
  }
  function notice(title, text, buttonLabel, then) {
    const button = roleButton(buttonLabel, {});
    const dialog = modal(title, el("p", {}, text), button);
    button.addEventListener("click", () => {
      dialog.remove();
      if (then) then();
    });
  }
  function showPublishFailed() {
    const close = roleButton(d.close, {});
    const dialog = el("div", { role: "dialog", "aria-modal": "true", "aria-label": d.publish_failed },
      el("p", {}, d.publish_failed), close);
    close.addEventListener("click", () => dialog.remove());
    document.body.append(dialog);
  }
  function showPayment(then) {
    notice(d.payment_title, d.payment_text, d.close, then);
  }
  function showBoostOffer(then) {
    // Late 2026: "Promote your listing?" with "Not Now", "Close" and "Promote listing".
    const notNow = roleButton(late ? d.promote_not_now : d.not_now, {});
    const boost = roleButton(late ? d.promote : d.boost, {});
    const dialog = late
      ? modal(d.promote_title, el("p", {}, d.promote_text), notNow, boost)
      : modal(d.boost_title, el("p", {}, d.boost_text), notNow, boost);
    notNow.addEventListener("click", () => {
      dialog.remove();
      then();
    });
    if (late) {
      const close = roleButton("\u00d7", { "aria-label": d.close });
      close.addEventListener("click", () => {
        dialog.remove();
        then();
      });
      dialog.prepend(close);
    }
    boost.addEventListener("click", () => {
      dialog.remove();
      const body = new FormData();
      body.append("id", String(state.recorded.id));
      fetch(cfg.boostUrl, { method: "POST", body, credentials: "same-origin" })
        .then(() => {}, () => {})
        .then(() => showPayment(then));
    });
  }
  function askToLeave() {
    if (!o.leave_dialog) return finish();
    const stay = roleButton(t.stay, {});
    const leave = roleButton(t.leave, {});
    const dialog = modal(t.leave_title, el("p", {}, t.leave_text), stay, leave);
    stay.addEventListener("click", () => dialog.remove());
    leave.addEventListener("click", () => {
      dialog.remove();
      finish();
    });
  }
  function finish() {
    // After a recorded publish Facebook may keep the last step on screen a moment, drawn again:
    // its button disabled under a spinner, or enabled as before (a click there publishes again).
    if (o.linger_ms && !state.lingering) {
      state.lingering = o.linger_button;
      showStep(state.step);
      if (o.linger_button === "disabled") {
        footerButton.setAttribute("aria-disabled", "true");
        footerButton.before(el("div", { role: "progressbar", "aria-label": d.publishing }, d.publishing));
      }
      lingerTimer = setTimeout(leaveNow, o.linger_ms);
      return;
    }
    leaveNow();
  }
  function leaveNow() {
    if (state.left) return;
    state.left = true;
    const id = state.recorded.id;
    state.leaving = true;
    if (o.after_publish === "item" || o.after_publish === "item_review") return goTo(`/marketplace/item/${id}/`);
    if (o.after_publish === "selling") return goTo(cfg.sellingUrl);
    if (o.after_publish === "edit") return goTo(`/marketplace/edit/?listing_id=${id}`);
    // "review": the page stays where it is and says so.
    closePopup();
    closeSuggestions();
    main.replaceChildren(
      el("h1", {}, t.review_heading),
      el("p", {}, t.review_text),
      o.review_link ? el("p", {}, el("a", { href: `/marketplace/item/${id}/` }, t.view_listing)) : null);
    // promote_dialog "after": the offer shows on the page the publish lands on, here this one.
    if (state.recorded.promote_after) showBoostOffer(() => {});
  }
  function afterRecorded() {
    // A paid boost first (the switch was on), then an older build's boost offer, then the
    // "Leave page?" guard, then the page moves on.
    const chain = [];
    if (state.recorded.boosted) chain.push(showPayment);
    if (state.recorded.boost_offer) chain.push(showBoostOffer);
    const run = () => (chain.length ? chain.shift()(run) : askToLeave());
    run();
  }

  // -- publishing -------------------------------------------------------------------------------
  async function publish() {
    if (state.publishing) return;
    state.publishing = true;
    clearAlerts();
    await flushDraft();
    const body = new FormData();
    body.append("page_id", cfg.pageId);
    body.append("title", state.title.trim());
    body.append("price", state.price.trim());
    body.append("category", state.category || "");
    body.append("condition", state.condition || "");
    body.append("description", state.description);
    body.append("location", state.location || "");
    cfg.meetup.forEach((name, i) => state.meetup[i] && body.append("meetup", name));
    body.append("hide_from_friends", String(state.hide));
    body.append("boost", String(state.boost));
    cfg.groups.forEach((name, i) => state.groups[i] && body.append("groups", name));
    if (o.product_tags) state.tags.forEach((tag) => body.append("tags", tag));
    if (o.sku) body.append("sku", state.sku.trim());
    if (o.brand_availability) {
      body.append("brand", state.brand.trim());
      body.append("availability", state.availability);
    }
    for (const photo of state.photos) body.append("photos", photo.file, photo.file.name);
    let response = null;
    try {
      response = await fetch(cfg.publishUrl, { method: "POST", body, credentials: "same-origin" });
    } catch (error) {
      // The connection died: the listing may or may not exist; the page cannot tell.
      state.publishing = false;
      showPublishFailed();
      return;
    }
    if (response.status === 401) return goTo(cfg.loginUrl);
    let data = {};
    try {
      data = await response.json();
    } catch (error) {
      data = {};
    }
    state.publishing = false;
    if (response.ok && typeof data.id === "number") {
      state.recorded = data;
      afterRecorded();
    } else if (data.duplicate) {
      goTo(cfg.sellingUrl);
    } else if (data.dialog) {
      notice(data.dialog.title, data.dialog.text, data.dialog.button, null);
    } else if (response.status >= 500) {
      showPublishFailed();
    } else {
      showAlert(data.error || d.generic_error);
    }
  }

  // -- page-wide behaviour ----------------------------------------------------------------------
  document.addEventListener("click", (event) => {
    // A click outside an open popup or suggestion list closes it. composedPath: the path as it
    // was when the click began, even if the handler replaced the clicked row since.
    const path = event.composedPath();
    if (popup && !path.includes(popup.node) && !path.includes(popup.opener)) closePopup();
    if (suggestions && !path.includes(suggestions) && !path.includes(ui.location)) closeSuggestions();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      if (viewer) {
        viewer.remove();
        viewer = null;
      }
      closePopup();
      closeSuggestions();
      return;
    }
    // Enter and Space activate the div-based controls, as they would a native button.
    const target = event.target;
    const role = target.getAttribute && target.getAttribute("role");
    const activatable = (["button", "checkbox", "option", "switch"].includes(role) && target.tagName !== "INPUT")
      || (role === "combobox" && target.tagName === "LABEL");
    if (activatable && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      keyActivation = true;
      try {
        target.click();
      } finally {
        keyActivation = false;
      }
    }
  });

  if (cfg.slowMs === null) {
    showStep(0);
  } else {
    form.setAttribute("aria-busy", "true");
    setTimeout(() => {
      form.removeAttribute("aria-busy");
      showStep(0);
    }, cfg.slowMs);
  }
})();
