// Vigil incident console: the incidents list, routing, the live stream and the API token.
// Data: GET /api/v1/console/incidents (list), GET /api/v1/models (model performance status),
// GET /api/v1/stream (server-sent events); the incident page lives in incident.js.

import { clockUTC, dateTimeUTC, duration, h, severityBadge, statusPill, toast } from "./dom.js";
import { renderIncident, refreshIncident } from "./incident.js";

const TOKEN_KEY = "vigil.token";
const SEVERITIES = ["critical", "error", "warning", "info"];

export const app = {
  incidents: new Map(),
  models: {},
  now: null,
  filters: { status: "all", severity: "any", service: "", label: "" },
  route: { view: "list", id: null },
};

// --- API -----------------------------------------------------------------------------------

export function token() {
  return localStorage.getItem(TOKEN_KEY) || "";
}

export async function api(path, options = {}) {
  const headers = { Accept: "application/json", ...(options.headers || {}) };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.auth) headers.Authorization = `Bearer ${token()}`;
  const response = await fetch(path, {
    method: options.method || "GET",
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  if (!response.ok) {
    const error = new Error((data && data.error) || `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return data;
}

// Writes need the token: ask for it once, then retry.
export async function authorized(path, body) {
  if (!token()) await askToken();
  try {
    return await api(path, { method: "POST", body, auth: true });
  } catch (error) {
    if (error.status !== 401) throw error;
    toast("The server refused the API token; enter it again.", "error");
    await askToken();
    return api(path, { method: "POST", body, auth: true });
  }
}

// A link may carry the token (`vigil --serve` prints one). It never silently replaces a
// different token already stored here: a crafted link could otherwise swap in its own.
function takeTokenFromFragment() {
  const match = location.hash.match(/^#token=([^&]+)/);
  if (!match) return;
  history.replaceState(null, "", `${location.pathname}#/`);
  let offered = "";
  try { offered = decodeURIComponent(match[1]).trim(); } catch { return; }
  const stored = token();
  if (!offered || offered === stored) return;
  const replace = !stored || window.confirm(
    "This link carries an API token different from the one stored in this browser.\n\n" +
    "Replace the stored token with the one from the link? Only do so if you trust the link.");
  if (replace) localStorage.setItem(TOKEN_KEY, offered);
}

function askToken() {
  const dialog = document.getElementById("token-dialog");
  const input = document.getElementById("token-input");
  input.value = token();
  dialog.showModal();
  input.focus();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      if (dialog.returnValue === "save") localStorage.setItem(TOKEN_KEY, input.value.trim());
      showTokenState();
      resolve(token());
    }, { once: true });
  });
}

function showTokenState() {
  const button = document.getElementById("token-button");
  button.textContent = token() ? "API token set ✓" : "Set API token";
}

function wireTokenDialog() {
  const dialog = document.getElementById("token-dialog");
  document.getElementById("token-button").addEventListener("click", () => askToken());
  document.getElementById("token-cancel").addEventListener("click", () => dialog.close("cancel"));
  document.getElementById("token-clear").addEventListener("click", () => {
    localStorage.removeItem(TOKEN_KEY);
    dialog.close("cancel");
  });
  showTokenState();
}

// --- Live updates --------------------------------------------------------------------------

function connectStream() {
  const live = document.getElementById("live");
  const source = new EventSource("/api/v1/stream");
  source.onopen = () => {
    live.textContent = "Live";
    live.className = "live live-on";
  };
  source.onerror = () => {
    live.textContent = "Reconnecting…";
    live.className = "live live-off";
  };
  source.addEventListener("incident", (event) => {
    const record = JSON.parse(event.data);
    const known = app.incidents.get(record.id) || {};
    app.incidents.set(record.id, { ...known, ...record, alert_count: record.alerts.length,
      top_cause: record.root_causes[0] || null, fresh: true });
    if (app.route.view === "list") renderList();
    else if (app.route.id === record.id) refreshIncident();
    scheduleListRefresh();
  });
  source.addEventListener("ack", (event) => {
    const { incident, ack } = JSON.parse(event.data);
    const known = app.incidents.get(incident);
    if (known) app.incidents.set(incident, { ...known, ack });
    if (app.route.view === "list") renderList();
    else if (app.route.id === incident) refreshIncident();
  });
}

let refreshTimer = null;
function scheduleListRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(loadList, 400);
}

async function loadList() {
  try {
    const data = await api("/api/v1/console/incidents");
    const fresh = new Set([...app.incidents.values()].filter((i) => i.fresh).map((i) => i.id));
    app.incidents = new Map(data.incidents.map((i) => [i.id, { ...i, fresh: fresh.has(i.id) }]));
    app.now = data.now;
    app.models = (await api("/api/v1/models").catch(() => ({ models: {} }))).models;
    if (app.route.view === "list") renderList();
  } catch (error) {
    toast(`Could not load incidents: ${error.message}`, "error");
  }
}

// --- Incidents list ------------------------------------------------------------------------

function matches(incident, filters) {
  const status = incident.status === "resolved" ? "resolved" : "active";
  if (filters.status !== "all" && filters.status !== status) return false;
  if (filters.severity !== "any" && incident.severity !== filters.severity) return false;
  const service = filters.service.trim().toLowerCase();
  if (service && !(incident.services || incident.nodes || []).some(
    (s) => s.toLowerCase().includes(service))) return false;
  const label = filters.label.trim();
  if (label && !(incident.label_pairs || []).some((p) => p === label || p.includes(label))) {
    return false;
  }
  return true;
}

function filterBar(all) {
  const services = [...new Set(all.flatMap((i) => i.services || i.nodes || []))].sort();
  const labels = [...new Set(all.flatMap((i) => i.label_pairs || []))].sort();
  const f = app.filters;
  const update = (key) => (event) => { f[key] = event.target.value; renderList(false); };
  const option = (value, label, current) => h("option", { value, selected: value === current },
    label);
  return h("form", { class: "filters", role: "search", "aria-label": "Filter incidents",
    onsubmit: (e) => e.preventDefault() },
    h("div", { class: "field" }, h("label", { for: "f-status" }, "Status"),
      h("select", { id: "f-status", onchange: update("status") },
        option("all", "All (open and resolved)", f.status), option("active", "Open", f.status),
        option("resolved", "Resolved", f.status))),
    h("div", { class: "field" }, h("label", { for: "f-severity" }, "Severity"),
      h("select", { id: "f-severity", onchange: update("severity") },
        option("any", "Any", f.severity), SEVERITIES.map((s) => option(s, s, f.severity)))),
    h("div", { class: "field" }, h("label", { for: "f-service" }, "Service"),
      h("input", { id: "f-service", list: "services-list", value: f.service,
        placeholder: "e.g. payments", oninput: update("service") }),
      h("datalist", { id: "services-list" }, services.map((s) => h("option", { value: s })))),
    h("div", { class: "field" }, h("label", { for: "f-label" }, "Label"),
      h("input", { id: "f-label", list: "labels-list", value: f.label,
        placeholder: "e.g. cluster=eu-1", oninput: update("label") }),
      h("datalist", { id: "labels-list" }, labels.map((s) => h("option", { value: s })))));
}

function incidentRow(incident) {
  const top = incident.top_cause;
  const end = incident.status === "resolved" ? incident.updated_at : (app.now ?? incident.updated_at);
  const href = `#/incident/${encodeURIComponent(incident.id)}`;
  return h("tr", { class: incident.fresh ? "row fresh" : "row", "data-id": incident.id },
    h("td", {}, severityBadge(incident.severity)),
    h("td", { class: "cell-main" },
      h("a", { href, class: "incident-link" }, incident.summary || incident.id),
      h("div", { class: "sub mono" }, incident.id),
      incident.ack ? h("div", { class: "sub ack" }, `Acknowledged by ${incident.ack.by}`) : null),
    h("td", {}, top ? h("span", { class: "cause" }, h("strong", {}, top.node),
      h("span", { class: "sub" }, ` ${top.kind} · ${Math.round(top.score * 100)}%`)) : "–"),
    h("td", {}, statusPill(incident.status)),
    h("td", { class: "num" }, String(incident.alert_count ?? incident.alerts.length)),
    h("td", {}, clockUTC(incident.opened_at),
      h("div", { class: "sub" }, app.now ? `${duration(app.now - incident.opened_at)} ago` : "")),
    h("td", {}, duration(end - incident.opened_at)));
}

function renderList(resetFocus = true) {
  const main = document.getElementById("main");
  const all = [...app.incidents.values()].sort(
    (a, b) => (a.status === "resolved") - (b.status === "resolved") || b.updated_at - a.updated_at);
  const shown = all.filter((i) => matches(i, app.filters));
  const open = all.filter((i) => i.status !== "resolved").length;
  const active = document.activeElement && document.activeElement.id;
  const table = shown.length === 0
    ? h("p", { class: "empty" }, all.length === 0
      ? "No incidents yet. They appear here as soon as the pipeline opens one."
      : "No incident matches these filters.")
    : h("table", { class: "table incidents" },
      h("caption", { class: "visually-hidden" }, "Incidents, open first, newest first"),
      h("thead", {}, h("tr", {}, ["Severity", "Incident", "Top cause", "Status", "Alerts / anomalies",
        "Opened (UTC)", "Duration"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, shown.map(incidentRow)));
  main.replaceChildren(
    h("div", { class: "page-head" },
      h("h1", {}, "Incidents"),
      h("p", { class: "muted", id: "list-summary" },
        `${open} open · ${all.length - open} resolved · showing ${shown.length}`)),
    filterBar(all),
    h("section", { class: "card", "aria-label": "Incident list" }, table),
    ...[modelCard(app.models)].filter(Boolean),  // replaceChildren would print a null
    h("p", { class: "footnote" }, "Times in UTC. Ages are measured to the newest event seen",
      app.now ? ` (${dateTimeUTC(app.now)}).` : "."));
  if (active && active.startsWith("f-")) {
    const field = document.getElementById(active);
    field.focus();
    if (field.setSelectionRange && field.value) field.setSelectionRange(999, 999);
  } else if (resetFocus === true && document.activeElement === document.body) {
    main.focus({ preventScroll: true });
  }
  for (const incident of app.incidents.values()) incident.fresh = false;
}

// --- Model performance --------------------------------------------------------------------

const STATUS_TEXT = { ok: "ok", breach: "breach", insufficient_labels: "insufficient labels" };

// One row per model and metric: a metric with too few labels says so and shows no breach.
function modelCard(models) {
  const rows = Object.entries(models || {}).flatMap(([model, metrics]) =>
    Object.entries(metrics).map(([metric, r]) => h("tr", {},
      h("td", {}, model), h("td", {}, metric + (r.estimate ? " (estimate)" : "")),
      h("td", { class: `model-status model-${r.status}` }, STATUS_TEXT[r.status] || r.status),
      h("td", {}, r.value === undefined ? "–" : Number(r.value).toFixed(3)),
      h("td", {}, r.lower === undefined ? "–"
        : `${Number(r.lower).toFixed(3)} – ${Number(r.upper).toFixed(3)} (${r.confidence})`),
      h("td", {}, `${r.n_effective ?? 0} of ${r.n_labels ?? 0}`))));
  if (rows.length === 0) return null;
  return h("section", { class: "card", "aria-label": "Model performance" },
    h("table", { class: "table models" },
      h("caption", {}, "Model performance (latest check)"),
      h("thead", {}, h("tr", {}, ["Model", "Metric", "Status", "Value", "Bound", "Effective labels"]
        .map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows)));
}

// --- Routing -------------------------------------------------------------------------------

function route() {
  const match = location.hash.match(/^#\/incident\/(.+)$/);
  app.route = match ? { view: "incident", id: decodeURIComponent(match[1]) }
    : { view: "list", id: null };
  if (app.route.view === "incident") {
    document.title = `Vigil · ${app.route.id}`;
    renderIncident(app.route.id);
  } else {
    document.title = "Vigil · incidents";
    renderList();
    loadList();
  }
}

takeTokenFromFragment();
wireTokenDialog();
window.addEventListener("hashchange", route);
route();
connectStream();
