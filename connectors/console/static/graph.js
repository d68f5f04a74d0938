// The topology neighbourhood as SVG. Positions come from the server (networkx layered layout);
// this only draws boxes and arrows, and gives a text alternative listing every node.

import { h } from "./dom.js";

const NODE_H = 32;
const CHAR_W = 8.2;

function nodeWidth(node) {
  return Math.max(64, node.id.length * CHAR_W + 22);
}

function role(node) {
  if (node.cause_rank === 1) return "top-cause";
  if (node.anomalous) return "anomalous";
  if (node.cause_rank) return "candidate";
  return node.kind === "host" ? "host" : "normal";
}

function describe(node) {
  const parts = [node.id, node.kind];
  if (node.cause_rank === 1) parts.push("most likely root cause");
  else if (node.cause_rank) parts.push(`candidate cause number ${node.cause_rank}`);
  parts.push(node.anomalous ? "anomalous" : "no anomaly");
  return parts.join(", ");
}

// Where the segment from a box's centre towards (tx, ty) leaves the box.
function border(node, tx, ty) {
  const dx = tx - node.x;
  const dy = ty - node.y;
  const hw = nodeWidth(node) / 2 + 3;
  const hh = NODE_H / 2 + 3;
  const scale = Math.min(dx ? hw / Math.abs(dx) : Infinity, dy ? hh / Math.abs(dy) : Infinity);
  return [node.x + dx * Math.min(scale, 1), node.y + dy * Math.min(scale, 1)];
}

function edgePath(edge, byId) {
  const a = byId.get(edge.source);
  const b = byId.get(edge.target);
  if (!a || !b) return null;
  const [x1, y1] = border(a, b.x, b.y);
  const [x2, y2] = border(b, a.x, a.y);
  const hot = a.anomalous && (b.anomalous || b.cause_rank === 1);
  return h("line", { x1, y1, x2, y2,
    class: `edge edge-${edge.kind === "runs_on" ? "host" : "call"}${hot ? " edge-hot" : ""}`,
    "marker-end": edge.kind === "runs_on" ? null : `url(#${hot ? "arrow-hot" : "arrow"})` });
}

function nodeBox(node, select) {
  const w = nodeWidth(node);
  const kind = role(node);
  return h("g", { class: `node node-${kind}`, transform: `translate(${node.x},${node.y})`,
    tabindex: "0", role: "img", "aria-label": describe(node), "data-node": node.id,
    "data-role": kind, onclick: () => select(node), onfocus: () => select(node),
    onkeydown: (e) => { if (e.key === "Enter" || e.key === " ") select(node); } },
  h("title", {}, describe(node)),
  h("rect", { x: -w / 2, y: -NODE_H / 2, width: w, height: NODE_H,
    rx: node.kind === "host" ? 3 : 8 }),
  h("text", { "text-anchor": "middle", dy: "0.35em" }, node.id),
  node.cause_rank ? h("g", { class: "rank-badge", transform: `translate(${w / 2},${-NODE_H / 2})` },
    h("circle", { r: 10 }), h("text", { "text-anchor": "middle", dy: "0.35em" },
      String(node.cause_rank))) : null);
}

function markers() {
  const arrow = (id) => h("marker", { id, viewBox: "0 0 10 10", refX: 9, refY: 5,
    markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
  h("path", { d: "M 0 0 L 10 5 L 0 10 z" }));
  return h("defs", {}, arrow("arrow"), arrow("arrow-hot"));
}

function legend() {
  const item = (cls, label) => h("li", {}, h("span", { class: `swatch ${cls}`,
    "aria-hidden": "true" }), label);
  return h("ul", { class: "legend", "aria-label": "Legend" },
    item("node-top-cause", "most likely cause"), item("node-candidate", "other candidate"),
    item("node-anomalous", "anomalous"), item("node-normal", "normal service"),
    item("node-host", "host"), h("li", { class: "sub" }, "arrow: caller → dependency"));
}

function textAlternative(graph) {
  const byRank = [...graph.nodes].sort((a, b) => (a.cause_rank || 99) - (b.cause_rank || 99)
    || Number(b.anomalous) - Number(a.anomalous) || a.id.localeCompare(b.id));
  const deps = (id) => graph.edges.filter((e) => e.source === id).map((e) => e.target);
  return h("details", { class: "alt" }, h("summary", {}, "Graph as a list"),
    h("ul", {}, byRank.map((n) => h("li", {}, describe(n),
      deps(n.id).length ? `; depends on ${deps(n.id).join(", ")}` : ""))));
}

export function graphSection(graph, incident) {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const info = h("p", { class: "graph-info", "aria-live": "polite", id: "graph-info" },
    "Select a node (click, or Tab then Enter) to see what it is.");
  const select = (node) => {
    const deps = graph.edges.filter((e) => e.source === node.id).map((e) => e.target);
    const callers = graph.edges.filter((e) => e.target === node.id).map((e) => e.source);
    info.textContent = `${describe(node)}. Depends on: ${deps.join(", ") || "nothing here"}. ` +
      `Used by: ${callers.join(", ") || "nothing here"}.`;
  };
  const top = (incident.root_causes || [])[0];
  const anomalousCount = graph.nodes.filter((n) => n.anomalous).length;
  const label = `Topology within two hops: ${graph.nodes.length} nodes, ` +
    `${anomalousCount} anomalous${top ? `, most likely cause ${top.node}` : ""}.`;
  const svg = graph.nodes.length === 0 ? h("p", { class: "empty" }, "No topology known.")
    : h("svg", { class: "topology", viewBox: `0 0 ${graph.width} ${graph.height}`,
      role: "group", "aria-label": label, id: "topology-graph" },
    markers(),
    h("g", { class: "edges" }, graph.edges.map((e) => edgePath(e, byId))),
    h("g", { class: "nodes" }, graph.nodes.map((n) => nodeBox(n, select))));
  return h("section", { class: "card", "aria-labelledby": "graph-title", id: "graph" },
    h("h2", { id: "graph-title" }, "Topology neighbourhood"),
    h("p", { class: "sub" }, label),
    legend(), svg, info, textAlternative(graph));
}
