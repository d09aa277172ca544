// The API v1 client of the dashboard: every request the dashboard makes goes
// through here, to the public API, the same a script would make.

// cookie returns the value of a cookie readable by scripts (the CSRF one).
function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return "";
}

export class APIError extends Error {
  constructor(status, problem) {
    const detail = problem && typeof problem === "object" ? (problem.detail || problem.title) : String(problem || "");
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.problem = problem && typeof problem === "object" ? problem : null;
    this.code = this.problem ? this.problem.code : "";
  }
}

// api sends a request; json is sent as a JSON body, body as is. It returns
// the decoded answer or throws APIError.
export async function api(path, { method = "GET", json, body, type, signal } = {}) {
  const headers = {};
  if (method !== "GET" && method !== "HEAD") {
    const csrf = cookie("trawl_csrf");
    if (csrf) headers["X-CSRF-Token"] = csrf;
  }
  if (json !== undefined) {
    body = JSON.stringify(json);
    headers["Content-Type"] = "application/json";
  } else if (type) {
    headers["Content-Type"] = type;
  }
  const res = await fetch(path, { method, headers, body, signal, credentials: "same-origin" });
  if (res.status === 401) {
    location.assign("/login");
    throw new APIError(401, "log in first");
  }
  if (res.status === 204) return null;
  const ct = res.headers.get("Content-Type") || "";
  const data = ct.includes("json") ? await res.json() : await res.text();
  if (!res.ok) throw new APIError(res.status, data);
  return data;
}

// optional is api for the routes a server may not have yet: it answers
// null when the route is unknown (404 not_found) instead of throwing.
export async function optional(path, opts) {
  try {
    return await api(path, opts);
  } catch (e) {
    if (e instanceof APIError && (e.status === 404 || e.status === 405)) return null;
    throw e;
  }
}

export const enc = encodeURIComponent;
