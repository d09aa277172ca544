// A run: its statistics, live charts of pages/s, items/s and errors by
// class (from the run's time series and its event stream), the per-host
// table, and the cancel and run-again buttons.
import { api, optional, enc } from "./api.js";
import { h, num, bytes, when, duration, runDuration, errorCount, badge, active, table, section, empty, toast } from "./ui.js";
import { chart } from "./chart.js";
import { go } from "./nav.js";

export async function render(main, { id }) {
  let run = await api(`/v1/runs/${id}`);
  let es = null, hostTimer = null, stopped = false;
  const charts = [];

  const title = h("h1");
  const buttons = h("div", { class: "row" });
  const stats = h("div", { class: "stats", id: "run-stats" });
  const rateBox = h("div", { class: "chart", id: "chart-rate" });
  const errBox = h("div", { class: "chart", id: "chart-errors" });
  const chartNote = h("p", { class: "muted", id: "chart-note" });
  const hosts = section("Hosts", "hosts", empty("Loading…"));
  const errors = section("Errors by class", "errors");
  main.append(h("div", { class: "row" }, title, h("span", { class: "spacer" }), buttons),
    section("Statistics", "stats", stats),
    h("div", { class: "grid2" }, section("Pages and items per second", "rates", rateBox), section("Errors by class over time", "errclasses", errBox)),
    chartNote, hosts, errors);

  // The charts' data: x in seconds, rates per second, errors cumulative.
  const xs = [], pages = [], items = [];
  const classes = []; // error class names, in order of appearance
  const errSeries = {}; // class -> cumulative counts aligned with xs
  let rateChart = null, errChart = null;

  function addPoint(t, p, i, errs) {
    xs.push(t); pages.push(p); items.push(i);
    for (const c of Object.keys(errs || {})) if (!classes.includes(c)) { classes.push(c); errSeries[c] = xs.slice(0, -1).map(() => 0); }
    for (const c of classes) errSeries[c].push((errs && errs[c]) || 0);
  }

  function draw() {
    if (!rateChart) rateChart = chart(rateBox, { series: [{ label: "pages/s" }, { label: "items/s" }], data: [[], [], []], yLabel: "per second" });
    rateChart.setData([xs, pages, items]);
    const want = classes.length ? classes : ["none"];
    if (!errChart || errChart.series.length - 1 !== want.length) {
      errChart?.dispose(); errBox.replaceChildren();
      errChart = chart(errBox, { series: want.map((c) => ({ label: c })), data: [[], ...want.map(() => [])], yLabel: "failed pages" });
      charts.push(errChart);
    }
    errChart.setData([xs, ...want.map((c) => errSeries[c] || xs.map(() => 0))]);
    document.body.dataset.points = String(xs.length);
  }
  charts.push({ dispose: () => rateChart?.dispose() });

  function header() {
    title.replaceChildren(`Run #${run.id} `, h("a", { href: `/spiders/${enc(run.spider)}` }, run.spider), " ", badge(run.status));
    const st = run.stats || {};
    stats.replaceChildren(...[
      ...[["pages", num(st.pages)], ["items", num(st.items)], ["invalid items", num(st.invalid)], ["failed pages", num(errorCount(st))],
        ["downloaded", bytes(st.bytes)], ["URLs admitted", num(st.queued)], ["duration", duration(runDuration(run))],
        ["started", when(run.started_at)], ["finished", when(run.finished_at)]]
        .map(([k, v]) => h("div", { class: "stat" }, h("b", { "data-stat": k }, v), h("span", null, k))),
      run.dataset ? h("div", { class: "stat" }, h("b", null, h("a", { href: `/datasets/${enc(run.dataset)}` }, run.dataset)), h("span", null, "dataset")) : null].filter(Boolean));
    if (run.error) stats.append(h("p", { class: "error", style: "grid-column:1/-1" }, run.error));
    buttons.replaceChildren(...[
      active(run.status) ? h("button", { class: "danger", type: "button", id: "cancel", onclick: cancel }, "Cancel run") : null,
      h("button", { class: "ghost", type: "button", id: "again", onclick: again }, "Run again")].filter(Boolean));
    const ec = Object.entries(st.errors || {}).sort((a, b) => b[1] - a[1]);
    errors.replaceChildren(errors.firstChild, ec.length ? table([["Class", (e) => h("code", null, e[0])], ["Failed pages", (e) => num(e[1]), "num"]], ec)
      : empty("No failed pages."));
    if (ec.length && errorCount(st) !== failedShown) loadFailed();
  }

  // The failed pages one by one, with their error text (the first 100).
  const failed = section("Failed pages", "failed");
  main.append(failed);
  let failedShown = -1;
  async function loadFailed() {
    failedShown = errorCount(run.stats || {});
    const res = await optional(`/v1/runs/${id}/failed?limit=100`);
    if (stopped || !res) return;
    failed.replaceChildren(failed.firstChild, table([
      ["URL", (p) => h("a", { href: p.url, rel: "noreferrer", target: "_blank" }, p.url)],
      ["Status", (p) => (p.status ? String(p.status) : "–"), "num"],
      ["Class", (p) => h("code", null, p.error_class)],
      ["Error", (p) => p.error || ""],
      ["Attempts", (p) => num(p.attempts), "num"],
    ], res.pages));
  }

  async function cancel() {
    try { run = await api(`/v1/runs/${id}/cancel`, { method: "POST" }); header(); toast(`Run #${id}: cancel requested`); }
    catch (e) { toast(e.message, true); }
  }
  async function again() {
    try { const r = await api(`/v1/spiders/${enc(run.spider)}/runs`, { method: "POST" }); go(`/runs/${r.id}`); }
    catch (e) { toast(e.message, true); }
  }

  async function loadHosts() {
    const res = await optional(`/v1/runs/${id}/hosts`);
    if (stopped) return;
    if (!res) { hosts.replaceChildren(hosts.firstChild, empty("Per-host statistics are not available on this server.")); return; }
    const ms = (v) => (v === undefined || v === null ? "–" : `${Math.round(v)} ms`);
    hosts.replaceChildren(hosts.firstChild, res.hosts.length ? table([
      ["Host", (x) => x.host],
      ["Requests", (x) => num(x.requests), "num"],
      ["2xx", (x) => num(x.status?.["2xx"]), "num"], ["3xx", (x) => num(x.status?.["3xx"]), "num"],
      ["4xx", (x) => num(x.status?.["4xx"]), "num"], ["5xx", (x) => num(x.status?.["5xx"]), "num"],
      ["p50", (x) => ms(x.latency_p50_ms), "num"], ["p95", (x) => ms(x.latency_p95_ms), "num"],
      ["In flight", (x) => num(x.in_flight), "num"], ["Delay", (x) => ms(x.delay_ms), "num"],
      ["Robots", (x) => String(x.robots ?? "–")],
      ["State", (x) => [x.throttled ? "throttled" : "", x.down ? "down" : ""].filter(Boolean).join(", ") || "ok"],
      ["Errors", (x) => Object.entries(x.errors || {}).map(([c, n]) => h("span", { class: "tag" }, `${c} ${n}`))],
    ], res.hosts) : empty("No host contacted yet."));
  }

  // The history: the run's time series, when the server has it.
  const series = await optional(`/v1/runs/${id}/series`);
  if (series && series.points) {
    // Points are cumulative counters (GET /v1/runs/{id}/series): rates are
    // the differences between consecutive points over their time apart.
    let last = null;
    for (const p of series.points) {
      const t = Date.parse(p.t) / 1000;
      if (last) {
        const dt = Math.max(t - last.t, 0.001);
        addPoint(t, ((p.pages || 0) - last.pages) / dt, ((p.items || 0) - last.items) / dt, p.errors);
      }
      last = { t, pages: p.pages || 0, items: p.items || 0 };
    }
  }
  header();
  draw();
  if (!series && !active(run.status)) chartNote.textContent = "This server has no time series of a run: the charts show only what was watched live.";
  await loadHosts();

  if (active(run.status)) {
    let prev = null;
    es = new EventSource(`/v1/runs/${id}/events`);
    es.addEventListener("progress", (ev) => {
      const d = JSON.parse(ev.data);
      run = d.run;
      const now = Date.now() / 1000, st = run.stats || {};
      if (prev) {
        const dt = Math.max(now - prev.t, 0.001);
        addPoint(now, ((st.pages || 0) - prev.pages) / dt, ((st.items || 0) - prev.items) / dt, st.errors);
        draw();
      }
      prev = { t: now, pages: st.pages || 0, items: st.items || 0 };
      header();
    });
    es.addEventListener("end", (ev) => {
      run = JSON.parse(ev.data);
      es.close();
      header();
      loadHosts();
      clearInterval(hostTimer);
    });
    hostTimer = setInterval(() => loadHosts().catch((e) => console.warn(e)), 2000);
  }
  document.body.dataset.ready = "run";
  return () => {
    stopped = true;
    es?.close();
    clearInterval(hostTimer);
    charts.forEach((c) => c.dispose());
  };
}
