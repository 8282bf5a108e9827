/* Marketplace Poster: the operator dashboard's behaviour.
 *
 * Pages are rendered by Django; this file only acts: every write goes through the REST API with
 * the Django session and the CSRF token (X-CSRFToken, from the csrftoken cookie), and the job page
 * follows the status stream with an EventSource. One init function per page (body[data-page]).
 */
(function () {
  "use strict";

  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

  // --- talking to the API ------------------------------------------------------------------------

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    const meta = $('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  /** fetch() with the session and the CSRF token; resolves to {ok, status, data}, never rejects. */
  async function api(method, url, body) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
    let payload;
    if (body instanceof FormData) {
      payload = body; // the browser sets the multipart boundary itself
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, { method, headers, body: payload, credentials: "same-origin" });
    } catch (error) {
      return { ok: false, status: 0, data: { detail: "The server could not be reached. Check the connection and try again." } };
    }
    let data = {};
    if ((response.headers.get("Content-Type") || "").includes("json")) {
      data = (await response.json().catch(() => null)) || {};
    }
    if (response.status === 401 || (response.status === 403 && /credentials|CSRF/i.test(data.detail || ""))) {
      data = { detail: "Your login has expired: reload the page and log in again." };
    }
    return { ok: response.ok, status: response.status, data };
  }

  /** One line for any error answer: detail, message, or the field errors. */
  function errorText(data) {
    if (!data || typeof data !== "object") return "Something went wrong.";
    if (typeof data.detail === "string") return data.detail;
    if (typeof data.message === "string") return data.message;
    const parts = Object.entries(data).map(([field, errors]) => {
      const text = Array.isArray(errors) ? errors.join(" ") : String(errors);
      return field === "non_field_errors" ? text : `${field}: ${text}`;
    });
    return parts.join(" ") || "Something went wrong.";
  }

  /** Put the API's 400 field errors next to their fields; the rest in the form's general box. */
  function showFieldErrors(form, data) {
    clearFieldErrors(form);
    const general = [];
    for (const [field, errors] of Object.entries(data || {})) {
      const text = Array.isArray(errors) ? errors.join(" ") : String(errors);
      const slot = $(`[data-error-for="${CSS.escape(field)}"]`, form);
      if (slot && field !== "__all__") {
        slot.textContent = text;
        const wrapper = slot.closest(".field");
        if (wrapper) wrapper.classList.add("invalid");
      } else {
        general.push(["detail", "message", "non_field_errors"].includes(field) ? text : `${field}: ${text}`);
      }
    }
    const box = $('[data-error-for="__all__"]', form);
    if (box) {
      box.textContent = general.join(" ");
      box.hidden = general.length === 0;
    }
    const first = $(".field.invalid input, .field.invalid select, .field.invalid textarea", form);
    if (first) first.focus();
  }

  function clearFieldErrors(form) {
    $$("[data-error-for]", form).forEach((slot) => { slot.textContent = ""; });
    $$(".field.invalid", form).forEach((field) => field.classList.remove("invalid"));
    const box = $('[data-error-for="__all__"]', form);
    if (box) box.hidden = true;
  }

  // A number as typed, for the API to judge: "12" is 12, anything else goes as it is (and is refused).
  const integerOrText = (text) => (/^\d+$/.test(text) ? Number(text) : text);

  function say(element, text, kind) {
    if (!element) return;
    element.textContent = text;
    element.classList.remove("error", "success");
    if (kind) element.classList.add(kind);
  }

  function setBusy(button, busy, label) {
    if (!button) return;
    if (busy) {
      button.dataset.label = button.textContent;
      button.textContent = label || "Working…";
    } else if (button.dataset.label) {
      button.textContent = button.dataset.label;
    }
    button.disabled = busy;
  }

  // A message shown once on the next page (after a redirect), e.g. "Listing saved".
  function flashNext(text) {
    try { sessionStorage.setItem("dashboard-flash", text); } catch (error) { /* private mode: no flash */ }
  }

  function showFlash() {
    let text = null;
    try {
      text = sessionStorage.getItem("dashboard-flash");
      sessionStorage.removeItem("dashboard-flash");
    } catch (error) { return; }
    const box = $("#flash");
    if (text && box) {
      box.textContent = text;
      box.hidden = false;
    }
  }

  function localTimes() {
    $$("time[datetime]:not([data-local])").forEach((element) => {
      const moment = new Date(element.getAttribute("datetime"));
      if (!Number.isNaN(moment.getTime())) {
        element.dataset.local = "shown";
        element.title = element.textContent;
        element.textContent = moment.toLocaleString();
      }
    });
  }

  /** Replace `selector`'s element with the same element of the page as the server renders it now. */
  async function refreshFragment(selector) {
    try {
      const response = await fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!response.ok) return;
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
      const incoming = $(selector, fresh);
      const current = $(selector);
      if (incoming && current) current.replaceWith(document.importNode(incoming, true));
    } catch (error) {
      /* the next change tries again */
    }
  }

  const jobUrl = (jobId) => `/jobs/${jobId}/`;

  // --- listings ----------------------------------------------------------------------------------

  const SCHEDULE_FIELDS = ["start_at", "spread_minutes"]; // the listings page's fields of a start

  function initListings() {
    const postButton = $("#post-selected");
    const dryRunButton = $("#dry-run-selected");
    const options = $("#post-options");
    const startAt = options.elements.start_at;
    const message = $("#listings-message");
    const boxes = $$(".select-post:not(:disabled)");
    const all = $("#select-all");
    // A box is left out once its listing is taken by a job scheduled from this page.
    const open = () => boxes.filter((box) => !box.disabled);

    function selected() {
      return open().filter((box) => box.checked).map((box) => Number(box.value));
    }
    function update() {
      const count = selected().length;
      postButton.disabled = count === 0;
      postButton.textContent = count ? `Post selected (${count})` : "Post selected";
      dryRunButton.disabled = count === 0;
      dryRunButton.textContent = count ? `Dry run selected (${count})` : "Dry run selected";
      if (all) {
        all.checked = count > 0 && count === open().length;
        all.indeterminate = count > 0 && count < open().length;
        all.disabled = open().length === 0;
      }
    }
    boxes.forEach((box) => box.addEventListener("change", update));
    if (all) {
      all.addEventListener("change", () => {
        open().forEach((box) => { box.checked = all.checked; });
        update();
      });
    }
    update();

    // "Now", or the date and time of the datetime-local field.
    $$('input[name="when"]', options).forEach((radio) => {
      radio.addEventListener("change", () => {
        const later = options.elements.when.value === "at";
        startAt.disabled = !later;
        if (later) {
          startAt.focus();
        } else {
          clearFieldErrors(options);
        }
      });
    });
    options.addEventListener("submit", (event) => event.preventDefault()); // the buttons start it

    /** start_at and spread_minutes as the API takes them, or the errors to show beside them. */
    function schedule() {
      const fields = {};
      const errors = {};
      if (options.elements.when.value === "at") {
        // A datetime-local value has no zone: new Date() reads it as the browser's local time,
        // toISOString() writes that moment in UTC ("Z"), which the API requires.
        const moment = startAt.value ? new Date(startAt.value) : null;
        if (moment && !Number.isNaN(moment.getTime())) {
          fields.start_at = moment.toISOString();
        } else {
          errors.start_at = ["Choose the date and time to start at."];
        }
      }
      const spread = options.elements.spread_minutes.value.trim();
      if (spread !== "") fields.spread_minutes = integerOrText(spread);
      return { fields, errors };
    }

    function scheduled(data, body) {
      const count = data.pending_count;
      const parts = [`${count} listing${count === 1 ? "" : "s"}`];
      if (body.spread_minutes) parts.push(`spread over ${body.spread_minutes} min`);
      if (body.dry_run) parts.push("a dry run: nothing will be published");
      const link = document.createElement("a");
      link.href = jobUrl(data.job_id);
      link.textContent = "Open the job";
      message.replaceChildren(`Scheduled for ${new Date(data.start_at).toLocaleString()}: ${parts.join(", ")}. `, link);
      message.classList.remove("error");
      message.classList.add("success");
      // Those listings are the scheduled job's now: another start would be refused them.
      open().filter((box) => body.post_ids.includes(Number(box.value))).forEach((box) => {
        box.checked = false;
        box.disabled = true;
        box.title = "Held by a queued or running job";
      });
    }

    // A dry run fills each form to its last step and captures it, publishing nothing.
    async function start(button, dryRun) {
      const ids = selected();
      if (!ids.length) return;
      clearFieldErrors(options);
      say(message, "");
      const { fields, errors } = schedule();
      if (Object.keys(errors).length) {
        showFieldErrors(options, errors);
        return;
      }
      setBusy(button, true, "Starting…");
      const body = { post_ids: ids, dry_run: dryRun, ...fields };
      const { ok, data } = await api("POST", "/api/posts/start-posting/", body);
      if (ok && !data.start_at) {
        location.href = jobUrl(data.job_id);
        return;
      }
      setBusy(button, false);
      if (ok) {
        scheduled(data, body);
        update();
        return;
      }
      update();
      // start_at and spread_minutes beside their fields; the rest (post_ids, a refusal) above the table.
      const beside = {};
      const rest = {};
      for (const [name, value] of Object.entries(data)) (SCHEDULE_FIELDS.includes(name) ? beside : rest)[name] = value;
      showFieldErrors(options, beside);
      if (Object.keys(rest).length || !Object.keys(beside).length) {
        say(message, errorText(rest.post_ids ? { detail: rest.post_ids.join(" ") } : rest), "error");
      }
    }
    postButton.addEventListener("click", () => start(postButton, false));
    dryRunButton.addEventListener("click", () => start(dryRunButton, true));

    $$("button.retry").forEach((button) => {
      button.addEventListener("click", async () => {
        setBusy(button, true, "Retrying…");
        const { ok, data } = await api("POST", `/api/posts/${button.dataset.postId}/retry/`);
        if (ok) {
          location.href = jobUrl(data.job_id);
          return;
        }
        setBusy(button, false);
        say(message, errorText(data), "error");
      });
    });
  }

  // --- create / edit a listing -------------------------------------------------------------------

  function initListingForm() {
    const form = $("#listing-form");
    const photoInput = $('input[name="photos"]', form);
    const previews = $("#photo-previews");

    photoInput.addEventListener("change", () => {
      previews.replaceChildren(...Array.from(photoInput.files).map((file) => {
        const item = document.createElement("li");
        if (file.type.startsWith("image/")) {
          const image = document.createElement("img");
          image.src = URL.createObjectURL(file);
          image.alt = file.name;
          item.append(image);
        }
        item.append(file.name);
        return item;
      }));
    });

    $$(".remove-photo", form).forEach((button) => {
      button.addEventListener("click", async () => {
        setBusy(button, true, "Removing…");
        const { ok, data } = await api("DELETE", button.dataset.url);
        if (ok) {
          button.closest("li").remove();
        } else {
          setBusy(button, false);
          showFieldErrors(form, { image: [errorText(data)] });
        }
      });
    });

    const deleteButton = $("#delete-listing");
    if (deleteButton) {
      deleteButton.addEventListener("click", async () => {
        if (!confirm(`Delete "${deleteButton.dataset.title}" with its photos and error history?`)) return;
        setBusy(deleteButton, true, "Deleting…");
        const { ok, data } = await api("DELETE", `/api/posts/${form.dataset.postId}/`);
        if (ok) {
          flashNext(`Deleted "${deleteButton.dataset.title}".`);
          location.href = form.dataset.listUrl;
          return;
        }
        setBusy(deleteButton, false);
        showFieldErrors(form, { detail: errorText(data) });
      });
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const submit = $('button[type="submit"]', form);
      clearFieldErrors(form);
      setBusy(submit, true, "Saving…");
      const fields = new FormData(form);
      const body = {};
      for (const name of ["account", "title", "price", "category", "condition", "description", "location", "sku"]) {
        body[name] = (fields.get(name) || "").toString().trim();
      }
      body.account = body.account ? Number(body.account) : null;
      if (body.price === "") body.price = null;
      body.delivery = fields.getAll("delivery").map(String); // none ticked: the API says to choose one
      body.hide_from_friends = fields.has("hide_from_friends");
      // One text box, "oak, desk": a comma ends a tag (a tag cannot hold one), and an empty piece is no tag.
      body.tags = (fields.get("tags") || "").toString().split(",").map((tag) => tag.trim()).filter((tag) => tag !== "");

      const postId = form.dataset.postId;
      const saved = postId
        ? await api("PATCH", `/api/posts/${postId}/`, body)
        : await api("POST", "/api/posts/", body);
      if (!saved.ok) {
        setBusy(submit, false);
        showFieldErrors(form, saved.data);
        return;
      }
      const post = saved.data;
      if (!postId) {
        // From here on it exists: a failing photo must not create it a second time.
        form.dataset.postId = post.id;
        history.replaceState(null, "", form.dataset.editUrlTemplate.replace("/0/", `/${post.id}/`));
      }

      const problems = [];
      for (const file of Array.from(photoInput.files)) {
        const upload = new FormData();
        upload.append("image", file);
        const { ok, data } = await api("POST", `/api/posts/${post.id}/images/`, upload);
        if (!ok) problems.push(`${file.name}: ${data.image ? data.image.join(" ") : errorText(data)}`);
      }
      if (problems.length) {
        setBusy(submit, false);
        photoInput.value = "";
        previews.replaceChildren();
        showFieldErrors(form, { image: problems });
        return;
      }
      flashNext(`Saved "${post.title}".`);
      location.href = form.dataset.listUrl;
    });
  }

  // --- accounts ----------------------------------------------------------------------------------

  function sessionAge(days) {
    if (days === null || days === undefined) return "no session";
    if (days < 1) return "under a day";
    return days === 1 ? "1 day" : `${days} days`;
  }

  function rowOf(accountId) {
    return $(`tr[data-account-id="${accountId}"]`);
  }

  /** Posts against a budget, as the template's `budget` tag: "3 / 20 today", "3 today (no limit)". */
  function budget(count, limit, period) {
    return limit === null || limit === undefined ? `${count} ${period} (no limit)` : `${count} / ${limit} ${period}`;
  }

  const BROWSERS = [["Edg/", "Edge"], ["OPR/", "Opera"], ["Firefox/", "Firefox"], ["Chrome/", "Chrome"], ["Version/", "Safari"]];
  const PLATFORMS = [["Windows", "Windows"], ["Android", "Android"], ["iPhone", "iOS"], ["iPad", "iOS"],
    ["Mac OS X", "macOS"], ["CrOS", "ChromeOS"], ["Linux", "Linux"]];

  /** A user agent in a few words, as the template's `short_user_agent`: "Chrome 156 on Linux". */
  function shortUserAgent(userAgent) {
    const text = userAgent || "";
    const browser = BROWSERS.find(([token]) => text.includes(token));
    const platform = PLATFORMS.find(([token]) => text.includes(token));
    if (browser && platform) {
      const major = text.split(browser[0])[1].split(".")[0].split(" ")[0];
      return /^\d+$/.test(major) ? `${browser[1]} ${major} on ${platform[1]}` : `${browser[1]} on ${platform[1]}`;
    }
    return text.length <= 40 ? text : `${text.slice(0, 39)}…`;
  }

  const windowSize = (viewport) => (viewport ? `${viewport.width} × ${viewport.height}` : "—");

  /** "2026-12-02 14:00 UTC", as the server writes a moment (localTimes then shows it in local time). */
  function utcText(iso) {
    const text = new Date(iso).toISOString();
    return `${text.slice(0, 10)} ${text.slice(11, 16)} UTC`;
  }

  /** The row's Posting cell: its budgets, its pause (with Resume) or why it waits. */
  async function renderStanding(row, account) {
    $('[data-field="posts_today"]', row).textContent = budget(account.posts_last_24h, account.daily_post_limit, "today");
    $('[data-field="posts_hour"]', row).textContent = budget(account.posts_last_hour, account.hourly_post_limit, "this hour");
    const pause = $('[data-field="pause"]', row);
    const paused = Boolean(account.paused_until);
    if (paused) {
      const time = $('[data-field="paused_until"]', row);
      if (time.getAttribute("datetime") !== account.paused_until) {
        time.setAttribute("datetime", account.paused_until);
        time.textContent = utcText(account.paused_until);
        delete time.dataset.local;
        localTimes();
      }
      if (pause.hidden) {
        // Paused since the page was rendered: the health check has no reason, the account has.
        const { ok, data } = await api("GET", `/api/accounts/${account.account_id}/`);
        $('[data-field="pause_reason"]', row).textContent = ok ? data.pause_reason : "";
      }
    }
    pause.hidden = !paused;
    const hold = $('[data-field="hold_reason"]', row);
    hold.textContent = paused ? "" : account.hold_reason || "";
    hold.hidden = paused || !account.hold_reason;
  }

  /** The row's Browser cell from an account as the API answers it (the proxy comes masked). */
  function renderBrowser(row, account) {
    const proxy = $('[data-field="proxy"]', row);
    const shown = document.createElement(account.proxy ? "code" : "span");
    shown.className = account.proxy ? "break" : "muted";
    shown.textContent = account.proxy || "none: the host's own address";
    proxy.replaceChildren(shown);
    $('[data-field="timezone"]', row).textContent = account.timezone;
    $('[data-field="viewport"]', row).textContent = windowSize(account.viewport);
    const agent = $('[data-field="user_agent"]', row);
    agent.textContent = shortUserAgent(account.user_agent);
    agent.title = account.user_agent;
  }

  /** The health widget and every row, from GET /api/accounts/health-check/. */
  async function refreshHealth() {
    const { ok, data } = await api("GET", "/api/accounts/health-check/");
    if (!ok) return;
    const widget = $("#health-widget");
    const overall = $("[data-overall]", widget);
    overall.textContent = data.overall_health;
    overall.className = `badge health-${data.overall_health}`;
    for (const [name, value] of Object.entries(data.summary)) {
      const slot = $(`[data-count="${name}"]`, widget);
      if (slot) slot.textContent = value;
    }
    for (const account of data.accounts) {
      const row = rowOf(account.account_id);
      if (!row) continue;
      const badge = $('[data-field="health"]', row);
      badge.textContent = account.health_status;
      badge.className = `badge health-${account.health_status}`;
      $('[data-field="age"]', row).textContent = sessionAge(account.session_age_days);
      // The pause is said beside its Resume button, not again among the session's reasons.
      const reasons = account.reasons.filter((reason) => reason !== account.hold_reason);
      $('[data-field="reasons"]', row).replaceChildren(...reasons.map((reason) => {
        const item = document.createElement("li");
        item.textContent = reason;
        return item;
      }));
      $('[data-field="total_posts"]', row).textContent = account.total_posts;
      $('[data-field="post_counts"]', row).textContent = `${account.posted_count} posted · ${account.failed_count} failed`;
      await renderStanding(row, account);
    }
  }

  /** What the account edit form changes, as PATCH /api/accounts/<id>/ takes it (unchanged fields are left out). */
  function accountChanges(form) {
    const value = (name) => form.elements[name].value.trim();
    const changed = (name) => value(name) !== form.elements[name].defaultValue.trim();
    const body = {};
    // The masked proxy (user:***@) is sent only when edited: sent back as it is, it keeps the stored password.
    if (changed("proxy")) body.proxy = value("proxy") || null;
    for (const name of ["daily_post_limit", "hourly_post_limit"]) {
      if (changed(name)) body[name] = value(name) === "" ? null : integerOrText(value(name));
    }
    for (const name of ["timezone", "user_agent"]) {
      if (changed(name)) body[name] = value(name);
    }
    if (changed("viewport_width") || changed("viewport_height")) {
      body.viewport = { width: integerOrText(value("viewport_width")), height: integerOrText(value("viewport_height")) };
    }
    return body;
  }

  /** The edit form's fields (and what Cancel returns to) from the account the API answered. */
  function accountFormReset(form, account) {
    const values = {
      proxy: account.proxy || "",
      daily_post_limit: account.daily_post_limit ?? "",
      hourly_post_limit: account.hourly_post_limit ?? "",
      timezone: account.timezone,
      user_agent: account.user_agent,
      viewport_width: account.viewport.width,
      viewport_height: account.viewport.height,
    };
    for (const [name, value] of Object.entries(values)) {
      form.elements[name].defaultValue = String(value);
      form.elements[name].value = String(value);
    }
  }

  /** "Session is valid", or "Session may be expired. Consider updating session." (the reasons are in their column) */
  function verdict(data) {
    return data.action_required ? `${data.message}. ${data.action_required}.` : data.message;
  }

  function initAccounts() {
    $$("input.session-file").forEach((input) => {
      input.addEventListener("change", async () => {
        const file = input.files[0];
        if (!file) return;
        const row = rowOf(input.dataset.accountId);
        const message = $('[data-field="message"]', row);
        say(message, `Uploading ${file.name}…`);
        let session;
        try {
          session = JSON.parse(await file.text());
        } catch (error) {
          say(message, `${file.name} is not a JSON file: export the cookies as JSON.`, "error");
          input.value = "";
          return;
        }
        const { ok, data } = await api("PUT", `/api/accounts/${input.dataset.accountId}/session/`, session);
        input.value = "";
        say(message, ok ? verdict(data) : errorText(data), ok && data.valid ? "success" : "error");
        await refreshHealth();
      });
    });

    $$("button.check-now").forEach((button) => {
      button.addEventListener("click", async () => {
        const row = rowOf(button.dataset.accountId);
        const message = $('[data-field="message"]', row);
        setBusy(button, true, "Checking…");
        say(message, "Opening Marketplace with this session…");
        const { ok, data } = await api("GET", `/api/accounts/${button.dataset.accountId}/validate-session/?live=true`);
        setBusy(button, false);
        say(message, ok ? verdict(data) : errorText(data), ok && data.valid ? "success" : "error");
        await refreshHealth();
      });
    });

    $$("button.resume").forEach((button) => {
      button.addEventListener("click", async () => {
        const row = rowOf(button.dataset.accountId);
        const message = $('[data-field="message"]', row);
        setBusy(button, true, "Resuming…");
        const { ok, data } = await api("POST", `/api/accounts/${button.dataset.accountId}/resume/`);
        setBusy(button, false);
        if (!ok) {
          say(message, errorText(data), "error");
          return;
        }
        say(message, "Resumed: the next job posts with this account again.", "success");
        $('[data-field="pause"]', row).hidden = Boolean(data.paused_until); // at once, whatever the refresh does
        await refreshHealth();
      });
    });

    $$("button.edit-account").forEach((button) => {
      const editRow = document.getElementById(button.getAttribute("aria-controls"));
      const editForm = $("form", editRow);
      const show = (open) => {
        editRow.hidden = !open;
        button.setAttribute("aria-expanded", String(open));
      };
      button.addEventListener("click", () => {
        const open = editRow.hidden;
        show(open);
        if (open) $('input[name="proxy"]', editForm).focus();
      });
      $("button.cancel-edit", editForm).addEventListener("click", () => {
        editForm.reset(); // back to the values the row shows
        clearFieldErrors(editForm);
        show(false);
        button.focus();
      });
      editForm.addEventListener("submit", async (event) => {
        event.preventDefault();
        const submit = $('button[type="submit"]', editForm);
        const message = $('[data-field="message"]', rowOf(editForm.dataset.accountId));
        clearFieldErrors(editForm);
        const body = accountChanges(editForm);
        if (!Object.keys(body).length) {
          show(false);
          say(message, "Nothing changed.");
          return;
        }
        setBusy(submit, true, "Saving…");
        const { ok, data } = await api("PATCH", `/api/accounts/${editForm.dataset.accountId}/`, body);
        setBusy(submit, false);
        if (!ok) {
          showFieldErrors(editForm, data);
          return;
        }
        renderBrowser(rowOf(data.id), data);
        accountFormReset(editForm, data);
        show(false);
        say(message, "Saved.", "success");
        await refreshHealth(); // the budgets in force, and whether it is at one now
      });
    });

    const form = $("#add-account-form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const submit = $('button[type="submit"]', form);
      clearFieldErrors(form);
      setBusy(submit, true, "Adding…");
      const fields = new FormData(form);
      const body = { email: fields.get("email").trim(), name: fields.get("name").trim() };
      const { ok, data } = await api("POST", "/api/accounts/", body);
      if (ok) {
        flashNext(`Added ${data.email}: now upload its session with "Update session".`);
        location.reload();
        return;
      }
      setBusy(submit, false);
      showFieldErrors(form, data);
    });
  }

  // --- a running job -----------------------------------------------------------------------------

  function initJob() {
    const card = $("#job");
    const cancel = $("#cancel-job");
    const field = (name) => $(`[data-field="${name}"]`, card);
    const bar = $("#job-progress");
    let state = JSON.parse($("#job-state").textContent);
    let source = null;
    let poller = null;
    let shownProgress = null;
    const followed = !state.final; // a job that had ended when the page was rendered needs no refresh
    let refreshing = Promise.resolve();
    // One refresh at a time, in order, so that an older answer never overwrites the final one.
    const refreshPosts = () => { refreshing = refreshing.then(() => refreshFragment("#job-posts")); };

    function setConnection(text, kind) {
      const element = field("connection");
      element.textContent = text;
      element.className = `connection ${kind || ""}`;
    }

    function render(next) {
      state = next;
      const percent = Math.max(0, Math.min(100, Number(next.progress_percentage) || 0));
      bar.setAttribute("aria-valuenow", String(percent));
      bar.firstElementChild.style.width = `${percent}%`;
      bar.classList.toggle("done", next.final && next.status === "completed");
      field("percent").textContent = `${percent} %`;
      field("completed_posts").textContent = next.completed_posts;
      field("failed_posts").textContent = next.failed_posts;
      field("total_posts").textContent = next.total_posts;
      // One listing per account posting at this moment (accounts post at the same time).
      field("current_posts").textContent = (next.current_posts || []).map((post) => post.title).join(", ") || "—";
      field("status_message").textContent = next.status_message || "";
      const scheduledLine = field("scheduled"); // a scheduled job only, while it waits for its time
      if (scheduledLine) scheduledLine.hidden = next.status !== "queued";
      const status = field("status");
      status.textContent = next.status;
      status.className = `badge job-${next.status}`;
      const error = field("error_message");
      error.textContent = next.error_message || "";
      error.hidden = !next.error_message;
      if (next.cancel_requested && !next.final) {
        cancel.disabled = true;
        cancel.textContent = "Cancelling…";
      }
      // The listings table follows each finished or started post, rendered by the server.
      if (next.final) {
        ended();
        return;
      }
      const current = (next.current_posts || []).map((post) => post.id).join(",");
      const progress = `${next.completed_posts}/${next.failed_posts}/${current}/${next.status}`;
      if (shownProgress !== null && progress !== shownProgress) refreshPosts();
      shownProgress = progress;
    }

    function ended() {
      if (source) source.close();
      if (poller) clearInterval(poller);
      source = null;
      poller = null;
      cancel.hidden = true;
      setConnection("ended", "ended");
      field("ended").hidden = false;
      const done = state.completed_posts + state.failed_posts;
      if (state.dry_run && state.status === "completed") {
        say(field("message"), `Dry run done: ${state.completed_posts} previewed, ${state.failed_posts} failed. Nothing was published; every listing is still pending.`, state.failed_posts ? "" : "success");
      } else if (state.status === "cancelled") {
        say(field("message"), `Cancelled after ${done} of ${state.total_posts}: the other ${state.total_posts - done} stay pending.`);
      } else if (state.status === "completed") {
        say(field("message"), `Done: ${state.completed_posts} posted, ${state.failed_posts} failed.`, state.failed_posts ? "" : "success");
      }
      if (followed) refreshPosts();
    }

    // When the stream is refused for good (not a drop: EventSource retries those by itself), the
    // job-status endpoint still tells the progress.
    function poll() {
      if (poller) return;
      setConnection("live updates unavailable: checking every 3 s", "reconnecting");
      poller = setInterval(async () => {
        const { ok, data } = await api("GET", card.dataset.statusUrl);
        if (ok) render(data);
      }, 3000);
    }

    function connect() {
      source = new EventSource(card.dataset.streamUrl);
      source.onopen = () => setConnection("live", "live");
      source.onmessage = (event) => {
        setConnection("live", "live");
        render(JSON.parse(event.data));
      };
      source.onerror = () => {
        if (!source) return;
        if (source.readyState === EventSource.CONNECTING) {
          setConnection("reconnecting…", "reconnecting");
        } else if (source.readyState === EventSource.CLOSED) {
          source = null;
          poll();
        }
      };
    }

    cancel.addEventListener("click", async () => {
      setBusy(cancel, true, "Cancelling…");
      const { ok, data } = await api("POST", card.dataset.cancelUrl);
      if (ok) {
        say(field("message"), "Cancel requested: the job stops after its current listing; the rest stay pending.", "success");
        render(data);
      } else {
        setBusy(cancel, false);
        say(field("message"), errorText(data), "error");
      }
    });

    initLightbox();
    render(state);
    if (!state.final) connect();
  }

  // --- the jobs list ------------------------------------------------------------------------------

  function initJobs() {
    // While a job is queued or running, its row follows it (the server renders the table again).
    const active = () => $$("#jobs-table .badge.job-queued, #jobs-table .badge.job-running").length > 0;
    if (!active()) return;
    const timer = setInterval(async () => {
      await refreshFragment("#jobs-table");
      localTimes();
      if (!active()) clearInterval(timer);
    }, 3000);
  }

  // --- screenshots: a click opens the full size in the page's lightbox ---------------------------

  function initLightbox() {
    const lightbox = $("#lightbox");
    if (!lightbox) return;
    const image = $("#lightbox-image");
    // Delegated: the job page renders its table again as the job goes on.
    document.addEventListener("click", (event) => {
      const link = event.target.closest("a.screenshot");
      if (!link || !lightbox.showModal || event.ctrlKey || event.metaKey || event.shiftKey) return; // a new tab, as asked
      event.preventDefault();
      image.src = link.href;
      $("#lightbox-open").href = link.href;
      lightbox.showModal();
    });
    lightbox.addEventListener("click", (event) => {
      if (event.target === lightbox) lightbox.close(); // a click on the backdrop
    });
  }

  // --- errors ------------------------------------------------------------------------------------

  function initErrors() {
    const form = $("#error-filters");
    $$("select", form).forEach((select) => select.addEventListener("change", () => form.requestSubmit()));
    initLightbox();

    $$("button.copy-command").forEach((button) => {
      button.addEventListener("click", async () => {
        const command = button.parentElement.querySelector("code.command").textContent.trim();
        try {
          await navigator.clipboard.writeText(command);
          button.textContent = "Copied";
        } catch (error) {
          // No clipboard (plain http, or refused): select the text so that a copy shortcut takes it.
          const range = document.createRange();
          range.selectNodeContents(button.parentElement.querySelector("code.command"));
          getSelection().removeAllRanges();
          getSelection().addRange(range);
          button.textContent = "Press Ctrl+C";
        }
      });
    });
  }

  const pages = {
    listings: initListings, "listing-form": initListingForm, accounts: initAccounts, jobs: initJobs, job: initJob, errors: initErrors,
  };

  document.addEventListener("DOMContentLoaded", () => {
    showFlash();
    localTimes();
    const init = pages[document.body.dataset.page];
    if (init) init();
  });
})();
