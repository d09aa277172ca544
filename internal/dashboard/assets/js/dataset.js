// A dataset: a page of its items at a time (keyset cursors, never the
// whole set), a filter per field with the field's distinct values, a row's
// full JSON, exports of exactly the filtered set, a histogram of a field
// picked by the user, and items by run over time.
import { api, enc } from "./api.js";
import { h, num, when, table, section, empty, cell, toast } from "./ui.js";
import { chart } from "./chart.js";

const reserved = new Set(["limit", "cursor", "fields", "since", "match", "where"]);

export async function render(main, { name }) {
  const base = `/v1/datasets/${enc(name)}`;
  const all = await api("/v1/datasets");
  const ds = all.datasets.find((d) => d.name === name);
  if (!ds) { main.append(h("h1", null, name), h("p", { class: "error" }, `No dataset named ${name}.`)); return null; }
  const cols = ds.columns || [];
  const charts = [];

  // The query is the page's own: /datasets/NAME?author=X&match=fold is
  // sent to the API as it is, so a link to a filtered view can be shared.
  const params = new URLSearchParams(location.search);
  const filters = {};
  for (const c of cols) {
    const v = reserved.has(c) ? null : params.get(c);
    if (v !== null) filters[c] = v;
  }
  for (const w of params.getAll("where")) { const i = w.indexOf("="); if (i > 0) filters[w.slice(0, i)] = w.slice(i + 1); }
  let fold = params.get("match") === "fold";
  let limit = Number(params.get("limit")) || 50;
  let cursors = [""]; // the cursor of each page seen, for Previous
  let page = 0;

  function query(withLimit) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filters)) {
      if (v === "") continue;
      if (reserved.has(k)) q.append("where", `${k}=${v}`);
      else q.set(k, v);
    }
    if (fold) q.set("match", "fold");
    if (withLimit) q.set("limit", String(limit));
    return q;
  }

  main.append(h("h1", null, "Dataset ", h("span", null, name)),
    h("p", { class: "muted" }, `${num(ds.items)} items · ${cols.length} fields · updated `, when(ds.updated_at)));

  // Filters.
  const filterBox = h("form", { class: "filters", id: "filters", role: "search", onsubmit: (e) => { e.preventDefault(); apply(); } });
  const loaded = new Set();
  for (const c of cols) {
    const listID = `values-${cols.indexOf(c)}`;
    const input = h("input", { name: c, list: listID, value: filters[c] || "", placeholder: "any", autocomplete: "off", "data-field": c });
    input.addEventListener("focus", () => loadValues(c, listID));
    input.addEventListener("change", () => { filters[c] = input.value; apply(); });
    filterBox.append(h("label", { class: "field" }, c, input, h("datalist", { id: listID })));
  }
  const foldBox = h("input", { type: "checkbox", id: "fold", checked: fold, onchange: (e) => { fold = e.target.checked; apply(); } });
  filterBox.append(h("label", { class: "row", style: "font-size:13px" }, foldBox, "ignore case"),
    h("button", { type: "submit" }, "Filter"),
    h("button", { type: "button", class: "ghost", onclick: () => { for (const k of Object.keys(filters)) delete filters[k]; filterBox.querySelectorAll("input[data-field]").forEach((i) => (i.value = "")); apply(); } }, "Clear"));

  async function loadValues(field, listID) {
    if (loaded.has(field)) return;
    loaded.add(field);
    try {
      const res = await api(`${base}/fields/${enc(field)}?limit=100`);
      document.getElementById(listID)?.replaceChildren(...res.values.map((v) => h("option", { value: cell(v.value) }, `${num(v.count)}`)));
    } catch (e) { loaded.delete(field); console.warn(e); }
  }

  const exports = h("div", { class: "row", id: "exports" });
  const tableBox = h("div", { id: "items" });
  const pager = h("div", { class: "pager" });
  main.append(section("Items", "items-sec", filterBox, h("div", { style: "height:10px" }), tableBox, pager, h("div", { style: "height:8px" }), exports));

  const dialog = h("dialog", { id: "row-json", "aria-label": "item" });
  main.append(dialog);
  function show(item) {
    dialog.replaceChildren(h("div", { class: "row" }, h("h2", { style: "margin:0" }, "Item"), h("span", { class: "spacer" }),
      h("button", { type: "button", class: "ghost", onclick: () => dialog.close() }, "Close")),
    h("pre", { class: "json" }, JSON.stringify(item, null, 2)));
    dialog.showModal();
  }

  function syncURL() {
    const q = query(false);
    if (limit !== 50) q.set("limit", String(limit));
    history.replaceState(null, "", `/datasets/${enc(name)}${q.toString() ? "?" + q : ""}`);
    const qs = query(false).toString();
    exports.replaceChildren(h("span", { class: "muted" }, "Export the filtered set:"),
      h("a", { class: "button ghost", id: "export-csv", href: `${base}/items.csv${qs ? "?" + qs : ""}`, download: `${name}.csv` }, "CSV"),
      h("a", { class: "button ghost", id: "export-jsonl", href: `${base}/items.jsonl${qs ? "?" + qs : ""}`, download: `${name}.jsonl` }, "JSONL"));
  }

  async function load() {
    const q = query(true);
    if (cursors[page]) q.set("cursor", cursors[page]);
    let res;
    try {
      res = await api(`${base}/items?${q}`);
    } catch (e) {
      tableBox.replaceChildren(h("p", { class: "error", role: "alert" }, e.message));
      pager.replaceChildren();
      return;
    }
    cursors = cursors.slice(0, page + 1);
    if (res.next_cursor) cursors.push(res.next_cursor);
    tableBox.replaceChildren(res.items.length ? table(cols.map((c) => [c, (it) => cell(it[c]), "cell"]), res.items,
      (it) => ({ class: "clickable", tabindex: "0", title: "Show the whole item",
        onclick: () => show(it), onkeydown: (e) => { if (e.key === "Enter") show(it); } }))
      : empty("No item matches."));
    tableBox.dataset.query = q.toString(); // what the table shows, for tests and scripts
    const sizes = [25, 50, 100, 200, 500].map((n) => h("option", { value: n, selected: n === limit }, n));
    pager.replaceChildren(
      h("button", { type: "button", class: "ghost", id: "prev", disabled: page === 0, onclick: () => { page--; load(); } }, "‹ Previous"),
      h("span", { class: "muted", id: "page-no" }, `page ${page + 1} · ${res.items.length} items`),
      h("button", { type: "button", class: "ghost", id: "next", disabled: !res.next_cursor, onclick: () => { page++; load(); } }, "Next ›"),
      h("span", { class: "spacer" }),
      h("label", { class: "row muted" }, "per page", h("select", { id: "limit", onchange: (e) => { limit = Number(e.target.value); apply(); } }, sizes)));
    if (res.items.length) fieldChoices(res.items);
  }

  function apply() {
    page = 0; cursors = [""];
    syncURL();
    return load();
  }

  // Charts: a numeric or time field's histogram, from its distinct values
  // and their counts (counted by the server), and items by run.
  const pick = h("select", { id: "chart-field", onchange: () => histogram(pick.value) }, h("option", { value: "" }, "pick a field"));
  const histBox = h("div", { class: "chart", id: "chart-hist" });
  const histNote = h("p", { class: "muted" });
  const runsBox = h("div", { class: "chart", id: "chart-runs" });
  main.append(h("div", { class: "grid2" },
    section("Chart a field", "hist", h("label", { class: "row muted" }, "field", pick), histNote, histBox),
    section("Items by run", "byrun", runsBox)));

  let offered = false;
  function fieldChoices(items) {
    if (offered) return;
    offered = true;
    for (const c of cols) {
      const v = items.map((it) => it[c]).find((x) => x !== null && x !== undefined);
      const kind = typeof v === "number" ? "number" : typeof v === "string" && /^\d{4}-\d\d-\d\d/.test(v) && !isNaN(Date.parse(v)) ? "time" : "";
      if (kind) pick.append(h("option", { value: c, "data-kind": kind }, `${c} (${kind})`));
    }
    if (pick.options.length === 1) histNote.textContent = "No numeric or time field in this dataset.";
  }

  let histChart = null;
  async function histogram(field) {
    histChart?.dispose(); histChart = null; histBox.replaceChildren();
    if (!field) return;
    const kind = pick.selectedOptions[0].dataset.kind;
    const res = await api(`${base}/fields/${enc(field)}?limit=10000`);
    const pts = res.values.map((v) => [kind === "time" ? Date.parse(v.value) / 1000 : Number(v.value), v.count]).filter(([x]) => Number.isFinite(x));
    if (!pts.length) { histNote.textContent = "No value to chart."; return; }
    let lo = Math.min(...pts.map((p) => p[0])), hi = Math.max(...pts.map((p) => p[0]));
    const bins = Math.min(40, Math.max(1, new Set(pts.map((p) => p[0])).size));
    const w = (hi - lo) / bins || 1;
    const xs = Array.from({ length: bins }, (_, i) => lo + w * (i + 0.5));
    const ys = xs.map(() => 0);
    for (const [x, n] of pts) ys[Math.min(bins - 1, Math.floor((x - lo) / w))] += n;
    histNote.textContent = `${kind === "time" ? "Items over time" : "Histogram"} of ${field}: ${num(pts.reduce((a, p) => a + p[1], 0))} values in ${bins} bins${res.values.length >= 10000 ? " (the 10,000 most frequent values)" : ""}.`;
    histChart = chart(histBox, { series: [{ label: "items", bars: true }], data: [xs, ys], time: kind === "time", xLabel: field });
    charts.push(histChart);
  }

  async function byRun() {
    const res = await api(`/v1/runs?limit=200`);
    const runs = res.runs.filter((r) => (r.dataset || r.spider) === name && r.started_at && !r.started_at.startsWith("0001-")).reverse();
    if (!runs.length) { runsBox.replaceChildren(empty("No run of this dataset yet.")); return; }
    const xs = runs.map((r) => Date.parse(r.started_at) / 1000);
    const span = Math.max(xs[xs.length - 1] - xs[0], 3600);
    charts.push(chart(runsBox, { series: [{ label: "items", bars: true }, { label: "pages" }],
      xRange: [xs[0] - span * 0.1, xs[xs.length - 1] + span * 0.1],
      data: [xs, runs.map((r) => r.stats?.items || 0), runs.map((r) => r.stats?.pages || 0)] }));
  }

  syncURL();
  await load();
  document.body.dataset.ready = "dataset";
  performance.mark("interactive");
  byRun().catch((e) => { runsBox.replaceChildren(h("p", { class: "error" }, e.message)); });
  return () => charts.forEach((c) => c.dispose());
}
