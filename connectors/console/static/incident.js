// The incident page: summary, ranked causes with evidence, topology graph, series around onset,
// timeline, actions; acknowledge and create-a-silence buttons (bearer token).
// Data: GET /api/v1/incidents/{id}/detail.

import { api, app, authorized } from "./app.js";
import { seriesCard } from "./charts.js";
import {
  clockUTC, dateTimeUTC, duration, h, severityBadge, statusPill, toast,
} from "./dom.js";
import { graphSection } from "./graph.js";

let current = null;
let refreshTimer = null;

export async function renderIncident(id) {
  const main = document.getElementById("main");
  if (!current || current.incident.id !== id) {
    main.replaceChildren(backLink(), h("p", { class: "empty" }, "Loading incident…"));
  }
  try {
    current = await api(`/api/v1/incidents/${encodeURIComponent(id)}/detail`);
  } catch (error) {
    main.replaceChildren(backLink(), h("p", { class: "empty" },
      error.status === 404 ? `No incident ${id} (it may have been forgotten).`
        : `Could not load the incident: ${error.message}`));
    return;
  }
  if (app.route.id !== id) return;
  const scrollY = window.scrollY;
  main.replaceChildren(page(current));
  window.scrollTo(0, scrollY);
  if (document.activeElement === document.body) main.focus({ preventScroll: true });
}

export function refreshIncident() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => { if (app.route.id) renderIncident(app.route.id); }, 500);
}

function backLink() {
  return h("nav", { class: "crumbs", "aria-label": "Breadcrumb" },
    h("a", { href: "#/" }, "← All incidents"));
}

function page(detail) {
  const inc = detail.incident;
  return h("div", { class: "incident-page" },
    backLink(),
    header(detail),
    h("div", { class: "grid-2" },
      causesSection(inc),
      graphSection(detail.graph, inc)),
    seriesSection(detail.series),
    h("div", { class: "grid-2 grid-wide-left" },
      timelineSection(detail.timeline),
      actionsSection(detail.actions)));
}

function header(detail) {
  const inc = detail.incident;
  const end = inc.status === "resolved" ? inc.updated_at : (detail.now ?? inc.updated_at);
  const meta = [
    ["Opened", dateTimeUTC(inc.opened_at)],
    ["Last update", dateTimeUTC(inc.updated_at)],
    [inc.status === "resolved" ? "Lasted" : "Open for", duration(end - inc.opened_at)],
    ["Alerts and anomalies", String(inc.alert_count)],
    ["Nodes affected", String(inc.services.length)],
  ];
  return h("section", { class: "card incident-head", "aria-labelledby": "incident-title" },
    h("div", { class: "head-row" },
      h("div", { class: "head-tags" }, severityBadge(inc.severity), statusPill(inc.status),
        h("span", { class: "mono sub" }, inc.id)),
      h("div", { class: "head-actions" },
        h("button", { type: "button", class: "btn", id: "ack-button",
          disabled: inc.ack ? true : null, onclick: () => acknowledge(inc.id) },
          inc.ack ? "Acknowledged" : "Acknowledge"),
        h("button", { type: "button", class: "btn btn-primary", id: "silence-button",
          onclick: () => openSilenceDialog(detail) }, "Create silence…"))),
    h("h1", { id: "incident-title" }, inc.summary || inc.id),
    h("dl", { class: "meta" }, meta.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v)))),
    inc.ack ? h("p", { class: "ack-note", id: "ack-note" },
      `Acknowledged by ${inc.ack.by} at ${dateTimeUTC(inc.ack.at)}`,
      inc.ack.comment ? ` — ${inc.ack.comment}` : "") : null,
    h("p", { class: "sub", id: "silence-note", hidden: true }));
}

function causeItem(cause, index) {
  const percent = Math.round(cause.score * 100);
  return h("li", { class: index === 0 ? "cause-item top" : "cause-item", "data-node": cause.node },
    h("div", { class: "cause-head" },
      h("span", { class: "rank", "aria-hidden": "true" }, String(index + 1)),
      h("span", { class: "cause-node" }, cause.node),
      h("span", { class: "tag" }, cause.kind),
      index === 0 ? h("span", { class: "tag tag-top" }, "most likely") : null,
      h("span", { class: "score", "aria-label": `score ${percent} percent` },
        h("span", { class: "bar", "aria-hidden": "true" },
          h("span", { style: { width: `${Math.max(2, percent)}%` } })),
        `${percent}%`)),
    cause.evidence.length
      ? h("ul", { class: "evidence" }, cause.evidence.map((e) => h("li", {}, e)))
      : h("p", { class: "sub" }, "No evidence recorded."));
}

const CAUSES_SHOWN = 3;

function causesSection(inc) {
  const causes = inc.root_causes || [];
  const rest = causes.slice(CAUSES_SHOWN);
  return h("section", { class: "card", "aria-labelledby": "causes-title", id: "causes" },
    h("h2", { id: "causes-title" }, "Probable root causes"),
    causes.length ? h("ol", { class: "causes" }, causes.slice(0, CAUSES_SHOWN).map(causeItem))
      : h("p", { class: "empty" }, "No ranked cause yet."),
    rest.length ? h("details", { class: "alt more-causes" },
      h("summary", {}, `${rest.length} more candidate${rest.length > 1 ? "s" : ""}`),
      h("ol", { class: "causes", start: CAUSES_SHOWN + 1 },
        rest.map((c, i) => causeItem(c, i + CAUSES_SHOWN)))) : null);
}

function seriesSection(series) {
  return h("section", { class: "card", "aria-labelledby": "series-title", id: "series" },
    h("h2", { id: "series-title" }, "Most anomalous series around onset"),
    h("p", { class: "sub" }, "Line: observed value. Dashed: the detector's expected value. " +
      "Shaded: its normal band, reported at anomalous points and carried to the points " +
      "between; before onset it is the band the detector had learned by then. " +
      "Red line: onset."),
    series.length ? h("div", { class: "charts" }, series.map(seriesCard))
      : h("p", { class: "empty" }, "No metric series recorded for this incident."));
}

function timelineSection(rows) {
  const body = rows.map((row) => h("tr", { class: `tl-${row.kind}` },
    h("td", { class: "mono" }, clockUTC(row.ts)),
    h("td", {}, h("span", { class: `kind kind-${row.kind}` }, row.kind)),
    h("td", {}, row.node || "–"),
    h("td", {}, row.title, row.count > 1
      ? h("span", { class: "sub" }, ` · ${row.count}× until ${clockUTC(row.until)}`) : null)));
  return h("section", { class: "card", "aria-labelledby": "timeline-title", id: "timeline" },
    h("h2", { id: "timeline-title" }, "Timeline"),
    rows.length ? h("div", { class: "scroll", tabindex: "0", role: "region",
      "aria-label": "Timeline, scrollable" }, h("table", { class: "table compact" },
      h("thead", {}, h("tr", {}, ["Time (UTC)", "Type", "Node", "Event"].map(
        (c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, body))) : h("p", { class: "empty" }, "Nothing recorded."));
}

function actionsSection(actions) {
  const body = actions.map((a) => h("tr", {},
    h("td", { class: "mono" }, clockUTC(a.ts)),
    h("td", {}, a.receiver),
    h("td", {}, a.type),
    h("td", {}, h("span", { class: `pill action-${a.status}` }, a.status)),
    h("td", { class: "num" }, String(a.attempts)),
    h("td", {}, a.error || "")));
  return h("section", { class: "card", "aria-labelledby": "actions-title", id: "actions" },
    h("h2", { id: "actions-title" }, "Actions"),
    actions.length ? h("div", { class: "scroll", tabindex: "0", role: "region",
      "aria-label": "Actions, scrollable" }, h("table", { class: "table compact" },
      h("thead", {}, h("tr", {}, ["Time", "Receiver", "Type", "Status", "Tries", "Error"].map(
        (c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, body))) : h("p", { class: "empty" }, "No action decided yet."));
}

// --- Buttons -------------------------------------------------------------------------------

async function acknowledge(id) {
  const by = localStorage.getItem("vigil.user") || "console";
  try {
    await authorized(`/api/v1/incidents/${encodeURIComponent(id)}/ack`, { by });
    toast(`Incident acknowledged by ${by}.`);
    renderIncident(id);
  } catch (error) {
    toast(`Could not acknowledge: ${error.message}`, "error");
  }
}

function openSilenceDialog(detail) {
  const dialog = document.getElementById("silence-dialog");
  const form = document.getElementById("silence-form");
  const error = document.getElementById("silence-error");
  form.matchers.value = detail.silence.matchers.join("\n");
  form.created_by.value = localStorage.getItem("vigil.user") || "";
  form.comment.value = `from incident ${detail.incident.id}`;
  error.hidden = true;
  document.getElementById("silence-cancel").onclick = () => dialog.close("cancel");
  form.onsubmit = async (event) => {
    event.preventDefault();
    const matchers = form.matchers.value.split("\n").map((m) => m.trim()).filter(Boolean);
    const body = { matchers, duration: form.duration.value,
      created_by: form.created_by.value.trim(), comment: form.comment.value.trim() };
    if (body.created_by) localStorage.setItem("vigil.user", body.created_by);
    try {
      const created = await authorized("/api/v1/silences", body);
      dialog.close("created");
      silenceCreated(created);
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    }
  };
  dialog.showModal();
  form.matchers.focus();
}

function silenceCreated(silence) {
  const note = document.getElementById("silence-note");
  const until = dateTimeUTC(silence.ends_at);
  note.textContent = `Silence ${silence.id} created (${silence.matchers.join(", ")}), ` +
    `${silence.status} until ${until}.`;
  note.hidden = false;
  toast(`Silence ${silence.id} created until ${until}.`);
}
