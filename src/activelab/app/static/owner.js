// The owner's page: label quality of the project (GET /api/quality). Every value
// is inserted as text (textContent), never as markup.
"use strict";

const KEY = "activelab-token";
const $ = (id) => document.getElementById(id);
let token = null;

const pct = (x) => (x === null || x === undefined ? "–" : (100 * x).toFixed(1) + "%");
const num = (x, digits) => (x === null || x === undefined ? "–" : x.toFixed(digits));
// "1 item", "2 items": a count with its noun in the singular for 1 only
const count = (n, noun) => n + " " + noun + (n === 1 ? "" : "s");

function showLogin(message) {
  $("owner").hidden = true;
  $("refresh-button").hidden = true;
  $("logout-button").hidden = true;
  $("login").hidden = false;
  const err = $("login-error");
  err.textContent = message || "";
  err.hidden = !message;
  $("token-input").focus();
}

function fill(tableId, rows) {
  const body = $(tableId).querySelector("tbody");
  body.replaceChildren();
  for (const cells of rows) {
    const tr = document.createElement("tr");
    cells.forEach((text, i) => {
      const td = document.createElement(i === 0 ? "th" : "td");
      if (i === 0) td.scope = "row";
      td.textContent = text;
      td.dir = "auto";  // names and ids in right-to-left scripts read their own way
      tr.appendChild(td);
    });
    body.appendChild(tr);
  }
}

async function get(path) {
  let resp;
  try {
    resp = await fetch(path, { headers: { Authorization: "Bearer " + token } });
  } catch (e) {
    throw new Error("the server cannot be reached (" + e.message + ").");
  }
  if (resp.status === 401 || resp.status === 403) {
    let detail = "";
    try { detail = (await resp.json()).detail; } catch (e) { /* not JSON */ }
    const err = new Error(resp.status === 401
      ? "This token was refused: it is unknown, mistyped or revoked."
      : detail);
    err.refused = true;
    throw err;
  }
  if (!resp.ok) {
    let detail = resp.statusText;
    try { const body = await resp.json(); if (typeof body.detail === "string") detail = body.detail; } catch (e) { /* not JSON */ }
    throw new Error(detail);
  }
  return resp.json();
}

function render(q) {
  $("q-answers").textContent = q.answers + " on " + count(q.items_answered, "item");
  $("q-several").textContent = String(q.items_with_several_answers);
  $("q-aggregate").textContent = q.aggregate.replace("_", "–");
  $("q-agreement").textContent = pct(q.percent_agreement);
  $("q-alpha").textContent = num(q.krippendorff_alpha, 3);
  $("q-gold").textContent = String(q.gold_items);
  $("q-disputed").textContent = String(q.disputed);
  // items asking for more answers than the active annotators can give never leave the queue
  $("q-short").textContent = q.short_of_annotators ? q.short_of_annotators.text : "";
  $("q-short").hidden = !q.short_of_annotators;
  // one answer and an unsure aggregate: a second answer settles it, not the owner
  $("q-doubtful").textContent = String(q.doubtful ?? 0);
  // where the answers' and the aggregated labels' class shares part, the aggregate moved items
  const shares = q.class_shares;
  $("q-shares").textContent = shares && q.items_with_several_answers
    ? Object.keys(shares.answers).map((c) =>
      c + " " + pct(shares.answers[c]) + " → " + pct(shares.aggregate[c])).join(", ")
    : "–";
  fill("people", q.annotators.map((a) => [
    a.name, String(a.answers), String(a.skips), String(a.shared_items), pct(a.estimated_accuracy),
    a.gold_answers ? pct(a.gold_accuracy) + " of " + a.gold_answers : "–",
    pct(a.agreement_with_aggregate), num(a.median_seconds, 1),
  ]));
  fill("kappa", q.kappa.map((p) => [p.annotators.join(" – "), num(p.kappa, 2)]));
  $("kappa-empty").hidden = q.kappa.length > 0;
  $("labels-block").hidden = !q.per_label;
  fill("per-label", (q.per_label || []).map((l) => [
    l.label, String(l.items), pct(l.percent_agreement), num(l.krippendorff_alpha, 3),
  ]));
  // a multi-label answer of no label at all comes as "": it is "none of these", not a blank
  const set = (l) => (q.task === "multilabel" && l === "" ? "none of these" : l);
  fill("review", q.review.map((r) => [
    r.id, set(r.label), pct(r.confidence),
    r.answers.map((a) => a.annotator + ": " + set(a.label)).join("; "),
  ]));
  $("review-empty").hidden = q.review.length > 0;
}

let retry = null;
// bumped by signing out: the answers to requests sent before are dropped, so a refresh still
// on its way cannot put the figures back on screen
let session = 0;

/** Forget the owner's token in this tab (the labelling page shares it) and clear the figures. */
function signOut() {
  session += 1;
  window.clearTimeout(retry);
  sessionStorage.removeItem(KEY);
  token = null;
  for (const id of ["people", "kappa", "per-label", "review"]) $(id).querySelector("tbody").replaceChildren();
  $("who").textContent = "";
  $("status").textContent = "";
  showLogin("");
}

async function load() {
  window.clearTimeout(retry);
  const mine = session;
  try {
    const [project, q] = await Promise.all([get("/api/project"), get("/api/quality")]);
    if (mine !== session) return;
    $("project-name").textContent = project.name;
    $("who").textContent = project.annotator;
    document.title = project.name + " \u00b7 label quality";
    render(q);
    $("login").hidden = true;
    $("owner").hidden = false;
    $("refresh-button").hidden = false;
    $("logout-button").hidden = false;
    $("status").textContent = "Updated " + new Date().toLocaleTimeString() + ".";
  } catch (err) {
    if (mine !== session) return;
    if (err.refused) showLogin(err.message);
    else if ($("owner").hidden) {
      // nothing is on screen yet: say why where it can be seen, and try again shortly
      showLogin("The label quality could not be loaded: " + err.message + " Trying again in a few seconds\u2026");
      retry = window.setTimeout(() => { if (token && $("owner").hidden) load(); }, 5000);
    } else $("status").textContent = "Not updated: " + err.message;
  }
}

window.addEventListener("DOMContentLoaded", () => {
  // /owner?token=… opens the page as the labelling page does: the token is kept in the tab
  // and taken out of the address bar (and so out of the history) at once
  const params = new URLSearchParams(window.location.search);
  if (params.has("token")) {
    sessionStorage.setItem(KEY, params.get("token"));
    params.delete("token");
    const rest = params.toString();
    history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : "") + window.location.hash);
  }
  token = sessionStorage.getItem(KEY);
  $("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    token = $("token-input").value.trim();
    sessionStorage.setItem(KEY, token);
    $("token-input").value = "";
    load();
  });
  $("refresh-button").addEventListener("click", load);
  $("logout-button").addEventListener("click", signOut);
  if (token) load(); else showLogin("");
});
