// The spider editor: YAML in CodeMirror, validated as you type through
// POST /v1/try (every problem at its line and column), saved with
// PUT /v1/spiders/{name}, started with POST /v1/spiders/{name}/runs, and
// tried on one page (the dry run: items, links by rule, rules matched).
import { api, APIError, enc } from "./api.js";
import { h, num, table, section, empty, toast, cell } from "./ui.js";
import { go } from "./nav.js";

const template = `name: NAME
start_urls:
  - https://example.com/
follow:
  - css: a.next
items:
  - css: article
    fields:
      title: h2
      url: {css: a, attr: href, url: true}
    required: [title]
limits: {max_pages: 100}
`;

let loading = null;
function loadScript(src) {
  return new Promise((ok, fail) => {
    const s = document.createElement("script");
    s.src = src; s.onload = ok; s.onerror = () => fail(new Error(`could not load ${src}`));
    document.head.append(s);
  });
}
// loadCodeMirror loads the editor (CodeMirror 5 and its YAML mode) the
// first time the editor page opens, so that other pages never pay for it.
function loadCodeMirror() {
  if (!loading) {
    document.head.append(h("link", { rel: "stylesheet", href: "/assets/vendor/codemirror/codemirror.css" }));
    loading = loadScript("/assets/vendor/codemirror/codemirror.js").then(() => loadScript("/assets/vendor/codemirror/yaml.js"));
  }
  return loading;
}

export async function render(main, { name }) {
  const isNew = !name;
  let stored = null;
  if (!isNew) {
    try { stored = await api(`/v1/spiders/${enc(name)}`); }
    catch (e) { if (!(e instanceof APIError && e.status === 404)) throw e; }
  }
  await loadCodeMirror();

  const nameInput = h("input", { id: "spider-name", value: name || "", placeholder: "name", pattern: "[A-Za-z0-9][A-Za-z0-9_.-]*", "aria-label": "spider name", required: true });
  const status = h("span", { class: "muted", id: "editor-status", role: "status" });
  const saveBtn = h("button", { type: "button", id: "save", onclick: save, title: "Ctrl+S" }, "Save");
  const runBtn = h("button", { type: "button", class: "ghost", id: "start", onclick: start, disabled: !stored }, "Start a run");
  main.append(h("h1", null, isNew ? "New spider" : "Spider ", isNew ? null : h("span", null, name)),
    h("div", { class: "row", style: "margin:8px 0" }, isNew ? h("label", { class: "row" }, "Name", nameInput) : null, saveBtn, runBtn,
      stored ? h("span", { class: "muted" }, `version ${stored.version}`) : null, status));

  const wrap = h("div", { class: "editor-wrap" });
  const problems = h("ul", { class: "problems", id: "problems", "aria-live": "polite" });
  main.append(section("Spider file (YAML)", "source", wrap, problems));

  const cm = CodeMirror(wrap, {
    value: stored ? stored.source : template.replace("NAME", name || "my_spider"),
    mode: "yaml", lineNumbers: true, indentUnit: 2, tabSize: 2, smartIndent: true,
    gutters: ["problems", "CodeMirror-linenumbers"],
    extraKeys: {
      Tab: (c) => c.replaceSelection("  "),
      "Ctrl-S": () => save(), "Cmd-S": () => save(),
      Esc: (c) => c.getInputField().blur(),
    },
    screenReaderLabel: "spider file",
  });
  window.trawlEditor = cm; // for scripts and tests

  // Problems: a gutter mark and an underline at each, and a list.
  let marks = [];
  function showProblems(list, note) {
    marks.forEach((m) => m.clear()); marks = [];
    cm.clearGutter("problems");
    problems.replaceChildren();
    for (const p of list) {
      const line = Math.max((p.line || 1) - 1, 0), ch = Math.max((p.column || 1) - 1, 0);
      const text = cm.getLine(line) ?? "";
      const end = Math.max(ch + 1, text.length);
      marks.push(cm.markText({ line, ch }, { line, ch: end }, { className: "cm-problem", attributes: { title: p.message } }));
      cm.setGutterMarker(line, "problems", h("span", { class: "problem-mark", title: p.message }, "●"));
      problems.append(h("li", { "data-line": p.line || 0, "data-column": p.column || 0 },
        h("button", { type: "button", onclick: () => { cm.setCursor({ line, ch }); cm.focus(); } }, p.line ? `${p.line}:${p.column}` : "–"),
        " ", p.path ? h("code", null, p.path) : null, " ", p.message));
    }
    if (!list.length && note) problems.append(h("li", { class: "muted", id: "valid" }, note));
  }

  function problemsOf(e) {
    return e instanceof APIError && e.problem && Array.isArray(e.problem.errors) ? e.problem.errors : null;
  }

  // Validation as you type.
  let tryAvailable = true, seq = 0, timer = null;
  async function validate() {
    if (!tryAvailable) return;
    const mine = ++seq;
    try {
      const res = await api("/v1/try", { method: "POST", json: { spider: cm.getValue(), validate_only: true } });
      if (mine !== seq) return;
      showProblems(res.problems || [], "No problems.");
    } catch (e) {
      if (mine !== seq) return;
      const ps = problemsOf(e);
      if (ps) showProblems(ps);
      else if (e instanceof APIError && e.status === 404 && e.code === "not_found" && /route/.test(e.message)) {
        tryAvailable = false;
        showProblems([], "This server cannot validate as you type (no POST /v1/try): problems show when you save.");
      } else showProblems([], `Valid spider; the page could not be tried: ${e.message}`);
    }
  }
  cm.on("changes", () => { clearTimeout(timer); timer = setTimeout(validate, 400); status.textContent = "edited"; });

  async function save() {
    const n = isNew ? nameInput.value.trim() : name;
    if (!n) { toast("Give the spider a name first.", true); nameInput.focus(); return; }
    try {
      const sp = await api(`/v1/spiders/${enc(n)}`, { method: "PUT", body: cm.getValue(), type: "application/yaml" });
      showProblems([], "Saved: no problems.");
      status.textContent = `saved, version ${sp.version}`;
      toast(`Saved ${sp.name} (version ${sp.version})`);
      runBtn.disabled = false;
      stored = sp;
      if (isNew) history.replaceState(null, "", `/spiders/${enc(n)}`), (isNewSaved = n);
    } catch (e) {
      const ps = problemsOf(e);
      if (ps) { showProblems(ps); status.textContent = "not saved: the spider has problems"; }
      else toast(e.message, true);
    }
  }
  let isNewSaved = "";
  async function start() {
    const n = isNewSaved || name;
    try { const r = await api(`/v1/spiders/${enc(n)}/runs`, { method: "POST" }); go(`/runs/${r.id}`); }
    catch (e) { toast(e.message, true); }
  }

  // The dry run.
  const urlInput = h("input", { id: "try-url", type: "url", placeholder: "URL (default: the first start URL)", style: "flex:1;min-width:220px" });
  const out = h("div", { id: "try-out" });
  main.append(section("Dry run", "dry", h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); dryRun(); } },
    urlInput, h("button", { type: "submit", id: "try" }, "Try this page")), out));

  async function dryRun() {
    out.replaceChildren(h("p", { class: "muted" }, "Fetching…"));
    const body = { spider: cm.getValue() };
    if (urlInput.value.trim()) body.url = urlInput.value.trim();
    let res;
    try { res = await api("/v1/try", { method: "POST", json: body }); }
    catch (e) {
      const ps = problemsOf(e);
      if (ps) { showProblems(ps); out.replaceChildren(h("p", { class: "error" }, "Fix the problems above first.")); }
      else if (e instanceof APIError && e.status === 404 && /route/.test(e.message)) out.replaceChildren(empty("The dry run is not available on this server (no POST /v1/try)."));
      else out.replaceChildren(h("p", { class: "error" }, e.message));
      return;
    }
    if (res.problems && res.problems.length) { showProblems(res.problems); out.replaceChildren(h("p", { class: "error" }, "Fix the problems above first.")); return; }
    const items = res.items || [], links = res.links || [], rules = res.rules || [];
    const keys = [...new Set(items.flatMap((it) => Object.keys(it)))];
    out.replaceChildren(
      h("p", null, h("code", null, res.url), ` answered ${res.status}: ${num(items.length)} items, ${num(links.length)} links.`),
      h("h2", null, "Rules"),
      rules.length ? table([["Rule", (r) => h("code", null, r.rule)], ["Kind", (r) => r.kind], ["Matched", (r) => h("span", { class: r.matched ? "yes" : "no" }, r.matched ? "yes" : "no")], ["Count", (r) => num(r.count), "num"]], rules) : empty("No rule."),
      h("h2", null, "Items"),
      items.length ? table(keys.map((k) => [k, (it) => cell(it[k]), "cell"]), items) : empty("No item on this page."),
      h("h2", null, "Links"),
      links.length ? table([["Rule", (l) => h("code", null, l.rule)], ["URL", (l) => l.url, "cell"],
        ["In scope", (l) => h("span", { class: l.in_scope ? "yes" : "no" }, l.in_scope ? "in" : "out")],
        ["Followed", (l) => (l.followed ? "yes" : "no")], ["Reason", (l) => l.reason || ""]], links) : empty("No link found."));
  }

  validate();
  document.body.dataset.ready = "editor";
  return () => { clearTimeout(timer); delete window.trawlEditor; };
}
