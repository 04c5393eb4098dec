/* ClientContact agent UI: live updates over Server-Sent Events, keyboard shortcuts and the
   composer's helpers. Loaded as a file because the Content-Security-Policy forbids inline
   scripts; everything else is server-rendered HTML swapped in by htmx. */
(function () {
  "use strict";

  const $ = (selector, root) => (root || document).querySelector(selector);
  const $$ = (selector, root) => Array.from((root || document).querySelectorAll(selector));

  function openConversationId() {
    const conversation = $(".conversation[data-conversation-id]");
    return conversation ? conversation.dataset.conversationId : null;
  }

  function sameId(a, b) {
    return a !== null && b !== null && a !== undefined && String(a) === String(b);
  }

  // ---- Errors: the server answers JSON {"error": {"message"}}; say it where it is seen.
  function toast(text, kind) {
    const box = $("#toasts");
    if (!box) return;
    const item = document.createElement("div");
    item.className = "toast" + (kind ? " " + kind : "");
    item.textContent = text;
    box.appendChild(item);
    setTimeout(() => item.remove(), 6000);
  }

  document.addEventListener("htmx:responseError", (event) => {
    let message = "Something went wrong (" + event.detail.xhr.status + ").";
    try {
      message = JSON.parse(event.detail.xhr.responseText).error.message;
    } catch (_) { /* not our JSON: keep the generic text */ }
    toast(message, "error");
    const form = event.detail.elt && event.detail.elt.closest
      ? event.detail.elt.closest("form") : null;
    const slot = form ? $(".composer-error, .form-error", form) : null;
    if (slot) slot.textContent = message; // beside the fields it is about, not only in a toast
  });
  document.addEventListener("htmx:sendError", () => toast("The server cannot be reached.", "error"));

  // ---- Live views are fetched one request per view at a time, and once more if the view
  // changed while its request was in flight. Each request runs on its own target: htmx.ajax
  // without a source runs them all on <body>, where a newer request silently replaces a
  // queued one, so a header refresh could give way to a thread catch-up and never happen.
  const fetching = new Map(); // view → changed again while its fetch was in flight
  function oneAtATime(view, start) {
    if (fetching.has(view)) { fetching.set(view, true); return; }
    const request = start();
    if (!request) return;
    fetching.set(view, false);
    request.finally(() => {
      const again = fetching.get(view);
      fetching.delete(view);
      if (again) oneAtATime(view, start);
    });
  }
  function load(target, url, swap, headers) {
    return htmx.ajax("GET", url, {source: target, target: target, swap: swap,
                                  headers: headers || {}});
  }

  // ---- The list: refreshed (debounced) when anything in the account changes.
  function loadList() {
    const list = $("#conversation-list");
    if (!list) return null;
    const focused = document.activeElement && document.activeElement.closest
      ? document.activeElement.closest(".conversation-row") : null;
    const focusedId = focused ? focused.dataset.conversationId : null;
    const open = openConversationId();
    const url = list.dataset.src + (open ? "&open=" + open : "");
    return load($("#list-pane"), url, "innerHTML", {"X-Live-Refresh": "1"}).then(() => {
      if (focusedId) {
        const again = $('.conversation-row[data-conversation-id="' + focusedId + '"] > a');
        if (again) again.focus({preventScroll: true});
      }
    });
  }
  let listTimer = null;
  function refreshList() {
    clearTimeout(listTimer);
    listTimer = setTimeout(() => oneAtATime("list", loadList), 250);
  }

  function markActiveRow() {
    const open = openConversationId();
    $$(".conversation-row").forEach((row) => {
      const active = sameId(row.dataset.conversationId, open);
      row.classList.toggle("active", active);
      const link = $("a", row);
      if (active) link.setAttribute("aria-current", "true"); else link.removeAttribute("aria-current");
      if (active) row.classList.remove("unread");
    });
  }

  // ---- The title badge: open conversations of mine with unread customer messages.
  function updateTitle() {
    const list = $("#conversation-list");
    if (!list) return;
    const count = list.dataset.unreadMine || "0"; // "99+" past the cap
    const base = document.title.replace(/^\(\d+\+?\) /, "");
    document.title = (count !== "0" ? "(" + count + ") " : "") + base;
  }

  // ---- The open thread: fetch what is new, never showing a message twice.
  function newestId(thread) {
    return $$("[data-message-id]", thread).reduce(
      (max, item) => Math.max(max, parseInt(item.dataset.messageId, 10) || 0), 0);
  }
  function catchUp() {
    oneAtATime("thread", () => {
      const thread = $("#thread");
      if (!thread) return null;
      const url = thread.dataset.afterUrl + "?after=" + newestId(thread);
      return load(thread, url, "beforeend").then(() => {
        const seen = new Set();
        $$("[data-message-id]", thread).forEach((item) => {
          if (seen.has(item.id)) item.remove(); else seen.add(item.id);
        });
        thread.scrollTop = thread.scrollHeight;
      });
    });
  }

  function refreshMessage(messageId) {
    oneAtATime("message-" + messageId, () => {
      const item = document.getElementById("message-" + messageId);
      if (!item) { catchUp(); return null; }
      return load(item, "/messages/" + messageId, "outerHTML");
    });
  }

  function refreshHeader() {
    oneAtATime("header", () => {
      const header = $("#conversation-header");
      if (!header || header.contains(document.activeElement)) return null; // never under a cursor
      return load(header, "/conversations/" + openConversationId() + "/header", "innerHTML");
    });
  }

  document.addEventListener("thread-changed", () => { catchUp(); refreshList(); });
  // An action's own answer (Retry) can arrive after a live refresh that already showed a
  // newer status; fetching once more after it lands keeps the newest status on screen.
  document.addEventListener("htmx:afterSwap", (event) => {
    const config = event.detail.requestConfig || {};
    const target = event.detail.target;
    if (config.verb === "post" && target && /^message-\d+$/.test(target.id || "")) {
      refreshMessage(target.id.slice("message-".length));
    }
  });
  document.addEventListener("list-changed", refreshList);

  // ---- Live: the account's changes as Server-Sent Events (ids only; content is fetched).
  function connect() {
    if (!document.body.classList.contains("app") || !window.EventSource) return;
    const source = new EventSource("/events");
    let dropped = false;
    const on = (type, handler) => source.addEventListener(type, (event) => {
      let data = {};
      try { data = JSON.parse(event.data); } catch (_) { /* keep {} */ }
      handler(data);
    });
    on("conversation.created", refreshList);
    on("conversation.updated", (data) => {
      refreshList();
      if (sameId(data.conversation_id, openConversationId())) refreshHeader();
    });
    on("message.created", (data) => {
      if (sameId(data.conversation_id, openConversationId())) catchUp();
      refreshList();
    });
    on("message.status", (data) => {
      if (sameId(data.conversation_id, openConversationId())) refreshMessage(data.message_id);
    });
    on("message.updated", (data) => { // e.g. a photo fetched after its text arrived
      if (sameId(data.conversation_id, openConversationId())) refreshMessage(data.message_id);
    });
    // The login no longer opens this account (logged out, removed…): the page says where to go.
    source.addEventListener("access-ended", () => { source.close(); window.location.reload(); });
    source.addEventListener("error", () => { dropped = true; delete document.body.dataset.live; });
    source.addEventListener("ready", () => { // subscribed: nothing from here on is missed
      document.body.dataset.live = "connected";
      if (dropped) { dropped = false; refreshList(); catchUp(); } // what we missed meanwhile
    });
  }

  // ---- The composer: reply or note, SMS segments, canned responses, Ctrl+Enter.
  const GSM_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡" +
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  const GSM_EXTENDED = "^{}\\[~]|€\f";

  function smsSegments(text) {
    let septets = 0;
    for (const ch of text) {
      if (GSM_BASIC.includes(ch)) septets += 1;
      else if (GSM_EXTENDED.includes(ch)) septets += 2;
      else {
        const units = text.length; // UCS-2 counts UTF-16 code units: an emoji takes two
        return {encoding: "UCS-2", length: units,
                segments: units === 0 ? 0 : units <= 70 ? 1 : Math.ceil(units / 67)};
      }
    }
    return {encoding: "GSM-7", length: septets,
            segments: septets === 0 ? 0 : septets <= 160 ? 1 : Math.ceil(septets / 153)};
  }
  window.clientcontactSmsSegments = smsSegments; // for the browser tests

  function updateSmsCounter(textarea) {
    const counter = $("#sms-counter");
    if (!counter) return;
    const info = smsSegments(textarea.value);
    counter.textContent = info.length + " characters · " + info.segments +
      (info.segments === 1 ? " segment" : " segments") + " (" + info.encoding + ")";
    counter.classList.toggle("multi", info.segments > 1);
  }

  function setMode(form, mode) {
    form.classList.toggle("mode-note", mode === "note");
    form.classList.toggle("mode-reply", mode !== "note");
    const button = $("#send-button", form);
    if (button) button.textContent = mode === "note" ? "Add note" : "Send";
    const text = $("textarea", form);
    if (text) text.placeholder = (mode === "note" ? "Write an internal note…" : "Write a reply…") +
      "  (Ctrl+Enter sends)";
    // A closed WhatsApp window: a reply is the template form, a note the text (disabled
    // fields are neither checked nor sent).
    const template = $("#template-fields", form);
    if (template) {
      template.disabled = mode === "note";
      if (text) text.disabled = mode !== "note";
    }
  }

  function composerField(form) {
    const template = $("#template-fields", form);
    return template && !template.disabled ? $("#template-sid", form) : $("textarea", form);
  }

  // ---- Template variables: numbered rows, added and removed.
  function addVariable(form) {
    const list = $(".template-variables", form);
    const blank = $("#template-variable-row", form);
    if (!list || !blank) return;
    const row = blank.content.firstElementChild.cloneNode(true);
    const numbers = $$(".variable-name", list).map((input) => parseInt(input.value, 10) || 0);
    $(".variable-name", row).value = String(Math.max(0, ...numbers) + 1);
    list.appendChild(row);
    $(".variable-value", row).focus();
  }

  document.addEventListener("click", (event) => {
    const target = event.target;
    if (!target.closest) return;
    const add = target.closest("#composer .add-variable");
    if (add) { addVariable(add.form); return; }
    const remove = target.closest("#composer .remove-variable");
    if (remove) {
      const form = remove.form;
      remove.closest(".template-variable").remove();
      const next = $(".add-variable", form);
      if (next) next.focus();
    }
  });

  function focusComposer(mode) {
    const form = $("#composer");
    if (!form) return;
    const radio = $('input[name="mode"][value="' + mode + '"]', form);
    if (radio) { radio.checked = true; setMode(form, mode); }
    composerField(form).focus();
  }

  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target.matches('#composer input[name="mode"]')) setMode(target.form, target.value);
    if (target.matches("#canned-select") && target.value) {
      const text = $("#composer-text");
      const at = text.selectionStart || text.value.length;
      text.value = text.value.slice(0, at) + target.value + text.value.slice(text.selectionEnd || at);
      target.value = "";
      text.focus();
      updateSmsCounter(text);
    }
    if (target.matches('#composer input[type="file"]')) {
      const names = $(".attach-names", target.form);
      if (names) names.textContent = Array.from(target.files).map((f) => f.name).join(", ");
    }
  });
  document.addEventListener("input", (event) => {
    if (event.target.matches("#composer-text")) updateSmsCounter(event.target);
    const error = event.target.form && event.target.form.matches("#composer, #admin-main form")
      ? $(".composer-error, .form-error", event.target.form) : null;
    if (error) error.textContent = ""; // being corrected: the old complaint no longer applies
  });

  // ---- Canned responses by typing "/" at the start of a word: a list over the composer,
  // filtered as one types, with the chosen answer's text previewed. The options come filled in
  // for this conversation from the server (the same text the select offers). ARIA 1.2
  // combobox: while the list is open the text box is the combobox and owns the active option,
  // as GitHub's text-expander does on its text areas; closed, it is a plain text box again.
  // Hand-written: it is a few dozen lines, and the libraries that do it ship as ES modules
  // with dependencies, which would need a build step we do not have.
  const COMBOBOX_ATTRIBUTES = ["role", "aria-expanded", "aria-controls", "aria-autocomplete",
                               "aria-activedescendant"];
  let cannedDismissedAt = -1; // Escape closes the list until another "/" starts a word

  function cannedToken(text) {
    const at = text.selectionStart;
    if (at !== text.selectionEnd) return null;
    const match = /(^|\s)\/([\w-]*)$/.exec(text.value.slice(0, at));
    return match ? {start: at - match[2].length - 1, end: at, query: match[2].toLowerCase()} : null;
  }

  function cannedBox(text) {
    return text.form ? $("#canned-typeahead", text.form) : null;
  }

  function closeCanned(text) {
    const box = cannedBox(text);
    if (!box || box.hidden) return;
    box.hidden = true;
    COMBOBOX_ATTRIBUTES.forEach((name) => text.removeAttribute(name));
  }

  function activateCanned(text, option) {
    const box = cannedBox(text);
    $$('[role="option"]', box).forEach((item) => item.setAttribute("aria-selected", String(item === option)));
    $("#canned-preview", box).textContent = option ? option.dataset.text : "";
    if (option) {
      text.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({block: "nearest"});
    } else {
      text.removeAttribute("aria-activedescendant");
    }
  }

  function shownCanned(box) {
    return $$('[role="option"]', box).filter((option) => !option.hidden);
  }

  function updateCanned(text) {
    const box = cannedBox(text);
    if (!box) return;
    const token = cannedToken(text);
    if (!token) cannedDismissedAt = -1;
    if (!token || token.start === cannedDismissedAt) { closeCanned(text); return; }
    const list = $('[role="listbox"]', box);
    const options = $$('[role="option"]', list);
    options.forEach((option) => { option.hidden = !option.dataset.code.includes(token.query); });
    const rank = (option) => (option.dataset.code.startsWith(token.query) ? 0 : 1);
    options.slice().sort((a, b) => rank(a) - rank(b) || a.dataset.code.localeCompare(b.dataset.code))
      .forEach((option) => list.appendChild(option)); // codes that start with what was typed first
    const shown = shownCanned(box);
    $(".canned-empty", box).hidden = shown.length > 0;
    box.hidden = false;
    text.setAttribute("role", "combobox");
    text.setAttribute("aria-expanded", "true");
    text.setAttribute("aria-controls", list.id);
    text.setAttribute("aria-autocomplete", "list");
    const current = shown.find((option) => option.getAttribute("aria-selected") === "true");
    activateCanned(text, current || shown[0] || null);
  }

  function insertCanned(text, option) {
    const token = cannedToken(text);
    if (!token) return;
    text.setRangeText(option.dataset.text, token.start, token.end, "end");
    closeCanned(text);
    text.focus();
    text.dispatchEvent(new Event("input", {bubbles: true})); // the SMS counter, the error slot
  }

  function moveCanned(text, step) {
    const shown = shownCanned(cannedBox(text));
    if (!shown.length) return;
    const index = shown.findIndex((option) => option.getAttribute("aria-selected") === "true");
    activateCanned(text, shown[(index + step + shown.length) % shown.length]);
  }

  // Registered before the page's shortcuts, so Escape closes the list and does not also
  // leave the text box.
  document.addEventListener("keydown", (event) => {
    const text = event.target;
    if (!text.matches || !text.matches("#composer-text")) return;
    const box = cannedBox(text);
    if (!box || box.hidden || event.altKey || event.ctrlKey || event.metaKey) return;
    const active = $('[role="option"][aria-selected="true"]', box);
    const keys = {
      ArrowDown: () => moveCanned(text, 1),
      ArrowUp: () => moveCanned(text, -1),
      Enter: active && !event.shiftKey ? () => insertCanned(text, active) : null,
      Tab: active && !event.shiftKey ? () => insertCanned(text, active) : null,
      Escape: () => {
        const token = cannedToken(text);
        cannedDismissedAt = token ? token.start : -1;
        closeCanned(text);
      },
    };
    const action = keys[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });
  document.addEventListener("input", (event) => {
    if (event.target.matches("#composer-text")) updateCanned(event.target);
  });
  document.addEventListener("keyup", (event) => { // the caret moved out of (or into) a "/word"
    if (event.target.matches && event.target.matches("#composer-text") &&
        ["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) updateCanned(event.target);
  });
  document.addEventListener("focusout", (event) => {
    if (event.target.matches && event.target.matches("#composer-text")) closeCanned(event.target);
  });
  document.addEventListener("mousedown", (event) => { // a click on an option keeps the focus
    if (event.target.closest && event.target.closest("#canned-listbox")) event.preventDefault();
  });
  document.addEventListener("click", (event) => {
    const option = event.target.closest && event.target.closest('#canned-listbox [role="option"]');
    const text = option ? $("#composer-text", option.closest("form")) : null;
    if (text) insertCanned(text, option);
  });

  // ---- Keyboard: j/k move, Enter opens, r reply, n note, e resolve, / search, ? help.
  function move(step) {
    const links = $$(".conversation-row > a");
    if (!links.length) return;
    let index = links.indexOf(document.activeElement);
    if (index === -1) index = links.findIndex((a) => a.closest(".active"));
    index = index === -1 ? 0 : Math.max(0, Math.min(links.length - 1, index + step));
    links[index].focus();
    links[index].scrollIntoView({block: "nearest"});
  }

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (target.matches && target.matches("#composer-text") && event.key === "Enter" &&
        (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      target.form.requestSubmit();
      return;
    }
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (target.closest && target.closest("input, textarea, select, [contenteditable], dialog")) {
      if (event.key === "Escape" && target.blur) target.blur();
      return;
    }
    const actions = {
      j: () => move(1), k: () => move(-1),
      r: () => focusComposer("reply"), n: () => focusComposer("note"),
      e: () => { const button = $("#resolve-button"); if (button) button.click(); },
      "/": () => { const search = $("#search"); if (search) search.focus(); },
      "?": () => { const dialog = $("#shortcuts"); if (dialog) dialog.showModal(); },
    };
    const action = actions[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });

  // ---- Admin, new inbox: only the chosen provider's key fields show (and are sent).
  function showProviderKeys(select) {
    $$("fieldset.credentials", select.form).forEach((fieldset) => {
      const chosen = fieldset.dataset.provider === select.value;
      fieldset.hidden = !chosen;
      fieldset.disabled = !chosen;
    });
  }
  document.addEventListener("change", (event) => {
    if (event.target.id === "inbox-provider") showProviderKeys(event.target);
  });

  // ---- Whatever htmx brings in (and the first page) gets the same set-up.
  function setUp(root) {
    const provider = $("#inbox-provider", root) || (root.id === "inbox-provider" ? root : null);
    if (provider) showProviderKeys(provider);
    $$(".tz-offset", root).forEach((input) => { input.value = new Date().getTimezoneOffset(); });
    const thread = root.id === "thread" ? root : $("#thread", root);
    if (thread) thread.scrollTop = thread.scrollHeight;
    // htmx has wired this content up: its forms and buttons answer from now on.
    const conversation = root.matches && root.matches(".conversation") ? root : $(".conversation", root);
    if (conversation) conversation.dataset.ready = "true";
  }

  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    if (target.id === "conversation-pane") {
      document.body.classList.add("has-conversation");
      markActiveRow();
      const title = $("#conversation-title");
      if (title) document.title = title.textContent.trim() + " · Inbox · ClientContact";
      updateTitle();
    }
    if (target.id === "list-pane") { markActiveRow(); updateTitle(); }
    if (target.id === "composer" || (target.closest && target.closest("#composer"))) {
      const form = $("#composer");
      if (form) composerField(form).focus();
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    htmx.onLoad(setUp);
    updateTitle();
    connect();
  });
})();
