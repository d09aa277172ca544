// In-app navigation, set up by app.js (a module of its own so that pages
// need not import the router).
let renderFunc = null;

export function setRender(f) { renderFunc = f; }

// go navigates within the dashboard without reloading it.
export function go(path) {
  history.pushState(null, "", path);
  renderFunc().then(() => document.getElementById("main").focus({ preventScroll: true }));
}
