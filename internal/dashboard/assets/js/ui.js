// Small DOM and formatting helpers shared by the pages.

// h builds an element: h("a", {href: "/"}, "text", child...). Attributes
// starting with "on" are listeners; null children are skipped.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function num(n) {
  return n === undefined || n === null ? "–" : Number(n).toLocaleString("en-US");
}

export function bytes(n) {
  if (!n) return "0 B";
  const u = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

export function duration(ms) {
  if (ms === null || ms === undefined || ms < 0) return "–";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

const zero = (t) => !t || t.startsWith("0001-");

export function when(t) {
  if (zero(t)) return "–";
  const d = new Date(t);
  const diff = (Date.now() - d.getTime()) / 1000;
  const abs = Math.abs(diff);
  let rel;
  if (abs < 45) rel = diff >= 0 ? "just now" : "in a moment";
  else if (abs < 3600) rel = `${Math.round(abs / 60)} min`;
  else if (abs < 86400) rel = `${Math.round(abs / 3600)} h`;
  else rel = `${Math.round(abs / 86400)} d`;
  if (abs >= 45) rel = diff >= 0 ? `${rel} ago` : `in ${rel}`;
  return h("time", { datetime: t, title: d.toLocaleString() }, rel);
}

// runDuration is how long a run ran (or has run so far).
export function runDuration(run) {
  if (zero(run.started_at)) return null;
  const end = zero(run.finished_at) ? Date.now() : new Date(run.finished_at).getTime();
  return end - new Date(run.started_at).getTime();
}

export function errorCount(stats) {
  return Object.values((stats && stats.errors) || {}).reduce((a, b) => a + b, 0);
}

export function badge(status) {
  return h("span", { class: `badge s-${status}`, "data-status": status }, status);
}

export function active(status) {
  return status === "queued" || status === "running";
}

export function toast(msg, bad) {
  const el = h("div", { class: bad ? "bad" : "" }, msg);
  document.getElementById("toast").append(el);
  setTimeout(() => el.remove(), bad ? 8000 : 4000);
}

// table builds a table: cols are [label, cellFn, className]; rowAttrs(r)
// gives each row's attributes.
export function table(cols, rows, rowAttrs) {
  return h("div", { class: "scroll" }, h("table", null,
    h("thead", null, h("tr", null, cols.map(([label, , cls]) => h("th", { class: cls, scope: "col" }, label)))),
    h("tbody", null, rows.map((r) => h("tr", rowAttrs ? rowAttrs(r) : null,
      cols.map(([, fn, cls]) => h("td", { class: cls }, fn(r))))))));
}

export function section(title, id, ...body) {
  return h("section", { class: "card", id, "aria-labelledby": id + "-h" }, h("h2", { id: id + "-h" }, title), ...body);
}

export function empty(text) {
  return h("p", { class: "empty" }, text);
}

// cell shows an item's value in a table cell.
export function cell(v) {
  if (v === null || v === undefined) return "";
  if (Array.isArray(v)) return v.map((x) => (typeof x === "object" ? JSON.stringify(x) : String(x))).join(", ");
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}
