package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/trawl-dev/trawl/internal/trawl"
)

// The dashboard's session: a browser that logged in (internal/dashboard,
// POST /login) holds the token in the HttpOnly, SameSite=Strict cookie
// SessionCookie, and a random value in the readable cookie CSRFCookie that
// its scripts copy into the CSRFHeader of every request that changes
// something (double submit). The auth middleware accepts the session
// cookie as it accepts the bearer header, and checks the CSRF pair on
// cookie-authenticated requests that are not GET or HEAD.
const (
	SessionCookie = "trawl_session"
	CSRFCookie    = "trawl_csrf"
	CSRFHeader    = "X-CSRF-Token"
	// LoginPath is the dashboard's login page, open without the token.
	LoginPath = "/login"
)

// auth requires the token on /v1 and /debug/pprof/ when a token is
// configured, as "Authorization: Bearer TOKEN" or as the dashboard's
// session cookie. readToken, when set, is accepted on GET and HEAD only.
// /healthz, /readyz and /metrics stay open. With dashboard set, every other
// path (the dashboard's pages and assets) needs the token too, except the
// login page; a browser without it is sent there.
func auth(token, readToken string, dashboard bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if token == "" {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !protected(r.URL.Path, dashboard) {
				next.ServeHTTP(w, r)
				return
			}
			got, ok := bearer(r)
			fromCookie := false
			if !ok {
				got, ok = session(r)
				fromCookie = ok
			}
			valid := ok && (equal(got, token) || readToken != "" && equal(got, readToken))
			switch {
			case !valid:
				if dashboard && !apiPath(r.URL.Path) && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
					http.Redirect(w, r, LoginPath, http.StatusSeeOther)
					return
				}
				w.Header().Set("WWW-Authenticate", `Bearer realm="trawl"`)
				msg := "missing bearer token: send Authorization: Bearer TOKEN"
				if ok {
					msg = "invalid bearer token"
				}
				writeProblem(w, problemOf(trawl.Errorf(trawl.EUNAUTHORIZED, "%s", msg)))
			case fromCookie && !safe(r.Method) && !csrfOK(r):
				writeProblem(w, problemOf(trawl.Errorf(trawl.EFORBIDDEN,
					"missing or wrong %s header: a request authenticated by the session cookie must copy the %s cookie into it", CSRFHeader, CSRFCookie)))
			case !equal(got, token) && !safe(r.Method):
				writeProblem(w, problemOf(trawl.Errorf(trawl.EFORBIDDEN,
					"the read-only token may only use GET routes: use the token to %s", r.Method)))
			default:
				next.ServeHTTP(w, r)
			}
		})
	}
}

// protected reports whether path needs the token.
func protected(path string, dashboard bool) bool {
	if apiPath(path) {
		return true
	}
	if !dashboard {
		return false
	}
	switch path {
	case "/healthz", "/readyz", "/metrics", LoginPath:
		return false
	}
	return true
}

// apiPath reports whether path is one of the API's (not the dashboard's).
func apiPath(path string) bool {
	return path == "/v1" || strings.HasPrefix(path, "/v1/") || strings.HasPrefix(path, "/debug/")
}

// safe reports whether method only reads.
func safe(method string) bool {
	return method == http.MethodGet || method == http.MethodHead
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// session returns the token of the dashboard's session cookie.
func session(r *http.Request) (string, bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return "", false
	}
	return c.Value, true
}

// csrfOK reports whether the CSRF header is present and equals the CSRF
// cookie: a page of another site can make the browser send the cookies,
// but can neither read the CSRF cookie nor set the header.
func csrfOK(r *http.Request) bool {
	c, err := r.Cookie(CSRFCookie)
	h := r.Header.Get(CSRFHeader)
	return err == nil && c.Value != "" && h != "" && equal(h, c.Value)
}

// equal compares in constant time, so that the time taken does not tell
// how much of a guess was right; comparing digests hides the length too.
func equal(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}
