// The activelab labelling page. Item content is always inserted as text
// (textContent), never as markup; images are fetched with the token and shown
// from a blob URL.
"use strict";

const KEY = "activelab-token";
const state = {
  token: null, labels: [], item: null, busy: false, imageUrl: null,
  multi: false,            // a multi-label project: keys toggle labels, Enter confirms
  selected: new Set(),     // the labels ticked for the item on screen
};
const $ = (id) => document.getElementById(id);

function setStatus(msg, ok) {
  const el = $("status");
  el.textContent = msg || "";
  el.className = ok ? "ok" : "";
}

function newRequestId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return Date.now().toString(36) + Math.random().toString(36).slice(2);
}

async function api(path, options = {}, attempts = 3) {
  const headers = Object.assign({ Authorization: "Bearer " + state.token }, options.headers || {});
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  let lastError = null;
  for (let i = 0; i < attempts; i++) {
    let resp;
    try {
      resp = await fetch(path, Object.assign({}, options, { headers }));
    } catch (err) {
      // network trouble: retry; the request id makes the retry safe
      lastError = err;
      await new Promise((r) => setTimeout(r, 300 * (i + 1)));
      continue;
    }
    if (resp.status === 401) {
      forgetToken();
      throw new Error("Your token was refused (missing, unknown or revoked).");
    }
    if (!resp.ok) {
      let detail = resp.statusText;
      try { const body = await resp.json(); detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail); } catch (e) { /* not JSON */ }
      throw new Error(detail);
    }
    if (resp.status === 204) return null;
    const type = resp.headers.get("content-type") || "";
    return type.includes("application/json") ? resp.json() : resp.blob();
  }
  throw new Error("The server cannot be reached (" + (lastError && lastError.message) + "). Your answer was not lost: try again.");
}

function forgetToken() {
  sessionStorage.removeItem(KEY);
  state.token = null;
  $("main").hidden = true;
  $("login").hidden = false;
}

function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }

function pct(x) { return (100 * x).toFixed(0) + "%"; }

function showItem(item) {
  state.item = item;
  const text = $("item-text"), img = $("item-image"), table = $("item-fields");
  const body = table.querySelector("tbody");
  clear(body);
  text.textContent = "";
  img.hidden = true;
  table.hidden = true;
  if (state.imageUrl) { URL.revokeObjectURL(state.imageUrl); state.imageUrl = null; }
  $("done").hidden = item !== null;
  $("labels").hidden = item === null;
  $("confirm-row").hidden = item === null || !state.multi;
  state.selected = new Set();
  showSelection();
  if (item === null) {
    $("item-id").textContent = "";
    $("item-why").textContent = "";
    $("guess").textContent = "";
    return;
  }
  $("item-id").textContent = "item " + item.external_id;
  $("item-why").textContent = item.strategy ? "· asked by " + item.strategy : "";
  if (item.text !== null && item.text !== undefined) text.textContent = item.text;
  if (item.image_url) {
    api(item.image_url).then((blob) => {
      if (state.item !== item) return;
      state.imageUrl = URL.createObjectURL(blob);
      img.src = state.imageUrl;
      img.hidden = false;
    }).catch((err) => setStatus(err.message));
  }
  if (item.fields) {
    for (const [k, v] of Object.entries(item.fields)) {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      const td = document.createElement("td");
      th.textContent = k;
      td.textContent = v;
      tr.appendChild(th);
      tr.appendChild(td);
      body.appendChild(tr);
    }
    table.hidden = false;
  }
  showGuess(item);
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
    ? "ticked: " + picked.join(", ")
    : "nothing ticked: Enter saves \"none of these\"";
}

function showGuess(item) {
  if (state.multi) {
    const probs = item.probabilities || {};
    const guessed = item.guess_labels || [];
    if (item.guess_labels === null || item.guess_labels === undefined) {
      $("guess").textContent = "No model yet: these first items were picked to cover the data.";
    } else if (guessed.length) {
      $("guess").textContent = "Model's guess: " + guessed.map((l) => l + " (" + pct(probs[l]) + ")").join(", ");
    } else {
      const top = state.labels.reduce((a, b) => ((probs[b] || 0) > (probs[a] || 0) ? b : a), state.labels[0]);
      $("guess").textContent = "Model's guess: none of these (most likely " + top + ", " + pct(probs[top] || 0) + ")";
    }
    for (const btn of $("labels").children) {
      btn.classList.toggle("guessed", guessed.includes(btn.dataset.label));
    }
    return;
  }
  $("guess").textContent = item.guess
    ? "Model's guess: " + item.guess + " (" + pct(item.confidence) + " confident)"
    : "No model yet: these first items were picked to cover the data.";
  for (const btn of $("labels").children) {
    btn.classList.toggle("guessed", btn.dataset.label === item.guess);
  }
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
  $("progress-mine").textContent = String(p.mine);
  $("progress-remaining").textContent = String(p.remaining);
  $("progress-fill").style.width = (p.n_items ? (100 * p.labelled) / p.n_items : 0) + "%";
  $("progress-quality-name").textContent = "estimated " + (p.quality_metric || "accuracy");
  $("progress-accuracy").textContent = p.accuracy === null
    ? (state.multi ? "not yet (needs a few labelled items)" : "not yet (needs two labels of each class)")
    : pct(p.accuracy) + " (95% interval " + pct(p.accuracy_low) + "–" + pct(p.accuracy_high) + ")";
  $("progress-accuracy").title = p.accuracy_note || "";
  $("progress-classes").textContent = classLine(p);
  $("progress-pays").textContent = p.still_pays === null ? "not yet known" : (p.still_pays ? "yes" : "hardly: the model has stabilised");
  $("progress-pays").title = p.still_pays_reason || "";
  $("progress-stopping").textContent = p.stopping_text ? p.stopping_text.replace(/^stopping: /, "") : "no model yet";
  $("progress-model").textContent = (p.model_version === null ? "none yet" : "v" + p.model_version + " on " + p.model_labels + " labels")
    + (p.training ? " · training…" : "");
}

async function refreshProgress() {
  try {
    const p = await api("/api/progress");
    showProgress(p);
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
  } catch (err) { setStatus(err.message); }
}

async function loadNext() {
  const next = await api("/api/next");
  showItem(next.item);
}

async function act(fn) {
  if (state.busy || !state.token) return;
  state.busy = true;
  try {
    await fn();
    await refreshProgress();
  } catch (err) {
    setStatus(err.message);
  } finally {
    state.busy = false;
  }
}

function answer(label) {
  return act(async () => {
    if (!state.item) return;
    const ev = await api("/api/answer", { method: "POST", body: JSON.stringify({ item_id: state.item.id, label, request_id: newRequestId() }) });
    setStatus("Saved: " + ev.label, true);
    await loadNext();
  });
}

function toggle(label) {
  if (!state.item || state.busy) return;
  if (state.selected.has(label)) state.selected.delete(label); else state.selected.add(label);
  showSelection();
}

function confirmSet() {
  return act(async () => {
    if (!state.item) return;
    const labels = state.labels.filter((l) => state.selected.has(l));
    const ev = await api("/api/answer", { method: "POST", body: JSON.stringify({ item_id: state.item.id, labels, request_id: newRequestId() }) });
    setStatus("Saved: " + (ev.labels.length ? ev.labels.join(", ") : "none of these"), true);
    await loadNext();
  });
}

function skip() {
  return act(async () => {
    if (!state.item) return;
    await api("/api/skip", { method: "POST", body: JSON.stringify({ item_id: state.item.id, request_id: newRequestId() }) });
    setStatus("Skipped", true);
    await loadNext();
  });
}

function undo() {
  return act(async () => {
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

function toggleHelp() { $("help").hidden = !$("help").hidden; }

function buildLabels(labels) {
  const box = $("labels");
  clear(box);
  labels.forEach((label, i) => {
    const btn = document.createElement("button");
    btn.type = "button";
    btn.dataset.label = label;
    const key = i < 9 ? String(i + 1) : (i === 9 ? "0" : "");
    btn.textContent = (key ? key + " " : "") + label;
    if (state.multi) {
      btn.setAttribute("aria-pressed", "false");
      btn.addEventListener("click", () => { toggle(label); btn.blur(); });
    } else {
      btn.addEventListener("click", () => answer(label));
    }
    box.appendChild(btn);
  });
}

document.addEventListener("keydown", (e) => {
  if ($("main").hidden || e.ctrlKey || e.metaKey || e.altKey) return;
  const tag = (e.target && e.target.tagName) || "";
  if (tag === "INPUT" || tag === "TEXTAREA") return;
  if (/^[0-9]$/.test(e.key)) {
    const i = e.key === "0" ? 9 : Number(e.key) - 1;
    if (i < state.labels.length) {
      e.preventDefault();
      if (state.multi) toggle(state.labels[i]); else answer(state.labels[i]);
    }
  } else if (e.key === "Enter" && state.multi) { e.preventDefault(); confirmSet(); }
  else if (e.key === "s") { e.preventDefault(); skip(); }
  else if (e.key === "u") { e.preventDefault(); undo(); }
  else if (e.key === "?") { e.preventDefault(); toggleHelp(); }
});

async function start() {
  try {
    const project = await api("/api/project");
    state.labels = project.labels;
    state.multi = project.task === "multilabel";
    for (const el of document.querySelectorAll(".multi-only")) el.hidden = !state.multi;
    for (const el of document.querySelectorAll(".single-only")) el.hidden = state.multi;
    $("project-name").textContent = project.name;
    $("who").textContent = "labelling as " + project.annotator;
    document.title = project.name + " · activelab";
    buildLabels(project.labels);
    $("login").hidden = true;
    $("main").hidden = false;
    await loadNext();
    await refreshProgress();
  } catch (err) {
    setStatus(err.message);
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
  $("skip-button").addEventListener("click", skip);
  $("undo-button").addEventListener("click", undo);
  $("confirm-button").addEventListener("click", confirmSet);
  $("logout-button").addEventListener("click", forgetToken);
  if (state.token) start(); else $("login").hidden = false;
  setInterval(() => { if (state.token && !$("main").hidden) refreshProgress(); }, 5000);
});
