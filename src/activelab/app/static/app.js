// The activelab labelling page. Item content is always inserted as text
// (textContent), never as markup; images are fetched with the token and shown
// from a blob URL. Every key press and click becomes an action in one queue, run
// in order, so presses in quick succession are never dropped.
"use strict";

const KEY = "activelab-token";
const MAX_QUEUE = 50;
const state = {
  token: null, labels: [], keys: [], item: null, imageUrl: null,
  multi: false,            // a multi-label project: keys toggle labels, Enter confirms
  selected: new Set(),     // the labels ticked for the item on screen
  queue: [], running: false, helpReturn: null,
  finderReturn: null,      // where the focus goes back to when the label name box closes
  finderFresh: false,      // the box just opened: an auto-repeat now is the l held down
  offline: false,          // the last request found no server: say so until one answers
  doneAt: 0,               // when "All done" was last confirmed by the server (ms)
  imageShown: null,        // an image item: resolves to true once its image is on screen
  imageAbort: null,        // stops the image's request (signing out, the next item)
  unsaved: null,           // the item on screen whose answer did not reach the server
  polling: false,          // a progress poll is on its way (or waiting out a busy database)
};
const IMAGE_TIMEOUT_MS = 20000;  // an image that takes longer counts as not loaded
const DONE_RECHECK_MS = 30000;  // while "All done": ask again this often for new work
const $ = (id) => document.getElementById(id);

function setStatus(msg, ok) {
  const el = $("status");
  el.textContent = msg || "";
  el.className = "status" + (ok ? " ok" : "");
}

function newRequestId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return Date.now().toString(36) + Math.random().toString(36).slice(2);
}

class RefusedToken extends Error {}
/** 409: the server's state moved on (the item answered in another tab, or taken over). */
class Conflict extends Error {}
/** The server did not answer at all (down, restarting, or the network is gone). */
class Unreachable extends Error {}

/** The server answered 503 (its database could not serve the request), on every try. */
class Unavailable extends Error {}

const UNAVAILABLE_RETRIES = 5;    // a 503 with Retry-After is sent again this many times at most
const RETRY_AFTER_MAX_S = 30;     // and never after a longer wait than this

/**
 * The seconds to wait before sending again a request answered 503, from its Retry-After
 * header (a number of seconds or an HTTP date), at most RETRY_AFTER_MAX_S; null without a
 * usable header: the server did not ask for the request again.
 */
function retryAfterSeconds(header) {
  if (header === null) return null;
  const text = header.trim();
  let seconds;
  if (/^\d+$/.test(text)) seconds = Number(text);
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return null;
    seconds = Math.ceil((at - Date.now()) / 1000);
  }
  return Math.min(Math.max(seconds, 0), RETRY_AFTER_MAX_S);
}

/**
 * Say what the page waits for: in the status line, or, before the project is open (no
 * status line yet), on the sign-in panel where a failure to open it is said.
 */
function sayWaiting(text) {
  if (!$("main").hidden) { setStatus(text); return; }
  $("login").hidden = false;
  const box = $("login-error");
  box.textContent = text;
  box.hidden = false;
}

/** Wait `seconds`, counting down where it can be seen; stops early if signed out or aborted. */
async function waitForDatabase(seconds, signal) {
  for (let left = seconds; ; left--) {
    sayWaiting("Database unavailable, retrying in " + left + " s");
    if (left <= 0) return;
    await new Promise((r) => setTimeout(r, 1000));
    if (signal && signal.aborted) throw signal.reason;
    if (!state.token) throw new RefusedToken("signed out");
  }
}

async function api(path, options = {}, attempts = 3) {
  // signed out while an action ran: its next request is not sent (nothing to refuse)
  if (!state.token) throw new RefusedToken("signed out");
  const headers = Object.assign({ Authorization: "Bearer " + state.token }, options.headers || {});
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  let lastError = null;
  let unreached = 0;     // tries the network lost
  let unavailable = 0;   // tries answered 503 and sent again
  while (unreached < attempts) {
    let resp;
    try {
      resp = await fetch(path, Object.assign({}, options, { headers }));
    } catch (err) {
      if (options.signal && options.signal.aborted) throw err;  // stopped on purpose, or too slow
      // network trouble: retry; the request id makes the retry safe
      lastError = err;
      unreached++;
      await new Promise((r) => setTimeout(r, 300 * unreached));
      continue;
    }
    if (state.offline) {  // said at once; what the request itself brings is said after
      state.offline = false;
      const lost = unsavedItem();
      if (lost) setStatus("Connected again: the answer to item " + lost.external_id + " is not saved yet; press its key again.");
      else setStatus("Connected again: the server answers.", true);
    }
    if (resp.status === 401) {
      forgetToken("This token was refused: it is unknown, mistyped or revoked. Check it, or ask the project owner for a new one.");
      throw new RefusedToken("token refused");
    }
    if (resp.status === 503 && unavailable < UNAVAILABLE_RETRIES) {
      // the database is down, restarting or busy: the server says when to ask again; the
      // same request (the same request id) goes again, so an answer is stored once
      const wait = retryAfterSeconds(resp.headers.get("Retry-After"));
      if (wait !== null) {
        unavailable++;
        await waitForDatabase(wait, options.signal);
        continue;
      }
    }
    if (!resp.ok) {
      let detail = resp.statusText;
      try { const body = await resp.json(); detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail); } catch (e) { /* not JSON */ }
      if (resp.status === 409) throw new Conflict(detail);
      throw resp.status === 503 ? new Unavailable(detail) : new Error(detail);
    }
    if (unavailable > 0) setStatus("The database answers again.", true);  // what comes next is said after
    if (resp.status === 204) return null;
    const type = resp.headers.get("content-type") || "";
    return type.includes("application/json") ? resp.json() : resp.blob();
  }
  state.offline = true;
  console.warn("activelab: no answer from the server", lastError);
  throw new Unreachable("The server cannot be reached. Press the key again once it is back (the page says when).");
}

/** The item on screen when its answer or skip did not reach the server (else null). */
function unsavedItem() {
  return state.unsaved !== null && state.unsaved === state.item ? state.unsaved : null;
}

/** What the page says while the server cannot be reached: the unsaved item first. */
function unreachableLine() {
  const lost = unsavedItem();
  if (lost) {
    return "Not saved for item " + lost.external_id + ": the server cannot be reached. " +
      "Press the key again once it is back (the page says when).";
  }
  return "The server cannot be reached: the page keeps trying every few seconds. What you saved is kept.";
}

function forgetToken(message) {
  if (state.imageAbort) state.imageAbort.abort();
  sessionStorage.removeItem(KEY);
  state.token = null;
  state.queue.length = 0;
  closeFinder(false);
  $("main").hidden = true;
  $("logout-button").hidden = true;
  $("owner-link").hidden = true;
  $("who").textContent = "";
  $("login").hidden = false;
  const err = $("login-error");
  err.textContent = message || "";
  err.hidden = !message;
  $("token-input").focus();
}

/**
 * Sign out: every item held is given back at once (the one on screen, and any that was
 * on screen when an undo brought an earlier item back), so that a teammate can take them
 * rather than wait for their reservations to run out. An answer already on its way
 * is stored first (the release waits for it); keys not yet sent are dropped.
 */
async function signOut() {
  const token = state.token;
  forgetToken("");
  while (state.running) await new Promise((r) => setTimeout(r, 50));
  state.item = null;
  if (!token) return;
  try {
    // keepalive: sent even when the tab is closed right after
    await fetch("/api/release-held", {
      method: "POST", keepalive: true,
      headers: { Authorization: "Bearer " + token },
    });
  } catch (e) { /* unreachable: the reservations run out on their own */ }
}

function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }

/** Percentages with as many decimals as it takes to tell the given values apart (max 2). */
function pcts(values) {
  for (let d = 0; d <= 2; d++) {
    const out = values.map((x) => (100 * x).toFixed(d));
    if (new Set(out).size === new Set(values).size || d === 2) return out.map((s) => s + "%");
  }
  return values.map((x) => (100 * x).toFixed(2) + "%");
}
function pct(x) { return (100 * x).toFixed(0) + "%"; }

/**
 * The key of each label: a label that is a single digit answers on that digit; the
 * other labels take the digits left free, 1–9 then 0 ("" once none is left). So key 2
 * is never the key of a label other than "2" (the terminal labeller does the same).
 */
function keysFor(labels) {
  const own = labels.map((l) => (/^[0-9]$/.test(l) ? l : ""));
  const free = [..."1234567890"].filter((k) => !own.includes(k));
  return own.map((k) => k || free.shift() || "");
}

function announce(text) {
  const el = $("announce");
  el.textContent = "";
  window.setTimeout(() => { el.textContent = text; }, 50);
}

function itemName(item) {
  if (item.kind === "image" && item.fields && item.fields.file) return item.fields.file;
  return item.external_id;
}

function showItem(item) {
  state.item = item;
  state.unsaved = null;  // another item, or the same one given afresh: nothing pending on it
  const text = $("item-text"), box = $("fields-box");
  const body = $("item-fields").querySelector("tbody");
  clear(body);
  text.textContent = "";
  text.hidden = true;
  $("item-figure").hidden = true;
  box.hidden = true;
  if (state.imageUrl) { URL.revokeObjectURL(state.imageUrl); state.imageUrl = null; }
  $("done").hidden = item !== null;
  $("labels").hidden = item === null;
  $("actions").hidden = item === null;
  $("guess").hidden = item === null;
  $("confirm-button").hidden = item === null || !state.multi;
  $("selection").hidden = item === null || !state.multi;
  $("image-error").hidden = true;
  state.imageShown = null;
  state.selected = new Set();
  showSelection();
  if (item === null) {
    closeFinder(false);  // nothing left to answer by name
    state.doneAt = Date.now();
    $("item-id").textContent = "";
    $("item-why").textContent = "";
    $("guess").textContent = "";
    announce("Nothing left to label for you. Thank you!");
    $("card").focus();
    return;
  }
  $("item-id").textContent = "Item " + item.external_id;
  $("item-why").textContent = item.strategy ? "· asked by " + item.strategy : "";
  if (item.text !== null && item.text !== undefined) {
    text.textContent = item.text;
    text.hidden = false;
  }
  if (item.image_url) loadImage(item); else setAnswerable(true);
  if (item.fields && item.kind !== "image") {
    // a text item's "id" column repeats the item's name: not shown twice
    const entries = Object.entries(item.fields).filter(([k, v]) => !(item.kind === "text" && k === "id" && v === item.external_id));
    for (const [k, v] of entries) {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      const td = document.createElement("td");
      th.scope = "row";
      th.textContent = k;
      td.textContent = v;
      td.dir = "auto";  // right-to-left values (Arabic, Hebrew) read their own way
      tr.appendChild(th);
      tr.appendChild(td);
      body.appendChild(tr);
    }
    $("fields-caption").textContent = entries.length + " fields of item " + item.external_id;
    box.hidden = entries.length === 0;
  }
  showGuess(item);
  const preview = item.text ? ": " + item.text.slice(0, 140) : "";
  announce("New item " + itemName(item) + preview);
  if (!document.activeElement || document.activeElement === document.body) $("card").focus();
}

/** The answer buttons (and Enter's Confirm) on or off; Skip and Undo always work. */
function setAnswerable(on) {
  for (const btn of $("labels").children) btn.disabled = !on;
  $("confirm-button").disabled = !on;
}

/**
 * Fetch and show an image item's image. Until it is on screen the item cannot be answered
 * (nobody labels an image they never saw): the answer buttons are off, and if the image
 * fails to load the card says why, with a Retry button; Skip still works.
 */
function loadImage(item) {
  const img = $("item-image");
  img.alt = "Image " + itemName(item);
  img.removeAttribute("src");
  $("item-figure").hidden = true;
  $("image-error").hidden = true;
  setAnswerable(false);
  if (state.imageAbort) state.imageAbort.abort();
  const stop = new AbortController();
  state.imageAbort = stop;
  const timer = window.setTimeout(
    () => stop.abort(new DOMException("the image took too long", "TimeoutError")), IMAGE_TIMEOUT_MS);
  state.imageShown = (async () => {
    try {
      const blob = await api(item.image_url, { signal: stop.signal });
      if (state.item !== item) return false;
      if (state.imageUrl) URL.revokeObjectURL(state.imageUrl);
      state.imageUrl = URL.createObjectURL(blob);
      img.src = state.imageUrl;
      await img.decode();  // fails on bytes that are no image the browser can draw
      if (state.item !== item) return false;
      $("item-figure").hidden = false;
      setAnswerable(true);
      return true;
    } catch (err) {
      if (state.item !== item || !state.token || err instanceof RefusedToken) return false;
      img.removeAttribute("src");
      const why = err instanceof Unreachable || (err && err.name === "TimeoutError")
        ? "the server did not send it"
        : err && err.name === "EncodingError" ? "the file is not an image the browser can show"
        : err.message;
      $("image-error-text").textContent = "The image of item " + item.external_id +
        " could not be loaded (" + why + "). It cannot be answered unseen: retry, or skip it.";
      $("image-error").hidden = false;
      return false;
    } finally {
      window.clearTimeout(timer);
    }
  })();
}

/**
 * Wait for the image of the item on screen (if it is one); false, with the reason said and
 * the keys queued after this one dropped, when it is not shown.
 */
async function itemSeen() {
  const item = state.item;
  if (state.imageShown === null || (await state.imageShown)) return true;
  state.queue.length = 0;
  if (state.item !== item || !state.token) return false;  // signed out meanwhile
  setStatus("Not answered: the image of item " + item.external_id +
    " is not shown. Retry loading it, or skip the item (s).");
  return false;
}

function retryImage() {
  if (!state.item || !state.item.image_url) return;
  setStatus("");
  loadImage(state.item);
}

function showSelection() {
  if (!state.multi) return;
  for (const btn of $("labels").children) {
    const on = state.selected.has(btn.dataset.label);
    btn.classList.toggle("checked", on);
    btn.setAttribute("aria-pressed", on ? "true" : "false");
  }
  const picked = state.labels.filter((l) => state.selected.has(l));
  $("selection").textContent = picked.length
    ? "Ticked: " + picked.join(", ")
    : "Nothing ticked: Enter saves \u201cnone of these\u201d";
}

function markGuess(guessed) {
  for (const btn of $("labels").children) {
    const on = guessed.includes(btn.dataset.label);
    btn.classList.toggle("guessed", on);
    btn.querySelector(".tag").textContent = on ? "guess" : "";
  }
}

function showGuess(item) {
  const g = $("guess");
  clear(g);
  const add = (t, cls) => {
    const el = document.createElement("span");
    if (cls) el.className = cls;
    el.textContent = t;
    g.appendChild(el);
  };
  if (state.multi) {
    const probs = item.probabilities || {};
    const guessed = item.guess_labels || [];
    if (item.guess_labels === null || item.guess_labels === undefined) {
      add("No model yet: these first items were picked to cover the data.");
    } else if (guessed.length) {
      add("Model's guess: ");
      add(guessed.map((l) => l + " " + pct(probs[l])).join(", "), "pill");
    } else {
      const top = state.labels.reduce((a, b) => ((probs[b] || 0) > (probs[a] || 0) ? b : a), state.labels[0]);
      add("Model's guess: ");
      add("none of these", "pill");
      add(" (most likely " + top + ", " + pct(probs[top] || 0) + ")");
    }
    markGuess(guessed);
    return;
  }
  if (item.guess) {
    add("Model's guess: ");
    add(item.guess, "pill");
    add(" \u00b7 " + pct(item.confidence) + " confident");
  } else {
    add("No model yet: these first items were picked to cover the data.");
  }
  markGuess(item.guess ? [item.guess] : []);
}

function classLine(p) {
  // labels per class and each class's recall: a rare class the model misses shows here
  const counts = p.class_counts || {};
  const recall = p.class_recall || {};
  const parts = Object.keys(counts).map((c) =>
    c + " " + counts[c] + (recall[c] === undefined || recall[c] === null ? "" : " · " + pct(recall[c])));
  return parts.length ? parts.join(", ") : "none yet";
}

function showProgress(p) {
  $("progress-labelled").textContent = String(p.labelled);
  $("progress-total").textContent = String(p.n_items);
  $("progress-mine").textContent = String(p.mine);
  $("progress-remaining").textContent = String(p.remaining);
  const share = p.n_items ? (100 * p.labelled) / p.n_items : 0;
  $("progress-fill").style.width = share + "%";
  $("progress-bar").setAttribute("aria-valuenow", share.toFixed(0));
  $("progress-quality-name").textContent = "estimated " + (p.quality_metric || "accuracy");
  if (p.accuracy === null) {
    $("progress-accuracy").textContent = state.multi ? "not yet (needs a few labelled items)" : "not yet (needs two labels of each class)";
  } else {
    const [est, lo, hi] = pcts([p.accuracy, p.accuracy_low, p.accuracy_high]);
    $("progress-accuracy").textContent = est + " (95% interval " + lo + "\u2013" + hi + ")";
  }
  $("progress-accuracy").title = p.accuracy_note || "";
  $("progress-classes").textContent = classLine(p);
  $("progress-pays").textContent = p.still_pays === null ? "not yet known" : (p.still_pays ? "yes" : "hardly: the model has stabilised");
  $("progress-pays").title = p.still_pays_reason || "";
  $("progress-stopping").textContent = p.stopping_text ? p.stopping_text.replace(/^stopping: /, "") : "no model yet";
  let model;
  if (p.model_version === null || !p.model_ready) {
    model = state.multi ? "no model yet (needs a few labelled items)" : "no model yet (needs labels of two classes)";
  } else {
    model = "v" + p.model_version + " on " + p.model_labels + " label" + (p.model_labels === 1 ? "" : "s");
  }
  if (p.training) model += " \u00b7 training\u2026";
  $("progress-model").textContent = model;
  $("progress-model").title = p.trainer_error ? "trainer's last error: " + p.trainer_error : "";
  const note = $("trainer-note");
  const troubled = p.trainer === "restarting" || (p.trainer === "starting" && p.trainer_error);
  note.hidden = !troubled;
  note.textContent = troubled
    ? "The model trainer is restarting (" + (p.trainer_error || "it stopped") + "). Labelling goes on; the model updates once it is back."
    : "";
}

async function refreshProgress() {
  try {
    const p = await api("/api/progress");
    showProgress(p);
    if (state.item === null && p.remaining > 0 && Date.now() - state.doneAt >= DONE_RECHECK_MS) {
      // "All done" may not last: items added, skipped or given back by others come to you
      state.doneAt = Date.now();
      enqueue(async () => {
        if (state.item !== null) return;
        const next = await api("/api/next");
        if (next.item) showItem(next.item); else state.doneAt = Date.now();
      });
    }
    const item = state.item;
    if (item && p.model_version !== null && p.model_version !== item.model_version) {
      // a newer model: refresh its guess for the item on screen
      const fresh = await api("/api/items/" + item.id);
      if (state.item === item) {
        Object.assign(item, {
          guess: fresh.guess, confidence: fresh.confidence, guess_labels: fresh.guess_labels,
          probabilities: fresh.probabilities, model_version: fresh.model_version,
        });
        showGuess(item);
      }
    }
  } catch (err) {
    if (err instanceof Unreachable) setStatus(unreachableLine());
    else if (!(err instanceof RefusedToken)) setStatus(err.message);
  }
}

async function loadNext() {
  const next = await api("/api/next");
  showItem(next.item);
}

/**
 * Answer or skip the item on screen with `send`; when the server refuses it with 409
 * (already answered in another tab or window of this annotator, or its reservation ran
 * out and someone else took it), nothing was stored: say so and show the next item
 * rather than stay on an item that can no longer be answered.
 */
async function onItem(send) {
  const item = state.item;
  try {
    await send(item);
    if (state.unsaved === item) state.unsaved = null;  // stored at last
  } catch (err) {
    if (err instanceof Unreachable) {
      // said with the item's name, until it is stored or another item shows: the expert
      // knows which answer to give again
      if (state.item === item) state.unsaved = item;
      throw new Unreachable(unreachableLine());
    }
    if (err instanceof Unavailable) {
      if (state.item === item) state.unsaved = item;  // kept on screen, its answer unsent
      throw err;
    }
    if (!(err instanceof Conflict)) throw err;
    state.queue.length = 0;  // the queued keys were meant for the items after this one
    await loadNext();
    setStatus("Not saved for item " + item.external_id + ": it was already answered or skipped (in " +
      "another tab, or by an earlier try that got no reply) or taken over after its reservation " +
      "ran out. Here is your next item.");
    return false;
  }
  return true;
}

/** Queue an action; actions run one at a time, in the order they were asked for. */
function enqueue(fn) {
  if (!state.token || $("main").hidden) return;
  if (state.queue.length >= MAX_QUEUE) { setStatus("Too many keys at once: wait for the page to catch up."); return; }
  state.queue.push(fn);
  pump();
}

async function pump() {
  if (state.running) return;
  state.running = true;
  let failed = false;
  while (state.queue.length) {
    const fn = state.queue.shift();
    try {
      await fn();
    } catch (err) {
      // the queued keys were meant for items that are not coming: drop them, say why
      state.queue.length = 0;
      failed = true;
      if (!(err instanceof RefusedToken)) setStatus(err.message);
    }
  }
  state.running = false;
  if (state.token && !failed) await refreshProgress();
}

function answer(label) {
  closeFinder();  // an answer, however given, leaves no name typed for the next item
  enqueue(async () => {
    if (!state.item || !(await itemSeen())) return;
    let ev;
    const sent = await onItem(async (item) => {
      ev = await api("/api/answer", { method: "POST", body: JSON.stringify({ item_id: item.id, label, request_id: newRequestId() }) });
    });
    if (!sent) return;
    setStatus("Saved: " + ev.label, true);
    await loadNext();
  });
}

function toggle(label) {
  enqueue(async () => {
    if (!state.item || !(await itemSeen())) return;
    if (state.selected.has(label)) state.selected.delete(label); else state.selected.add(label);
    showSelection();
  });
}

function confirmSet() {
  closeFinder();
  enqueue(async () => {
    if (!state.item || !(await itemSeen())) return;
    const labels = state.labels.filter((l) => state.selected.has(l));
    let ev;
    const sent = await onItem(async (item) => {
      ev = await api("/api/answer", { method: "POST", body: JSON.stringify({ item_id: item.id, labels, request_id: newRequestId() }) });
    });
    if (!sent) return;
    setStatus("Saved: " + (ev.labels.length ? ev.labels.join(", ") : "none of these"), true);
    await loadNext();
  });
}

function skip() {
  closeFinder();
  enqueue(async () => {
    if (!state.item) return;
    const sent = await onItem((item) =>
      api("/api/skip", { method: "POST", body: JSON.stringify({ item_id: item.id, request_id: newRequestId() }) }));
    if (!sent) return;
    setStatus("Skipped", true);
    await loadNext();
  });
}

function undo() {
  closeFinder();
  enqueue(async () => {
    const res = await api("/api/undo", { method: "POST", body: JSON.stringify({ request_id: newRequestId() }) });
    setStatus("Undone: your last answer or skip was taken back", true);
    showItem(res.item);
    if (state.multi && res.undone && res.undone.kind === "label" && res.undone.labels) {
      // the taken-back set comes back ticked: fix one label, then Enter
      state.selected = new Set(res.undone.labels);
      showSelection();
    }
  });
}

/** While the help dialog is open the page behind it is inert: no Tab stop, no click. */
function setBehindInert(on) {
  for (const el of document.body.children) {
    if (el !== $("help") && el.tagName !== "SCRIPT") el.inert = on;
  }
}

function openHelp() {
  state.helpReturn = document.activeElement;
  $("help").hidden = false;
  setBehindInert(true);
  $("help-close").focus();
}

function closeHelp() {
  $("help").hidden = true;
  setBehindInert(false);
  const back = state.helpReturn;
  if (back && document.contains(back) && back !== document.body) back.focus(); else $("card").focus();
}

function toggleHelp() { if ($("help").hidden) openHelp(); else closeHelp(); }

/**
 * A click handler that ignores the second click of a double-click: it would act on the
 * next item, unseen (keyboard activations and separate clicks all count).
 */
function once(fn) {
  return (e) => { if (e.detail <= 1) fn(); };
}

function buildLabels(labels) {
  const box = $("labels");
  clear(box);
  state.keys = keysFor(labels);
  labels.forEach((label, i) => {
    const btn = document.createElement("button");
    btn.type = "button";
    btn.dataset.label = label;
    const key = state.keys[i];
    const kbd = document.createElement("kbd");
    kbd.setAttribute("aria-hidden", "true");
    if (key) {
      kbd.textContent = key;
      btn.setAttribute("aria-keyshortcuts", key);
    } else {  // no number key left: l, then its name
      kbd.textContent = "l";
      kbd.className = "by-name";
      btn.title = "l, then type its name";
    }
    btn.appendChild(kbd);
    const name = document.createElement("span");
    name.className = "name";
    name.dir = "auto";
    name.textContent = label;
    btn.appendChild(name);
    const tag = document.createElement("span");
    tag.className = "tag";
    btn.appendChild(tag);
    if (state.multi) {
      btn.setAttribute("aria-pressed", "false");
      btn.addEventListener("click", () => toggle(label));  // focus stays on the button
    } else {
      btn.addEventListener("click", once(() => answer(label)));
    }
    box.appendChild(btn);
  });
  $("help-name-key").hidden = !byName();
  for (const help of [$("help-answer-keys"), $("help-tick-keys")]) {
    clear(help);
    keyRuns(helpOrder(state.keys.filter(Boolean), labels)).forEach((run, i) => {
      if (i) help.appendChild(document.createTextNode(", "));
      const ends = run.length > 2 ? [run[0], run[run.length - 1]] : run;
      ends.forEach((key, j) => {
        if (j) help.appendChild(document.createTextNode(run.length > 2 ? "\u2013" : ", "));
        const kbd = document.createElement("kbd");
        kbd.textContent = key;
        help.appendChild(kbd);
      });
    });
  }
}

/** The keys in ascending order, 0 last unless it is label "0"'s own key: 1–9, 0 or 0–9. */
function helpOrder(keys, labels) {
  const rank = (k) => (k === "0" && !labels.includes("0") ? 10 : Number(k));
  return [...keys].sort((a, b) => rank(a) - rank(b));
}

/** The keys in runs of consecutive digits: 1–9 then 0 for ten labels. */
function keyRuns(keys) {
  const runs = [];
  for (const key of keys) {
    const run = runs[runs.length - 1];
    if (run && Number(key) === Number(run[run.length - 1]) + 1) run.push(key); else runs.push([key]);
  }
  return runs;
}

/** Whether some labels have no number key, so that `l` and their name reach them. */
function byName() { return state.keys.includes(""); }

/** Case folded as the terminal folds it (Python's str.casefold), near enough: "Straße" is "strasse". */
function fold(text) { return text.toUpperCase().toLowerCase(); }

function quoted(text) { return "\u201c" + text + "\u201d"; }

/**
 * The label typed text means, as at the terminal's `l` prompt: the name as written, else the
 * same letters in another case, else the one label that starts with them (in any case).
 * Returns `{label, why}`; `label` is null, and `why` says why, when no single label is meant.
 */
function typedLabel(text, labels) {
  const typed = text.trim();
  if (!typed) return { label: null, why: "Type a label's name, or its first letters." };
  if (labels.includes(typed)) return { label: typed, why: "" };
  const folded = fold(typed);
  const same = labels.filter((l) => fold(l) === folded);
  const starts = same.length ? same : labels.filter((l) => fold(l).startsWith(folded));
  if (starts.length === 1) return { label: starts[0], why: "" };
  if (!starts.length) return { label: null, why: "No label " + quoted(typed) + ": no label starts with it." };
  if (same.length) {
    return { label: null, why: quoted(typed) + " is several labels that differ only in case: " +
      same.join(", ") + "; type one exactly as written." };
  }
  const some = starts.slice(0, 12).join(", ") + (starts.length > 12 ? ", \u2026" : "");
  return { label: null, why: quoted(typed) + " is the start of several labels: " + some + "; type more of the name." };
}

/** Say `text` in the label name box's live region (`problem`: as an error). */
function finderSay(text, problem) {
  const el = $("finder-message");
  el.textContent = text;
  el.classList.toggle("problem", Boolean(problem));
}

/** Show only the label buttons that start with the text typed in the box, and say what Enter does. */
function filterLabels() {
  const text = $("finder-input").value;
  const typed = fold(text.trim());
  let shown = 0;
  for (const btn of $("labels").children) {
    const on = !typed || fold(btn.dataset.label).startsWith(typed);
    btn.hidden = !on;
    if (on) shown += 1;
  }
  if (!typed) { finderSay(""); return; }
  const { label } = typedLabel(text, state.labels);
  const verb = !state.multi ? "answers with " : state.selected.has(label) ? "unticks " : "ticks ";
  if (label !== null) finderSay("Enter " + verb + label + ".");
  else if (shown === 0) finderSay("No label starts with " + quoted(text.trim()) + ".", true);
  else finderSay(shown + " labels start with " + quoted(text.trim()) + ": type more of the name.");
}

/** Open the label name box (`l`): the focus moves into it, the buttons filter as one types. */
function openFinder() {
  if (!byName() || !state.item || $("labels").hidden) return;
  if ($("finder").hidden) state.finderReturn = document.activeElement;
  $("finder").hidden = false;
  $("finder-input").value = "";
  state.finderFresh = true;
  filterLabels();
  $("finder-input").focus();
}

/** Close the label name box, every button shown again; the focus goes back where it was. */
function closeFinder(refocus = true) {
  if ($("finder").hidden) return;
  $("finder").hidden = true;
  $("finder-input").value = "";
  filterLabels();
  if (!refocus) return;
  const back = state.finderReturn;
  if (back && document.contains(back) && back !== document.body && back.offsetParent !== null) back.focus();
  else $("card").focus();
}

/** Keys in the label name box: Enter answers with (or ticks) the label meant, Esc closes. */
function onFinderKey(e) {
  if (e.repeat && state.finderFresh) { e.preventDefault(); return; }  // the l that opened it, held
  state.finderFresh = false;
  if (e.key === "Escape") {
    e.preventDefault();
    closeFinder();
  } else if (e.key === "Enter") {
    e.preventDefault();
    if (e.repeat) return;  // held down: one answer, as with the number keys
    const { label, why } = typedLabel($("finder-input").value, state.labels);
    if (label === null) { finderSay(why, true); return; }
    closeFinder();
    if (state.multi) toggle(label); else answer(label);
  }
}

/**
 * Whether Enter on `el` does its own thing (follows a link, opens "Model and stopping",
 * presses Skip), so it must not also confirm the ticked labels. A label button is not one:
 * there Enter confirms and Space ticks.
 */
function ownEnter(el) {
  const control = el && el.closest && el.closest("a[href], summary, button, select, textarea, input, [contenteditable]");
  return Boolean(control) && !$("labels").contains(control);
}

document.addEventListener("keydown", (e) => {
  if (!$("help").hidden) {
    if (e.key === "Escape" || e.key === "?") { e.preventDefault(); closeHelp(); }
    // Close is the dialog's one control: Tab keeps the focus on it, never behind the dialog
    else if (e.key === "Tab") { e.preventDefault(); $("help-close").focus(); }
    return;
  }
  if ($("main").hidden || e.ctrlKey || e.metaKey || e.altKey) return;
  const tag = (e.target && e.target.tagName) || "";
  if (tag === "INPUT" || tag === "TEXTAREA") return;
  if (e.repeat && (/^[0-9suSU]$/.test(e.key) || e.key === "Enter")) {
    // a key held down answers once: its auto-repeat would answer unseen items
    e.preventDefault();
    return;
  }
  if (/^[0-9]$/.test(e.key)) {
    const i = state.keys.indexOf(e.key);
    if (i >= 0) {
      e.preventDefault();
      if (state.multi) toggle(state.labels[i]); else answer(state.labels[i]);
    }
  } else if (e.key === "Enter" && state.multi && !ownEnter(e.target)) {
    // also on a focused label button: Enter confirms (Space toggles it)
    e.preventDefault();
    confirmSet();
  }
  // with Caps Lock on (or Shift) the letters still work
  else if (e.key === "s" || e.key === "S") { e.preventDefault(); skip(); }
  else if (e.key === "u" || e.key === "U") { e.preventDefault(); undo(); }
  else if (e.key === "?") { e.preventDefault(); openHelp(); }
  else if ((e.key === "l" || e.key === "L") && byName()) { e.preventDefault(); openFinder(); }
});

let startTimer = null;

async function start() {
  window.clearTimeout(startTimer);
  try {
    const project = await api("/api/project");
    state.labels = project.labels;
    state.multi = project.task === "multilabel";
    for (const el of document.querySelectorAll(".multi-only")) el.hidden = !state.multi;
    for (const el of document.querySelectorAll(".single-only")) el.hidden = state.multi;
    $("project-name").textContent = project.name;
    $("who").textContent = project.annotator;
    $("owner-link").hidden = !project.owner;  // the owner's page of label quality
    document.title = project.name + " \u00b7 activelab";
    buildLabels(project.labels);
    await loadNext();  // before the page shows: a failure here leaves no empty card behind
    $("login").hidden = true;
    $("login-error").hidden = true;
    $("main").hidden = false;
    $("logout-button").hidden = false;
    if (!document.activeElement || document.activeElement === document.body) $("card").focus();
    await refreshProgress();
  } catch (err) {
    if (err instanceof RefusedToken) return;
    // nothing is on screen yet: say why where it can be seen, and try again shortly
    const why = err instanceof Unreachable ? "the server cannot be reached." : err.message;
    $("login").hidden = false;
    const box = $("login-error");
    box.textContent = "The project could not be opened: " + why + " Trying again in a few seconds…";
    box.hidden = false;
    startTimer = window.setTimeout(() => { if (state.token && $("main").hidden) start(); }, 5000);
  }
}

window.addEventListener("DOMContentLoaded", () => {
  const params = new URLSearchParams(window.location.search);
  if (params.has("token")) {
    sessionStorage.setItem(KEY, params.get("token"));
    history.replaceState(null, "", window.location.pathname);  // keep the token out of history
  }
  state.token = sessionStorage.getItem(KEY);
  $("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    state.token = $("token-input").value.trim();
    sessionStorage.setItem(KEY, state.token);
    $("token-input").value = "";
    start();
  });
  $("help-button").addEventListener("click", toggleHelp);
  $("help-close").addEventListener("click", closeHelp);
  $("finder-input").addEventListener("input", filterLabels);
  $("finder-input").addEventListener("keydown", onFinderKey);
  $("help").addEventListener("click", (e) => { if (e.target === $("help")) closeHelp(); });
  $("skip-button").addEventListener("click", once(skip));
  $("image-retry").addEventListener("click", retryImage);
  $("undo-button").addEventListener("click", once(undo));
  $("confirm-button").addEventListener("click", once(confirmSet));
  $("logout-button").addEventListener("click", signOut);
  if (state.token) start(); else $("login").hidden = false;
  setInterval(async () => {
    // one poll at a time: a poll waiting out a busy database is not joined by the next
    if (!state.token || $("main").hidden || state.running || state.polling) return;
    state.polling = true;
    try { await refreshProgress(); } finally { state.polling = false; }
  }, 5000);
});
