// The dashboard's entry point: a router from the browser's path to a page
// module. Each page's render(main, params) returns a cleanup function that
// closes its event streams and timers when the user leaves it.
import { api } from "./api.js";
import { toast } from "./ui.js";
import { go, setRender } from "./nav.js";
import * as overview from "./overview.js";
import * as run from "./run.js";
import * as dataset from "./dataset.js";
import * as editor from "./editor.js";

const routes = [
  [/^\/$/, overview, () => ({}), "overview"],
  [/^\/runs\/(\d+)$/, run, (m) => ({ id: Number(m[1]) }), ""],
  [/^\/datasets\/([^/]+)$/, dataset, (m) => ({ name: decodeURIComponent(m[1]) }), ""],
  [/^\/spiders\/new$/, editor, () => ({ name: "" }), "editor"],
  [/^\/spiders\/([^/]+)$/, editor, (m) => ({ name: decodeURIComponent(m[1]) }), ""],
];

let cleanup = null;

async function render() {
  if (cleanup) { try { cleanup(); } catch (e) { console.warn(e); } cleanup = null; }
  const main = document.getElementById("main");
  main.replaceChildren();
  document.body.removeAttribute("data-ready");
  const path = location.pathname;
  for (const a of document.querySelectorAll("header nav a[data-nav]")) a.removeAttribute("aria-current");
  for (const [re, page, params, nav] of routes) {
    const m = path.match(re);
    if (!m) continue;
    if (nav) document.querySelector(`header nav a[data-nav="${nav}"]`)?.setAttribute("aria-current", "page");
    try {
      cleanup = await page.render(main, params(m));
    } catch (e) {
      main.append(Object.assign(document.createElement("p"), { className: "error", textContent: `Could not load this page: ${e.message}` }));
    }
    return;
  }
  main.append(Object.assign(document.createElement("p"), { className: "error", textContent: `No page at ${path}.` }));
}

setRender(render);

document.addEventListener("click", (ev) => {
  const a = ev.target.closest("a");
  if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || a.target || a.hasAttribute("download") || url.pathname.startsWith("/v1/") || url.pathname.startsWith("/assets/")) return;
  ev.preventDefault();
  go(url.pathname + url.search);
});
window.addEventListener("popstate", render);

// Log out: shown only when the server uses a session cookie.
const logout = document.getElementById("logout");
if (document.cookie.includes("trawl_csrf=")) logout.hidden = false;
logout.addEventListener("click", async () => {
  try { await api("/logout", { method: "POST" }); } catch (e) { toast(e.message, true); return; }
  location.assign("/login");
});

render();
