// The overview: runs in progress (live, over each run's event stream),
// recent runs, datasets, schedules and spiders.
import { api, optional, enc } from "./api.js";
import { h, num, when, duration, runDuration, errorCount, badge, active, table, section, empty, toast } from "./ui.js";
import { go } from "./nav.js";

export async function render(main) {
  const streams = new Map(); // run id -> EventSource
  let timer = null;
  let stopped = false;

  main.append(h("h1", null, "Overview"));
  const live = section("Runs in progress", "active");
  const recent = section("Recent runs", "recent");
  const datasets = section("Datasets", "datasets");
  const schedules = section("Schedules", "schedules");
  const spiders = section("Spiders", "spiders");
  main.append(live, recent, h("div", { class: "grid2" }, datasets, schedules), h("div", { style: "height:16px" }), spiders);

  function replaceBody(sec, ...nodes) {
    sec.replaceChildren(sec.firstChild, ...nodes);
  }

  function liveCard(run, rate, queued) {
    const st = run.stats || {};
    const total = (st.pages || 0) + (queued || 0);
    const pct = total ? Math.round((100 * (st.pages || 0)) / total) : 0;
    return h("div", { class: "stat", "data-run": run.id },
      h("div", { class: "row" }, h("a", { href: `/runs/${run.id}` }, `#${run.id} ${run.spider}`), badge(run.status),
        h("span", { class: "spacer" }), h("span", { class: "muted rate" }, rate !== undefined ? `${rate.toFixed(1)} pages/s` : "")),
      h("div", { class: "muted" },
        h("span", { class: "pages" }, num(st.pages)), " pages · ", num(st.items), " items · ",
        num(errorCount(st)), " errors", queued !== undefined ? ` · ${num(queued)} queued` : ""),
      h("div", { class: "progress", role: "progressbar", "aria-valuenow": pct, "aria-valuemin": 0, "aria-valuemax": 100, "aria-label": `run ${run.id} progress` },
        h("div", { style: `width:${pct}%` })));
  }

  const last = new Map(); // run id -> its last progress event
  function watch(run) {
    if (streams.has(run.id)) return;
    const es = new EventSource(`/v1/runs/${run.id}/events`);
    streams.set(run.id, es);
    es.addEventListener("progress", (ev) => {
      const d = JSON.parse(ev.data);
      last.set(run.id, d);
      live.querySelector(`[data-run="${run.id}"]`)?.replaceWith(liveCard(d.run, d.rate, d.queued));
    });
    es.addEventListener("end", () => {
      es.close();
      streams.delete(run.id);
      if (!stopped) refresh();
    });
    es.onerror = () => { if (es.readyState === EventSource.CLOSED) streams.delete(run.id); };
  }

  async function refresh() {
    const [runs, running, queued, ds, sp, sched] = await Promise.all([
      api("/v1/runs?limit=15"),
      api("/v1/runs?status=running&limit=50"),
      api("/v1/runs?status=queued&limit=50"),
      api("/v1/datasets"),
      api("/v1/spiders?limit=200"),
      optional("/v1/schedules"),
    ]);
    if (stopped) return;
    const act = [...running.runs, ...queued.runs];
    if (act.length) {
      const card = (r) => { const d = last.get(r.id); return d ? liveCard(d.run, d.rate, d.queued) : liveCard(r); };
      replaceBody(live, h("div", { class: "live" }, act.map(card)));
      for (const [id, es] of streams) if (!act.some((r) => r.id === id)) { es.close(); streams.delete(id); }
      act.forEach(watch);
    } else {
      replaceBody(live, empty("No run is queued or running."));
    }

    replaceBody(recent, runs.runs.length ? table([
      ["Run", (r) => h("a", { href: `/runs/${r.id}` }, `#${r.id}`)],
      ["Spider", (r) => h("a", { href: `/spiders/${enc(r.spider)}` }, r.spider)],
      ["Status", (r) => badge(r.status)],
      ["Started", (r) => when(r.started_at || r.created_at)],
      ["Duration", (r) => duration(runDuration(r)), "num"],
      ["Pages", (r) => num(r.stats?.pages), "num"],
      ["Items", (r) => num(r.stats?.items), "num"],
      ["Errors", (r) => num(errorCount(r.stats)), "num"],
    ], runs.runs) : empty("No runs yet: start one from a spider below."));

    replaceBody(datasets, ds.datasets.length ? table([
      ["Dataset", (d) => h("a", { href: `/datasets/${enc(d.name)}` }, d.name)],
      ["Items", (d) => num(d.items), "num"],
      ["Fields", (d) => (d.columns || []).length, "num"],
      ["Updated", (d) => when(d.updated_at)],
    ], ds.datasets) : empty("No datasets yet: a run stores its items in one."));

    let rows = null;
    if (sched) rows = sched.schedules;
    else rows = sp.spiders.filter((s) => s.schedule).map((s) => ({ spider: s.name, schedule: s.schedule, next_run_at: s.next_run_at }));
    replaceBody(schedules, rows.length ? table([
      ["Spider", (s) => h("a", { href: `/spiders/${enc(s.spider)}` }, s.spider)],
      ["Schedule", (s) => h("code", null, s.schedule)],
      ["Next run", (s) => when(s.next_run_at)],
      ["Last fired", (s) => (s.last_fired_at ? when(s.last_fired_at) : "–")],
    ], rows) : empty("No spider has a schedule."));

    replaceBody(spiders, h("div", { class: "row", style: "margin-bottom:8px" }, h("a", { class: "button ghost", href: "/spiders/new" }, "New spider")),
      sp.spiders.length ? table([
        ["Spider", (s) => h("a", { href: `/spiders/${enc(s.name)}` }, s.name)],
        ["Version", (s) => s.version, "num"],
        ["Updated", (s) => when(s.updated_at)],
        ["", (s) => h("button", { class: "ghost", type: "button", "data-start": s.name, onclick: () => start(s.name) }, "Run now")],
      ], sp.spiders) : empty("No spiders: create one."));
  }

  async function start(name) {
    try {
      const r = await api(`/v1/spiders/${enc(name)}/runs`, { method: "POST" });
      go(`/runs/${r.id}`);
    } catch (e) {
      toast(e.message, true);
    }
  }

  await refresh();
  document.body.dataset.ready = "overview";
  performance.mark("interactive");
  timer = setInterval(() => { if (!document.hidden) refresh().catch((e) => console.warn(e)); }, 5000);
  return () => {
    stopped = true;
    clearInterval(timer);
    for (const es of streams.values()) es.close();
  };
}
