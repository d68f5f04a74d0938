// Charts of series around onset, drawn with uPlot (vendor/uplot, MIT). Each chart has a text
// summary (aria-label) and its data as a table.

import { clockUTC, h, number } from "./dom.js";

// The band at each point: the detector's report at that point; before onset the first report,
// after it the latest report so far (the baseline does not learn from flagged points).
export function bandAt(series) {
  const reports = [...series.band].sort((a, b) => a[0] - b[0]);
  const out = [];
  let i = 0;
  let last = reports[0] || [null, null, null, null];
  for (const [ts] of series.points) {
    while (i < reports.length && reports[i][0] <= ts) last = reports[i++];
    out.push(last);
  }
  return out;
}

function summary(series, bands) {
  const before = series.points.filter(([ts]) => ts < series.onset).map(([, v]) => v);
  const after = series.points.filter(([ts]) => ts >= series.onset);
  const mean = before.length ? before.reduce((a, b) => a + b, 0) / before.length : null;
  const peak = after.reduce((best, p) => (best === null || p[1] > best[1] ? p : best), null);
  const band = bands.find((b) => b[2] !== null) || [null, null, null, null];
  let text = `${series.name} on ${series.node}. `;
  if (mean !== null) text += `Before onset it averaged ${number(mean)}. `;
  if (band[2] !== null) text += `Normal band ${number(band[2])} to ${number(band[3])}. `;
  text += `Onset at ${clockUTC(series.onset)} UTC. `;
  if (peak) text += `After onset it peaked at ${number(peak[1])} at ${clockUTC(peak[0])} UTC.`;
  return text;
}

function dataTable(series, bands) {
  return h("details", { class: "alt" }, h("summary", {}, "Data table"),
    h("div", { class: "scroll short", tabindex: "0", role: "region",
      "aria-label": `${series.name} on ${series.node}, data` }, h("table", { class: "table compact" },
      h("thead", {}, h("tr", {}, ["Time (UTC)", "Value", "Expected", "Band low", "Band high"]
        .map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, series.points.map(([ts, value], i) => h("tr",
        { class: ts >= series.onset ? "after-onset" : "" },
        h("td", { class: "mono" }, clockUTC(ts)), h("td", { class: "num" }, number(value)),
        h("td", { class: "num" }, number(bands[i][1])), h("td", { class: "num" }, number(bands[i][2])),
        h("td", { class: "num" }, number(bands[i][3]))))))));
}

function onsetLine(onset) {
  return (u) => {
    const x = Math.round(u.valToPos(onset, "x", true));
    const { top, height } = u.bbox;
    const ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = "#b3261e";
    ctx.lineWidth = 2 * devicePixelRatio;
    ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + height);
    ctx.stroke();
    ctx.restore();
  };
}

function draw(target, series, bands) {
  if (!window.uPlot) {
    target.append(h("p", { class: "empty" }, "Chart library not loaded; see the data table."));
    return;
  }
  const xs = series.points.map((p) => p[0]);
  const data = [xs, bands.map((b) => b[2]), bands.map((b) => b[3]),
    bands.map((b) => b[1]), series.points.map((p) => p[1])];
  const width = Math.max(280, target.clientWidth || 520);
  const opts = {
    width, height: 190,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"),
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true } },
    axes: [
      { stroke: "#3e4c59", grid: { stroke: "#e4e8ee" }, ticks: { stroke: "#cbd2d9" },
        values: (u, splits) => splits.map((ts) => clockUTC(ts).slice(0, 5)) },
      { stroke: "#3e4c59", grid: { stroke: "#e4e8ee" }, ticks: { stroke: "#cbd2d9" }, size: 56,
        values: (u, splits) => splits.map(number) },
    ],
    series: [
      {},
      { label: "band low", stroke: "rgba(31,95,191,0.25)", width: 1 },
      { label: "band high", stroke: "rgba(31,95,191,0.25)", width: 1 },
      { label: "expected", stroke: "#52606d", width: 1.5, dash: [5, 4] },
      { label: "value", stroke: "#1f5fbf", width: 2 },
    ],
    bands: [{ series: [2, 1], fill: "rgba(31,95,191,0.14)" }],
    hooks: { draw: [onsetLine(series.onset)] },
  };
  new uPlot(opts, data, target);
}

export function seriesCard(series) {
  const bands = bandAt(series);
  const text = summary(series, bands);
  const plot = h("div", { class: "plot", role: "img", "aria-label": text });
  const card = h("figure", { class: "chart", "data-series": series.key },
    h("figcaption", {}, h("strong", {}, series.node), " · ", series.name,
      h("div", { class: "sub mono" }, series.key)),
    plot,
    h("p", { class: "sub chart-summary" }, text),
    dataTable(series, bands));
  requestAnimationFrame(() => draw(plot, series, bands));
  return card;
}
